#include "core/optim/optimizer.h"

#include <cmath>
#include <stdexcept>

#include "core/optim/adafactor.h"
#include "core/optim/adamw.h"
#include "kernels/ops.h"
#include "parallel/self_communicator.h"

namespace stilts {

void OptimizerOptions::validate() const {
  if (name != "adafactor" && name != "adamw")
    throw std::invalid_argument("--optimizer: unknown optimizer '" + name +
                                "' (expected adafactor or adamw)");
  if (weight_decay < 0) throw std::invalid_argument("--weight-decay: must be >= 0");
  if (momentum < 0 || momentum >= 1) throw std::invalid_argument("--momentum: must be in [0, 1)");
  if (!(clip_threshold > 0)) throw std::invalid_argument("--clip-threshold: must be positive");
  if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
    throw std::invalid_argument("--adam-beta1/--adam-beta2: must be in [0, 1)");
}

OptimizerGroups OptimizerGroups::single() {
  return {single_rank_group(), single_rank_group()};
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options,
                                          const Parameters& params, OptimizerGroups) {
  options.validate();
  if (options.name == "adamw") return std::make_unique<AdamW>(options, params);
  return std::make_unique<Adafactor>(options, params);
}

double clip_grad_norm(Parameters& params, float max_norm, OptimizerGroups) {
  const double norm = std::sqrt(ops::sum_squares(params.flat_grads()));
  if (max_norm > 0) {
    const double coefficient = static_cast<double>(max_norm) / (norm + 1e-6);
    if (coefficient < 1.0) ops::scale_inplace(params.flat_grads(), static_cast<float>(coefficient));
  }
  return norm;
}

}  // namespace stilts
