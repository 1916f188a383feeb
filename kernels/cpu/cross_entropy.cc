#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

void check_targets(const char* op, const int32_t* targets, int64_t rows, int64_t vocab,
                   int ignore_index) {
  for (int64_t i = 0; i < rows; ++i)
    if (targets[i] != ignore_index && (targets[i] < 0 || targets[i] >= vocab))
      throw std::out_of_range(std::string(op) + ": target " + std::to_string(targets[i]) +
                              " of row " + std::to_string(i) + " is outside [0, " +
                              std::to_string(vocab) + ") and is not the ignore_index " +
                              std::to_string(ignore_index));
}

}  // namespace

// Ignored rows are skipped entirely (their logsumexp is written as 0): with a 250k vocabulary
// they would cost as much as kept rows for nothing.
void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int ignore_index,
                           float z_loss, Tensor& losses, Tensor& logsumexp) {
  const int64_t rows = flat_rows(logits), vocab = logits.dim(-1);
  const int32_t* pt = targets.data<int32_t>();
  check_targets("cross_entropy_forward", pt, rows, vocab, ignore_index);
  const float* px = logits.data<float>();
  float* pl = losses.data<float>();
  float* pz = logsumexp.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    if (pt[i] == ignore_index) {
      pl[i] = 0.0f;
      pz[i] = 0.0f;
      return;
    }
    const float* row = px + i * vocab;
    const float max = lane_max(row, vocab);
    const double total =
        lane_sum(0, vocab, [&](int64_t j) { return static_cast<double>(std::exp(row[j] - max)); });
    const double lse = max + std::log(total);
    pz[i] = static_cast<float>(lse);
    pl[i] = static_cast<float>(lse - row[pt[i]] + z_loss * lse * lse);
  });
}

// d losses[i] / d logits[i, j] = softmax_j (1 + 2 z lse_i) - [j == target].
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& logsumexp,
                            int ignore_index, float z_loss, float grad_scale, Tensor& dlogits) {
  const int64_t rows = flat_rows(logits), vocab = logits.dim(-1);
  const int32_t* pt = targets.data<int32_t>();
  check_targets("cross_entropy_backward", pt, rows, vocab, ignore_index);
  const float* px = logits.data<float>();
  const float* pz = logsumexp.data<float>();
  float* pd = dlogits.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    float* drow = pd + i * vocab;
    if (pt[i] == ignore_index) {
      std::fill(drow, drow + vocab, 0.0f);
      return;
    }
    const float* row = px + i * vocab;
    const float lse = pz[i];
    const float softmax_scale = grad_scale * (1.0f + 2.0f * z_loss * lse);
    for (int64_t j = 0; j < vocab; ++j) drow[j] = softmax_scale * std::exp(row[j] - lse);
    drow[pt[i]] -= grad_scale;
  });
}

}  // namespace stilts::cpu
