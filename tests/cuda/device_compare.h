// What the GPU tests share to run an op on a device and compare it with the CPU: where each side
// runs, host values rounded to a dtype, moving tensors between the host and a side, and the
// comparisons with their tolerances (cuda_ops and cuda_large).
//
// bf16: the inputs are drawn in f32 and rounded to bf16 on the host, the CPU runs on the rounded
// values in f32 and the GPU on bf16 copies of them, so both see the same numbers and differ only
// by the GPU's rounding of what it stores in bf16 (relative 2^-9 per store) and by the order of
// f32 sums. Outputs that ops.h keeps in f32 (statistics, weight gradients, optimizer state) are
// held to the f32 tolerances even with bf16 inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace stilts::test {

// f32 on the GPU differs from the CPU by the order of f32 sums and the last bits of libm.
inline constexpr double kF32 = 1e-5;
// Products summed over a long inner dimension (GEMM, attention): cuBLASLt's split order.
inline constexpr double kF32Gemm = 1e-4;
// One bf16 rounding is 2^-9 = 0.2% relative; 1e-2 leaves room for an op that stores an
// intermediate in bf16 (attention's probabilities) while catching any real error (a wrong
// element is off by O(1)).
inline constexpr double kBf16 = 1e-2;

inline constexpr DType kFloatingDtypes[] = {DType::f32, DType::bf16};

// kBf16 for bf16, else the given f32 tolerance.
double floating_tolerance(DType dtype, double f32_tolerance);

// Where one side of a comparison runs: the CPU reference (f32), or the device under test in a
// floating dtype.
struct Side {
  Device device;
  DType dtype;
};
inline constexpr Side kCpu{Device::cpu, DType::f32};

// Host f32 values rounded to `dtype`: what the GPU holds of them.
Tensor rounded(const Tensor& host, DType dtype);
// Uniform values in [-scale, scale), rounded to `dtype`, on the host in f32.
Tensor draw(const Shape& shape, uint32_t seed, DType dtype, float scale = 1.0f);
// A floating tensor of `side` holding host f32 values.
Tensor put(const Tensor& host, Side side);
// A tensor that stays in its dtype on every device (f32 statistics and gradients, i32 ids).
Tensor put_exact(const Tensor& host, Side side);
// A fresh zero tensor of `side`'s floating dtype.
Tensor zeros(const Shape& shape, Side side);
// A tensor of `side`'s floating dtype filled with NaN: the output of an op that overwrites it,
// so that an element the op leaves unwritten fails every comparison.
Tensor poisoned(const Shape& shape, Side side);
// Any tensor back on the host in f32.
Tensor get(const Tensor& t);
double scalar(const Tensor& t);
std::vector<int32_t> values_of(const Tensor& i32);

// |actual - expected| <= tolerance * (|expected| + rms(expected)) for every element: relative
// for large elements, relative to the tensor's scale for those near zero (a sum that cancels).
// NaN (an element left poisoned) always fails. A failure names the worst element and the
// relative error of the whole tensor.
void expect_close(const std::string& what, const Tensor& expected, const Tensor& actual,
                  double tolerance);
void expect_bit_equal(const std::string& what, const Tensor& expected, const Tensor& actual);
// ||actual - expected|| / ||expected|| over every element, in double (host f32 tensors).
double relative_error(const Tensor& expected, const Tensor& actual);

}  // namespace stilts::test
