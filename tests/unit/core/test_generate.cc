// Greedy decoding with the key/value cache against decoding by recomputing the whole prefix,
// and rank classification against the model's own per-candidate loss.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "core/generate.h"
#include "kernels/ops.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

class Generate : public ::testing::Test {
 protected:
  void SetUp() override { params.initialize(21); }
  // Random weights: eos is no likelier than any other token, so sequences run long.
  Parameters params{model_preset("test-tiny"), Device::cpu};
};

TEST_F(Generate, TheCacheGivesTheTokensOfRecomputingThePrefix) {
  Mt5Model model(params);
  const auto inputs = random_sequences(params.config(), 5, 4);
  const auto cached = greedy_decode(model, inputs, {16, true});
  const auto recomputed = greedy_decode(model, inputs, {16, false});
  ASSERT_EQ(cached.size(), inputs.size());
  size_t tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(cached[i], recomputed[i]) << "example " << i;
    tokens += cached[i].size();
  }
  // Enough positions to exercise the cache and the relative-position buckets beyond 8.
  EXPECT_GE(tokens, 40u);
}

TEST_F(Generate, StopsAtEosAndAtTheMaximumLength) {
  Mt5Model model(params);
  const auto inputs = random_sequences(params.config(), 3, 8);
  for (const auto& out : greedy_decode(model, inputs, {4, true})) EXPECT_LE(out.size(), 4u);
  for (const auto& out : greedy_decode(model, inputs, {16, true}))
    for (int32_t t : out) EXPECT_NE(t, params.config().eos_token_id);
  EXPECT_TRUE(greedy_decode(model, {}, {}).empty());
  EXPECT_THROW(greedy_decode(model, inputs, {0, true}), std::invalid_argument);
}

TEST_F(Generate, RankClassificationScoresEachCandidateByItsLogLikelihood) {
  const ModelConfig& c = params.config();
  Mt5Model model(params);
  const auto inputs = random_sequences(c, 3, 12);
  // Candidates of different lengths, and different numbers of them per example.
  const auto pool = random_sequences(c, 4, 13);
  const std::vector<std::vector<std::vector<int32_t>>> candidates = {
      {pool[0], pool[1]}, {pool[2], pool[3], pool[0]}, {pool[1]}};
  const auto ranked = rank_classify(model, inputs, candidates, 4);
  ASSERT_EQ(ranked.size(), 3u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(ranked[i].log_likelihoods.size(), candidates[i].size());
    for (size_t j = 0; j < candidates[i].size(); ++j) {
      const HeadLoss alone = model.forward(make_batch({inputs[i]}, {candidates[i][j]}, 0), {});
      EXPECT_NEAR(ranked[i].log_likelihoods[j], -alone.loss_sum, 1e-4 * alone.loss_sum)
          << "example " << i << " candidate " << j;
    }
    const auto& ll = ranked[i].log_likelihoods;
    EXPECT_EQ(ranked[i].best, std::max_element(ll.begin(), ll.end()) - ll.begin());
  }
  // Groups of one example, with more candidates than batch_pairs, or of all three: the same.
  for (const int64_t batch_pairs : {1, 64}) {
    const auto regrouped = rank_classify(model, inputs, candidates, batch_pairs);
    for (size_t i = 0; i < inputs.size(); ++i)
      for (size_t j = 0; j < candidates[i].size(); ++j)
        EXPECT_NEAR(regrouped[i].log_likelihoods[j], ranked[i].log_likelihoods[j],
                    1e-5 * std::fabs(ranked[i].log_likelihoods[j]))
            << "batch_pairs " << batch_pairs << " example " << i << " candidate " << j;
  }
  EXPECT_THROW(rank_classify(model, inputs, {{pool[0]}}), std::invalid_argument);
  EXPECT_THROW(rank_classify(model, {inputs[0]}, {{}}), std::invalid_argument);
}

// Tags A = [10], B = [11, 12], C = [11, 13]; start and pad 0, eos 1.
const std::vector<std::vector<int32_t>> kTags = {{10}, {11, 12}, {11, 13}};

