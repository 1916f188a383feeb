#include "tests/cuda/device_compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts::test {

double floating_tolerance(DType dtype, double f32_tolerance) {
  return dtype == DType::bf16 ? kBf16 : f32_tolerance;
}

Tensor rounded(const Tensor& host, DType dtype) {
  if (dtype == DType::f32) return host.clone();
  Tensor narrow(host.shape(), dtype);
  ops::cast(host, narrow);
  Tensor back(host.shape());
  ops::cast(narrow, back);
  return back;
}

Tensor draw(const Shape& shape, uint32_t seed, DType dtype, float scale) {
  return rounded(random_tensor(shape, seed, scale), dtype);
}

Tensor put(const Tensor& host, Side side) {
  Tensor narrow(host.shape(), side.dtype);
  ops::cast(host, narrow);
  return narrow.to(side.device);
}

Tensor put_exact(const Tensor& host, Side side) {
  return host.to(side.device);
}

Tensor zeros(const Shape& shape, Side side) {
  return Tensor(shape, side.dtype, side.device);
}

Tensor poisoned(const Shape& shape, Side side) {
  Tensor t(shape, side.dtype, side.device);
  ops::fill(t, std::numeric_limits<float>::quiet_NaN());
  return t;
}

Tensor get(const Tensor& t) {
  Tensor host = t.to(Device::cpu);
  if (host.dtype() == DType::f32) return host;
  Tensor wide(host.shape());
  ops::cast(host, wide);
  return wide;
}

double scalar(const Tensor& t) {
  return get(t).data<float>()[0];
}

std::vector<int32_t> values_of(const Tensor& i32) {
  const Tensor host = i32.to(Device::cpu);
  const int32_t* p = host.data<int32_t>();
  return std::vector<int32_t>(p, p + host.numel());
}

void expect_close(const std::string& what, const Tensor& expected, const Tensor& actual,
                  double tolerance) {
  ASSERT_EQ(expected.shape(), actual.shape()) << what;
  const float* e = expected.data<float>();
  const float* a = actual.data<float>();
  const int64_t n = expected.numel();
  double sum_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_squares += double{e[i]} * e[i];
  const double rms = n ? std::sqrt(sum_squares / static_cast<double>(n)) : 0.0;
  int64_t wrong = 0, worst = -1;
  double worst_ratio = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double allowed = tolerance * (std::abs(double{e[i]}) + rms) + 1e-30;
    const double ratio = std::abs(double{a[i]} - e[i]) / allowed;
    if (!(ratio <= 1.0)) {
      ++wrong;
      if (worst < 0 || !(ratio <= worst_ratio)) {
        worst = i;
        worst_ratio = ratio;
      }
    }
  }
  if (wrong == 0) return;
  ADD_FAILURE() << what << ": " << wrong << " of " << n << " elements off by more than "
                << tolerance << " relative; worst at " << worst << ": expected " << e[worst]
                << ", got " << a[worst] << "; |actual - expected| / |expected| over the tensor "
                << relative_error(expected, actual);
}

void expect_bit_equal(const std::string& what, const Tensor& expected, const Tensor& actual) {
  ASSERT_EQ(expected.shape(), actual.shape()) << what;
  EXPECT_TRUE(bitwise_equal(expected, actual)) << what << " differs bit for bit";
}

double relative_error(const Tensor& expected, const Tensor& actual) {
  const float* e = expected.data<float>();
  const float* a = actual.data<float>();
  double error = 0.0, norm = 0.0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const double d = double{a[i]} - e[i];
    error += d * d;
    norm += double{e[i]} * e[i];
  }
  return std::sqrt(error) / std::max(std::sqrt(norm), 1e-300);
}

}  // namespace stilts::test
