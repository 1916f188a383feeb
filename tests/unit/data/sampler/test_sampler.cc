// The mixture sampler: proportions, per-epoch permutations, disjoint rank shares and resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/sampler.h"

namespace stilts::data {
namespace {

// Every source's share of n draws lies within 5 binomial standard deviations of n * p: the
// draws are fixed by the seed, and 5 sigma leaves a correct sampler a margin it cannot miss by
// chance (two-sided 6e-7 per source).
void expect_proportions(MixtureSampler& sampler, const std::vector<double>& expected, int64_t n) {
  std::vector<int64_t> counts(expected.size());
  for (int64_t i = 0; i < n; ++i) ++counts[sampler.next().source];
  for (size_t s = 0; s < expected.size(); ++s) {
    const double mean = static_cast<double>(n) * expected[s];
    const double sigma = std::sqrt(mean * (1 - expected[s]));
    EXPECT_LE(std::abs(static_cast<double>(counts[s]) - mean), 5 * sigma + 1e-9)
        << "source " << s << ": " << counts[s] << " draws, expected " << mean;
  }
}

TEST(MixtureSampler, FollowsTheAlphaRule) {
  const std::vector<uint64_t> sizes{200000, 5000, 300, 20};
  for (double alpha : {0.3, 1.0, 0.0}) {
    std::vector<double> expected;
    double total = 0;
    for (uint64_t size : sizes) total += std::pow(static_cast<double>(size), alpha);
    for (uint64_t size : sizes)
      expected.push_back(std::pow(static_cast<double>(size), alpha) / total);
    SamplerOptions options;
    options.alpha = alpha;
    options.seed = 11;
    MixtureSampler sampler(sizes, options);
    for (size_t s = 0; s < sizes.size(); ++s)
      EXPECT_NEAR(sampler.probabilities()[s], expected[s], 1e-12);
    expect_proportions(sampler, expected, 200000);
  }
}

TEST(MixtureSampler, FollowsExplicitWeights) {
  SamplerOptions options;
  options.weights = {3, 1, 0, 6};
  options.seed = 5;
  MixtureSampler sampler({10, 1000, 50, 7}, options);
  const std::vector<double> expected{0.3, 0.1, 0.0, 0.6};
  for (size_t s = 0; s < expected.size(); ++s)
    EXPECT_DOUBLE_EQ(sampler.probabilities()[s], expected[s]);
  // A zero weight has zero deviation allowed: that source is never drawn.
  expect_proportions(sampler, expected, 100000);
}

TEST(EpochPermutation, IsAPermutationThatChangesPerEpochAndSource) {
  const uint64_t n = 1000;
  const std::vector<uint64_t> first = epoch_permutation(n, 7, 2, 0);
  std::vector<uint64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(epoch_permutation(n, 7, 2, 0), first);
  EXPECT_NE(epoch_permutation(n, 7, 2, 1), first);
  EXPECT_NE(epoch_permutation(n, 7, 3, 0), first);
  EXPECT_NE(epoch_permutation(n, 8, 2, 0), first);
  EXPECT_TRUE(epoch_permutation(0, 7, 2, 0).empty());
}

// The generator and the Fisher-Yates are specified down to the integer arithmetic, so these
// values hold under every standard library; a change here reshuffles every saved run.
TEST(EpochPermutation, IsPinned) {
  EXPECT_EQ(epoch_permutation(10, 42, 0, 0), (std::vector<uint64_t>{2, 0, 5, 4, 3, 1, 7, 6, 8, 9}));
}

TEST(MixtureSampler, RanksTakeDisjointSharesThatCoverTheEpoch) {
  for (uint64_t size : {9u, 10u, 11u, 3u}) {
    std::vector<uint64_t> all;
    for (int64_t rank = 0; rank < 3; ++rank) {
      SamplerOptions options;
      options.seed = 3;
      options.rank = rank;
      options.world = 3;
      MixtureSampler sampler({size}, options);
      // The remainder goes to the lowest ranks, one example each.
      EXPECT_EQ(sampler.share_size(0), size / 3 + (static_cast<uint64_t>(rank) < size % 3));
      const std::vector<uint64_t> share = sampler.epoch_share(0, 4);
      EXPECT_EQ(share.size(), sampler.share_size(0));
      all.insert(all.end(), share.begin(), share.end());
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), size);
    for (uint64_t i = 0; i < size; ++i) EXPECT_EQ(all[i], i);
  }
}

TEST(MixtureSampler, WalksEachShareThenStartsTheNextEpoch) {
  SamplerOptions options;
  options.seed = 9;
  options.rank = 1;
  options.world = 2;
  MixtureSampler sampler({7, 30}, options);
  std::vector<std::vector<uint64_t>> drawn(2);
  while (drawn[0].size() < 3 * sampler.share_size(0)) {
    const SampleRef ref = sampler.next();
    drawn[ref.source].push_back(ref.index);
  }
  std::vector<uint64_t> expected;
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    const std::vector<uint64_t> share = sampler.epoch_share(0, epoch);
    expected.insert(expected.end(), share.begin(), share.end());
  }
  EXPECT_EQ(drawn[0], expected);
  EXPECT_EQ(sampler.state()["sources"][0]["epoch"], 2);
}

