// AdamW with decoupled weight decay, as torch.optim.AdamW computes it. Element-wise, so a
// tensor-parallel shard needs nothing from the other ranks; with ZeRO-1 only the parameters of
// this rank's partition have state and are updated.
#pragma once

#include "core/optim/optimizer.h"

namespace stilts {

class AdamW : public Optimizer {
 public:
  AdamW(const OptimizerOptions& options, const Parameters& params, OptimizerGroups groups);
  void step(Parameters& params, float lr) override;
  std::vector<NamedTensor> state() override;

 private:
  // A parameter this rank updates and its moments (of its local shape).
  struct Slot {
    size_t index;
    std::string name;
    SplitAxis split;
    Tensor exp_avg, exp_avg_sq;
  };
  OptimizerOptions options_;
  std::vector<Slot> slots_;
};

}  // namespace stilts
