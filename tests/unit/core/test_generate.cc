// Greedy decoding with the key/value cache against decoding by recomputing the whole prefix,
// and rank classification against the model's own per-candidate loss.
#include <gtest/gtest.h>

#include <cmath>
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

}  // namespace
}  // namespace stilts
