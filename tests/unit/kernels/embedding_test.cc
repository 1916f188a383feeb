#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

TEST(Embedding, ForwardCopiesRows) {
  const Tensor table = random_tensor({5, 3}, 1);
  const Tensor ids = test::int_tensor({2, 2}, {4, 0, 4, 2});
  Tensor out({2, 2, 3});
  ops::embedding_forward(ids, table, out);
  const int32_t rows[] = {4, 0, 4, 2};
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(out.data<float>()[n * 3 + j], table.data<float>()[rows[n] * 3 + j]);
}

// Two vocab-parallel shards of a table: each reads and trains only its own rows, and the sum
// of the shards' outputs is the whole table's output.
TEST(Embedding, ShardsOfTheVocabularySumToTheWholeTable) {
  const Tensor table = random_tensor({6, 3}, 5);
  const Tensor ids = test::int_tensor({5}, {5, 0, 2, 3, 5});
  const Tensor dout = random_tensor({5, 3}, 6);
  Tensor whole({5, 3}), whole_grad({6, 3});
  ops::embedding_forward(ids, table, whole);
  ops::embedding_backward(ids, dout, whole_grad);
  Tensor summed({5, 3});
  for (int64_t start : {0, 3}) {
    const Tensor shard = table.rows(start, start + 3).clone();
    Tensor out({5, 3}), grad({3, 3});
    ops::embedding_forward(ids, shard, out, start, 6);
    ops::add_inplace(summed, out);
    ops::embedding_backward(ids, dout, grad, start, 6);
    for (int64_t i = 0; i < 9; ++i)
      EXPECT_EQ(grad.data<float>()[i], whole_grad.data<float>()[start * 3 + i]);
  }
  for (int64_t i = 0; i < 15; ++i) EXPECT_EQ(summed.data<float>()[i], whole.data<float>()[i]);
  Tensor out({5, 3}), one({1, 3});
  const Tensor shard = table.rows(3, 6).clone();
  EXPECT_THROW(ops::embedding_forward(test::int_tensor({1}, {6}), shard, one, 3, 6),
               std::out_of_range);
  EXPECT_THROW(ops::embedding_forward(ids, shard, out, 4, 6), std::invalid_argument);
}

TEST(Embedding, BackwardAccumulatesTheGradient) {
  Tensor table = random_tensor({6, 4}, 2);
  const Tensor ids = test::int_tensor({7}, {3, 1, 3, 5, 3, 0, 1});  // repeats, row 2 and 4 unused
  const Tensor weights = random_tensor({7, 4}, 3);
  const Tensor dtable0 = random_tensor({6, 4}, 4);
  Tensor dtable = dtable0.clone();
  ops::embedding_backward(ids, weights, dtable);
  Tensor out({7, 4});
  test::expect_gradient(
      "dtable", table,
      [&] {
        ops::embedding_forward(ids, table, out);
        return test::weighted_sum(out, weights);
      },
      test::difference(dtable, dtable0));
}

TEST(Embedding, BackwardIsBitIdenticalAcrossRunsAndThreadCounts) {
  constexpr int64_t kTokens = 4000, kVocab = 37, kDim = 48;
  std::vector<int32_t> id_values(kTokens);
  for (int64_t n = 0; n < kTokens; ++n)
    id_values[n] = static_cast<int32_t>((n * n + 7 * n) % kVocab);
  const Tensor ids = test::int_tensor({kTokens}, id_values);
  const Tensor dout = random_tensor({kTokens, kDim}, 5);
  const Tensor start = random_tensor({kVocab, kDim}, 6);
  Tensor first = start.clone();
  ops::embedding_backward(ids, dout, first);
  for (int threads : {1, 2, 3}) {
    test::ThreadCount scope(threads);
    Tensor again = start.clone();
    ops::embedding_backward(ids, dout, again);
    EXPECT_TRUE(test::bitwise_equal(first, again)) << threads << " threads";
  }
}

TEST(Embedding, IdOutOfRangeIsAnErrorNamingTheId) {
  const Tensor table({10, 2});
  const Tensor ids = test::int_tensor({3}, {1, 57, 2});
  Tensor out({3, 2});
  try {
    ops::embedding_forward(ids, table, out);
    FAIL() << "no error for id 57";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("57"), std::string::npos) << e.what();
  }
  Tensor dtable({10, 2});
  const Tensor negative = test::int_tensor({3}, {1, -3, 2});
  try {
    ops::embedding_backward(negative, out, dtable);
    FAIL() << "no error for id -3";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("-3"), std::string::npos) << e.what();
  }
}

TEST(Embedding, RejectsMismatchedShapes) {
  const Tensor table({10, 4});
  const Tensor ids = test::int_tensor({3}, {1, 2, 3});
  Tensor out({3, 5});
  EXPECT_THROW(ops::embedding_forward(ids, table, out), std::invalid_argument);
  Tensor float_ids({3});
  Tensor good({3, 4});
  EXPECT_THROW(ops::embedding_forward(float_ids, table, good), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
