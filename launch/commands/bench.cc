// stilts bench: times whole training steps (forward, backward, optimizer) after warm-up, as one
// process or as the ranks of an mpirun job (--tp; the time inside collectives is reported apart
// from compute, and the bytes beside a dry run's), on the CPU or the GPU
// (--device cuda: also memory, FLOPs and MFU), or (--what data) the corpus loader that feeds
// them. bench/pytorch_bench.py (CPU) and bench/hf_gpu_bench.py (GPU) do the model's work in
// PyTorch and print the same lines, so the two can be compared side by side
// (bench/compare_cpu.sh, bench/compare_gpu.sh).
#include <sys/resource.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/communication_plan.h"
#include "core/generate.h"
#include "data/corpus_preparation.h"
#include "data/corpus_reader.h"
#include "data/corpus_writer.h"
#include "data/loader.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "launch/commands/commands.h"
#include "launch/job.h"
#include "launch/model_bench.h"
#include "launch/options.h"
#include "parallel/counting_communicator.h"

namespace stilts::launch {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void print_peak_memory() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak memory: %.1f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
}

// Where one rank's step time goes: inside collectives over the TP and DP groups, the rest.
struct StepTimes {
  double step = 0, tp = 0, dp = 0;
  int64_t tp_bytes = 0, dp_bytes = 0;
};

// What the options of stilts bench set, each field bound to its option by bench_options.
struct BenchCommand {
  std::string what;
  std::string model;
  // The model's run; decode reads its batch, lengths and seed, data its seed.
  ModelBenchOptions run;
  int tp = 1;
  bool zero = false;
  std::string device;
  std::vector<std::string> corpora;
  boost::optional<std::string> prepare_task, tokenizer;
  std::vector<std::string> prepare_inputs;
  int64_t synthetic_examples = 0;
  int64_t batches = 0;
  int64_t dp_size = 1;
  int64_t prefetch = 0;
  data::BatcherOptions batching;
  int threads = 0;
};

