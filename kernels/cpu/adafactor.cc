#include <algorithm>
#include <cmath>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

// Two passes over the update (one for its RMS, one to apply it) recompute it block by block
// from the new second-moment statistics rather than storing it: the same values, without a
// buffer the size of the parameter (128M floats for mt5-small's embedding).
void adafactor_update(Tensor& param, const Tensor& grad, Tensor& row, Tensor& col, Tensor& full,
                      Tensor& momentum, const AdafactorStep& s) {
  const int64_t n = param.numel();
  float* pp = param.data<float>();
  const float* pg = grad.data<float>();
  double rho = s.lr;
  if (s.scale_parameter)
    rho *= std::max<double>(s.eps2, std::sqrt(sum_squares(param) / static_cast<double>(n)));
  const double beta2t =
      1.0 - std::pow(static_cast<double>(s.step), static_cast<double>(s.decay_rate));
  auto blend = [&](float state, double fresh) {
    return static_cast<float>(beta2t * state + (1.0 - beta2t) * fresh);
  };
  auto square = [&](int64_t t) { return static_cast<double>(pg[t]) * pg[t] + s.eps1; };

  const bool factored = row.defined();
  const int64_t cols = factored ? param.dim(1) : n;
  std::unique_ptr<float[]> row_factor, col_factor;
  if (factored) {
    const int64_t rows = param.dim(0);
    float* pr = row.data<float>();
    float* pc = col.data<float>();
    rows_and_column_sums(
        rows, cols,
        [&](int64_t i, double* col_partial) {
          const int64_t first = i * cols;
          pr[i] = blend(pr[i], lane_sum(first, first + cols, square) / static_cast<double>(cols));
          for (int64_t j = 0; j < cols; ++j) col_partial[j] += square(first + j);
        },
        [&](int64_t j, double acc) { pc[j] = blend(pc[j], acc / static_cast<double>(rows)); });
    const double row_mean = sum(row) / static_cast<double>(rows);
    row_factor = scratch(rows);
    col_factor = scratch(cols);
    for (int64_t i = 0; i < rows; ++i)
      row_factor[i] = static_cast<float>(1.0 / std::sqrt(pr[i] / row_mean));
    for (int64_t j = 0; j < cols; ++j) col_factor[j] = 1.0f / std::sqrt(pc[j]);
  } else {
    float* pf = full.data<float>();
    for_blocks(n, kBlock, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) pf[t] = blend(pf[t], square(t));
    });
  }

  // The unclipped update of elements [begin, end) into out.
  const float* pf = factored ? nullptr : full.data<float>();
  auto unclipped = [&](int64_t begin, int64_t end, float* out) {
    if (!factored) {
      for (int64_t t = begin; t < end; ++t) out[t - begin] = pg[t] / std::sqrt(pf[t]);
      return;
    }
    for (int64_t t = begin; t < end;) {  // one row's share of the block per pass
      const int64_t i = t / cols, j = t - i * cols, span = std::min(end - t, cols - j);
      const float r = row_factor[i];
      const float* c = col_factor.get() + j;
      const float* g = pg + t;
      float* o = out + (t - begin);
      for (int64_t k = 0; k < span; ++k) o[k] = r * c[k] * g[k];
      t += span;
    }
  };

  const double update_ss = blocked_sum(n, [&](int64_t begin, int64_t end) {
    float u[kBlock];
    unclipped(begin, end, u);
    return lane_sum(0, end - begin, [&](int64_t t) { return static_cast<double>(u[t]) * u[t]; });
  });
  const double update_rms = std::sqrt(update_ss / static_cast<double>(n));
  const auto scale = static_cast<float>(rho / std::max(1.0, update_rms / s.clip_threshold));
  const auto decay = static_cast<float>(s.weight_decay * rho);
  float* pm = momentum.defined() ? momentum.data<float>() : nullptr;
  for_blocks(n, kBlock, [&](int64_t begin, int64_t end) {
    float u[kBlock];
    unclipped(begin, end, u);
    for (int64_t t = begin; t < end; ++t) {
      float update = u[t - begin] * scale;
      if (pm != nullptr) update = pm[t] = s.beta1 * pm[t] + (1.0f - s.beta1) * update;
      pp[t] = pp[t] - decay * pp[t] - update;
    }
  });
}

}  // namespace stilts::cpu
