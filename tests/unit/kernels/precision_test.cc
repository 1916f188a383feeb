// The parts of the mixed-precision design that the CPU can check: the bf16 rounding both
// backends share, the f32-only rule of the CPU backend, and the debug mode's NaN/Inf checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "kernels/bf16.h"
#include "kernels/debug_checks.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

TEST(Bf16, RoundsToNearestEven) {
  // 1 + 2^-8 lies halfway between bf16 1 and 1 + 2^-7: ties go to the even mantissa (1).
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))),
            1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(bf16_to_float(float_to_bf16(-2.5f)), -2.5f);
  EXPECT_TRUE(std::isinf(bf16_to_float(float_to_bf16(std::numeric_limits<float>::infinity()))));
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  // The largest finite float rounds up to infinity, as __float2bfloat16_rn does.
  EXPECT_TRUE(std::isinf(bf16_to_float(float_to_bf16(std::numeric_limits<float>::max()))));
}

TEST(Cast, RoundTripKeepsBf16Values) {
  const Tensor x = test::random_tensor({3, 7}, 11, 4.0f);
  Tensor half({3, 7}, DType::bf16), back({3, 7});
  ops::cast(x, half);
  ops::cast(half, back);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x.data<float>()[i];
    EXPECT_EQ(back.data<float>()[i], bf16_to_float(float_to_bf16(v)));
    EXPECT_LE(std::abs(back.data<float>()[i] - v), std::abs(v) * std::ldexp(1.0f, -8));
  }
}

TEST(Cast, RefusesOtherDevicesAndDtypes) {
  Tensor ints({4}, DType::i32), out({4});
  EXPECT_THROW(ops::cast(ints, out), std::invalid_argument);
  Tensor short_out({3}, DType::bf16);
  EXPECT_THROW(ops::cast(out, short_out), std::invalid_argument);
}

TEST(CpuBackend, RefusesBf16WithAClearMessage) {
  Tensor x({2, 4}, DType::bf16), w({4}, DType::bf16), out({2, 4}, DType::bf16), rstd({2});
  try {
    ops::rmsnorm_forward(x, w, 1e-6f, out, rstd);
    FAIL() << "bf16 on the CPU was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rmsnorm_forward: the CPU backend computes in f32"),
              std::string::npos)
        << e.what();
  }
}

TEST(CpuBackend, RefusesMixedMatmulOperands) {
  Tensor a({2, 3}), b({3, 2}, DType::bf16), c({2, 2});
  EXPECT_THROW(ops::matmul(a, false, b, false, c), std::invalid_argument);
}

TEST(AllFinite, FindsNanAndInf) {
  Tensor x = test::random_tensor({5000}, 3);
  EXPECT_TRUE(ops::all_finite(x));
  x.data<float>()[4321] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(ops::all_finite(x));
  Tensor half({5000}, DType::bf16);
  x.data<float>()[4321] = std::nanf("");
  ops::cast(x, half);
  EXPECT_FALSE(ops::all_finite(half));
}

// Turns the debug checks on for a scope.
class DebugChecks {
 public:
  DebugChecks() { ops::set_debug_checks(true); }
  ~DebugChecks() { ops::set_debug_checks(false); }
};

TEST(DebugChecks, NameTheOpAndTheLayerThatMadeANan) {
  const DebugChecks on;
  Tensor x = test::random_tensor({2, 4}, 5);
  x.data<float>()[0] = std::numeric_limits<float>::infinity();
  Tensor w({4}), out({2, 4}), rstd({2});
  ops::fill(w, 1.0f);
  const ops::DebugScope stack("encoder");
  const ops::DebugScope layer("encoder.block.3.layer.0");
  try {
    ops::rmsnorm_forward(x, w, 1e-6f, out, rstd);
    FAIL() << "the infinite input went unreported";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("rmsnorm_forward in encoder > encoder.block.3.layer.0"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("holds NaN or Inf"), std::string::npos) << message;
  }
}

TEST(DebugChecks, StayQuietOnFiniteValuesAndWhenOff) {
  Tensor x = test::random_tensor({2, 4}, 5), y({2, 4});
  {
    const DebugChecks on;
    EXPECT_NO_THROW(ops::gated_gelu_forward(x, x, y));
  }
  x.data<float>()[1] = std::nanf("");
  EXPECT_NO_THROW(ops::gated_gelu_forward(x, x, y));
}

// f64 holds the double partial sums of the GPU's reductions: its own dtype, read as double
// only, and no floating dtype of the ops.
TEST(Tensor, F64HoldsDoublesUnderItsOwnDtype) {
  Tensor sums({3}, DType::f64);
  EXPECT_EQ(sums.nbytes(), 24u);
  EXPECT_EQ(sums.describe(), "f64[3] cpu");
  sums.data<double>()[2] = 0.1;
  EXPECT_EQ(sums.clone().data<double>()[2], 0.1);
  EXPECT_THROW(sums.data<int64_t>(), std::invalid_argument);
  Tensor acc({3});
  EXPECT_THROW(ops::add_inplace(acc, sums), std::invalid_argument);
}

// Contents::unwritten skips the zero fill; poisoned (the debug mode), every byte is 0xFF, NaN
// in each floating dtype, so a kernel reading a temporary it never wrote is caught.
TEST(Tensor, UnwrittenContentsArePoisonedInTheDebugModeOnly) {
  EXPECT_FALSE(unwritten_tensors_poisoned());
  const Tensor plain({5, 3}, DType::f32, Device::cpu, Contents::unwritten);
  EXPECT_EQ(plain.shape(), (Shape{5, 3}));
  {
    const DebugChecks on;
    EXPECT_TRUE(unwritten_tensors_poisoned());
    const Tensor poisoned({5, 3}, DType::f32, Device::cpu, Contents::unwritten);
    for (int64_t i = 0; i < poisoned.numel(); ++i)
      EXPECT_TRUE(std::isnan(poisoned.data<float>()[i])) << i;
    EXPECT_FALSE(ops::all_finite(poisoned));
    const Tensor ids({4}, DType::i32, Device::cpu, Contents::unwritten);
    EXPECT_EQ(ids.data<int32_t>()[3], -1);
    const Tensor zeros({5, 3});
    EXPECT_EQ(ops::sum_squares(zeros), 0.0);
  }
  EXPECT_FALSE(unwritten_tensors_poisoned());
}

TEST(Device, ExplainsWhyThereIsNoGpu) {
  if (device::cuda_available()) GTEST_SKIP() << "a GPU is present";
  EXPECT_FALSE(device::cuda_unavailable_reason().empty());
  EXPECT_THROW(Tensor({4}, DType::f32, Device::cuda), std::runtime_error);
}

}  // namespace
}  // namespace stilts
