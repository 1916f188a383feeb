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

// The state of one Adafactor parameter (or of one block of it).
struct AdafactorState {
  Tensor row, col, full, momentum;
  AdafactorState(int64_t rows, int64_t cols, bool factored, float beta1) {
    if (factored) {
      row = Tensor({rows});
      col = Tensor({cols});
    } else {
      full = Tensor({rows * cols});
    }
    if (beta1 > 0.0f) momentum = Tensor({rows, cols});
  }
};

// The whole step of one parameter on one rank: the four stages with nothing to add between.
void adafactor_step(Tensor& param, const Tensor& grad, AdafactorState& st,
                    const ops::AdafactorStep& s) {
  const bool factored = st.row.defined();
  Tensor row_sums, col_sums, none, param_ss({1}), row_total({1}), update_ss({1});
  if (factored) {
    row_sums = Tensor({param.dim(0)});
    col_sums = Tensor({param.dim(1)});
  }
  ops::adafactor_sums(param, grad, s.eps1, row_sums, col_sums, param_ss);
  ops::AdafactorTotals t{.numel = param.numel(), .param_sum_squares = test::to_double(param_ss)[0]};
  if (factored) {
    ops::adafactor_average(st.row, row_sums, param.dim(1), s, row_total);
    ops::adafactor_average(st.col, col_sums, param.dim(0), s, none);
    t.row_mean = test::to_double(row_total)[0] / static_cast<double>(param.dim(0));
  } else {
    ops::adafactor_average_squares(st.full, grad, s);
  }
  ops::adafactor_update_sum_squares(grad, st.row, st.col, st.full, t, update_ss);
  t.update_sum_squares = test::to_double(update_ss)[0];
  ops::adafactor_apply(param, grad, st.row, st.col, st.full, st.momentum, t, s);
}

class AdafactorTest : public ::testing::TestWithParam<AdafactorCase> {};

TEST_P(AdafactorTest, ThreeStepsMatchTheHuggingFaceFormula) {
  const AdafactorCase& c = GetParam();
  // Several reduction blocks starting mid-row, two row blocks, three column tiles.
  constexpr int64_t kRows = 67, kCols = 130;
  Tensor param = random_tensor({kRows, kCols}, 1);
  AdafactorState st(kRows, kCols, c.factored, c.beta1);
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
    adafactor_step(param, grad, st, s);
    ref.step(test::to_double(grad), s, c.factored);
  }
  expect_close(param, ref.param, 1e-6, 1e-7, "param");
  if (c.factored) {
    expect_close(st.row, ref.row, 1e-5, 0.0, "row");
    expect_close(st.col, ref.col, 1e-5, 0.0, "col");
  } else {
    expect_close(st.full, ref.full, 1e-5, 0.0, "full");
  }
  if (c.beta1 > 0.0f) expect_close(st.momentum, ref.momentum, 1e-5, 1e-9, "momentum");
}

