#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

struct AdafactorCase {
  const char* name;
  bool factored;
  bool scale_parameter;
  float beta1;
  float weight_decay;
  float clip_threshold;
};

void PrintTo(const AdafactorCase& c, std::ostream* os) {
  *os << c.name;
}

// Hugging Face's Adafactor step (transformers.optimization.Adafactor) in double.
struct ReferenceAdafactor {
  int64_t rows, cols;
  std::vector<double> param, row, col, full, momentum;

  void step(const std::vector<double>& g, const ops::AdafactorStep& s, bool factored) {
    const auto n = static_cast<double>(param.size());
    double lr = s.lr;
    if (s.scale_parameter) {
      double ss = 0.0;
      for (double p : param) ss += p * p;
      lr *= std::max<double>(s.eps2, std::sqrt(ss / n));
    }
    const double beta2t = 1.0 - std::pow(static_cast<double>(s.step), double{s.decay_rate});
    std::vector<double> update(param.size());
    if (factored) {
      for (int64_t i = 0; i < rows; ++i) {
        double mean = 0.0;
        for (int64_t j = 0; j < cols; ++j)
          mean += (g[i * cols + j] * g[i * cols + j] + s.eps1) / cols;
        row[i] = beta2t * row[i] + (1.0 - beta2t) * mean;
      }
      for (int64_t j = 0; j < cols; ++j) {
        double mean = 0.0;
        for (int64_t i = 0; i < rows; ++i)
          mean += (g[i * cols + j] * g[i * cols + j] + s.eps1) / rows;
        col[j] = beta2t * col[j] + (1.0 - beta2t) * mean;
      }
      double row_mean = 0.0;
      for (double r : row) row_mean += r / rows;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          update[i * cols + j] = g[i * cols + j] / std::sqrt(row[i] / row_mean) / std::sqrt(col[j]);
    } else {
      for (size_t t = 0; t < param.size(); ++t) {
        full[t] = beta2t * full[t] + (1.0 - beta2t) * (g[t] * g[t] + s.eps1);
        update[t] = g[t] / std::sqrt(full[t]);
      }
    }
    double ss = 0.0;
    for (double u : update) ss += u * u;
    const double clip = std::max(1.0, std::sqrt(ss / n) / s.clip_threshold);
    for (size_t t = 0; t < param.size(); ++t) {
      double u = update[t] / clip * lr;
      if (s.beta1 > 0.0f) u = momentum[t] = s.beta1 * momentum[t] + (1.0 - s.beta1) * u;
      param[t] -= s.weight_decay * lr * param[t];
      param[t] -= u;
    }
  }
};

void expect_close(const Tensor& actual, const std::vector<double>& expected, double rtol,
                  double atol, const char* what) {
  ASSERT_EQ(static_cast<size_t>(actual.numel()), expected.size()) << what;
  for (size_t t = 0; t < expected.size(); ++t)
    EXPECT_NEAR(actual.data<float>()[t], expected[t], rtol * std::abs(expected[t]) + atol)
        << what << " element " << t;
}

class AdafactorTest : public ::testing::TestWithParam<AdafactorCase> {};

