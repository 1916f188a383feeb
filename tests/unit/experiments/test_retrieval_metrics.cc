// LAReQA mAP@20, Mewsli-X MRR@20 and BUCC threshold selection, hand-computed.
#include <gtest/gtest.h>

#include <stdexcept>

#include "experiments/metrics/bucc.h"
#include "experiments/metrics/retrieval.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments::metrics {
namespace {

using stilts::testing::error_of;

// Candidates 100, 101, ... except the given (position -> candidate) entries.
std::vector<std::int64_t> ranking(std::size_t length,
                                  const std::vector<std::pair<std::size_t, std::int64_t>>& at) {
  std::vector<std::int64_t> ranked(length);
  for (std::size_t i = 0; i < length; ++i) {
    ranked[i] = static_cast<std::int64_t>(100 + i);
  }
  for (const auto& [position, candidate] : at) {
    ranked[position] = candidate;
  }
  return ranked;
}

TEST(LareqaAveragePrecision, GoldOutsideTopK) {
  // Targets 1, 5, 9 at ranks 1, 3 and 25: the top 20 hold two, the divisor stays 3.
  const auto ranked = ranking(30, {{0, 1}, {2, 5}, {24, 9}});
  EXPECT_DOUBLE_EQ(average_precision_at_k({1, 5, 9}, ranked, 20), (1.0 + 2.0 / 3.0) / 3.0);
  // Without a cut-off the third hit counts 3/25.
  EXPECT_DOUBLE_EQ(average_precision_at_k({1, 5, 9}, ranked, 0),
                   (1.0 + 2.0 / 3.0 + 3.0 / 25.0) / 3.0);
  // No target in the top 20 at all.
  EXPECT_DOUBLE_EQ(average_precision_at_k({9}, ranked, 20), 0.0);
}

TEST(LareqaAveragePrecision, ElevenAnswersTenRetrieved) {
  std::vector<std::int64_t> targets;
  std::vector<std::pair<std::size_t, std::int64_t>> at;
  for (std::int64_t t = 0; t < 11; ++t) {
    targets.push_back(t);
    at.emplace_back(t < 10 ? static_cast<std::size_t>(t) : 21, t);
  }
  EXPECT_DOUBLE_EQ(average_precision_at_k(targets, ranking(30, at), 20), 10.0 / 11.0);
}

TEST(LareqaAveragePrecision, DivisorIsCappedAtK) {
  std::vector<std::int64_t> targets;
  for (std::int64_t t = 0; t < 25; ++t) {
    targets.push_back(t);
  }
  std::vector<std::int64_t> ranked(targets.begin(), targets.end());
  EXPECT_DOUBLE_EQ(average_precision_at_k(targets, ranked, 20), 1.0);
}

TEST(LareqaAveragePrecision, RepeatedCandidateCountsOnce) {
  EXPECT_DOUBLE_EQ(average_precision_at_k({1, 5}, {1, 1, 5}, 20), (1.0 + 2.0 / 3.0) / 2.0);
  // Repeated targets are one target.
  EXPECT_DOUBLE_EQ(average_precision_at_k({1, 1}, {1}, 20), 1.0);
  EXPECT_NE(error_of([] { average_precision_at_k({}, {1}, 20); }).find("no correct"),
            std::string::npos);
}

TEST(LareqaMeanAveragePrecision, PercentOverQueries) {
  const std::vector<RankedQuery> queries = {{{1}, {1, 2}}, {{2}, {1, 2}}, {{3}, {1, 2}}};
  EXPECT_DOUBLE_EQ(mean_average_precision_at_k(queries, 20), (1.0 + 0.5 + 0.0) / 3 * 100);
  EXPECT_THROW(mean_average_precision_at_k({}, 20), std::invalid_argument);
}

TEST(RankByScore, DescendingHigherIndexFirstOnTies) {
  EXPECT_EQ(rank_by_score({0.1f, 0.9f, 0.5f, 0.9f}, 0), (std::vector<std::int64_t>{3, 1, 2, 0}));
  EXPECT_EQ(rank_by_score({0.1f, 0.9f, 0.5f, 0.9f}, 2), (std::vector<std::int64_t>{3, 1}));
}

TEST(Mewslix, ReciprocalRankOverTopTwenty) {
  std::vector<std::string> late(21, "Q0");
  late[20] = "Q3";  // rank 21
  const std::vector<MewslixGold> gold = {
      {"e1", {"Q1"}}, {"e2", {"Q2"}}, {"e3", {" Q3 "}}, {"e4", {"Q4"}}};
  const std::unordered_map<std::string, std::vector<std::string>> predictions = {
      {"e1", {"Q1", "Q9"}}, {"e2", {"Qa", "Qb", "Q2", "Q2"}}, {"e3", late}, {"e9", {"Q1"}}};
  const MewslixScores scores = mewslix_evaluate(gold, predictions, 20);
  // e1: 1, e2: 1/3, e3: rank 21 is outside the top 20, e4: missing.
  EXPECT_DOUBLE_EQ(scores.map_at_k, (1.0 + 1.0 / 3.0) / 4 * 100);
  EXPECT_EQ(scores.unpredicted, 1u);
  EXPECT_EQ(scores.unexpected, 1u);
  EXPECT_DOUBLE_EQ(reciprocal_rank_at_k("Q3", late, 0), 1.0 / 21);
}

TEST(Mewslix, EmptyInputs) {
  EXPECT_DOUBLE_EQ(mewslix_evaluate({}, {}).map_at_k, 0.0);
  EXPECT_DOUBLE_EQ(mewslix_evaluate({{"e1", {"Q1"}}}, {{"e1", {}}}).map_at_k, 0.0);
  EXPECT_THROW(mewslix_evaluate({{"e1", {}}}, {}), std::invalid_argument);
  EXPECT_THROW(mewslix_evaluate({{"e1", {"Q1"}}, {"e1", {"Q1"}}}, {}), std::invalid_argument);
}

TEST(Bucc, F1OfPairSets) {
  const std::vector<BuccPair> gold = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
  const std::vector<BuccPair> predicted = {{"a", "1"}, {"b", "2"}, {"x", "9"}, {"a", "1"}};
  const BuccScores scores = bucc_f1(gold, predicted);
  EXPECT_EQ(scores.predicted, 3u);
  EXPECT_EQ(scores.correct, 2u);
  EXPECT_DOUBLE_EQ(scores.precision, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(scores.recall, 50.0);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * 4 / 7);
  const BuccScores none = bucc_f1(gold, {{"x", "9"}});
  EXPECT_DOUBLE_EQ(none.f1, 0.0);
  EXPECT_DOUBLE_EQ(bucc_f1(gold, {}).precision, 0.0);
}

const std::vector<BuccPair> kDevGold = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
const std::vector<BuccCandidate> kDevCandidates = {
    {"y", "8", 0.5}, {"a", "1", 0.9}, {"x", "7", 0.7}, {"b", "2", 0.8}, {"c", "3", 0.6}};

TEST(Bucc, ThresholdMaximizesDevF1) {
  // Walking down .9 .8 .7 .6 .5: F1 = .4, 2/3, 4/7, .75, 2/3; best after .6 -> (.6 + .5) / 2.
  EXPECT_DOUBLE_EQ(bucc_optimize_threshold(kDevCandidates, kDevGold), (0.6 + 0.5) / 2);
  // Nothing correct: threshold 0.
  EXPECT_DOUBLE_EQ(bucc_optimize_threshold({{"x", "7", 0.7}}, kDevGold), 0.0);
  // Best at the last candidate (the script's IndexError): that candidate's score.
  EXPECT_DOUBLE_EQ(bucc_optimize_threshold({{"x", "7", 0.7}, {"a", "1", 0.2}}, kDevGold), 0.2);
}

TEST(Bucc, DuplicateCandidatesKeepTheirMaximum) {
  std::vector<BuccCandidate> candidates = kDevCandidates;
  candidates.push_back({"x", "7", 0.95});  // x-7 now ranks first
  // .95 (x-7, wrong) .9 .8 .6 .5: F1 = none, 1/3, 4/7, 3/4, 2/3; best after .6 again.
  EXPECT_DOUBLE_EQ(bucc_optimize_threshold(candidates, kDevGold), (0.6 + 0.5) / 2);
  const auto extracted = bucc_extract(candidates, 0.85);
  EXPECT_EQ(extracted, (std::vector<BuccPair>{{"a", "1"}, {"x", "7"}}));
}

TEST(Bucc, DevThresholdAppliedToTest) {
  const std::vector<BuccCandidate> test = {
      {"p", "1", 0.9}, {"q", "2", 0.56}, {"r", "3", 0.555}, {"s", "4", 0.3}};
  const std::vector<BuccPair> test_gold = {{"p", "1"}, {"q", "2"}, {"s", "4"}};
  const BuccScores scores = bucc_evaluate(kDevCandidates, kDevGold, test, test_gold);
  EXPECT_DOUBLE_EQ(scores.threshold, (0.6 + 0.5) / 2);
  // Extracted p, q and r (score >= threshold): 2 of 3 correct, 2 of 3 found.
  EXPECT_EQ(scores.predicted, 3u);
  EXPECT_DOUBLE_EQ(scores.precision, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(scores.recall, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * 2 / 3);
}

}  // namespace
}  // namespace stilts::experiments::metrics
