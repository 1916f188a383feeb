// The training loop: batches in, optimizer steps out, with progress lines, a JSON-lines log,
// evaluation and atomic checkpoints that resume bit-identically.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/optim/optimizer.h"
#include "core/optim/schedule.h"
#include "parallel/data_parallel.h"

namespace stilts {

// Where batches come from. Its state goes into every checkpoint, so a resumed run sees the
// same batches as an uninterrupted one.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  virtual Batch next() = 0;
  virtual nlohmann::json state() const = 0;
  virtual void restore(const nlohmann::json& state) = 0;
};

struct TrainerOptions {
  int64_t steps = 100;
  ScheduleOptions schedule;
  OptimizerOptions optimizer;
  float clip_norm = 0.0f;  // global gradient norm clipping; 0 = off (the T5 recipe)
  float z_loss = 0.0f;
  uint64_t seed = 0;
  std::string run_dir;        // checkpoints and log.jsonl; empty = no files
  int64_t log_every = 10;     // progress line and log record
  int64_t save_every = 0;     // checkpoint period; the last step is always saved (with run_dir)
  int64_t eval_every = 0;     // 0 = evaluate only after the last step
  nlohmann::json run_config;  // saved with every checkpoint
};

// The groups a rank trains in: world = TP x DP (parallel/grid.h). Every rank of a TP group
// sees the same batches; the DP ranks see disjoint shares of the global batch.
struct TrainingGroups {
  Communicator& world;
  Communicator& tp;
  Communicator& dp;
  bool zero = false;  // ZeRO-1 over dp: the parameters must have dp.size() partitions
  static TrainingGroups single();
};

struct EvalResult {
  double loss = 0;            // token mean
  double token_accuracy = 0;  // teacher-forced argmax accuracy over kept target tokens
  int64_t tokens = 0;
};
// Every rank of the model's TP group must evaluate the same batches.
EvalResult evaluate(Mt5Model& model, const std::vector<Batch>& batches);

struct StepRecord {
  int64_t step;
  double loss;       // token mean over the global batch
  double grad_norm;  // before clipping; NaN when neither measured nor clipped
  float lr;
};

class Trainer {
 public:
  // The groups must outlive the trainer. Only world rank 0 prints and writes log.jsonl.
  Trainer(Parameters& params, TrainerOptions options,
          TrainingGroups groups = TrainingGroups::single());

  // Continues from a checkpoint step directory: parameters, optimizer state, step counter
  // and the data stream position.
  void resume(const std::string& step_dir, BatchStream& data);
  // One optimizer step on one batch (forward, backward, clipping, update). The global
  // gradient norm costs a pass over every gradient, so it is computed only when clipping
  // needs it or the caller asks.
  // `batch` is this DP rank's share of the global batch.
  StepRecord train_step(const Batch& batch, bool measure_grad_norm = false);
  // Steps until options.steps, logging, evaluating on eval_set and checkpointing.
  void run(BatchStream& data, const std::vector<Batch>& eval_set);

  int64_t step() const { return step_; }
  Mt5Model& model() { return model_; }
  Optimizer& optimizer() { return *optimizer_; }
  std::string save(const BatchStream& data);

 private:
  void log(const nlohmann::json& record) const;

  Parameters& params_;
  TrainerOptions options_;
  TrainingGroups groups_;
  Mt5Model model_;
  GradientSync gradient_sync_;
  std::unique_ptr<Optimizer> optimizer_;
  int64_t step_ = 0;
  int64_t global_batch_tokens_ = 0;  // padded input + target tokens of the last global batch
};

}  // namespace stilts
