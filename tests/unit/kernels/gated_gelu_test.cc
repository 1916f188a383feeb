#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "kernels/ops.h"
#include "tests/tolerance.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

TEST(GatedGelu, ForwardIsGeluNewTimesLinear) {
  const Tensor gate = random_tensor({3, 40}, 1, 4.0f), linear = random_tensor({3, 40}, 2);
  Tensor out({3, 40});
  ops::gated_gelu_forward(gate, linear, out);
  std::vector<double> expected(out.numel());
  for (int64_t i = 0; i < out.numel(); ++i) {
    const double x = gate.data<float>()[i];
    const double gelu =
        0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    expected[i] = gelu * linear.data<float>()[i];
  }
  // f32 tanh and a few products: several roundings of the largest output.
  EXPECT_TRUE(test::within_rounding(test::values_of(out), expected, 16));
}

TEST(GatedGelu, BackwardAccumulatesBothGradients) {
  Tensor gate = random_tensor({4, 6}, 3, 3.0f), linear = random_tensor({4, 6}, 4);
  const Tensor w = random_tensor({4, 6}, 5);
  const Tensor dgate0 = random_tensor({4, 6}, 6), dlinear0 = random_tensor({4, 6}, 7);
  Tensor dgate = dgate0.clone(), dlinear = dlinear0.clone();
  ops::gated_gelu_backward(w, gate, linear, dgate, dlinear);
  Tensor out({4, 6});
  auto objective = [&] {
    ops::gated_gelu_forward(gate, linear, out);
    return test::weighted_sum(out, w);
  };
  test::expect_gradient("dgate", gate, objective, test::difference(dgate, dgate0));
  test::expect_gradient("dlinear", linear, objective, test::difference(dlinear, dlinear0));
}

}  // namespace
}  // namespace stilts