TEST(MixtureSampler, AllRanksDrawTheSameSourceSequence) {
  std::vector<std::vector<size_t>> sequences;
  for (int64_t rank = 0; rank < 4; ++rank) {
    SamplerOptions options;
    options.seed = 21;
    options.rank = rank;
    options.world = 4;
    MixtureSampler sampler({40, 400, 4000}, options);
    std::vector<size_t> sources;
    for (int i = 0; i < 2000; ++i) sources.push_back(sampler.next().source);
    sequences.push_back(sources);
  }
  for (const auto& sequence : sequences) EXPECT_EQ(sequence, sequences[0]);
}

TEST(MixtureSampler, ResumesTheIdenticalStream) {
  SamplerOptions options;
  options.seed = 77;
  options.rank = 2;
  options.world = 3;
  const std::vector<uint64_t> sizes{5, 60, 900};
  MixtureSampler sampler(sizes, options);
  for (int i = 0; i < 137; ++i) sampler.next();
  const nlohmann::json saved = nlohmann::json::parse(sampler.state().dump());
  std::vector<SampleRef> expected;
  for (int i = 0; i < 500; ++i) expected.push_back(sampler.next());

  MixtureSampler resumed(sizes, options);
  resumed.restore(saved);
  EXPECT_EQ(resumed.state(), saved);
  for (const SampleRef& ref : expected) {
    const SampleRef got = resumed.next();
    ASSERT_EQ(got.source, ref.source);
    ASSERT_EQ(got.index, ref.index);
  }
}

TEST(MixtureSampler, RefusesInconsistentOptionsAndStates) {
  SamplerOptions options;
  options.world = 4;
  options.rank = 4;
  EXPECT_THROW(MixtureSampler({10}, options), std::invalid_argument);
  options.rank = 3;
  EXPECT_THROW(MixtureSampler({10, 3}, options), std::invalid_argument);
  options.weights = {1};
  EXPECT_THROW(MixtureSampler({10, 10}, options), std::invalid_argument);
  options.weights = {1, -1};
  EXPECT_THROW(MixtureSampler({10, 10}, options), std::invalid_argument);
  options.weights = {0, 0};
  EXPECT_THROW(MixtureSampler({10, 10}, options), std::invalid_argument);
  EXPECT_THROW(mixture_probabilities({}, 0.3), std::invalid_argument);
  EXPECT_THROW(mixture_probabilities({0}, 0.3), std::invalid_argument);

  options.weights.clear();
  const MixtureSampler sampler({10, 10}, options);
  options.seed = 1;
  MixtureSampler other_seed({10, 10}, options);
  EXPECT_THROW(other_seed.restore(sampler.state()), std::invalid_argument);
}

