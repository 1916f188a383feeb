// Optimizers over the parameter registry, plus global-norm gradient clipping.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/named_tensor.h"
#include "core/params.h"
#include "parallel/communicator.h"

namespace stilts {

struct OptimizerOptions {
  std::string name = "adafactor";  // adafactor | adamw
  float weight_decay = 0.0f;
  // Adafactor (Hugging Face defaults; the T5 fine-tuning recipe leaves scale_parameter off).
  bool scale_parameter = false;
  float momentum = 0.0f;  // Adafactor's beta1; 0 keeps no first moment
  float clip_threshold = 1.0f;
  float decay_rate = -0.8f;
  float eps1 = 1e-30f;
  float eps2 = 1e-3f;
  // AdamW
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;

  // Throws std::invalid_argument naming the option.
  void validate() const;
};

// The groups an optimizer's reductions span. tp: the tensor-parallel group, over which the
// statistics of split parameters are summed so that every TP size takes the single-rank step.
// zero: with ZeRO-1, the data-parallel group; this rank then updates (and keeps state for)
// only the parameters of partition zero.rank(), and params.partitions() must equal
// zero.size(). Without ZeRO-1 it is a group of one and the rank updates every parameter.
struct OptimizerGroups {
  Communicator& tp;
  Communicator& zero;
  // Both groups of a lone rank.
  static OptimizerGroups single();
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its gradient at learning rate lr, then
  // params.refresh_compute_copy(). With ZeRO-1 the other partitions' values arrive later (the
  // all-gather), after which the compute copy needs another refresh.
  virtual void step(Parameters& params, float lr) = 0;
  // Views of every state tensor under a stable name ("<param>/exp_avg_sq_row", ...), for
  // saving and for loading in place.
  virtual std::vector<NamedTensor> state() = 0;

  // Updates taken so far; restored from the trainer state on resume.
  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 protected:
  int64_t steps_ = 0;
};

// Throws std::invalid_argument unless the groups fit the parameters: groups.tp's size and rank
// are params.shard()'s and params.partitions() equals groups.zero.size().
void check_optimizer_groups(const Parameters& params, OptimizerGroups groups);
// Whether this rank updates (and keeps state for) parameter `index`: with ZeRO-1 only those of
// partition groups.zero.rank(), else every one.
inline bool updates_parameter(const Parameters& params, OptimizerGroups groups, size_t index) {
  return params.partition_of(index) == groups.zero.rank();
}

// The groups must outlive the optimizer; check_optimizer_groups holds.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, const Parameters& params,
                                          OptimizerGroups groups = OptimizerGroups::single());

// torch.nn.utils.clip_grad_norm_ over the whole model: the L2 norm of every gradient of every
// shard (each split parameter's shards summed over groups.tp, each replicated one counted
// once; with ZeRO-1 each partition's over groups.zero). Scales the gradients this rank updates
// by min(1, max_norm / (norm + 1e-6)) and returns the norm before clipping. max_norm <= 0
// only measures. Collective over both groups.
double clip_grad_norm(Parameters& params, float max_norm,
                      OptimizerGroups groups = OptimizerGroups::single());

}  // namespace stilts
