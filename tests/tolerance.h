// Floating-point comparisons that hold on every x86-64 machine.
//
// The same computation through differently shaped GEMMs (a padded batch against one sequence,
// a batch of three against three of one, a TP shard against the whole matrix) or through
// another vector width (OpenBLAS's AVX2 and AVX-512 kernels, which block and fuse the sums
// differently) rounds differently. So results agree to a few units of the dtype's rounding
// relative to the size of the numbers involved, never to an absolute 1e-5 per element: an
// element of 24 has an f32 spacing of 2e-6 by itself. Every check states its tolerance in units
// of the dtype's machine epsilon times a scale, by default the largest magnitude of the
// expected values; a caller passes the scale the computation ran at when the result can be
// much smaller than its inputs (a difference, a log-likelihood near 0).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "kernels/tensor.h"

namespace stilts::test {

inline constexpr double kF32Epsilon = std::numeric_limits<float>::epsilon();
inline constexpr double kBf16Epsilon = 0x1p-7;

inline double max_magnitude(const std::vector<double>& values) {
  double m = 0;
  for (double v : values) m = std::max(m, std::fabs(v));
  return m;
}

// max_i |actual_i - expected_i| <= ulps * epsilon * scale, scale = max_i |expected_i| unless
// given. The failure message names the worst element, the bound and how it was made.
inline ::testing::AssertionResult within_rounding(const std::vector<double>& actual,
                                                  const std::vector<double>& expected, double ulps,
                                                  double epsilon = kF32Epsilon,
                                                  std::optional<double> scale = std::nullopt) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << actual.size() << " values against " << expected.size();
  const double s = scale ? *scale : max_magnitude(expected);
  const double bound = ulps * epsilon * s;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double d = std::fabs(actual[i] - expected[i]);
    if (!(d <= worst)) {  // NaN counts as the worst difference
      worst = d;
      at = i;
    }
  }
  if (worst <= bound) return ::testing::AssertionSuccess();
  std::ostringstream m;
  m << "element " << at << ": " << actual[at] << " against " << expected[at] << ", |difference| "
    << worst << " exceeds " << ulps << " x epsilon " << epsilon << " x scale " << s << " = "
    << bound;
  return ::testing::AssertionFailure() << m.str();
}

// A CPU f32 tensor's elements in double.
inline std::vector<double> values_of(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<double>(p, p + t.numel());
}

inline ::testing::AssertionResult within_rounding(const Tensor& actual, const Tensor& expected,
                                                  double ulps,
                                                  std::optional<double> scale = std::nullopt) {
  return within_rounding(values_of(actual), values_of(expected), ulps, kF32Epsilon, scale);
}

// One scalar against another, at the given scale (the magnitude the computation ran at).
inline ::testing::AssertionResult within_rounding(double actual, double expected, double ulps,
                                                  double scale, double epsilon = kF32Epsilon) {
  return within_rounding(std::vector<double>{actual}, std::vector<double>{expected}, ulps, epsilon,
                         scale);
}

}  // namespace stilts::test
