// AdamW with decoupled weight decay, as torch.optim.AdamW computes it.
#pragma once

#include "core/optim/optimizer.h"

namespace stilts {

class AdamW : public Optimizer {
 public:
  AdamW(const OptimizerOptions& options, const Parameters& params);
  void step(Parameters& params, float lr) override;
  std::vector<NamedTensor> state() override;

 private:
  OptimizerOptions options_;
  std::vector<std::string> names_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace stilts