TEST(ConstrainedTags, TakesTheLikeliestAllowedTokenAndEndsAfterTheLastWord) {
  // The scorer prefers, after the start or A, 11 then 10; after 11, 13 over 12; after 13, A;
  // and eos most of all whenever it is offered. Unconstrained, it would stop at once.
  std::vector<std::set<int32_t>> offered;
  const NextTokenScorer score = [&](const std::vector<int32_t>& fed,
                                    const std::vector<std::vector<int32_t>>& allowed) {
    std::vector<std::vector<double>> out(allowed.size());
    for (size_t r = 0; r < allowed.size(); ++r) {
      if (r == 0) offered.emplace_back(allowed[r].begin(), allowed[r].end());
      const std::map<int32_t, double> preference =
          fed[r] == 11   ? std::map<int32_t, double>{{13, -0.1}, {12, -2.0}}
          : fed[r] == 13 ? std::map<int32_t, double>{{10, -0.1}, {11, -2.0}}
                         : std::map<int32_t, double>{{11, -0.5}, {10, -1.0}};
      for (int32_t token : allowed[r])
        out[r].push_back(token == 1 ? 0.0 : preference.count(token) ? preference.at(token) : -9.0);
    }
    return out;
  };
  const auto tags = constrained_tag_search({4, 0, 1}, kTags, 0, 1, 0, score);
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0], (std::vector<int>{2, 0, 2, 0}));  // C A C A
  EXPECT_TRUE(tags[1].empty());
  EXPECT_EQ(tags[2], (std::vector<int>{2}));
  // Row 0: start {10, 11}; after 11 {12, 13}; after C {10, 11}; after A {10, 11}; after 11
  // {12, 13}; after C {10, 11}; after the fourth tag, A, eos alone.
  const std::vector<std::set<int32_t>> expected = {{10, 11}, {12, 13}, {10, 11}, {10, 11},
                                                   {12, 13}, {10, 11}, {1}};
  ASSERT_GE(offered.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(offered[i], expected[i]) << "step " << i;
}

TEST(ConstrainedTags, AlwaysGivesOneValidTagPerWordAndRefusesBadTagSets) {
  // Arbitrary scores, eos and a tag that is the prefix of another ([20] and [20, 21]).
  const std::vector<std::vector<int32_t>> tags = {{20}, {20, 21}, {22, 23, 24}, {25}};
  int calls = 0;
  const NextTokenScorer score = [&](const std::vector<int32_t>& fed,
                                    const std::vector<std::vector<int32_t>>& allowed) {
    ++calls;
    std::vector<std::vector<double>> out(allowed.size());
    for (size_t r = 0; r < allowed.size(); ++r)
      for (int32_t token : allowed[r])
        out[r].push_back(static_cast<double>((fed[r] * 31 + token * 17 + calls * 7 + r) % 13));
    return out;
  };
  const std::vector<int64_t> words = {1, 2, 3, 5, 8, 13, 0};
  const auto out = constrained_tag_search(words, tags, 0, 1, 0, score);
  ASSERT_EQ(out.size(), words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    EXPECT_EQ(static_cast<int64_t>(out[i].size()), words[i]) << "example " << i;
    for (int tag : out[i]) EXPECT_TRUE(tag >= 0 && tag < 4) << "example " << i;
  }
  EXPECT_THROW(constrained_tag_search({1}, {}, 0, 1, 0, score), std::invalid_argument);
  EXPECT_THROW(constrained_tag_search({1}, {{10}, {}}, 0, 1, 0, score), std::invalid_argument);
  EXPECT_THROW(constrained_tag_search({1}, {{10}, {10}}, 0, 1, 0, score), std::invalid_argument);
  EXPECT_THROW(constrained_tag_search({1}, {{10, 1}}, 0, 1, 0, score), std::invalid_argument);
}

TEST_F(Generate, TagDecodingGivesOneTagOfTheSetPerWordOnTheModel) {
  Mt5Model model(params);
  const auto inputs = random_sequences(params.config(), 4, 31);
  const std::vector<int64_t> words = {3, 0, 7, 12};
  // Tags of one to three pieces, two sharing a first piece.
  const std::vector<std::vector<int32_t>> tags = {{40}, {41, 42}, {41, 43, 44}, {45}, {46, 47}};
  const auto out = decode_tags(model, inputs, words, tags);
  ASSERT_EQ(out.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(static_cast<int64_t>(out[i].size()), words[i]) << "example " << i;
    for (int tag : out[i]) EXPECT_TRUE(tag >= 0 && tag < 5) << "example " << i;
    // An example alone gets the tags it gets in the padded batch.
    EXPECT_EQ(decode_tags(model, {inputs[i]}, {words[i]}, tags)[0], out[i]) << "example " << i;
  }
  EXPECT_THROW(decode_tags(model, inputs, {1}, tags), std::invalid_argument);
  EXPECT_THROW(decode_tags(model, inputs, words, {}), std::invalid_argument);
  EXPECT_TRUE(decode_tags(model, {}, {}, tags).empty());
}

}  // namespace

}  // namespace stilts
