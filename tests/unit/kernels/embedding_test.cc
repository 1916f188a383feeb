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
