#include "tests/unit/kernels/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace stilts::test {

Tensor random_tensor(const Shape& shape, uint32_t seed, float scale) {
  Tensor t(shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

Tensor int_tensor(const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t(shape, DType::i32);
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
  std::memcpy(t.raw(), values.data(), values.size() * sizeof(int32_t));
  return t;
}

std::vector<double> to_double(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<double>(p, p + t.numel());
}

double weighted_sum(const Tensor& out, const Tensor& weights) {
  const float* o = out.data<float>();
  const float* w = weights.data<float>();
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(o[i]) * w[i];
  return s;
}

std::vector<double> difference(const Tensor& after, const Tensor& before) {
  std::vector<double> a = to_double(after), b = to_double(before);
  for (size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
  return a;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

void expect_gradient(const char* what, Tensor& input, const std::function<double()>& objective,
                     const std::vector<double>& analytic, double step) {
  ASSERT_EQ(static_cast<size_t>(input.numel()), analytic.size()) << what;
  float* x = input.data<float>();
  double error_sq = 0.0, norm_sq = 0.0;
  for (int64_t i = 0; i < input.numel(); ++i) {
    const float saved = x[i];
    x[i] = static_cast<float>(saved + step);
    const double x_plus = x[i], f_plus = objective();
    x[i] = static_cast<float>(saved - step);
    const double x_minus = x[i], f_minus = objective();
    x[i] = saved;
    const double numeric = (f_plus - f_minus) / (x_plus - x_minus);
    EXPECT_NEAR(analytic[i], numeric, 1e-3 + 1e-2 * std::abs(numeric)) << what << " element " << i;
    error_sq += (analytic[i] - numeric) * (analytic[i] - numeric);
    norm_sq += numeric * numeric;
  }
  EXPECT_LE(std::sqrt(error_sq), 1e-3 * std::sqrt(norm_sq) + 1e-6) << what;
}

}  // namespace stilts::test
