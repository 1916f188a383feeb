// stilts bench: times whole training steps (forward, backward, optimizer) after warm-up.
// bench/pytorch_bench.py does the same work in PyTorch and prints the same lines, so the two
// can be compared side by side (bench/compare_cpu.sh).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "core/trainer.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

int run_bench(int argc, char** argv) {
  po::options_description o("stilts bench");
  o.add_options()("model", po::value<std::string>()->default_value("test-tiny"), "model preset")(
      "batch", po::value<int64_t>()->default_value(8), "examples per step")(
      "input-len", po::value<int64_t>()->default_value(64), "encoder tokens per example")(
      "target-len", po::value<int64_t>()->default_value(16), "decoder tokens per example")(
      "steps", po::value<int64_t>()->default_value(10), "timed steps")(
      "warmup", po::value<int64_t>()->default_value(3), "untimed steps first")(
      "optimizer", po::value<std::string>()->default_value("adafactor"), "adafactor | adamw")(
      "seed", po::value<uint64_t>()->default_value(0), "seed of weights and tokens");
  add_thread_option(o);
  ParsedCommand cmd =
      parse_command("stilts bench --model P --batch B --input-len T --target-len U", o, argc, argv);
  if (cmd.help) return 0;
  const po::variables_map& v = cmd.values;
  apply_thread_option(v);

  ModelConfig config;
  try {
    config = model_preset(v["model"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
  const int64_t batch = v["batch"].as<int64_t>(), input_len = v["input-len"].as<int64_t>(),
                target_len = v["target-len"].as<int64_t>(), steps = v["steps"].as<int64_t>(),
                warmup = v["warmup"].as<int64_t>();
  if (batch <= 0 || input_len <= 0 || target_len <= 0 || steps <= 0 || warmup < 0)
    throw UsageError("--batch, --input-len, --target-len and --steps must be positive");

  Parameters params(config, Device::cpu);
  params.initialize(v["seed"].as<uint64_t>());
  TrainerOptions options;
  options.steps = warmup + steps;
  options.optimizer.name = v["optimizer"].as<std::string>();
  options.seed = v["seed"].as<uint64_t>();
  Trainer trainer(params, options);

  // Random ids without padding, like the PyTorch script: every position is a real token.
  std::mt19937 gen(static_cast<uint32_t>(options.seed));
  auto token = [&] { return static_cast<int32_t>(2 + gen() % (config.vocab_size - 2)); };
  Batch b;
  b.batch_size = batch;
  b.input_len = input_len;
  b.target_len = target_len;
  for (int64_t i = 0; i < batch * input_len; ++i) b.input_ids.push_back(token());
  for (int64_t i = 0; i < batch * target_len; ++i) b.labels.push_back(token());

  for (int64_t i = 0; i < warmup; ++i) trainer.train_step(b);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) trainer.train_step(b);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double step_ms = 1000.0 * seconds / static_cast<double>(steps);
  const double tokens = static_cast<double>(batch * (input_len + target_len) * steps);
  std::printf("model %s, batch %lld, input %lld, target %lld, %d threads\n", config.name.c_str(),
              static_cast<long long>(batch), static_cast<long long>(input_len),
              static_cast<long long>(target_len), ops::cpu_threads());
  std::printf("step ms: %.2f\n", step_ms);
  std::printf("tokens/s: %.1f\n", tokens / seconds);
  std::printf("peak memory: %.1f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
}

}  // namespace stilts::launch
