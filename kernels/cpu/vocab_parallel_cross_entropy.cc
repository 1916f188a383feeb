// The cross-entropy of cross_entropy.cc cut at the points where a vocabulary-parallel caller
// must combine the slices' statistics. The sums run in double like cross_entropy.cc, so the
// combined loss differs from the single-slice one only by the f32 rounding of the partials.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

// The logsumexp of a row from the combined statistics, as cross_entropy_forward computes it.
double logsumexp_of(float row_max, float sum_exp) {
  return static_cast<double>(row_max) + std::log(static_cast<double>(sum_exp));
}

}  // namespace

void cross_entropy_partial_forward(const Tensor& logits, const Tensor& targets, int64_t vocab_start,
                                   int64_t vocab_size, int ignore_index, Tensor& row_max,
                                   Tensor& target_logit) {
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  const int32_t* pt = targets.data<int32_t>();
  for (int64_t i = 0; i < rows; ++i)
    if (pt[i] != ignore_index && (pt[i] < 0 || pt[i] >= vocab_size))
      throw std::out_of_range("cross_entropy_partial_forward: target " + std::to_string(pt[i]) +
                              " of row " + std::to_string(i) + " is outside [0, " +
                              std::to_string(vocab_size) + ") and is not the ignore_index " +
                              std::to_string(ignore_index));
  const float* px = logits.data<float>();
  float* pm = row_max.data<float>();
  float* pl = target_logit.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    if (pt[i] == ignore_index) {
      pm[i] = 0.0f;
      pl[i] = 0.0f;
      return;
    }
    const float* row = px + i * slice;
    pm[i] = lane_max(row, slice);
    const int64_t local = pt[i] - vocab_start;
    pl[i] = local >= 0 && local < slice ? row[local] : 0.0f;
  });
}

void cross_entropy_sum_exp(const Tensor& logits, const Tensor& targets, int ignore_index,
                           const Tensor& row_max, Tensor& sum_exp) {
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  const int32_t* pt = targets.data<int32_t>();
  const float* px = logits.data<float>();
  const float* pm = row_max.data<float>();
  float* ps = sum_exp.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    if (pt[i] == ignore_index) {
      ps[i] = 0.0f;
      return;
    }
    const float* row = px + i * slice;
    const float max = pm[i];
    ps[i] = static_cast<float>(
        lane_sum(0, slice, [&](int64_t j) { return static_cast<double>(std::exp(row[j] - max)); }));
  });
}

void cross_entropy_combine_losses(const Tensor& targets, int ignore_index, const Tensor& row_max,
                                  const Tensor& sum_exp, const Tensor& target_logit, float z_loss,
                                  Tensor& losses) {
  const int64_t rows = targets.numel();
  const int32_t* pt = targets.data<int32_t>();
  const float* pm = row_max.data<float>();
  const float* ps = sum_exp.data<float>();
  const float* pl = target_logit.data<float>();
  float* out = losses.data<float>();
  for_blocks(rows, kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (pt[i] == ignore_index) {
        out[i] = 0.0f;
        continue;
      }
      const double lse = logsumexp_of(pm[i], ps[i]);
      out[i] = static_cast<float>(lse - pl[i] + z_loss * lse * lse);
    }
  });
}

// Rounds the logsumexp to f32 before use, as cross_entropy_backward receives it, so the
// slices' gradients are the single-slice ones column for column.
void cross_entropy_partial_backward(const Tensor& logits, const Tensor& targets,
                                    int64_t vocab_start, int ignore_index, const Tensor& row_max,
                                    const Tensor& sum_exp, float z_loss, float grad_scale,
                                    Tensor& dlogits) {
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  const int32_t* pt = targets.data<int32_t>();
  const float* px = logits.data<float>();
  const float* pm = row_max.data<float>();
  const float* ps = sum_exp.data<float>();
  float* pd = dlogits.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    float* drow = pd + i * slice;
    if (pt[i] == ignore_index) {
      std::fill(drow, drow + slice, 0.0f);
      return;
    }
    const float* row = px + i * slice;
    const float lse = static_cast<float>(logsumexp_of(pm[i], ps[i]));
    const float softmax_scale = grad_scale * (1.0f + 2.0f * z_loss * lse);
    for (int64_t j = 0; j < slice; ++j) drow[j] = softmax_scale * std::exp(row[j] - lse);
    const int64_t local = pt[i] - vocab_start;
    if (local >= 0 && local < slice) drow[local] -= grad_scale;
  });
}

}  // namespace stilts::cpu
