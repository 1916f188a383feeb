// The communication of one training step under a layout, found by a dry run: the model's
// forward and backward and the data-parallel gradient synchronization run once, in this
// process, on counting communicators over DryRunCommunicators (parallel/dry_run_communicator.h)
// of the layout's TP and DP sizes. It is what the layers issue, not a formula restating it:
// `stilts bench` prints it beside the bytes it measures, and the MPI tests compare a real
// run's counts with it. The dry run costs one step's compute and a shard of the parameters.
#pragma once

#include <cstdint>

#include "core/config.h"
#include "kernels/tensor.h"
#include "parallel/counting_communicator.h"

namespace stilts {

struct CommunicationLayout {
  int tp = 1, dp = 1;
  bool zero = false;                         // ZeRO-1 over the DP group
  int64_t gradient_bucket_bytes = 32 << 20;  // GradientSync's buckets
};

struct CommunicationPlan {
  // The model's collectives over the TP group (none at TP=1).
  CollectiveCount tp_forward, tp_backward;
  // The gradient synchronization over the DP group (none at DP=1): the all-reduces of the
  // gradient buckets or, with ZeRO-1, the reduce-scatter of the gradients and the all-gather
  // of the values. The optimizer's and the loss's few scalars come on top.
  CollectiveCount dp;
};

// Rank 0 of each group, on a batch of `batch` examples padded to input_len and target_len, on
// `device` (the seconds in the counts are the dry run's, not a prediction).
CommunicationPlan plan_communication(const ModelConfig& config, const CommunicationLayout& layout,
                                     int64_t batch, int64_t input_len, int64_t target_len,
                                     Device device = Device::cpu);

}  // namespace stilts
