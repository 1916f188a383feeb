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
#include "parallel/self_communicator.h"

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

}  // namespace

EvalResult evaluate(Mt5Model& model, const std::vector<Batch>& batches) {
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  for (const Batch& batch : batches) {
    HeadLoss loss = model.forward(batch, ForwardOptions{});
    loss_sum += loss.loss_sum;
    r.tokens += loss.tokens;
    Tensor predicted({batch.batch_size * batch.target_len}, DType::i32);
    model.predicted_tokens(predicted);
    const int32_t* p = predicted.data<int32_t>();
    for (size_t i = 0; i < batch.labels.size(); ++i)
      correct += batch.labels[i] != kIgnoreIndex && batch.labels[i] == p[i];
  }
  if (r.tokens > 0) {
    r.loss = loss_sum / static_cast<double>(r.tokens);
    r.token_accuracy = static_cast<double>(correct) / static_cast<double>(r.tokens);
  }
  return r;
}

TrainingGroups TrainingGroups::single() {
  return {single_rank_group(), single_rank_group(), single_rank_group(), false};
}

namespace {

const TrainingGroups& check_groups(const TrainingGroups& g, const Parameters& params) {
  if (g.world.size() != g.tp.size() * g.dp.size())
    throw std::invalid_argument(
        "Trainer: " + g.world.name() + " of size " + std::to_string(g.world.size()) +
        " is not TP " + std::to_string(g.tp.size()) + " x DP " + std::to_string(g.dp.size()));
  const int partitions = g.zero ? g.dp.size() : 1;
  if (params.partitions() != partitions)
    throw std::invalid_argument(
        "Trainer: the parameters have " + std::to_string(params.partitions()) +
        " ZeRO partitions; " + (g.zero ? "ZeRO-1 over " : "without ZeRO-1, ") +
        std::to_string(g.dp.size()) + " data-parallel ranks needs " + std::to_string(partitions));
  return g;
}

}  // namespace

Trainer::Trainer(Parameters& params, TrainerOptions options, TrainingGroups groups)
    : params_(params),
      options_(std::move(options)),
      groups_(check_groups(groups, params)),
      model_(params, groups.tp),
      gradient_sync_(groups.dp),
      optimizer_(make_optimizer(options_.optimizer, params,
                                {groups.tp, groups.zero ? groups.dp : single_rank_group()})) {
  options_.schedule.validate();
  if (options_.steps <= 0) throw std::invalid_argument("--steps: must be positive");
}

void Trainer::resume(const std::string& step_dir, BatchStream& data) {
  load_checkpoint_params(step_dir, params_);
  std::vector<NamedTensor> state = optimizer_->state();
  load_optimizer_state(step_dir, state, params_.shard());
  const nlohmann::json trainer = read_trainer_state(step_dir);
  step_ = trainer.at("step").get<int64_t>();
  optimizer_->set_steps(trainer.at("optimizer_steps").get<int64_t>());
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
  ops::fill(params_.flat_grads(), 0.0f);
  ForwardOptions forward{true, options_.z_loss, options_.seed, step_};
  HeadLoss loss = model_.forward(batch, forward);
  // The global batch's kept target tokens normalize every rank's loss before backward; the
  // loss sum and the padded size are only reported.
  Tensor counts({2}, DType::i64);
  counts.data<int64_t>()[0] = loss.tokens;
  counts.data<int64_t>()[1] = batch.batch_size * (batch.input_len + batch.target_len);
  groups_.dp.all_reduce(counts);
  const int64_t global_tokens = counts.data<int64_t>()[0];
  global_batch_tokens_ = counts.data<int64_t>()[1];
  Tensor loss_sum({1});
  loss_sum.data<float>()[0] = static_cast<float>(loss.loss_sum);
  groups_.dp.all_reduce(loss_sum);

  model_.backward(global_tokens > 0 ? 1.0f / static_cast<float>(global_tokens) : 0.0f);
  if (groups_.zero)
    gradient_sync_.reduce_scatter_gradients(params_.flat_grads());
  else
    gradient_sync_.all_reduce_gradients(params_.flat_grads());
  const double norm =
      options_.clip_norm > 0 || measure_grad_norm
          ? clip_grad_norm(params_, options_.clip_norm,
                           {groups_.tp, groups_.zero ? groups_.dp : single_rank_group()})
          : std::nan("");
  const float lr = learning_rate(options_.schedule, step_);
  optimizer_->step(params_, lr);
  if (groups_.zero) gradient_sync_.all_gather_values(params_.flat_values());
  const double mean = global_tokens > 0 ? loss_sum.data<float>()[0] / global_tokens : 0.0;
  return {step_, mean, norm, lr};
}

std::string Trainer::save(const BatchStream& data) {
  nlohmann::json positions = nlohmann::json::array();
  for (const std::string& state : all_gather_text(groups_.dp, data.state().dump()))
    positions.push_back(nlohmann::json::parse(state));
  nlohmann::json trainer = {{"step", step_},
                            {"optimizer_steps", optimizer_->steps()},
                            {"seed", options_.seed},
                            {"data", positions}};
  return save_checkpoint(options_.run_dir, step_, params_, optimizer_->state(), trainer,
                         options_.run_config,
                         {groups_.world, groups_.dp.rank(), groups_.dp.size(), groups_.zero});
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
    EvalResult e = evaluate(model_, eval_set);
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
