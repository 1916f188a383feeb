// The model FLOPs of one mT5 training step, the numerator of MFU (docs/PERFORMANCE.md, "GPU"):
// what the model needs, counted once, whatever the implementation spends on top (recomputed
// activations, padding of kernels, the optimizer and the elementwise ops are not counted).
#pragma once

#include <cstdint>

#include "core/config.h"

namespace stilts {

// Multiply-adds count 2 FLOPs; backward costs twice forward (gradients of the input and of
// the weight), so a training step is 3 x forward:
// - every weight matrix: 6 x (tokens through it) x (its parameters): the encoder's and the
//   cross-attention keys and values with the input tokens, the decoder's others and lm_head
//   with the target tokens;
// - attention: 2 x batch x heads x Lq x Lk x d_kv for the scores and as many for the context,
//   x 3 for training (encoder Lq = Lk = input_len; decoder self Lq = Lk = target_len, all
//   positions counted although the causal mask zeroes half; cross Lq = target_len,
//   Lk = input_len).
// The embedding lookups, norms, softmax and loss are elementwise and not counted.
double training_flops_per_step(const ModelConfig& config, int64_t batch, int64_t input_len,
                               int64_t target_len);

}  // namespace stilts
