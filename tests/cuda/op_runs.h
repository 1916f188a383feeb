// Runs of several ops in a row that cuda_ops (small shapes) and cuda_large (mT5's shapes) both
// compare between the CPU and the GPU: attention forward and backward, the four vocab-parallel
// cross-entropy pieces over vocabulary slices, and Adafactor's four stages over several steps.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ops.h"
#include "tests/cuda/device_compare.h"

namespace stilts::test {

inline constexpr int kIgnoreIndex = -100;

// ---- attention ----------------------------------------------------------------------------

struct AttentionCase {
  const char* name;
  int64_t batch, heads, q_len, k_len, head_dim;
  bool bias, key_mask, causal;
  float dropout_rate;
};

struct AttentionInputs {
  Tensor q, k, v, bias, key_mask;
  ops::AttentionShape shape;
  // Uniform draws rounded to dt. key_lengths[b] keys of batch b are unmasked, the rest padding;
  // without them, the last two keys of batch 0 are padded and every key of batch 1 is masked.
  AttentionInputs(const AttentionCase& c, DType dt, uint32_t seed,
                  const std::vector<int64_t>& key_lengths = {});
  // probs and out of the forward on `s` (both poisoned before it).
  std::vector<Tensor> forward(const AttentionCase& c, Side s) const;
  // dq, dk, dv and dbias, accumulated onto the given starting values.
  std::vector<Tensor> backward(const AttentionCase& c, Side s, const Tensor& probs,
                               const Tensor& dout, const std::vector<Tensor>& start) const;
};

// ---- vocab-parallel cross-entropy ----------------------------------------------------------

struct VocabParallelResult {
  Tensor row_max, target_logit, sum_exp, losses, dlogits;
};

// The four pieces on `s` over the vocabulary slices [bounds[i], bounds[i + 1]) of the host
// logits [N, V] (bounds run from 0 to V), the statistics combined on the host between them as
// parallel/vocab_parallel_cross_entropy.cc combines them over ranks, and each slice's dlogits
// written in place over its logits, as the head does. Every statistic is poisoned before the op
// that writes it. Returns the combined statistics and the whole dlogits, on the host in f32.
VocabParallelResult vocab_parallel(const Tensor& logits, const Tensor& targets,
                                   const std::vector<int64_t>& bounds, float z_loss,
                                   float grad_scale, Side s);

// ---- Adafactor -----------------------------------------------------------------------------

struct AdafactorState {
  Tensor param, row, col, full, momentum;
};

// `steps` steps of the four stages on `device`, for a parameter of `shape` (rank 2: factored;
// rank 1: unfactored) drawn on the host with fill_normal from `seed` (values N(0, 1), step t's
// gradient N(0, 0.1^2)), so every device starts from the same numbers.
AdafactorState adafactor_steps(const Shape& shape, int64_t steps, const ops::AdafactorStep& options,
                               Device device, uint64_t seed);
// Every tensor of the state the step keeps (param; row and col or full; momentum when
// options.beta1 > 0) within f32's tolerance; `actual` may be on any device.
void expect_adafactor_close(const AdafactorState& expected, const AdafactorState& actual,
                            const ops::AdafactorStep& options);

}  // namespace stilts::test
