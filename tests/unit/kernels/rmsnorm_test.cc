#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

constexpr float kEps = 1e-6f;

TEST(RmsNorm, ForwardMatchesDefinition) {
  const Tensor x = random_tensor({2, 3, 16}, 1, 2.0f), weight = random_tensor({16}, 2);
  Tensor out({2, 3, 16}), rstd({2, 3});
  ops::rmsnorm_forward(x, weight, kEps, out, rstd);
  for (int64_t i = 0; i < 6; ++i) {
    double ms = 0.0;
    for (int64_t j = 0; j < 16; ++j) ms += std::pow(x.data<float>()[i * 16 + j], 2) / 16;
    const double r = 1.0 / std::sqrt(ms + kEps);
    EXPECT_NEAR(rstd.data<float>()[i], r, 1e-6 * r);
    for (int64_t j = 0; j < 16; ++j)
      EXPECT_NEAR(out.data<float>()[i * 16 + j],
                  weight.data<float>()[j] * x.data<float>()[i * 16 + j] * r, 1e-5);
  }
}

TEST(RmsNorm, BackwardAccumulatesBothGradients) {
  Tensor x = random_tensor({5, 8}, 3), weight = random_tensor({8}, 4);
  const Tensor w = random_tensor({5, 8}, 5);
  Tensor out({5, 8}), rstd({5});
  ops::rmsnorm_forward(x, weight, kEps, out, rstd);
  const Tensor dx0 = random_tensor({5, 8}, 6), dweight0 = random_tensor({8}, 7);
  Tensor dx = dx0.clone(), dweight = dweight0.clone();
  ops::rmsnorm_backward(w, x, weight, rstd, dx, dweight);
  auto objective = [&] {
    ops::rmsnorm_forward(x, weight, kEps, out, rstd);
    return test::weighted_sum(out, w);
  };
  test::expect_gradient("dx", x, objective, test::difference(dx, dx0), 1e-3);
  test::expect_gradient("dweight", weight, objective, test::difference(dweight, dweight0));
}

TEST(RmsNorm, DweightIsBitIdenticalAcrossThreadCounts) {
  const Tensor x = random_tensor({300, 200}, 8), weight = random_tensor({200}, 9);
  const Tensor dout = random_tensor({300, 200}, 10);
  Tensor out({300, 200}), rstd({300});
  ops::rmsnorm_forward(x, weight, kEps, out, rstd);
  Tensor dx1({300, 200}), dw1({200});
  ops::rmsnorm_backward(dout, x, weight, rstd, dx1, dw1);
  for (int threads : {1, 3}) {
    test::ThreadCount scope(threads);
    Tensor dx({300, 200}), dw({200});
    ops::rmsnorm_backward(dout, x, weight, rstd, dx, dw);
    EXPECT_TRUE(test::bitwise_equal(dw, dw1)) << threads << " threads";
    EXPECT_TRUE(test::bitwise_equal(dx, dx1)) << threads << " threads";
  }
}

TEST(RmsNorm, ShapeMismatchIsInvalidArgument) {
  const Tensor x({4, 8});
  Tensor out({4, 8}), rstd({4});
  const Tensor short_weight({7});
  try {
    ops::rmsnorm_forward(x, short_weight, kEps, out, rstd);
    FAIL() << "no error for weight [7] with x [4,8]";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("rmsnorm_forward"), std::string::npos) << message;
    EXPECT_NE(message.find("[8]"), std::string::npos) << message;
    EXPECT_NE(message.find("f32[7]"), std::string::npos) << message;
  }
  const Tensor weight({8});
  Tensor wrong_out({4, 9}), wrong_rstd({5});
  EXPECT_THROW(ops::rmsnorm_forward(x, weight, kEps, wrong_out, rstd), std::invalid_argument);
  EXPECT_THROW(ops::rmsnorm_forward(x, weight, kEps, out, wrong_rstd), std::invalid_argument);
  Tensor dx({4, 8}), dweight({9});
  EXPECT_THROW(ops::rmsnorm_backward(out, x, weight, rstd, dx, dweight), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