TEST(TaskWeighted, SharesEachTasksWeightAmongItsSourcesBySize) {
  // mnli in English and two translations, squad in English only: each task keeps its weight
  // whether it comes as one corpus or three, and within mnli every example is equally likely.
  const std::vector<std::string> tasks{"mnli", "squad", "mnli", "mnli"};
  const std::vector<uint64_t> sizes{300, 500, 300, 600};
  const std::vector<double> w = task_weighted(tasks, sizes, {{"mnli", 1.0}, {"squad", 3.0}});
  ASSERT_EQ(w.size(), 4u);
  const double mnli = 0.25, squad = 0.75;
  EXPECT_NEAR(w[0], mnli * 300 / 1200, 1e-15);
  EXPECT_NEAR(w[1], squad, 1e-15);
  EXPECT_NEAR(w[2], mnli * 300 / 1200, 1e-15);
  EXPECT_NEAR(w[3], mnli * 600 / 1200, 1e-15);
  // The English-only regime: the same task weights over one corpus each.
  const std::vector<double> english =
      task_weighted({"mnli", "squad"}, {300, 500}, {{"mnli", 1.0}, {"squad", 3.0}});
  EXPECT_NEAR(english[0], mnli, 1e-15);
  EXPECT_NEAR(english[1], squad, 1e-15);

  SamplerOptions options;
  options.weights = w;
  options.seed = 5;
  MixtureSampler sampler(sizes, options);
  expect_proportions(sampler, w, 40000);
}

TEST(TaskWeighted, ParsesTaskEqualsWeightLists) {
  const std::map<std::string, double> weights = parse_task_weights("mnli=1, squad=0.5");
  EXPECT_EQ(weights, (std::map<std::string, double>{{"mnli", 1.0}, {"squad", 0.5}}));
  for (const char* bad : {"mnli", "=1", "mnli=x", "mnli=-1", "mnli=1,", "mnli=1x", ""})
    EXPECT_THROW(parse_task_weights(bad), std::invalid_argument) << bad;
  EXPECT_THROW(parse_task_weights("mnli=1,mnli=2"), std::invalid_argument);
}

TEST(TaskWeighted, RefusesWeightsThatDoNotMatchTheSources) {
  const auto message = [](const std::vector<std::string>& tasks,
                          const std::map<std::string, double>& weights) {
    try {
      task_weighted(tasks, std::vector<uint64_t>(tasks.size(), 10), weights);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"mnli", "qqp"}, {{"mnli", 1}}).find("'qqp', which has no weight"),
            std::string::npos);
  EXPECT_NE(message({"mnli"}, {{"mnli", 1}, {"squad", 1}}).find("'squad' has a weight but no"),
            std::string::npos);
  EXPECT_NE(message({"mnli"}, {{"mnli", -1}}).find("not >= 0"), std::string::npos);
  EXPECT_NE(message({"mnli"}, {{"mnli", 0}}).find("sum to 0"), std::string::npos);
  // Unresolved task weights never reach the sampler silently.
  SamplerOptions options;
  options.task_weights = {{"mnli", 1}};
  EXPECT_THROW(MixtureSampler({10}, options), std::invalid_argument);
}

TEST(SourceSubset, KeepsAboutTheFractionByIdAlone) {
  int64_t kept = 0;
  const int64_t n = 20000;
  for (int64_t i = 0; i < n; ++i) {
    const std::string id = std::to_string(i) + "-line";
    const bool in = in_source_subset(id, 0.3, 17);
    kept += in;
    // The decision depends on (seed, id) only: the same id in a translation's corpus agrees.
    ASSERT_EQ(in, in_source_subset(std::string(id), 0.3, 17));
  }
  const double sigma = std::sqrt(n * 0.3 * 0.7);
  EXPECT_LE(std::abs(static_cast<double>(kept) - 0.3 * n), 5 * sigma);
  int64_t same = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    const std::string id = std::to_string(i) + "-q";
    same += in_source_subset(id, 0.5, 1) == in_source_subset(id, 0.5, 2);
  }
  EXPECT_LT(same, 1200);  // another seed draws another subset (about half agree by chance)
  EXPECT_TRUE(in_source_subset("anything", 1.0, 3));
}

}  // namespace
}  // namespace stilts::data
