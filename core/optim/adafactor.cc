#include "core/optim/adafactor.h"

#include "kernels/ops.h"

namespace stilts {

Adafactor::Adafactor(const OptimizerOptions& options, const Parameters& params)
    : options_(options) {
  for (const ParamSpec& spec : params.specs()) {
    Slot slot;
    // HF factors every parameter of rank >= 2 (T5X would keep the small bias table full).
    if (spec.shape.size() == 2) {
      slot.row = Tensor({spec.shape[0]});
      slot.col = Tensor({spec.shape[1]});
    } else {
      slot.full = Tensor(spec.shape);
    }
    if (options.momentum > 0) slot.momentum = Tensor(spec.shape);
    names_.push_back(spec.name);
    slots_.push_back(std::move(slot));
  }
}

void Adafactor::step(Parameters& params, float lr) {
  ++steps_;
  ops::AdafactorStep s{lr, steps_};
  s.eps1 = options_.eps1;
  s.eps2 = options_.eps2;
  s.clip_threshold = options_.clip_threshold;
  s.decay_rate = options_.decay_rate;
  s.beta1 = options_.momentum;
  s.weight_decay = options_.weight_decay;
  s.scale_parameter = options_.scale_parameter;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    ops::adafactor_update(params.value(i), params.grad(i), slot.row, slot.col, slot.full,
                          slot.momentum, s);
  }
}

std::vector<NamedTensor> Adafactor::state() {
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (slot.row.defined()) out.push_back({names_[i] + "/exp_avg_sq_row", slot.row});
    if (slot.col.defined()) out.push_back({names_[i] + "/exp_avg_sq_col", slot.col});
    if (slot.full.defined()) out.push_back({names_[i] + "/exp_avg_sq", slot.full});
    if (slot.momentum.defined()) out.push_back({names_[i] + "/exp_avg", slot.momentum});
  }
  return out;
}

}  // namespace stilts
