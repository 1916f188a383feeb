#include "core/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/checkpoint/checkpoint.h"
#include "kernels/ops.h"
#include "parallel/fault_injection.h"

namespace stilts {
namespace {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

// Every rank's text, in rank order (the DP ranks' data positions for the checkpoint, which
// world rank 0 writes): the lengths, then the bytes padded to the longest, as i32 words.
std::vector<std::string> all_gather_text(Communicator& group, const std::string& text) {
  Tensor length({1}, DType::i64), lengths({group.size()}, DType::i64);
  length.data<int64_t>()[0] = static_cast<int64_t>(text.size());
  group.all_gather(length, lengths);
  const int64_t* all = lengths.data<int64_t>();
  const int64_t words = (*std::max_element(all, all + group.size()) + 3) / 4;
  Tensor mine({1, std::max<int64_t>(words, 1)}, DType::i32);
  std::memcpy(mine.raw(), text.data(), text.size());
  Tensor gathered({group.size(), mine.dim(1)}, DType::i32);
  group.all_gather(mine, gathered);
  std::vector<std::string> out;
  for (int r = 0; r < group.size(); ++r)
    out.emplace_back(static_cast<const char*>(gathered.rows(r, r + 1).raw()),
                     static_cast<size_t>(all[r]));
  return out;
}

// The optimizer state as host tensors (the same tensors on the CPU; copies of device ones),
// since checkpoint files are read and written in host memory.
std::vector<NamedTensor> on_host(const std::vector<NamedTensor>& state) {
  std::vector<NamedTensor> host = state;
  for (NamedTensor& t : host)
    if (t.tensor.device() != Device::cpu) t.tensor = t.tensor.to(Device::cpu);
  return host;
}

}  // namespace

void load_through_host(Parameters& params, const std::function<void(Parameters&)>& load) {
  if (params.device() == Device::cpu) {
    load(params);
  } else {
    Parameters host(params.config(), Device::cpu, params.shard(), params.partitions());
    load(host);
    ops::copy(host.flat_values(), params.flat_values());
  }
  params.refresh_compute_copy();
}

EvalResult evaluate(Mt5Model& model, const std::vector<Batch>& batches) {
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  for (const Batch& batch : batches) {
    HeadLoss loss = model.forward(batch, ForwardOptions{});
    loss_sum += loss.loss_sum;
    r.tokens += loss.tokens;
    Tensor predicted({batch.batch_size * batch.target_len}, DType::i32, model.params().device());
    model.predicted_tokens(predicted);
    const Tensor on_host = predicted.to(Device::cpu);
    const int32_t* p = on_host.data<int32_t>();
    for (size_t i = 0; i < batch.labels.size(); ++i)
      correct += batch.labels[i] != kIgnoreIndex && batch.labels[i] == p[i];
  }
  if (r.tokens > 0) {
    r.loss = loss_sum / static_cast<double>(r.tokens);
    r.token_accuracy = static_cast<double>(correct) / static_cast<double>(r.tokens);
  }
  return r;
}

TrainingStepOptions training_step_options(const TrainerOptions& o) {
  TrainingStepOptions step;
  step.optimizer = o.optimizer;
  step.clip_norm = o.clip_norm;
  step.z_loss = o.z_loss;
  step.seed = o.seed;
  step.recompute_activations = o.recompute_activations;
  step.fp32_residual = o.fp32_residual;
  return step;
}

Trainer::Trainer(Parameters& params, TrainerOptions options, TrainingGroups groups)
    : params_(params),
      options_(std::move(options)),
      groups_(groups),
      training_step_(params, training_step_options(options_), groups) {
  options_.schedule.validate();
  if (options_.steps <= 0) throw std::invalid_argument("--steps: must be positive");
}

void Trainer::resume(const std::string& step_dir, BatchStream& data) {
  load_through_host(params_, [&](Parameters& p) { load_checkpoint_params(step_dir, p); });
  std::vector<NamedTensor> state = optimizer().state();
  std::vector<NamedTensor> host_state = on_host(state);
  load_optimizer_state(step_dir, host_state, params_.shard());
  for (size_t i = 0; i < state.size(); ++i) ops::copy(host_state[i].tensor, state[i].tensor);
  const nlohmann::json trainer = read_trainer_state(step_dir);
  step_ = trainer.at("step").get<int64_t>();
  optimizer().set_steps(trainer.at("optimizer_steps").get<int64_t>());
  // A single-process checkpoint of the first format holds one position, not a list.
  const nlohmann::json& saved = trainer.at("data");
  const nlohmann::json positions = saved.is_array() ? saved : nlohmann::json::array({saved});
  if (positions.size() != static_cast<size_t>(groups_.dp.size()))
    throw std::invalid_argument(step_dir + " holds the data positions of " +
                                std::to_string(positions.size()) +
                                " data-parallel ranks; resume it with as many (the world size "
                                "divided by --tp), here " +
                                std::to_string(groups_.dp.size()));
  data.restore(positions.at(groups_.dp.rank()));
}

StepRecord Trainer::train_step(const Batch& batch, bool measure_grad_norm) {
  ++step_;
  maybe_inject_fault(groups_.world.rank(), step_);
  const StepGradients g = training_step_.compute_gradients(batch, step_, measure_grad_norm);
  global_batch_tokens_ = g.padded_tokens;
  const float lr = learning_rate(options_.schedule, step_);
  training_step_.update(lr);
  return {step_, g.loss, g.grad_norm, lr};
}

std::string Trainer::save(const BatchStream& data) {
  nlohmann::json positions = nlohmann::json::array();
  for (const std::string& state : all_gather_text(groups_.dp, data.state().dump()))
    positions.push_back(nlohmann::json::parse(state));
  nlohmann::json trainer = {{"step", step_},
                            {"optimizer_steps", optimizer().steps()},
                            {"seed", options_.seed},
                            {"data", positions}};
  const CheckpointGroup group{groups_.world, groups_.dp.rank(), groups_.dp.size(), groups_.zero};
  const std::vector<NamedTensor> state = on_host(optimizer().state());
  if (params_.device() == Device::cpu)
    return save_checkpoint(options_.run_dir, step_, params_, state, trainer, options_.run_config,
                           group);
  Parameters host(params_.config(), Device::cpu, params_.shard(), params_.partitions());
  ops::copy(params_.flat_values(), host.flat_values());
  return save_checkpoint(options_.run_dir, step_, host, state, trainer, options_.run_config, group);
}

void Trainer::log(const nlohmann::json& record) const {
  if (options_.run_dir.empty() || groups_.world.rank() != 0) return;
  std::filesystem::create_directories(options_.run_dir);
  std::ofstream out(options_.run_dir + "/log.jsonl", std::ios::app);
  out << record.dump() << '\n';
  if (!out) throw std::runtime_error(options_.run_dir + "/log.jsonl: write failed");
}

void Trainer::run(BatchStream& data, const std::vector<Batch>& eval_set) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const int64_t first_step = step_;
  int64_t tokens = 0;
  auto report_eval = [&] {
    if (eval_set.empty()) return;
    EvalResult e = evaluate(model(), eval_set);
    if (groups_.world.rank() == 0)
      std::printf("eval step %lld | loss %.4f | token accuracy %.4f\n",
                  static_cast<long long>(step_), e.loss, e.token_accuracy);
    log({{"step", step_},
         {"eval_loss", e.loss},
         {"eval_token_accuracy", e.token_accuracy},
         {"eval_tokens", e.tokens}});
  };
  while (step_ < options_.steps) {
    Batch batch = data.next();
    const int64_t next = step_ + 1;
    const bool last = next == options_.steps;
    const bool log_now = options_.log_every > 0 && (next % options_.log_every == 0 || last);
    StepRecord r = train_step(batch, log_now);
    tokens += global_batch_tokens_;
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    const double tokens_per_s = elapsed > 0 ? static_cast<double>(tokens) / elapsed : 0.0;
    if (log_now && groups_.world.rank() == 0) {
      const double per_step = elapsed / static_cast<double>(step_ - first_step);
      std::printf("step %lld/%lld | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | ETA %s\n",
                  static_cast<long long>(step_), static_cast<long long>(options_.steps), r.loss,
                  static_cast<double>(r.lr), r.grad_norm, tokens_per_s,
                  format_duration(per_step * static_cast<double>(options_.steps - step_)).c_str());
      std::fflush(stdout);
      log({{"step", step_},
           {"loss", r.loss},
           {"lr", r.lr},
           {"grad_norm", r.grad_norm},
           {"tokens_per_s", tokens_per_s},
           {"elapsed_s", elapsed}});
    }
    if ((options_.eval_every > 0 && step_ % options_.eval_every == 0) || last) report_eval();
    if (!options_.run_dir.empty() &&
        ((options_.save_every > 0 && step_ % options_.save_every == 0) || last)) {
      const std::string dir = save(data);
      if (groups_.world.rank() == 0) std::printf("saved %s\n", dir.c_str());
    }
  }
}

}  // namespace stilts
