// stilts train: single-process training on the built-in toy tasks (the corpora of roadmap 2
// plug into the same BatchStream).
#include <cstdio>
#include <filesystem>

#include "core/checkpoint/checkpoint.h"
#include "core/trainer.h"
#include "data/toy_task.h"
#include "launch/commands/commands.h"
#include "launch/model_source.h"
#include "launch/options.h"

namespace stilts::launch {
namespace {

Batch toy_batch(const data::ToyTask& task, uint64_t first, int64_t size) {
  std::vector<std::vector<int32_t>> inputs, labels;
  for (int64_t i = 0; i < size; ++i) {
    data::TextToTokens ex = task.example(first + static_cast<uint64_t>(i));
    inputs.push_back(std::move(ex.input));
    labels.push_back(std::move(ex.target));
  }
  return make_batch(inputs, labels, 0);
}

class ToyStream : public BatchStream {
 public:
  ToyStream(data::ToyTaskOptions options, int64_t batch_size)
      : task_(std::move(options)), batch_size_(batch_size) {}
  Batch next() override {
    Batch b = toy_batch(task_, next_example_, batch_size_);
    next_example_ += static_cast<uint64_t>(batch_size_);
    return b;
  }
  nlohmann::json state() const override { return {{"next_example", next_example_}}; }
  void restore(const nlohmann::json& state) override {
    next_example_ = state.at("next_example").get<uint64_t>();
  }

