// The training loop: batches in, optimizer steps out, with progress lines, a JSON-lines log,
// evaluation and atomic checkpoints that resume bit-identically.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/optim/schedule.h"
#include "core/training_step.h"

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
  bool recompute_activations = false;  // ForwardOptions::recompute_activations
  bool fp32_residual = false;          // ModelNumerics::fp32_residual
  std::string run_dir;                 // checkpoints and log.jsonl; empty = no files
  int64_t log_every = 10;              // progress line and log record
  int64_t save_every = 0;     // checkpoint period; the last step is always saved (with run_dir)
  int64_t eval_every = 0;     // 0 = evaluate only after the last step
  nlohmann::json run_config;  // saved with every checkpoint
};

// Checkpoint and Hugging Face files are read in host memory: load(params) directly on the CPU;
// for device parameters load(a host copy of the same shard and partitions), whose values are
// then copied to the device. Either way the compute copy is refreshed afterwards.
void load_through_host(Parameters& params, const std::function<void(Parameters&)>& load);

// The step's share of the trainer's options.
TrainingStepOptions training_step_options(const TrainerOptions& options);

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
  // The next optimizer step on one batch (TrainingStep: forward, backward, clipping, update).
  // `batch` is this DP rank's share of the global batch.
  StepRecord train_step(const Batch& batch, bool measure_grad_norm = false);
  // Steps until options.steps, logging, evaluating on eval_set and checkpointing.
  void run(BatchStream& data, const std::vector<Batch>& eval_set);

  int64_t step() const { return step_; }
  Mt5Model& model() { return training_step_.model(); }
  Optimizer& optimizer() { return training_step_.optimizer(); }
  TrainingStep& training_step() { return training_step_; }
  std::string save(const BatchStream& data);

 private:
  void log(const nlohmann::json& record) const;

  Parameters& params_;
  TrainerOptions options_;
  TrainingGroups groups_;
  TrainingStep training_step_;
  int64_t step_ = 0;
  int64_t global_batch_tokens_ = 0;  // padded input + target tokens of the last global batch
};

}  // namespace stilts
