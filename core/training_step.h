// One optimizer step on one batch, on whatever device the parameters live: forward, the global
// token count, backward with the data-parallel gradient reduction overlapped, clipping, the
// optimizer step and the ZeRO-1 all-gather. It needs no files, JSON or MPI (only the
// Communicator interface), so the minimal GPU build runs it; the Trainer adds the loop,
// logging and checkpoints around it.
#pragma once

#include <cstdint>
#include <memory>

#include "core/model.h"
#include "core/optim/optimizer.h"
#include "parallel/data_parallel.h"

namespace stilts {

// The groups a rank trains in: world = TP x DP (parallel/grid.h). Every rank of a TP group
// sees the same batches; the DP ranks see disjoint shares of the global batch.
struct TrainingGroups {
  Communicator& world;
  Communicator& tp;
  Communicator& dp;
  bool zero = false;  // ZeRO-1 over dp: the parameters must have dp.size() partitions
  static TrainingGroups single();
};

struct TrainingStepOptions {
  OptimizerOptions optimizer;
  float clip_norm = 0.0f;  // global gradient norm clipping; 0 = off (the T5 recipe)
  float z_loss = 0.0f;
  uint64_t seed = 0;  // dropout
  bool recompute_activations = false;
  bool fp32_residual = false;  // ModelNumerics::fp32_residual
  // Data-parallel gradient buckets (parallel/data_parallel.h).
  int64_t gradient_bucket_bytes = 32 << 20;
};

// What the gradients of one step measured, over the global batch.
struct StepGradients {
  double loss = 0;            // token mean
  double grad_norm = 0;       // before clipping; NaN when neither measured nor clipped
  int64_t tokens = 0;         // kept target tokens
  int64_t padded_tokens = 0;  // padded input + target positions
};

class TrainingStep {
 public:
  // The parameters and the groups must outlive this object.
  TrainingStep(Parameters& params, TrainingStepOptions options,
               TrainingGroups groups = TrainingGroups::single());
  // The model's gradients-ready callback holds this object's address.
  TrainingStep(const TrainingStep&) = delete;
  TrainingStep& operator=(const TrainingStep&) = delete;

  // Forward, backward and the gradient reduction of step `step` (its dropout keys), then
  // clipping. The global gradient norm costs a pass over every gradient, so it is computed
  // only when clipping needs it or the caller asks. Leaves the summed gradients for update().
  // `batch` is this DP rank's share of the global batch.
  StepGradients compute_gradients(const Batch& batch, int64_t step, bool measure_grad_norm);
  // The optimizer step at learning rate lr and, under ZeRO-1, the all-gather of the updated
  // partitions; the compute copy of the values is current afterwards.
  void update(float lr);

  Mt5Model& model() { return model_; }
  Optimizer& optimizer() { return *optimizer_; }
  const TrainingGroups& groups() const { return groups_; }

 private:
  Parameters& params_;
  TrainingStepOptions options_;
  TrainingGroups groups_;
  Mt5Model model_;
  GradientSync gradient_sync_;
  std::unique_ptr<Optimizer> optimizer_;
};

}  // namespace stilts