 private:
  data::ToyTask task_;
  int64_t batch_size_;
  uint64_t next_example_ = 0;
};

}  // namespace

int run_train(int argc, char** argv) {
  po::options_description o("stilts train");
  o.add_options()("model", po::value<std::string>()->default_value("test-small"),
                  "model preset for a fresh run (see stilts plan --list)")(
      "init-from", po::value<std::string>(),
      "start from these weights: a Hugging Face model directory or a stilts checkpoint")(
      "run-dir", po::value<std::string>()->default_value("runs/train"),
      "checkpoints and log.jsonl; a run resumes from its `latest` checkpoint")(
      "task", po::value<std::string>()->default_value("copy"), "built-in toy task: copy | reverse")(
      "toy-tokens", po::value<int>()->default_value(32), "toy task: distinct content tokens")(
      "toy-min-length", po::value<int>()->default_value(4), "toy task: shortest sequence")(
      "toy-max-length", po::value<int>()->default_value(12), "toy task: longest sequence")(
      "batch", po::value<int64_t>()->default_value(32), "examples per step")(
      "steps", po::value<int64_t>()->default_value(500), "total optimizer steps")(
      "optimizer", po::value<std::string>()->default_value("adafactor"), "adafactor | adamw")(
      "lr", po::value<float>()->default_value(1e-3f, "1e-3"), "peak learning rate")(
      "schedule", po::value<std::string>()->default_value("constant"),
      "constant | linear | rsqrt | relative")(
      "warmup-steps", po::value<int64_t>()->default_value(0), "linear warm-up steps")(
      "weight-decay", po::value<float>()->default_value(0.0f), "decoupled weight decay")(
      "momentum", po::value<float>()->default_value(0.0f), "Adafactor beta1 (0 = none)")(
      "scale-parameter", po::value<bool>()->default_value(false),
      "Adafactor: scale the step by the parameter RMS")(
      "clip-threshold", po::value<float>()->default_value(1.0f), "Adafactor update clipping")(
      "adam-beta1", po::value<float>()->default_value(0.9f, "0.9"), "AdamW beta1")(
      "adam-beta2", po::value<float>()->default_value(0.999f, "0.999"), "AdamW beta2")(
      "adam-eps", po::value<float>()->default_value(1e-8f, "1e-8"), "AdamW epsilon")(
      "clip-norm", po::value<float>()->default_value(0.0f), "global gradient norm clip (0 = off)")(
      "z-loss", po::value<float>()->default_value(0.0f), "z-loss coefficient (T5X uses 1e-4)")(
      "dropout", po::value<float>(), "dropout rate (default: the model config's, 0.1)")(
      "seed", po::value<uint64_t>()->default_value(0), "seed of initialization, data, dropout")(
      "log-every", po::value<int64_t>()->default_value(10), "steps between progress lines")(
      "save-every", po::value<int64_t>()->default_value(0),
      "steps between checkpoints (0 = only the last step)")(
      "eval-every", po::value<int64_t>()->default_value(0),
      "steps between evaluations (0 = only after the last step)")(
      "eval-batches", po::value<int64_t>()->default_value(4), "held-out batches per evaluation");
  add_thread_option(o);
  ParsedCommand cmd = parse_command("stilts train [options]", o, argc, argv);
  if (cmd.help) return 0;
  const po::variables_map& v = cmd.values;
  apply_thread_option(v);

  const std::string run_dir = v["run-dir"].as<std::string>();
  std::string resume_from;
  if (std::filesystem::exists(std::filesystem::path(run_dir) / "latest"))
    resume_from = resolve_checkpoint(run_dir);

  ModelConfig config;
  if (!resume_from.empty()) {
    config = read_model_config(resume_from);
    const std::string asked = v["model"].as<std::string>();
    if (!v["model"].defaulted() && !model_preset(asked).same_shape(config))
      throw std::invalid_argument(run_dir + " holds a checkpoint of model " + config.name + " (" +
                                  config.shape_summary() + "), but --model " + asked +
                                  " was given; use another --run-dir for a new run");
  } else if (v.count("init-from")) {
    config = read_model_config(v["init-from"].as<std::string>());
  } else {
    config = model_preset(v["model"].as<std::string>());
  }
  if (v.count("dropout")) config.dropout_rate = v["dropout"].as<float>();
  config.validate();

  data::ToyTaskOptions toy;
  toy.kind = v["task"].as<std::string>();
  toy.num_tokens = v["toy-tokens"].as<int>();
  toy.min_length = v["toy-min-length"].as<int>();
  toy.max_length = v["toy-max-length"].as<int>();
  toy.eos_id = config.eos_token_id;
  toy.seed = v["seed"].as<uint64_t>();
  toy.validate(config.vocab_size);
  const int64_t batch = v["batch"].as<int64_t>();
  if (batch <= 0) throw UsageError("--batch: must be positive");

  TrainerOptions t;
  t.steps = v["steps"].as<int64_t>();
  t.schedule.kind = v["schedule"].as<std::string>();
  t.schedule.lr = v["lr"].as<float>();
  t.schedule.warmup_steps = v["warmup-steps"].as<int64_t>();
  t.schedule.total_steps = t.steps;
  t.optimizer.name = v["optimizer"].as<std::string>();
  t.optimizer.weight_decay = v["weight-decay"].as<float>();
  t.optimizer.momentum = v["momentum"].as<float>();
  t.optimizer.scale_parameter = v["scale-parameter"].as<bool>();
  t.optimizer.clip_threshold = v["clip-threshold"].as<float>();
  t.optimizer.beta1 = v["adam-beta1"].as<float>();
  t.optimizer.beta2 = v["adam-beta2"].as<float>();
  t.optimizer.eps = v["adam-eps"].as<float>();
  t.clip_norm = v["clip-norm"].as<float>();
  t.z_loss = v["z-loss"].as<float>();
  t.seed = v["seed"].as<uint64_t>();
  t.run_dir = run_dir;
  t.log_every = v["log-every"].as<int64_t>();
  t.save_every = v["save-every"].as<int64_t>();
  t.eval_every = v["eval-every"].as<int64_t>();
  t.run_config = {{"model", model_config_to_json(config)},
                  {"task", toy.kind},
                  {"batch", batch},
                  {"steps", t.steps},
                  {"optimizer", t.optimizer.name},
                  {"lr", t.schedule.lr},
                  {"schedule", t.schedule.kind},
                  {"seed", t.seed}};
  try {
    t.schedule.validate();
    t.optimizer.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  Parameters params(config, Device::cpu);
  Trainer trainer(params, t);
  ToyStream stream(toy, batch);
  if (!resume_from.empty()) {
    trainer.resume(resume_from, stream);
    std::printf("resuming %s at step %lld\n", resume_from.c_str(),
                static_cast<long long>(trainer.step()));
  } else if (v.count("init-from")) {
    load_weights(v["init-from"].as<std::string>(), params);
  } else {
    params.initialize(t.seed);
  }
  std::printf("model %s (%s), %lld parameters, task %s, batch %lld\n", config.name.c_str(),
              config.shape_summary().c_str(), static_cast<long long>(params.numel()),
              toy.kind.c_str(), static_cast<long long>(batch));

  data::ToyTaskOptions held_out = toy;
  held_out.seed = toy.seed ^ 0x5EEDF00Dull;
  const data::ToyTask eval_task(held_out);
  std::vector<Batch> eval_set;
  for (int64_t i = 0; i < v["eval-batches"].as<int64_t>(); ++i)
    eval_set.push_back(toy_batch(eval_task, static_cast<uint64_t>(i * batch), batch));
  trainer.run(stream, eval_set);
  return 0;
}

}  // namespace stilts::launch