const AdafactorCase kAdafactorCases[] = {
    {"FactoredT5FineTuning", true, false, 0.0f, 0.0f, 1.0f},
    {"FactoredScaledMomentumDecayClipped", true, true, 0.9f, 0.01f, 0.5f},
    {"Unfactored", false, false, 0.0f, 0.0f, 1.0f},
    {"UnfactoredScaledMomentumDecay", false, true, 0.8f, 0.1f, 1.0f},
};
INSTANTIATE_TEST_SUITE_P(Cases, AdafactorTest, ::testing::ValuesIn(kAdafactorCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Adafactor, StagesMatchTheirFormulas) {
  constexpr int64_t kRows = 70, kCols = 90;
  const Tensor param = random_tensor({kRows, kCols}, 3), grad = random_tensor({kRows, kCols}, 4);
  const std::vector<double> p = test::to_double(param), g = test::to_double(grad);
  const ops::AdafactorStep s{.lr = 1e-2f, .step = 3, .eps1 = 1e-3f};
  Tensor row_sums({kRows}), col_sums({kCols}), param_ss({1});
  ops::adafactor_sums(param, grad, s.eps1, row_sums, col_sums, param_ss);
  std::vector<double> rs(kRows), cs(kCols);
  double pss = 0.0;
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      const double u = g[i * kCols + j] * g[i * kCols + j] + s.eps1;
      rs[i] += u;
      cs[j] += u;
      pss += p[i * kCols + j] * p[i * kCols + j];
    }
  expect_close(row_sums, rs, 1e-6, 0.0, "row_sums");
  expect_close(col_sums, cs, 1e-6, 0.0, "col_sums");
  expect_close(param_ss, {pss}, 1e-6, 0.0, "param_sum_squares");

  // The averages from a previous statistic, and the total of the new one.
  const double beta2t = 1.0 - std::pow(3.0, -0.8);
  Tensor row = random_tensor({kRows}, 5, 0.5f), total({1});
  for (int64_t i = 0; i < kRows; ++i) row.data<float>()[i] += 1.0f;
  std::vector<double> want_row = test::to_double(row);
  ops::adafactor_average(row, row_sums, 400, s, total);
  double row_total = 0.0;
  for (int64_t i = 0; i < kRows; ++i) {
    want_row[i] = beta2t * want_row[i] + (1.0 - beta2t) * rs[i] / 400.0;
    row_total += want_row[i];
  }
  expect_close(row, want_row, 1e-6, 0.0, "row");
  expect_close(total, {row_total}, 1e-6, 0.0, "row total");
  Tensor full = random_tensor({kRows * kCols}, 6, 0.5f);
  for (int64_t t = 0; t < full.numel(); ++t) full.data<float>()[t] += 1.0f;
  std::vector<double> want_full = test::to_double(full);
  ops::adafactor_average_squares(full, grad, s);
  for (size_t t = 0; t < want_full.size(); ++t)
    want_full[t] = beta2t * want_full[t] + (1.0 - beta2t) * (g[t] * g[t] + s.eps1);
  expect_close(full, want_full, 1e-6, 0.0, "full");

  // The update's sum of squares, with a row mean that is not this block's.
  Tensor col = random_tensor({kCols}, 7, 0.5f), update_ss({1}), none;
  for (int64_t j = 0; j < kCols; ++j) col.data<float>()[j] += 1.0f;
  const std::vector<double> r = test::to_double(row), c = test::to_double(col);
  const ops::AdafactorTotals t{.numel = 4 * kRows * kCols, .row_mean = 0.7};
  ops::adafactor_update_sum_squares(grad, row, col, none, t, update_ss);
  double uss = 0.0;
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      const double u = g[i * kCols + j] / std::sqrt(r[i] / 0.7) / std::sqrt(c[j]);
      uss += u * u;
    }
  expect_close(update_ss, {uss}, 1e-6, 0.0, "update_sum_squares");
  ops::adafactor_update_sum_squares(grad, none, none, full, t, update_ss);
  double full_uss = 0.0;
  for (size_t k = 0; k < g.size(); ++k) full_uss += g[k] * g[k] / full.data<float>()[k];
  expect_close(update_ss, {full_uss}, 1e-6, 0.0, "update_sum_squares, unfactored");

  // The update clipped by the whole parameter's RMS and scaled by its parameter RMS.
  ops::AdafactorStep scaled = s;
  scaled.scale_parameter = true;
  scaled.weight_decay = 0.1f;
  scaled.clip_threshold = 0.5f;
  ops::AdafactorTotals whole = t;
  whole.param_sum_squares = 9.0 * static_cast<double>(t.numel);   // RMS(param) = 3
  whole.update_sum_squares = 4.0 * static_cast<double>(t.numel);  // RMS(update) = 2
  Tensor updated = param.clone();
  ops::adafactor_apply(updated, grad, row, col, none, none, whole, scaled);
  const double rho = 1e-2 * 3.0, scale = rho / (2.0 / 0.5);
  std::vector<double> want(p.size());
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kCols; ++j) {
      const int64_t k = i * kCols + j;
      want[k] = p[k] - 0.1 * rho * p[k] - scale * g[k] / std::sqrt(r[i] / 0.7) / std::sqrt(c[j]);
    }
  expect_close(updated, want, 1e-6, 1e-7, "param");
}

