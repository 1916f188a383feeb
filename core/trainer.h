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

struct EvalResult {
  double loss = 0;            // token mean
  double token_accuracy = 0;  // teacher-forced argmax accuracy over kept target tokens
  int64_t tokens = 0;
};
EvalResult evaluate(Mt5Model& model, const std::vector<Batch>& batches);

struct StepRecord {
  int64_t step;
  double loss;
  double grad_norm;  // before clipping; NaN when neither measured nor clipped
  float lr;
};

class Trainer {
 public:
  Trainer(Parameters& params, TrainerOptions options);

  // Continues from a checkpoint step directory: parameters, optimizer state, step counter
  // and the data stream position.
  void resume(const std::string& step_dir, BatchStream& data);
  // One optimizer step on one batch (forward, backward, clipping, update). The global
  // gradient norm costs a pass over every gradient, so it is computed only when clipping
  // needs it or the caller asks.
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
  Mt5Model model_;
  std::unique_ptr<Optimizer> optimizer_;
  int64_t step_ = 0;
};

}  // namespace stilts
