#include "core/optim/adamw.h"

#include "kernels/ops.h"

namespace stilts {

AdamW::AdamW(const OptimizerOptions& options, const Parameters& params) : options_(options) {
  for (const ParamSpec& spec : params.specs()) {
    names_.push_back(spec.name);
    exp_avg_.emplace_back(spec.shape);
    exp_avg_sq_.emplace_back(spec.shape);
  }
}

void AdamW::step(Parameters& params, float lr) {
  ++steps_;
  ops::AdamWStep s{lr, steps_, options_.beta1, options_.beta2, options_.eps, options_.weight_decay};
  for (size_t i = 0; i < names_.size(); ++i)
    ops::adamw_update(params.value(i), params.grad(i), exp_avg_[i], exp_avg_sq_[i], s);
}

std::vector<NamedTensor> AdamW::state() {
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < names_.size(); ++i) {
    out.push_back({names_[i] + "/exp_avg", exp_avg_[i]});
    out.push_back({names_[i] + "/exp_avg_sq", exp_avg_sq_[i]});
  }
  return out;
}

}  // namespace stilts