// Split a matrix into blocks of rows or of columns, run the stages on every block, adding the
// partial sums over the blocks between stages (as the optimizer adds them over the
// tensor-parallel ranks), and every block takes the step of the whole matrix.
struct BlockCase {
  const char* name;
  bool rows;  // split the rows, else the columns
  int blocks;
};

void PrintTo(const BlockCase& c, std::ostream* os) {
  *os << c.name;
}

// The columns [begin, end) of a [rows, cols] matrix.
Tensor columns(const Tensor& whole, int64_t begin, int64_t end) {
  const int64_t rows = whole.dim(0), cols = whole.dim(1);
  Tensor out({rows, end - begin});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = begin; j < end; ++j)
      out.data<float>()[i * (end - begin) + j - begin] = whole.data<float>()[i * cols + j];
  return out;
}

// Every tensor becomes the element-wise f32 sum of them all, as an all-reduce leaves it.
void sum_over_blocks(const std::vector<Tensor*>& parts) {
  Tensor total(parts[0]->shape());
  for (const Tensor* part : parts) ops::add_inplace(total, *part);
  for (Tensor* part : parts) ops::copy(total, *part);
}

class AdafactorBlockTest : public ::testing::TestWithParam<BlockCase> {};

TEST_P(AdafactorBlockTest, BlocksTakeTheStepOfTheWholeMatrix) {
  const BlockCase& c = GetParam();
  constexpr int64_t kRows = 66, kCols = 132;
  ops::AdafactorStep s{.lr = 1e-2f,
                       .step = 0,
                       .clip_threshold = 0.5f,
                       .beta1 = 0.9f,
                       .weight_decay = 0.01f,
                       .scale_parameter = true};
  Tensor whole = random_tensor({kRows, kCols}, 1);
  AdafactorState whole_state(kRows, kCols, true, s.beta1);
  const int64_t rows = c.rows ? kRows / c.blocks : kRows;
  const int64_t cols = c.rows ? kCols : kCols / c.blocks;
  auto block_of = [&](const Tensor& t, int b) {
    return c.rows ? t.rows(b * rows, (b + 1) * rows).clone() : columns(t, b * cols, (b + 1) * cols);
  };
  std::vector<Tensor> params;
  std::vector<AdafactorState> states;
  for (int b = 0; b < c.blocks; ++b) {
    params.push_back(block_of(whole, b));
    states.emplace_back(rows, cols, true, s.beta1);
  }
  for (int64_t step = 1; step <= 3; ++step) {
    s.step = step;
    const Tensor grad = random_tensor({kRows, kCols}, static_cast<uint32_t>(10 + step));
    adafactor_step(whole, grad, whole_state, s);

    std::vector<Tensor> grads, row_sums, col_sums, param_ss, row_total, update_ss;
    for (int b = 0; b < c.blocks; ++b) {
      grads.push_back(block_of(grad, b));
      row_sums.emplace_back(Shape{rows});
      col_sums.emplace_back(Shape{cols});
      param_ss.emplace_back(Shape{1});
      row_total.emplace_back(Shape{1});
      update_ss.emplace_back(Shape{1});
      ops::adafactor_sums(params[b], grads[b], s.eps1, row_sums[b], col_sums[b], param_ss[b]);
    }
    auto all = [&](std::vector<Tensor>& v) {
      std::vector<Tensor*> out;
      for (Tensor& t : v) out.push_back(&t);
      return out;
    };
    sum_over_blocks(all(c.rows ? col_sums : row_sums));
    sum_over_blocks(all(param_ss));
    Tensor none;
    for (int b = 0; b < c.blocks; ++b) {
      ops::adafactor_average(states[b].row, row_sums[b], kCols, s, row_total[b]);
      ops::adafactor_average(states[b].col, col_sums[b], kRows, s, none);
    }
    if (c.rows) sum_over_blocks(all(row_total));
    std::vector<ops::AdafactorTotals> totals;
    for (int b = 0; b < c.blocks; ++b) {
      totals.push_back({.numel = kRows * kCols,
                        .row_mean = test::to_double(row_total[b])[0] / kRows,
                        .param_sum_squares = test::to_double(param_ss[b])[0]});
      ops::adafactor_update_sum_squares(grads[b], states[b].row, states[b].col, none, totals[b],
                                        update_ss[b]);
    }
    sum_over_blocks(all(update_ss));
    for (int b = 0; b < c.blocks; ++b) {
      totals[b].update_sum_squares = test::to_double(update_ss[b])[0];
      ops::adafactor_apply(params[b], grads[b], states[b].row, states[b].col, none,
                           states[b].momentum, totals[b], s);
    }
  }
  for (int b = 0; b < c.blocks; ++b) {
    const std::string block = std::string(c.name) + " block " + std::to_string(b);
    expect_close(params[b], test::to_double(block_of(whole, b)), 1e-6, 1e-7,
                 (block + " param").c_str());
    expect_close(states[b].momentum, test::to_double(block_of(whole_state.momentum, b)), 1e-5, 1e-9,
                 (block + " momentum").c_str());
    const Tensor& split_stat = c.rows ? states[b].row : states[b].col;
    const Tensor& whole_stat = c.rows ? whole_state.row : whole_state.col;
    expect_close(split_stat,
                 test::to_double(whole_stat.slice(b * split_stat.numel(), {split_stat.numel()})),
                 1e-6, 0.0, (block + " split statistic").c_str());
    expect_close(c.rows ? states[b].col : states[b].row,
                 test::to_double(c.rows ? whole_state.col : whole_state.row), 1e-6, 0.0,
                 (block + " replicated statistic").c_str());
  }
}

