#include "core/training_step.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"
#include "parallel/self_communicator.h"

namespace stilts {
namespace {

const TrainingGroups& check_groups(const TrainingGroups& g, const Parameters& params) {
  if (g.world.size() != g.tp.size() * g.dp.size())
    throw std::invalid_argument(
        "TrainingStep: " + g.world.name() + " of size " + std::to_string(g.world.size()) +
        " is not TP " + std::to_string(g.tp.size()) + " x DP " + std::to_string(g.dp.size()));
  const int partitions = g.zero ? g.dp.size() : 1;
  if (params.partitions() != partitions)
    throw std::invalid_argument(
        "TrainingStep: the parameters have " + std::to_string(params.partitions()) +
        " ZeRO partitions; " + (g.zero ? "ZeRO-1 over " : "without ZeRO-1, ") +
        std::to_string(g.dp.size()) + " data-parallel ranks needs " + std::to_string(partitions));
  return g;
}

}  // namespace

TrainingGroups TrainingGroups::single() {
  return {single_rank_group(), single_rank_group(), single_rank_group(), false};
}

TrainingStep::TrainingStep(Parameters& params, TrainingStepOptions options, TrainingGroups groups)
    : params_(params),
      options_(std::move(options)),
      groups_(check_groups(groups, params)),
      model_(params, groups.tp, {.fp32_residual = options_.fp32_residual}),
      gradient_sync_(groups.dp, options_.gradient_bucket_bytes),
      optimizer_(make_optimizer(options_.optimizer, params,
                                {groups.tp, groups.zero ? groups.dp : single_rank_group()})) {
  // Plain data parallelism reduces each bucket of gradients as soon as backward has finished
  // it (on the GPU on the communicator's stream, while backward goes on). ZeRO-1's
  // reduce-scatter takes the whole buffer at once.
  if (!groups_.zero)
    model_.set_gradients_ready_callback([this](size_t first_final) {
      gradient_sync_.gradients_final_from(params_.flat_offset(first_final));
    });
}

StepGradients TrainingStep::compute_gradients(const Batch& batch, int64_t step,
                                              bool measure_grad_norm) {
  ops::fill(params_.flat_grads(), 0.0f);
  ForwardOptions forward;
  forward.training = true;
  forward.z_loss = options_.z_loss;
  forward.seed = options_.seed;
  forward.step = step;
  forward.recompute_activations = options_.recompute_activations;
  const HeadLoss loss = model_.forward(batch, forward);
  // The global batch's kept target tokens normalize every rank's loss before backward; the
  // loss sum and the padded size are only reported. Host tensors: on the GPU they go over the
  // groups' host transport.
  Tensor counts({2}, DType::i64);
  counts.data<int64_t>()[0] = loss.tokens;
  counts.data<int64_t>()[1] = batch.batch_size * (batch.input_len + batch.target_len);
  groups_.dp.all_reduce(counts);
  Tensor loss_sum({1});
  loss_sum.data<float>()[0] = static_cast<float>(loss.loss_sum);
  groups_.dp.all_reduce(loss_sum);
  StepGradients g;
  g.tokens = counts.data<int64_t>()[0];
  g.padded_tokens = counts.data<int64_t>()[1];
  g.loss = g.tokens > 0 ? loss_sum.data<float>()[0] / static_cast<double>(g.tokens) : 0.0;

  if (groups_.zero) {
    model_.backward(g.tokens > 0 ? 1.0f / static_cast<float>(g.tokens) : 0.0f);
    gradient_sync_.reduce_scatter_gradients(params_.flat_grads());
  } else {
    gradient_sync_.begin_overlapped(params_.flat_grads());
    model_.backward(g.tokens > 0 ? 1.0f / static_cast<float>(g.tokens) : 0.0f);
    gradient_sync_.finish_overlapped();
  }
  g.grad_norm = options_.clip_norm > 0 || measure_grad_norm
                    ? clip_grad_norm(params_, options_.clip_norm,
                                     {groups_.tp, groups_.zero ? groups_.dp : single_rank_group()})
                    : std::nan("");
  return g;
}

void TrainingStep::update(float lr) {
  optimizer_->step(params_, lr);
  if (!groups_.zero) return;
  gradient_sync_.all_gather_values(params_.flat_values());
  // The optimizer refreshed only this rank's partition of the compute copy.
  params_.refresh_compute_copy();
}

}  // namespace stilts