ModelConfig preset(const std::string& name) {
  try {
    return model_preset(name);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
}

int bench_model(BenchCommand& c, Communicator& job) {
  ModelBenchOptions& o = c.run;
  o.config = preset(c.model);
  if (o.batch <= 0 || o.input_len <= 0 || o.target_len <= 0 || o.steps <= 0 || o.warmup < 0)
    throw UsageError("--batch, --input-len, --target-len and --steps must be positive");
  o.device = select_device(c.device);
  const bool zero = c.zero;

  // Every collective goes through counting communicators (a negligible clock read per call),
  // over a copy of the job's world.
  CountingCommunicator world(job_world(job, o.device));
  const ProcessGrid grid = job_grid(world, c.tp, o.config);
  ProcessGrid::Groups groups = grid.make_communicators(world);
  auto& tp = dynamic_cast<CountingCommunicator&>(*groups.tp);
  auto& dp = dynamic_cast<CountingCommunicator&>(*groups.dp);
  const ModelBenchResult result = run_model_bench(o, {world, tp, dp, zero}, [&] {
    tp.reset();
    dp.reset();
  });

  const auto per_step = [&](double x) { return x / static_cast<double>(o.steps); };
  const auto bytes_per_step = [&](int64_t x) { return x / o.steps; };
  const StepTimes mine{result.step_seconds, per_step(tp.total().seconds),
                       per_step(dp.total().seconds), bytes_per_step(tp.total().bytes),
                       bytes_per_step(dp.total().bytes)};
  if (world.rank() != 0) return 0;
  // After the bench has freed its model: one more step's compute and parameter shard.
  const CommunicationPlan plan = plan_communication(o.config, {grid.tp(), grid.dp(), zero}, o.batch,
                                                    o.input_len, o.target_len, o.device);
  std::printf("model %s, batch %lld per DP rank, input %lld, target %lld, ", o.config.name.c_str(),
              static_cast<long long>(o.batch), static_cast<long long>(o.input_len),
              static_cast<long long>(o.target_len));
  if (o.device == Device::cuda)
    std::printf("on %s%s%s\n", device::cuda_device_name().c_str(),
                o.recompute_activations ? ", recomputed activations" : "",
                o.fp32_residual ? ", f32 residual stream" : "");
  else
    std::printf("%d threads per rank\n", ops::cpu_threads());
  std::printf("layout: TP %d x DP %d%s on %d ranks\n", grid.tp(), grid.dp(),
              zero ? " (ZeRO-1)" : "", world.size());
  // Device collectives are asynchronous: the time inside the calls is the host's wait, not
  // the transfer's.
  std::printf("communication ms per step (rank 0): TP %.2f, DP %.2f; compute ms: %.2f\n",
              1000.0 * mine.tp, 1000.0 * mine.dp, 1000.0 * (mine.step - mine.tp - mine.dp));
  std::printf(
      "communication bytes per step (rank 0): TP %lld measured (model and optimizer), %lld "
      "predicted for the model; DP %lld measured (gradients and scalars), %lld predicted for "
      "the gradients\n",
      static_cast<long long>(mine.tp_bytes),
      static_cast<long long>(plan.tp_forward.bytes + plan.tp_backward.bytes),
      static_cast<long long>(mine.dp_bytes), static_cast<long long>(plan.dp.bytes));
  print_model_bench(o, result, world.size());
  print_peak_memory();
  return 0;
}

// Greedy decoding of --batch random inputs of --input-len tokens for --target-len steps (an
// untrained model never says eos, so every example decodes the full length), with the key/value
// cache and by recomputing the prefix each step.
int bench_decode(const BenchCommand& c) {
  const ModelConfig config = preset(c.model);
  const int64_t batch = c.run.batch, input_len = c.run.input_len, length = c.run.target_len;
  if (batch <= 0 || input_len <= 0 || length <= 0)
    throw UsageError("--batch, --input-len and --target-len must be positive");
  Parameters params(config, Device::cpu);
  params.initialize(c.run.seed);
  Mt5Model model(params);
  std::mt19937 gen(static_cast<uint32_t>(c.run.seed));
  std::vector<std::vector<int32_t>> inputs(batch, std::vector<int32_t>(input_len));
  for (auto& input : inputs)
    for (auto& t : input) t = static_cast<int32_t>(2 + gen() % (config.vocab_size - 2));
  std::printf("model %s, %lld examples of %lld tokens, up to %lld generated each, %d threads\n",
              config.name.c_str(), static_cast<long long>(batch), static_cast<long long>(input_len),
              static_cast<long long>(length), ops::cpu_threads());
  for (const bool cache : {true, false}) {
    const auto start = clock_type::now();
    const auto out = greedy_decode(model, inputs, {length, cache});
    const double seconds = seconds_since(start);
    int64_t tokens = 0;
    for (const auto& o : out) tokens += static_cast<int64_t>(o.size());
    std::printf("%s: %.1f generated tokens/s, %.2f examples/s\n",
                cache ? "decode cached" : "decode recompute", static_cast<double>(tokens) / seconds,
                static_cast<double>(batch) / seconds);
  }
  print_peak_memory();
  return 0;
}

// Random ids with mT5's vocabulary and lengths spread like fine-tuning data, written through
// the same CorpusWriter as `stilts prepare` (minus tokenization).
std::string write_synthetic_corpus(const std::string& dir, int64_t examples, uint64_t seed) {
  const std::string path = dir + "/synthetic.h5";
  data::CorpusAttributes attributes;
  attributes.task = "synthetic";
  attributes.lang = "en";
  attributes.split = "train";
  attributes.vocab_size = 250112;
  attributes.tokenizer_checksum = "synthetic";
  std::mt19937_64 gen(seed);
  auto draw = [&](uint64_t lo, uint64_t hi) { return lo + gen() % (hi - lo + 1); };
  const auto start = clock_type::now();
  data::CorpusWriter writer(path, attributes, true);
  std::vector<int32_t> input, target;
  for (int64_t i = 0; i < examples; ++i) {
    input.resize(draw(16, 512));
    target.resize(draw(4, 128));
    for (auto& t : input) t = static_cast<int32_t>(draw(3, 250099));
    for (auto& t : target) t = static_cast<int32_t>(draw(3, 250099));
    input.back() = target.back() = attributes.eos_id;
    writer.add(input, target, "synthetic-" + std::to_string(i));
  }
  writer.finish();
  std::printf("corpus write examples/s: %.0f (%lld examples, no tokenization)\n",
              static_cast<double>(examples) / seconds_since(start),
              static_cast<long long>(examples));
  return path;
}

int bench_data(const BenchCommand& c) {
  const int64_t batches = c.batches, world = c.dp_size;
  if (batches <= 0 || world <= 0) throw UsageError("--batches and --dp-size must be positive");
  std::vector<std::string> corpora = c.corpora;
  const std::string scratch =
      (std::filesystem::temp_directory_path() / ("stilts-bench-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(scratch);
  if (!c.prepare_inputs.empty()) {
    if (!c.prepare_task || !c.tokenizer)
      throw UsageError("--prepare-input needs --prepare-task and --tokenizer");
    data::PreparationOptions preparation;
    preparation.task = *c.prepare_task;
    preparation.inputs = c.prepare_inputs;
    preparation.out = scratch + "/prepared.h5";
    preparation.read.split = "train";
    const data::PreparationSummary prepared =
        data::prepare_corpus(preparation, data::Tokenizer::load(*c.tokenizer));
    std::printf("prepare examples/s: %.0f (%lld examples, %lld tokens, %d threads)\n",
                static_cast<double>(prepared.examples) / prepared.seconds,
                static_cast<long long>(prepared.examples),
                static_cast<long long>(prepared.input_tokens + prepared.target_tokens),
                prepared.threads);
    if (corpora.empty()) corpora.push_back(preparation.out);
  }
  if (corpora.empty())
    corpora.push_back(write_synthetic_corpus(scratch, c.synthetic_examples, c.run.seed));
  const data::BatcherOptions& batching = c.batching;
  data::SamplerOptions sampling;
  sampling.seed = c.run.seed;
  sampling.world = world;  // this process measures rank 0's share
  // The benchmark reads corpora of any tokenizer: it checks each against its own attributes.
  const data::CorpusReader first(corpora.front());
  const int64_t vocab = first.attributes().vocab_size;
  const std::string checksum = first.attributes().tokenizer_checksum;
  data::Loader loader(
      [&] {
        return std::make_unique<data::CorpusBatcher>(corpora, vocab, checksum, sampling, batching);
      },
      static_cast<size_t>(c.prefetch));

  int64_t padded = 0, real = 0;
  const auto start = clock_type::now();
  for (int64_t i = 0; i < batches; ++i) {
    data::TokenBatch b = loader.next();
    padded += b.batch_size * (b.input_len + b.target_len);
    for (int32_t t : b.input_ids) real += t != batching.pad_id;
    for (int32_t t : b.labels) real += t != data::kLabelPad;
  }
  const double seconds = seconds_since(start);
  std::printf("data: %zu corpora, %lld batches of at most %lld tokens, rank 0 of %lld\n",
              corpora.size(), static_cast<long long>(batches),
              static_cast<long long>(batching.max_tokens), static_cast<long long>(world));
  std::printf("loader tokens/s: %.0f per rank (%.0f non-padding)\n",
              static_cast<double>(padded) / seconds, static_cast<double>(real) / seconds);
  print_peak_memory();
  std::filesystem::remove_all(scratch);
  return 0;
}

// The command's own options; its groups of --what model and --what data go into syntax.
po::options_description bench_options(BenchCommand& c, CommandSyntax& syntax) {
  po::options_description o("stilts bench");
  o.add_options()("what", po::value(&c.what)->default_value("model"),
                  "model: training steps; decode: greedy decoding, cached against "
                  "recomputed (--batch examples, --input-len tokens, --target-len steps); data: "
                  "the corpus loader")("seed", po::value(&c.run.seed)->default_value(0),
                                       "seed of weights, tokens and sampling");
  po::options_description model;
  model.add_options()("model", po::value(&c.model)->default_value("test-tiny"), "model preset")(
      "batch", po::value(&c.run.batch)->default_value(8), "examples per step")(
      "input-len", po::value(&c.run.input_len)->default_value(64), "encoder tokens per example")(
      "target-len", po::value(&c.run.target_len)->default_value(16), "decoder tokens per example")(
      "steps", po::value(&c.run.steps)->default_value(10), "timed steps")(
      "warmup", po::value(&c.run.warmup)->default_value(3), "untimed steps first")(
      "optimizer", po::value(&c.run.optimizer)->default_value("adafactor"), "adafactor | adamw")(
      "tp", po::value(&c.tp)->default_value(1),
      "tensor-parallel ranks (under mpirun; DP = ranks / tp)")(
      "zero", po::bool_switch(&c.zero), "ZeRO-1 over the data-parallel ranks")(
      "device", po::value(&c.device)->default_value("cpu"),
      "cpu | cuda (one GPU per rank; adds peak GPU memory, model FLOPs and MFU)")(
      "recompute", po::bool_switch(&c.run.recompute_activations),
      "recompute each block's activations in backward")(
      "fp32-residual", po::bool_switch(&c.run.fp32_residual),
      "the residual stream in f32 on the GPU (stilts train --fp32-residual); nothing changes on "
      "the CPU");
  po::options_description data_options;
  data_options.add_options()("corpus", po::value(&c.corpora)->composing(),
                             "corpus files (repeat); default: the prepared or a synthetic corpus")(
      "prepare-task", po::value(&c.prepare_task), "time `stilts prepare` of this task first")(
      "prepare-input", po::value(&c.prepare_inputs)->composing(), "its native files (repeat)")(
      "tokenizer", po::value(&c.tokenizer), "SentencePiece model for the preparation")(
      "synthetic-examples", po::value(&c.synthetic_examples)->default_value(20000),
      "examples of the synthetic corpus")("batches", po::value(&c.batches)->default_value(300),
                                          "batches to time")(
      "max-tokens", po::value(&c.batching.max_tokens)->default_value(65536),
      "token budget per batch")("max-input-len",
                                po::value(&c.batching.max_input_len)->default_value(512),
                                "longest input kept")(
      "max-target-len", po::value(&c.batching.max_target_len)->default_value(128),
      "longest target kept")("dp-size", po::value(&c.dp_size)->default_value(1),
                             "data-parallel ranks sharing the data")(
      "prefetch", po::value(&c.prefetch)->default_value(4), "batches prepared ahead");
  add_thread_option(o, c.threads);
  syntax.groups.push_back({"--what model", model});
  syntax.groups.push_back({"--what data", data_options});
  return o;
}

}  // namespace

int run_bench(int argc, char** argv) {
  BenchCommand command;
  CommandSyntax syntax{
      "stilts bench --model P --batch B --input-len T --target-len U | stilts bench --what data"};
  po::options_description options = bench_options(command, syntax);
  ParsedCommand cmd = parse_command(syntax, options, argc, argv);
  if (cmd.help) return 0;
  apply_thread_option(command.threads);
  if (command.what == "model")
    return run_as_job_rank([&](Communicator& world) { return bench_model(command, world); });
  if (command.what == "decode") return bench_decode(command);
  if (command.what == "data") return bench_data(command);
  throw UsageError("--what: expected model, decode or data, got '" + command.what + "'");
}

}  // namespace stilts::launch