TEST_P(AdafactorTest, ThreeStepsMatchTheHuggingFaceFormula) {
  const AdafactorCase& c = GetParam();
  // Several reduction blocks starting mid-row, two row blocks, three column tiles.
  constexpr int64_t kRows = 67, kCols = 130;
  Tensor param = random_tensor({kRows, kCols}, 1);
  Tensor row, col, full, momentum;
  if (c.factored) {
    row = Tensor({kRows});
    col = Tensor({kCols});
  } else {
    full = Tensor({kRows * kCols});
  }
  if (c.beta1 > 0.0f) momentum = Tensor({kRows, kCols});
  ReferenceAdafactor ref{kRows,
                         kCols,
                         test::to_double(param),
                         std::vector<double>(kRows),
                         std::vector<double>(kCols),
                         std::vector<double>(kRows * kCols),
                         std::vector<double>(kRows * kCols)};
  for (int64_t step = 1; step <= 3; ++step) {
    // Gradients spanning three orders of magnitude across rows.
    Tensor grad = random_tensor({kRows, kCols}, static_cast<uint32_t>(10 + step));
    for (int64_t t = 0; t < grad.numel(); ++t)
      grad.data<float>()[t] *= std::pow(10.0f, static_cast<float>(t / kCols % 3) - 2.0f);
    ops::AdafactorStep s{.lr = 1e-2f, .step = step};
    s.beta1 = c.beta1;
    s.weight_decay = c.weight_decay;
    s.scale_parameter = c.scale_parameter;
    s.clip_threshold = c.clip_threshold;
    ops::adafactor_update(param, grad, row, col, full, momentum, s);
    ref.step(test::to_double(grad), s, c.factored);
  }
  expect_close(param, ref.param, 1e-6, 1e-7, "param");
  if (c.factored) {
    expect_close(row, ref.row, 1e-5, 0.0, "row");
    expect_close(col, ref.col, 1e-5, 0.0, "col");
  } else {
    expect_close(full, ref.full, 1e-5, 0.0, "full");
  }
  if (c.beta1 > 0.0f) expect_close(momentum, ref.momentum, 1e-5, 1e-9, "momentum");
}

const AdafactorCase kAdafactorCases[] = {
    {"FactoredT5FineTuning", true, false, 0.0f, 0.0f, 1.0f},
    {"FactoredScaledMomentumDecayClipped", true, true, 0.9f, 0.01f, 0.5f},
    {"Unfactored", false, false, 0.0f, 0.0f, 1.0f},
    {"UnfactoredScaledMomentumDecay", false, true, 0.8f, 0.1f, 1.0f},
};
INSTANTIATE_TEST_SUITE_P(Cases, AdafactorTest, ::testing::ValuesIn(kAdafactorCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Adafactor, RejectsInconsistentState) {
  Tensor param({4, 3}), grad({4, 3}), row({4}), col({3}), full({12}), none;
  const ops::AdafactorStep s{.lr = 1e-3f, .step = 1};
  EXPECT_THROW(ops::adafactor_update(param, grad, row, col, full, none, s), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_update(param, grad, row, none, none, none, s), std::invalid_argument);
  ops::AdafactorStep with_momentum = s;
  with_momentum.beta1 = 0.9f;
  EXPECT_THROW(ops::adafactor_update(param, grad, row, col, none, none, with_momentum),
               std::invalid_argument);
  const ops::AdafactorStep step_zero{.lr = 1e-3f, .step = 0};
  EXPECT_THROW(ops::adafactor_update(param, grad, row, col, none, none, step_zero),
               std::invalid_argument);
}

TEST(AdamW, ThreeStepsMatchTorchFormula) {
  constexpr int64_t kSize = 5000;
  Tensor param = random_tensor({50, 100}, 1), m({50, 100}), v({50, 100});
  std::vector<double> p = test::to_double(param), rm(kSize), rv(kSize);
  const ops::AdamWStep base{.lr = 1e-2f, .step = 0, .weight_decay = 0.1f};
  for (int64_t step = 1; step <= 3; ++step) {
    const Tensor grad = random_tensor({50, 100}, static_cast<uint32_t>(20 + step));
    ops::AdamWStep s = base;
    s.step = step;
    ops::adamw_update(param, grad, m, v, s);
    const double bc1 = 1.0 - std::pow(double{s.beta1}, step);
    const double bc2 = 1.0 - std::pow(double{s.beta2}, step);
    for (int64_t t = 0; t < kSize; ++t) {
      const double g = grad.data<float>()[t];
      p[t] *= 1.0 - double{s.lr} * s.weight_decay;
      rm[t] = s.beta1 * rm[t] + (1.0 - s.beta1) * g;
      rv[t] = s.beta2 * rv[t] + (1.0 - s.beta2) * g * g;
      p[t] -= s.lr / bc1 * rm[t] / (std::sqrt(rv[t]) / std::sqrt(bc2) + s.eps);
    }
  }
  expect_close(param, p, 1e-6, 1e-7, "param");
  expect_close(m, rm, 1e-5, 1e-7, "m");
  expect_close(v, rv, 1e-5, 0.0, "v");
}

}  // namespace
}  // namespace stilts
