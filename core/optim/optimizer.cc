#include "core/optim/optimizer.h"

#include <cmath>
#include <stdexcept>
#include <string>

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

void check_optimizer_groups(const Parameters& params, OptimizerGroups groups) {
  const TensorShard shard = params.shard();
  if (groups.tp.size() != shard.size || groups.tp.rank() != shard.rank)
    throw std::invalid_argument(
        "optimizer: the tensor-parallel group (" + groups.tp.name() + ", size " +
        std::to_string(groups.tp.size()) + ") does not match the parameters' shard (rank " +
        std::to_string(shard.rank) + " of " + std::to_string(shard.size) + ")");
  if (params.partitions() != groups.zero.size())
    throw std::invalid_argument(
        "optimizer: the parameters are cut into " + std::to_string(params.partitions()) +
        " ZeRO-1 partitions but the ZeRO group (" + groups.zero.name() + ") has " +
        std::to_string(groups.zero.size()) + " ranks; they must be equal");
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options, const Parameters& params,
                                          OptimizerGroups groups) {
  options.validate();
  check_optimizer_groups(params, groups);
  if (options.name == "adamw") return std::make_unique<AdamW>(options, params, groups);
  return std::make_unique<Adafactor>(options, params, groups);
}

// Each rank adds the squares of the gradients it updates, the replicated ones on tensor-parallel
// rank 0 only; the sum over the TP group is then its partition's, over the ZeRO group the
// model's. One float, two all-reduces.
double clip_grad_norm(Parameters& params, float max_norm, OptimizerGroups groups) {
  check_optimizer_groups(params, groups);
  const bool counts_replicated = groups.tp.rank() == 0;
  double sum_squares = 0.0;
  for (size_t i = 0; i < params.size(); ++i)
    if (updates_parameter(params, groups, i) &&
        (params.specs()[i].split != SplitAxis::none || counts_replicated))
      sum_squares += ops::sum_squares(params.grad(i));
  // On the parameters' device, where the communicators reduce.
  Tensor total({1}, DType::f32, params.device());
  ops::fill(total, static_cast<float>(sum_squares));
  groups.tp.all_reduce(total);
  groups.zero.all_reduce(total);
  const double norm = std::sqrt(static_cast<double>(total.to(Device::cpu).data<float>()[0]));
  if (max_norm > 0) {
    const double coefficient = static_cast<double>(max_norm) / (norm + 1e-6);
    if (coefficient < 1.0)
      for (size_t i = 0; i < params.size(); ++i)
        if (updates_parameter(params, groups, i))
          ops::scale_inplace(params.grad(i), static_cast<float>(coefficient));
  }
  return norm;
}

}  // namespace stilts
