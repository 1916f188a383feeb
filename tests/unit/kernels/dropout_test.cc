#include <gtest/gtest.h>

#include <stdexcept>

#include "kernels/ops.h"
#include "kernels/philox.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

TEST(Dropout, KeepsElementsWhoseUniformReachesTheRate) {
  constexpr int64_t kSize = 100003;
  constexpr float kRate = 0.1f;
  const RngKey key{5, dropout_stream(12, 2, 3, 0)};
  const Tensor x = random_tensor({kSize}, 1);
  Tensor out({kSize});
  ops::dropout_forward(x, kRate, key, out);
  int64_t kept = 0;
  for (int64_t i = 0; i < kSize; ++i) {
    const bool keep = philox_uniform(key, i) >= kRate;
    kept += keep;
    ASSERT_EQ(out.data<float>()[i], keep ? x.data<float>()[i] * (1.0f / (1.0f - kRate)) : 0.0f)
        << i;
  }
  EXPECT_NEAR(static_cast<double>(kept) / kSize, 1.0 - kRate, 0.005);
}

TEST(Dropout, RateZeroIsIdentityAndInPlaceWorks) {
  const Tensor x = random_tensor({1000}, 2);
  Tensor out({1000});
  ops::dropout_forward(x, 0.0f, RngKey{1, 1}, out);
  EXPECT_TRUE(test::bitwise_equal(x, out));
  Tensor separate({1000});
  ops::dropout_forward(x, 0.4f, RngKey{1, 1}, separate);
  Tensor in_place = x.clone();
  ops::dropout_forward(in_place, 0.4f, RngKey{1, 1}, in_place);
  EXPECT_TRUE(test::bitwise_equal(separate, in_place));
}

TEST(Dropout, BackwardAccumulatesTheGradient) {
  Tensor x = random_tensor({3, 7}, 3);
  const Tensor w = random_tensor({3, 7}, 4);
  const RngKey key{8, 8};
  const Tensor dx0 = random_tensor({3, 7}, 5);
  Tensor dx = dx0.clone();
  ops::dropout_backward(w, 0.35f, key, dx);
  Tensor out({3, 7});
  test::expect_gradient(
      "dx", x,
      [&] {
        ops::dropout_forward(x, 0.35f, key, out);
        return test::weighted_sum(out, w);
      },
      test::difference(dx, dx0));
}

TEST(Dropout, RejectsRatesOutsideUnitInterval) {
  const Tensor x({4});
  Tensor out({4});
  EXPECT_THROW(ops::dropout_forward(x, 1.5f, RngKey{}, out), std::invalid_argument);
  EXPECT_THROW(ops::dropout_forward(x, -0.1f, RngKey{}, out), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
