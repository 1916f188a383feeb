#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/ops.h"
#include "tests/tolerance.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

constexpr int64_t kM = 6, kK = 4, kN = 5;

// a and b laid out for op(a) [kM, kK] and op(b) [kK, kN], with leading dimensions to flatten.
Tensor make_a(bool transpose, uint32_t seed) {
  return random_tensor(transpose ? Shape{2, 2, kM} : Shape{2, 3, kK}, seed);
}
Tensor make_b(bool transpose, uint32_t seed) {
  return random_tensor(transpose ? Shape{kN, kK} : Shape{kK, kN}, seed);
}

// op(t)[i][j] of a matrix stored as [rows, cols].
double op_at(const Tensor& t, bool transpose, int64_t i, int64_t j) {
  const int64_t cols = t.dim(-1);
  return t.data<float>()[transpose ? j * cols + i : i * cols + j];
}

class MatmulTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(MatmulTest, MatchesNaiveProductWithAlphaAndBeta) {
  const auto [ta, tb] = GetParam();
  const Tensor a = make_a(ta, 1), b = make_b(tb, 2);
  Tensor c = random_tensor({2, 3, kN}, 3);
  const Tensor c0 = c.clone();
  const float alpha = 0.7f, beta = -1.3f;
  ops::matmul(a, ta, b, tb, c, alpha, beta);
  // A sum of K products rounds within about K + 2 units of its terms' absolute sum, in any
  // order the BLAS kernel of this machine picks.
  std::vector<double> expected(kM * kN);
  double terms = 0.0;
  for (int64_t i = 0; i < kM; ++i)
    for (int64_t j = 0; j < kN; ++j) {
      double dot = 0.0, magnitude = 0.0;
      for (int64_t k = 0; k < kK; ++k) {
        dot += op_at(a, ta, i, k) * op_at(b, tb, k, j);
        magnitude += std::fabs(op_at(a, ta, i, k) * op_at(b, tb, k, j));
      }
      const double c_term = beta * c0.data<float>()[i * kN + j];
      expected[i * kN + j] = alpha * dot + c_term;
      terms = std::max(terms, std::fabs(alpha) * magnitude + std::fabs(c_term));
    }
  EXPECT_TRUE(
      test::within_rounding(test::values_of(c), expected, kK + 2, test::kF32Epsilon, terms));
}

// A linear layer's backward is two matmuls with beta = 1; for c = alpha op(a) op(b) the
// gradients of sum(c * w) are alpha w op(b)ᵀ for op(a) and alpha op(a)ᵀ w for op(b), stored
// transposed when a or b is.
TEST_P(MatmulTest, TransposedProductsGiveTheGradients) {
  const auto [ta, tb] = GetParam();
  Tensor a = make_a(ta, 4), b = make_b(tb, 5);
  Tensor c({kM, kN});
  const Tensor w = random_tensor({kM, kN}, 6);
  const float alpha = 1.7f;
  const Tensor da0 = random_tensor(a.shape(), 7), db0 = random_tensor(b.shape(), 8);
  Tensor da = da0.clone(), db = db0.clone();
  if (ta)
    ops::matmul(b, tb, w, true, da, alpha, 1.0f);
  else
    ops::matmul(w, false, b, !tb, da, alpha, 1.0f);
  if (tb)
    ops::matmul(w, true, a, ta, db, alpha, 1.0f);
  else
    ops::matmul(a, !ta, w, false, db, alpha, 1.0f);
  auto objective = [&] {
    ops::matmul(a, ta, b, tb, c, alpha);
    return test::weighted_sum(c, w);
  };
  test::expect_gradient("da", a, objective, test::difference(da, da0));
  test::expect_gradient("db", b, objective, test::difference(db, db0));
}

INSTANTIATE_TEST_SUITE_P(AllTransposes, MatmulTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(Matmul, BetaZeroOverwritesEvenNaN) {
  const Tensor a = make_a(false, 9), b = make_b(false, 10);
  Tensor c({kM, kN});
  ops::fill(c, std::numeric_limits<float>::quiet_NaN());
  ops::matmul(a, false, b, false, c);
  for (int64_t i = 0; i < c.numel(); ++i) EXPECT_TRUE(std::isfinite(c.data<float>()[i])) << i;
}

TEST(Matmul, EmptyInnerDimensionLeavesBetaTimesC) {
  const Tensor a({3, 0}), b({0, 2});
  Tensor c = random_tensor({3, 2}, 11);
  const std::vector<double> before = test::to_double(c);
  ops::matmul(a, false, b, false, c, 1.0f, 0.5f);
  for (int64_t i = 0; i < c.numel(); ++i)
    EXPECT_FLOAT_EQ(c.data<float>()[i], static_cast<float>(0.5 * before[i]));
}

TEST(Matmul, RejectsMismatchedShapes) {
  const Tensor a({3, 4}), b({5, 2});
  Tensor c({3, 2});
  EXPECT_THROW(ops::matmul(a, false, b, false, c), std::invalid_argument);
  Tensor wrong_c({3, 3});
  const Tensor b_ok({4, 2});
  EXPECT_THROW(ops::matmul(a, false, b_ok, false, wrong_c), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
