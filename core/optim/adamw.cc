#include "core/optim/adamw.h"

#include "kernels/ops.h"

namespace stilts {

AdamW::AdamW(const OptimizerOptions& options, const Parameters& params, OptimizerGroups groups)
    : options_(options) {
  check_optimizer_groups(params, groups);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!updates_parameter(params, groups, i)) continue;
    const ParamSpec& spec = params.specs()[i];
    const Shape& local = params.value(i).shape();
    slots_.push_back({i, spec.name, spec.split, Tensor(local, DType::f32, params.device()),
                      Tensor(local, DType::f32, params.device())});
  }
}

void AdamW::step(Parameters& params, float lr) {
  ++steps_;
  ops::AdamWStep s{lr, steps_, options_.beta1, options_.beta2, options_.eps, options_.weight_decay};
  for (Slot& slot : slots_)
    ops::adamw_update(params.value(slot.index), params.grad(slot.index), slot.exp_avg,
                      slot.exp_avg_sq, s);
  params.refresh_compute_copy();
}

std::vector<NamedTensor> AdamW::state() {
  std::vector<NamedTensor> out;
  for (const Slot& slot : slots_) {
    out.push_back({slot.name + "/exp_avg", slot.exp_avg, slot.split});
    out.push_back({slot.name + "/exp_avg_sq", slot.exp_avg_sq, slot.split});
  }
  return out;
}

}  // namespace stilts
