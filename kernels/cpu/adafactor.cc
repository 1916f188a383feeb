#include <algorithm>
#include <cmath>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

double beta2t(const AdafactorStep& s) {
  return 1.0 - std::pow(static_cast<double>(s.step), static_cast<double>(s.decay_rate));
}

// The unclipped update of a block of elements, recomputed wherever it is needed (once for its
// sum of squares, once to apply it) rather than stored: the same values, without a buffer the
// size of the parameter (128M floats for mt5-small's embedding).
class UnclippedUpdate {
 public:
  UnclippedUpdate(const Tensor& grad, const Tensor& row, const Tensor& col, const Tensor& full,
                  double row_mean)
      : grad_(grad.data<float>()), factored_(row.defined()) {
    if (!factored_) {
      full_ = full.data<float>();
      return;
    }
    const int64_t rows = grad.dim(0);
    cols_ = grad.dim(1);
    const float* pr = row.data<float>();
    const float* pc = col.data<float>();
    row_factor_ = scratch(rows);
    col_factor_ = scratch(cols_);
    for (int64_t i = 0; i < rows; ++i)
      row_factor_[i] = static_cast<float>(1.0 / std::sqrt(pr[i] / row_mean));
    for (int64_t j = 0; j < cols_; ++j) col_factor_[j] = 1.0f / std::sqrt(pc[j]);
  }

  // The update of elements [begin, end) into out.
  void operator()(int64_t begin, int64_t end, float* out) const {
    if (!factored_) {
      for (int64_t t = begin; t < end; ++t) out[t - begin] = grad_[t] / std::sqrt(full_[t]);
      return;
    }
    for (int64_t t = begin; t < end;) {  // one row's share of the block per pass
      const int64_t i = t / cols_, j = t - i * cols_, span = std::min(end - t, cols_ - j);
      const float r = row_factor_[i];
      const float* c = col_factor_.get() + j;
      const float* g = grad_ + t;
      float* o = out + (t - begin);
      for (int64_t k = 0; k < span; ++k) o[k] = r * c[k] * g[k];
      t += span;
    }
  }

 private:
  const float* grad_;
  bool factored_;
  const float* full_ = nullptr;
  int64_t cols_ = 0;
  std::unique_ptr<float[]> row_factor_, col_factor_;
};

}  // namespace

void adafactor_sums(const Tensor& param, const Tensor& grad, float eps1, Tensor& row_sums,
                    Tensor& col_sums, Tensor& param_sum_squares) {
  if (row_sums.defined()) {
    const int64_t rows = grad.dim(0), cols = grad.dim(1);
    const float* pg = grad.data<float>();
    float* pr = row_sums.data<float>();
    float* pc = col_sums.data<float>();
    auto square = [&](int64_t t) { return static_cast<double>(pg[t]) * pg[t] + eps1; };
    rows_and_column_sums(
        rows, cols,
        [&](int64_t i, double* col_partial) {
          const int64_t first = i * cols;
          pr[i] = static_cast<float>(lane_sum(first, first + cols, square));
          for (int64_t j = 0; j < cols; ++j) col_partial[j] += square(first + j);
        },
        [&](int64_t j, double acc) { pc[j] = static_cast<float>(acc); });
  }
  if (param_sum_squares.defined())
    param_sum_squares.data<float>()[0] = static_cast<float>(sum_squares(param));
}

void adafactor_average(Tensor& stat, const Tensor& sums, int64_t count, const AdafactorStep& s,
                       Tensor& total) {
  const double b = beta2t(s), scale = (1.0 - b) / static_cast<double>(count);
  float* pstat = stat.data<float>();
  const float* psums = sums.data<float>();
  for_blocks(stat.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      pstat[t] = static_cast<float>(b * pstat[t] + scale * psums[t]);
  });
  if (total.defined()) total.data<float>()[0] = static_cast<float>(sum(stat));
}

void adafactor_average_squares(Tensor& full, const Tensor& grad, const AdafactorStep& s) {
  const double b = beta2t(s);
  float* pf = full.data<float>();
  const float* pg = grad.data<float>();
  for_blocks(full.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      pf[t] =
          static_cast<float>(b * pf[t] + (1.0 - b) * (static_cast<double>(pg[t]) * pg[t] + s.eps1));
  });
}

void adafactor_update_sum_squares(const Tensor& grad, const Tensor& row, const Tensor& col,
                                  const Tensor& full, const AdafactorTotals& totals,
                                  Tensor& update_sum_squares) {
  const UnclippedUpdate unclipped(grad, row, col, full, totals.row_mean);
  const double ss = blocked_sum(grad.numel(), [&](int64_t begin, int64_t end) {
    float u[kBlock];
    unclipped(begin, end, u);
    return lane_sum(0, end - begin, [&](int64_t t) { return static_cast<double>(u[t]) * u[t]; });
  });
  update_sum_squares.data<float>()[0] = static_cast<float>(ss);
}

void adafactor_apply(Tensor& param, const Tensor& grad, const Tensor& row, const Tensor& col,
                     const Tensor& full, Tensor& momentum, const AdafactorTotals& totals,
                     const AdafactorStep& s) {
  const ops::AdafactorScalars step = ops::adafactor_scalars(totals, s);
  const float scale = step.scale, decay = step.decay, beta1 = s.beta1;
  const UnclippedUpdate unclipped(grad, row, col, full, totals.row_mean);
  float* pp = param.data<float>();
  float* pm = momentum.defined() ? momentum.data<float>() : nullptr;
  for_blocks(param.numel(), kBlock, [&](int64_t begin, int64_t end) {
    float u[kBlock];
    unclipped(begin, end, u);
    for (int64_t t = begin; t < end; ++t) {
      float update = u[t - begin] * scale;
      if (pm != nullptr) update = pm[t] = beta1 * pm[t] + (1.0f - beta1) * update;
      pp[t] = pp[t] - decay * pp[t] - update;
    }
  });
}

}  // namespace stilts::cpu
