// The communication one training step needs under the Megatron layout (parallel/README.md), as
// the layout predicts it: what `stilts bench` prints beside the bytes it measures.
#pragma once

#include <cstdint>

#include "core/config.h"

namespace stilts {

struct CommunicationPlan {
  // The model's all-reduces over the TP group (none at TP=1), forward and backward, and their
  // payload: [tokens, d_model] f32 activations or gradients, and the cross-entropy's [tokens].
  int64_t tp_forward_calls = 0, tp_backward_calls = 0;
  int64_t tp_forward_bytes = 0, tp_backward_bytes = 0;
  // The gradient synchronization over the DP group (none at DP=1): the payload of the
  // all-reduce of this rank's gradient shard, or with ZeRO-1 of the reduce-scatter of the
  // gradients plus the all-gather of the values. The optimizer's and the loss's few scalars
  // come on top.
  int64_t dp_bytes = 0;
};

// batch: this DP rank's examples; input_len, target_len: their padded lengths.
CommunicationPlan communication_per_step(const ModelConfig& config, int tp, int dp, bool zero,
                                         int64_t batch, int64_t input_len, int64_t target_len);

}  // namespace stilts
