#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "core/sentence_embedding.h"
#include "kernels/ops.h"
#include "tests/tolerance.h"

namespace stilts {
namespace {

class SentenceEmbedding : public ::testing::Test {
 protected:
  void SetUp() override { params.initialize(9); }
  Parameters params{model_preset("test-tiny"), Device::cpu};
  const std::vector<std::vector<int32_t>> inputs{{5, 9, 17, 1}, {40, 1}, {7, 7, 8, 300, 12, 1}};
};

TEST_F(SentenceEmbedding, LayerZeroIsTheMeanOfTheTokensEmbeddings) {
  Mt5Model model(params);
  const Tensor e = sentence_embeddings(model, inputs, 0);
  const Tensor& table = params.value("shared.weight");
  const int64_t d = table.dim(1);
  std::vector<double> means(inputs.size() * d);
  for (size_t i = 0; i < inputs.size(); ++i)
    for (int64_t j = 0; j < d; ++j) {
      double mean = 0;
      for (int32_t t : inputs[i]) mean += table.data<float>()[t * d + j];
      means[i * d + j] = mean / static_cast<double>(inputs[i].size());
    }
  // A mean of at most six f32 values: a few roundings of the largest embedding value.
  EXPECT_TRUE(test::within_rounding(test::values_of(e), means, 8, test::kF32Epsilon,
                                    test::max_magnitude(test::values_of(table))));
}

TEST_F(SentenceEmbedding, PoolsOnlyRealTokensWhateverTheBatch) {
  Mt5Model model(params);
  const int64_t last = params.config().num_layers;
  const Tensor together = sentence_embeddings(model, inputs, last, 3);
  const Tensor alone = sentence_embeddings(model, inputs, last, 1);
  const int64_t d = params.config().d_model;
  // A batch of three and three batches of one run differently shaped GEMMs.
  EXPECT_TRUE(test::within_rounding(together, alone, 64));
  // Alone, sequence 1 has no padding: its embedding is the plain mean of the final states.
  model.encode(inputs[1], 1, 2);
  const Tensor& states = model.encoder_output();
  std::vector<double> mean(d);
  for (int64_t j = 0; j < d; ++j)
    mean[j] = (states.data<float>()[j] + states.data<float>()[d + j]) / 2.0;
  EXPECT_TRUE(test::within_rounding(test::values_of(alone.rows(1, 2)), mean, 4));
  EXPECT_THROW(sentence_embeddings(model, inputs, last + 1), std::invalid_argument);
}

TEST(NearestByCosine, RanksCandidatesByAngleNotLength) {
  Tensor queries({2, 2}), candidates({4, 2});
  const float q[] = {1, 0, 0, 1};
  const float c[] = {10, 1, 0.5f, 0.5f, 0, -3, 1, 0};
  std::copy(q, q + 4, queries.data<float>());
  std::copy(c, c + 8, candidates.data<float>());
  const Neighbors n = nearest_by_cosine(queries, candidates, 3);
  EXPECT_EQ(n.indices[0], (std::vector<int64_t>{3, 0, 1}));
  EXPECT_NEAR(n.similarities[0][0], 1.0, 1e-6);
  EXPECT_NEAR(n.similarities[0][1], 10 / std::sqrt(101.0), 1e-6);
  EXPECT_EQ(n.indices[1], (std::vector<int64_t>{1, 0, 3}));
  EXPECT_EQ(nearest_by_cosine(queries, candidates, 10).indices[0].size(), 4u);
  EXPECT_THROW(nearest_by_cosine(queries, Tensor({4, 3}), 1), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