const BlockCase kBlockCases[] = {
    {"TwoRowBlocks", true, 2},
    {"ThreeRowBlocks", true, 3},
    {"TwoColumnBlocks", false, 2},
    {"FourColumnBlocks", false, 4},
};
INSTANTIATE_TEST_SUITE_P(Cases, AdafactorBlockTest, ::testing::ValuesIn(kBlockCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Adafactor, RejectsInconsistentState) {
  Tensor param({4, 3}), grad({4, 3}), row({4}), col({3}), full({12}), none, one({1});
  const ops::AdafactorStep s{.lr = 1e-3f, .step = 1};
  const ops::AdafactorTotals t{.numel = 12};
  EXPECT_THROW(ops::adafactor_apply(param, grad, row, col, full, none, t, s),
               std::invalid_argument);
  EXPECT_THROW(ops::adafactor_apply(param, grad, row, none, none, none, t, s),
               std::invalid_argument);
  EXPECT_THROW(ops::adafactor_update_sum_squares(grad, col, row, none, t, one),
               std::invalid_argument);
  ops::AdafactorStep with_momentum = s;
  with_momentum.beta1 = 0.9f;
  EXPECT_THROW(ops::adafactor_apply(param, grad, row, col, none, none, t, with_momentum),
               std::invalid_argument);
  const ops::AdafactorTotals too_few{.numel = 6};
  EXPECT_THROW(ops::adafactor_apply(param, grad, row, col, none, none, too_few, s),
               std::invalid_argument);
  const ops::AdafactorStep step_zero{.lr = 1e-3f, .step = 0};
  EXPECT_THROW(ops::adafactor_average(row, row, 3, step_zero, none), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_average(row, col, 3, s, none), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_average(row, row, 0, s, none), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_sums(param, grad, 1e-30f, row, none, none), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_sums(param, grad, 1e-30f, col, row, none), std::invalid_argument);
  EXPECT_THROW(ops::adafactor_sums(param, grad, 1e-30f, row, col, row), std::invalid_argument);
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
