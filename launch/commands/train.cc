// stilts train: training on prepared corpora (a mixture of them, through the prefetching
// loader) or on a built-in toy task, as one process or as the ranks of an mpirun job
// (tensor x data parallel, parallel/grid.h).
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "core/checkpoint/checkpoint.h"
#include "core/trainer.h"
#include "data/sampler.h"
#include "data/tokenizer.h"
#include "data/toy_task.h"
#include "kernels/debug_checks.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "launch/commands/commands.h"
#include "launch/corpus_stream.h"
#include "launch/job.h"
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

// Global batch g holds examples [g * batch, (g + 1) * batch) of the task; DP rank r of w
// takes the r-th of w equal slices of it.
class ToyStream : public BatchStream {
 public:
  ToyStream(data::ToyTaskOptions options, int64_t batch_size, int dp_rank, int dp_size)
      : task_(std::move(options)),
        batch_size_(batch_size),
        share_(batch_size / dp_size),
        first_(static_cast<uint64_t>(dp_rank * share_)) {}
  Batch next() override {
    Batch b = toy_batch(task_, next_example_ + first_, share_);
    next_example_ += static_cast<uint64_t>(batch_size_);
    return b;
  }
  nlohmann::json state() const override { return {{"next_example", next_example_}}; }
  void restore(const nlohmann::json& state) override {
    next_example_ = state.at("next_example").get<uint64_t>();
  }

 private:
  data::ToyTask task_;
  int64_t batch_size_, share_;
  uint64_t first_;
  uint64_t next_example_ = 0;
};

std::string joined(const nlohmann::json& strings) {
  std::string out;
  for (const nlohmann::json& s : strings) out += (out.empty() ? "" : ", ") + s.get<std::string>();
  return out.empty() ? "none" : out;
}

// Recorded absolute, so a resume from another working directory still matches.
nlohmann::json absolute_paths(const std::vector<std::string>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& p : paths)
    out.push_back(std::filesystem::absolute(p).lexically_normal().string());
  return out;
}

// Options that only the other data source reads would be silently ignored: refuse them.
void refuse_options(const po::variables_map& v, std::initializer_list<const char*> names,
                    const std::string& why) {
  for (const char* name : names)
    if (v.count(name) && !v[name].defaulted())
      throw UsageError(std::string("--") + name + ": " + why);
}

std::vector<double> parse_weights(const std::string& text, size_t corpora) {
  std::vector<double> weights;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    double w = -1;
    try {
      w = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(w) || w < 0)
      throw UsageError("--mixture-weights: '" + item + "' is not a non-negative number");
    weights.push_back(w);
  }
  if (weights.size() != corpora)
    throw UsageError("--mixture-weights: " + std::to_string(weights.size()) + " weights for " +
                     std::to_string(corpora) + " corpora (one per --corpus, in order)");
  return weights;
}

// Token ids a corpus can hold are below the tokenizer's piece count (encode never yields the
// embedding padding rows), so the model must have at least that many rows.
void check_vocabulary(const data::Tokenizer& tokenizer, const ModelConfig& config,
                      bool from_preset) {
  if (tokenizer.piece_count() <= config.vocab_size) return;
  std::string message = tokenizer.path() + " has " + std::to_string(tokenizer.piece_count()) +
                        " pieces, more than the vocabulary of model " + config.name + " (" +
                        std::to_string(config.vocab_size) + ")";
  if (from_preset) {
    std::string fitting;
    for (const std::string& name : model_preset_names())
      if (const int64_t vocab = model_preset(name).vocab_size; vocab >= tokenizer.piece_count())
        fitting += (fitting.empty() ? "" : ", ") + name + " (" + std::to_string(vocab) + ")";
    message += "; pick a --model whose vocabulary holds them: " + fitting +
               ", or train a tokenizer of at most " + std::to_string(config.vocab_size) + " pieces";
  } else {
    message += "; use a tokenizer of at most " + std::to_string(config.vocab_size) + " pieces";
  }
  throw std::invalid_argument(message);
}

// A resumed run must read the data its checkpoint's stream position refers to.
void check_same_data(const std::string& run_dir, const nlohmann::json& saved,
                     const nlohmann::json& now) {
  const nlohmann::json none = nlohmann::json::array();
  const nlohmann::json& was = saved.contains("corpora") ? saved["corpora"] : none;
  const nlohmann::json& is = now.contains("corpora") ? now["corpora"] : none;
  const std::string advice = "; use another --run-dir for a new run";
  if (was != is) {
    if (was.empty())
      throw std::invalid_argument(run_dir + " holds a run on the built-in task " +
                                  saved.value("task", std::string("?")) + ", not on corpora" +
                                  advice);
    throw std::invalid_argument(run_dir + " holds a run on --corpus " + joined(was) +
                                "; resume it with the same corpora, in the same order (given: " +
                                joined(is) + ")" + advice);
  }
  if (saved.value("tokenizer_checksum", "") != now.value("tokenizer_checksum", ""))
    throw std::invalid_argument(run_dir + " holds a run with tokenizer checksum '" +
                                saved.value("tokenizer_checksum", std::string()) +
                                "', but --tokenizer has '" +
                                now.value("tokenizer_checksum", std::string()) + "'" + advice);
}

// Rank 0 prints every rank's peak memory (the sharding's effect on a rank's footprint):
// "peak memory per rank: 2712 2698 2705 2701 MiB", resident on the host and, on the GPU, held
// by live device tensors.
void report_peak_memory(Communicator& world, Device device) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  Tensor mine({2}, DType::i64), all({world.size(), 2}, DType::i64);
  mine.data<int64_t>()[0] = usage.ru_maxrss / 1024;  // KiB on Linux
  if (device == Device::cuda)
    mine.data<int64_t>()[1] =
        static_cast<int64_t>(device::memory_stats().peak_in_use / (size_t{1} << 20));
  world.all_gather(mine.reshape({1, 2}), all);
  if (world.rank() != 0) return;
  const auto print = [&](const char* what, int column) {
    std::printf("%s per rank:", what);
    for (int r = 0; r < world.size(); ++r)
      std::printf(" %lld", static_cast<long long>(all.data<int64_t>()[2 * r + column]));
    std::printf(" MiB\n");
  };
  print("peak memory", 0);
  if (device == Device::cuda) print("peak GPU memory", 1);
}

// --debug on the GPU: the next step's gradients (its batch, dropout keys and loss scaling)
// from the GPU and from the CPU path on a host copy of the same weights, before training, so a
// wrong kernel shows before it can spoil a run. Neither updates any weights, and the stream is
// put back where it was. bf16 activations round at about 2^-8 relative: the loss must agree
// within 2e-2 and the global gradient norm within 5e-2, relative.
void check_first_step_on_cpu(Trainer& trainer, const TrainerOptions& options, BatchStream& stream) {
  const nlohmann::json position = stream.state();
  const Batch batch = stream.next();
  stream.restore(position);
  const int64_t step = trainer.step() + 1;
  Parameters& params = trainer.model().params();
  const StepGradients gpu = trainer.training_step().compute_gradients(batch, step, true);

  Parameters host(params.config(), Device::cpu, params.shard(), params.partitions());
  ops::copy(params.flat_values(), host.flat_values());
  host.refresh_compute_copy();
  TrainingStep cpu_step(host, training_step_options(options));
  const StepGradients cpu = cpu_step.compute_gradients(batch, step, true);

  std::printf("debug: step %lld on %s: loss %.6f, gradient norm %.6f\n",
              static_cast<long long>(step), device::cuda_device_name().c_str(), gpu.loss,
              gpu.grad_norm);
  std::printf("debug: step %lld on the CPU: loss %.6f, gradient norm %.6f\n",
              static_cast<long long>(step), cpu.loss, cpu.grad_norm);
  const auto relative = [](double a, double b) {
    return std::abs(a - b) / std::max(std::abs(b), 1e-12);
  };
  std::string differs;
  if (!(relative(gpu.loss, cpu.loss) <= 2e-2))
    differs += "the loss differs by " + std::to_string(relative(gpu.loss, cpu.loss)) +
               " relative (tolerance 2e-2)";
  if (!(relative(gpu.grad_norm, cpu.grad_norm) <= 5e-2))
    differs += (differs.empty() ? "" : "; ") + std::string("the gradient norm differs by ") +
               std::to_string(relative(gpu.grad_norm, cpu.grad_norm)) +
               " relative (tolerance 5e-2)";
  if (!differs.empty())
    throw std::runtime_error(
        "--debug: the GPU's first step disagrees with the CPU's: " + differs + " (GPU loss " +
        std::to_string(gpu.loss) + ", norm " + std::to_string(gpu.grad_norm) + "; CPU loss " +
        std::to_string(cpu.loss) + ", norm " + std::to_string(cpu.grad_norm) + ")");
  std::printf("debug: the GPU's first step matches the CPU's\n");
}

// What the options of stilts train set: the trainer's, the toy task's, the corpus loader's
// options and the rest, each field bound to its option by train_options.
struct TrainCommand {
  std::string model;
  boost::optional<int64_t> vocab_size;
  boost::optional<std::string> init_from;
  std::vector<std::string> corpora, eval_corpora;
  boost::optional<std::string> tokenizer;
  boost::optional<std::string> mixture_weights;
  boost::optional<std::string> task_weights;
  int64_t prefetch = 0;
  int64_t batch = 0;
  int64_t eval_batches = 0;
  boost::optional<float> dropout;
  int tp = 1;
  bool zero = false;
  std::string device;
  bool debug = false;
  int threads = 0;
  data::ToyTaskOptions toy;
  data::SamplerOptions sampler;
  data::BatcherOptions batcher;
  TrainerOptions trainer;
};

po::options_description train_options(TrainCommand& c) {
  TrainerOptions& t = c.trainer;
  po::options_description o("stilts train");
  o.add_options()("model", po::value(&c.model)->default_value("test-small"),
                  "model preset for a fresh run (see stilts plan --list)")(
      "vocab-size", po::value(&c.vocab_size),
      "a fresh run: the preset's shape with this many embedding rows (e.g. a tokenizer's "
      "model_vocab_size) instead of the preset's")(
      "init-from", po::value(&c.init_from),
      "start from these weights: a Hugging Face model directory or a stilts checkpoint")(
      "run-dir", po::value(&t.run_dir)->default_value("runs/train"),
      "checkpoints and log.jsonl; a run resumes from its `latest` checkpoint (empty: neither, "
      "for measurements)")(
      "corpus", po::value(&c.corpora)->composing(),
      "train on this prepared corpus (repeat for a mixture); instead of --task. This single "
      "process reads as data-parallel rank 0 of 1")(
      "tokenizer", po::value(&c.tokenizer),
      "with --corpus: the model the corpora were prepared with")(
      "mixture-alpha", po::value(&c.sampler.alpha)->default_value(0.3, "0.3"),
      "with --corpus: sample corpora in proportion to size^alpha")(
      "mixture-weights", po::value(&c.mixture_weights),
      "with --corpus: sampling weights, one per --corpus in order (\"1,2\"); instead of alpha")(
      "task-weights", po::value(&c.task_weights),
      "with --corpus: sampling weights per task (\"mnli=1,squad=1\"), each shared among the "
      "task's corpora (by their task attribute) in proportion to their sizes; instead of alpha")(
      "max-tokens", po::value(&c.batcher.max_tokens)->default_value(8192),
      "with --corpus: batch budget, examples x (padded input + target length)")(
      "max-input-len", po::value(&c.batcher.max_input_len)->default_value(1024),
      "with --corpus: inputs are truncated to this many tokens")(
      "max-target-len", po::value(&c.batcher.max_target_len)->default_value(256),
      "with --corpus: targets are truncated to this many tokens")(
      "prefetch", po::value(&c.prefetch)->default_value(4), "with --corpus: batches read ahead")(
      "eval-corpus", po::value(&c.eval_corpora)->composing(),
      "with --corpus: held-out corpus evaluated on its first --eval-batches batches (repeat for "
      "several, mixed by --mixture-alpha); without it, no evaluation")(
      "task", po::value(&c.toy.kind)->default_value("copy"),
      "built-in toy task: copy | reverse (the default data when --corpus is not given)")(
      "toy-tokens", po::value(&c.toy.num_tokens)->default_value(32),
      "toy task: distinct content tokens")("toy-min-length",
                                           po::value(&c.toy.min_length)->default_value(4),
                                           "toy task: shortest sequence")(
      "toy-max-length", po::value(&c.toy.max_length)->default_value(12),
      "toy task: longest sequence")("batch", po::value(&c.batch)->default_value(32),
                                    "examples per step")(
      "steps", po::value(&t.steps)->default_value(500), "total optimizer steps")(
      "optimizer", po::value(&t.optimizer.name)->default_value("adafactor"), "adafactor | adamw")(
      "lr", po::value(&t.schedule.lr)->default_value(1e-3f, "1e-3"), "peak learning rate")(
      "schedule", po::value(&t.schedule.kind)->default_value("constant"),
      "constant | linear | rsqrt | relative")("warmup-steps",
                                              po::value(&t.schedule.warmup_steps)->default_value(0),
                                              "linear warm-up steps")(
      "weight-decay", po::value(&t.optimizer.weight_decay)->default_value(0.0f),
      "decoupled weight decay")("momentum", po::value(&t.optimizer.momentum)->default_value(0.0f),
                                "Adafactor beta1 (0 = none)")(
      "scale-parameter", po::bool_switch(&t.optimizer.scale_parameter),
      "Adafactor: scale the step by the parameter RMS")(
      "clip-threshold", po::value(&t.optimizer.clip_threshold)->default_value(1.0f),
      "Adafactor update clipping")(
      "adam-beta1", po::value(&t.optimizer.beta1)->default_value(0.9f, "0.9"), "AdamW beta1")(
      "adam-beta2", po::value(&t.optimizer.beta2)->default_value(0.999f, "0.999"), "AdamW beta2")(
      "adam-eps", po::value(&t.optimizer.eps)->default_value(1e-8f, "1e-8"), "AdamW epsilon")(
      "clip-norm", po::value(&t.clip_norm)->default_value(0.0f),
      "global gradient norm clip (0 = off)")("z-loss", po::value(&t.z_loss)->default_value(0.0f),
                                             "z-loss coefficient (T5X uses 1e-4)")(
      "dropout", po::value(&c.dropout), "dropout rate (default: the model config's, 0.1)")(
      "seed", po::value(&t.seed)->default_value(0), "seed of initialization, data, dropout")(
      "log-every", po::value(&t.log_every)->default_value(10), "steps between progress lines")(
      "save-every", po::value(&t.save_every)->default_value(0),
      "steps between checkpoints (0 = only the last step)")(
      "eval-every", po::value(&t.eval_every)->default_value(0),
      "steps between evaluations (0 = only after the last step)")(
      "eval-batches", po::value(&c.eval_batches)->default_value(4),
      "held-out batches per evaluation")(
      "tp", po::value(&c.tp)->default_value(1),
      "tensor-parallel ranks per model replica; the data-parallel size is the number of ranks "
      "(mpirun -np) divided by it")(
      "zero", po::bool_switch(&c.zero),
      "ZeRO-1: shard the optimizer state and update over the data-parallel ranks")(
      "device", po::value(&c.device)->default_value("cpu"),
      "cpu | cuda (bf16 compute with f32 master weights; under mpirun one GPU per rank)")(
      "recompute", po::bool_switch(&t.recompute_activations),
      "recompute each block's activations during backward (less memory, about a third more "
      "compute)")(
      "fp32-residual", po::bool_switch(&t.fp32_residual),
      "on the GPU, keep the residual stream (the hidden state every block adds into) and its "
      "gradient in f32, the sublayers in bf16: less rounding over deep stacks (mt5-large), for "
      "twice the memory of the residual activations (docs/GPU.md). The CPU computes in f32 "
      "throughout: there it changes nothing")(
      "debug", po::bool_switch(&c.debug),
      "one process: check every op's outputs for NaN/Inf (naming the op and layer; CUDA "
      "launches synchronous) and, on the GPU, compare the first step's loss and gradient norm "
      "with the CPU path before training");
  add_thread_option(o, c.threads);
  return o;
}

// v says which options were given; their values are in c.
int train(TrainCommand& c, const po::variables_map& v, Communicator& world) {
  apply_thread_option(c.threads);
  const bool lead = world.rank() == 0;
  if (c.debug && world.size() > 1)
    throw UsageError("--debug: runs as one process (started with " + std::to_string(world.size()) +
                     " ranks)");
  const Device device = select_device(c.device);
  if (c.debug) {
    ops::set_debug_checks(true);
    std::printf("debug: NaN/Inf checks after every op%s\n",
                device == Device::cpu ? "; no GPU-against-CPU check of the first step with "
                                        "--device cpu"
                                      : ", synchronous CUDA launches");
  }

  const bool use_corpus = !c.corpora.empty();
  if (use_corpus) {
    if (!v["task"].defaulted())
      throw UsageError("--task and --corpus: give one of them, a built-in toy task or corpora");
    refuse_options(v, {"batch", "toy-tokens", "toy-min-length", "toy-max-length"},
                   "applies to --task only; corpus batches are sized by --max-tokens");
    if (!c.tokenizer)
      throw UsageError("--corpus needs --tokenizer, the model the corpora were prepared with");
    if ((c.mixture_weights ? 1 : 0) + (c.task_weights ? 1 : 0) +
            (v["mixture-alpha"].defaulted() ? 0 : 1) >
        1)
      throw UsageError(
          "--mixture-weights, --task-weights and --mixture-alpha: give at most one of them");
  } else {
    refuse_options(v,
                   {"tokenizer", "mixture-alpha", "mixture-weights", "task-weights", "max-tokens",
                    "max-input-len", "max-target-len", "prefetch", "eval-corpus"},
                   "applies only with --corpus");
  }

  TrainerOptions& t = c.trainer;
  const std::string& run_dir = t.run_dir;
  std::string resume_from;
  if (!run_dir.empty() && std::filesystem::exists(std::filesystem::path(run_dir) / "latest"))
    resume_from = resolve_checkpoint(run_dir);

  // The shape --model and --vocab-size ask for: a fresh run's, and the one a resumed run's
  // checkpoint must have, so that the same command line starts a run and resumes it.
  if (c.vocab_size && *c.vocab_size < 3) throw UsageError("--vocab-size: must be at least 3");
  if (c.vocab_size && c.init_from && resume_from.empty())
    throw UsageError("--vocab-size: applies to a run from a preset, not to --init-from");
  ModelConfig asked = model_preset(c.model);
  if (c.vocab_size) asked.vocab_size = *c.vocab_size;
  ModelConfig config;
  if (!resume_from.empty()) {
    config = read_model_config(resume_from);
    const bool shape_given = !v["model"].defaulted() || c.vocab_size;
    if (shape_given && !c.init_from && !asked.same_shape(config))
      throw std::invalid_argument(
          run_dir + " holds a checkpoint of model " + config.name + " (" + config.shape_summary() +
          "), but --model " + asked.name +
          (c.vocab_size ? " --vocab-size " + std::to_string(asked.vocab_size) : std::string()) +
          " (" + asked.shape_summary() + ") was given; use another --run-dir for a new run");
  } else if (c.init_from) {
    config = read_model_config(*c.init_from);
  } else {
    config = asked;
  }
  if (c.dropout) config.dropout_rate = *c.dropout;
  config.validate();
  const ProcessGrid grid = job_grid(world, c.tp, config);

  data::ToyTaskOptions& toy = c.toy;
  toy.eos_id = config.eos_token_id;
  toy.seed = t.seed;
  if (!use_corpus) {
    toy.validate(config.vocab_size);
    if (c.batch <= 0 || c.batch % grid.dp() != 0)
      throw UsageError("--batch: " + std::to_string(c.batch) +
                       " must be a positive multiple of the " + std::to_string(grid.dp()) +
                       " data-parallel ranks, each taking an equal share");
  }

  data::SamplerOptions& sampler = c.sampler;
  data::BatcherOptions& batcher = c.batcher;
  // Corpora record the tokenizer's embedding rows, as prepare does; check_compatible matches
  // them and the checksum against every corpus.
  int64_t corpus_vocab = 0;
  std::string tokenizer_checksum;
  nlohmann::json data_config;
  if (use_corpus) {
    for (const auto& path : c.corpora)
      if (!std::filesystem::is_regular_file(path))
        throw UsageError("--corpus: '" + path + "' is not a readable file");
    for (const auto& path : c.eval_corpora)
      if (!std::filesystem::is_regular_file(path))
        throw UsageError("--eval-corpus: '" + path + "' is not a readable file");
    if (!(sampler.alpha >= 0)) throw UsageError("--mixture-alpha: must be >= 0");
    if (c.mixture_weights) sampler.weights = parse_weights(*c.mixture_weights, c.corpora.size());
    if (c.task_weights) {
      try {
        sampler.task_weights = data::parse_task_weights(*c.task_weights);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--task-weights: ") + e.what());
      }
    }
    sampler.seed = t.seed;
    sampler.rank = grid.dp_rank();
    sampler.world = grid.dp();
    batcher.pad_id = config.pad_token_id;
    try {
      batcher.validate();
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--max-tokens, --max-input-len, --max-target-len: ") + e.what());
    }
    if (c.prefetch < 1) throw UsageError("--prefetch: must be at least 1");

    // Training reads token ids only: the sentinels were checked when the corpora were
    // prepared, and not asking for them here accepts tokenizers with any --extra-ids.
    data::TokenizerOptions tokenizer_options;
    tokenizer_options.num_extra_ids = 0;
    const data::Tokenizer tokenizer = data::Tokenizer::load(*c.tokenizer, tokenizer_options);
    check_vocabulary(tokenizer, config, resume_from.empty() && !c.init_from);
    corpus_vocab = tokenizer.model_vocab_size();
    tokenizer_checksum = tokenizer.checksum();
    data_config = {{"max_tokens", batcher.max_tokens},
                   {"max_input_len", batcher.max_input_len},
                   {"max_target_len", batcher.max_target_len}};
    if (!sampler.task_weights.empty())
      data_config["task_weights"] = sampler.task_weights;
    else if (sampler.weights.empty())
      data_config["mixture_alpha"] = sampler.alpha;
    else
      data_config["mixture_weights"] = sampler.weights;
  }

  t.schedule.total_steps = t.steps;
  t.run_config = {{"model", model_config_to_json(config)},
                  {"steps", t.steps},
                  {"optimizer", t.optimizer.name},
                  {"lr", t.schedule.lr},
                  {"schedule", t.schedule.kind},
                  {"seed", t.seed},
                  {"parallel", {{"tp", grid.tp()}, {"dp", grid.dp()}, {"zero", c.zero}}}};
  if (use_corpus) {
    t.run_config["corpora"] = absolute_paths(c.corpora);
    t.run_config["eval_corpora"] = absolute_paths(c.eval_corpora);
    t.run_config["tokenizer_checksum"] = tokenizer_checksum;
    t.run_config["data"] = data_config;
  } else {
    t.run_config["task"] = toy.kind;
    t.run_config["batch"] = c.batch;
  }
  try {
    t.schedule.validate();
    t.optimizer.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  if (!resume_from.empty())
    check_same_data(run_dir, read_checkpoint_run_config(resume_from), t.run_config);

  // Read up front and the held-out loader dropped, so its thread and buffers do not live on
  // beside the training loader's.
  std::vector<Batch> eval_set;
  if (use_corpus) {
    if (!c.eval_corpora.empty()) {
      data::SamplerOptions held_out_sampler;
      held_out_sampler.alpha = sampler.alpha;
      held_out_sampler.seed = t.seed;
      CorpusStream held_out(c.eval_corpora, corpus_vocab, tokenizer_checksum, held_out_sampler,
                            batcher, static_cast<size_t>(c.prefetch));
      for (int64_t i = 0; i < c.eval_batches; ++i) eval_set.push_back(held_out.next());
    }
  } else {
    data::ToyTaskOptions held_out = toy;
    held_out.seed = toy.seed ^ 0x5EEDF00Dull;
    const data::ToyTask eval_task(held_out);
    for (int64_t i = 0; i < c.eval_batches; ++i)
      eval_set.push_back(toy_batch(eval_task, static_cast<uint64_t>(i * c.batch), c.batch));
  }

  std::unique_ptr<BatchStream> stream;
  if (use_corpus)
    stream = std::make_unique<CorpusStream>(c.corpora, corpus_vocab, tokenizer_checksum, sampler,
                                            batcher, static_cast<size_t>(c.prefetch));
  else
    stream = std::make_unique<ToyStream>(toy, c.batch, grid.dp_rank(), grid.dp());

  const std::unique_ptr<Communicator> job = job_world(world, device);
  ProcessGrid::Groups groups = grid.make_communicators(*job);
  Parameters params(config, device, {grid.tp(), grid.tp_rank()}, c.zero ? grid.dp() : 1);
  Trainer trainer(params, t, {*job, *groups.tp, *groups.dp, c.zero});
  if (!resume_from.empty()) {
    trainer.resume(resume_from, *stream);
    if (lead)
      std::printf("resuming %s at step %lld\n", resume_from.c_str(),
                  static_cast<long long>(trainer.step()));
  } else if (c.init_from) {
    load_weights(*c.init_from, params);
  } else {
    params.initialize(t.seed);
  }
  if (lead) {
    std::printf("model %s (%s), %lld parameters, TP %d x DP %d%s, ", config.name.c_str(),
                config.shape_summary().c_str(), static_cast<long long>(param_count(config)),
                grid.tp(), grid.dp(), c.zero ? " (ZeRO-1)" : "");
    if (use_corpus)
      std::printf("corpora %s, up to %lld tokens per batch and rank\n",
                  joined(t.run_config["corpora"]).c_str(),
                  static_cast<long long>(batcher.max_tokens));
    else
      std::printf("task %s, batch %lld\n", toy.kind.c_str(), static_cast<long long>(c.batch));
  }
  if (c.debug && device == Device::cuda) check_first_step_on_cpu(trainer, t, *stream);
  trainer.run(*stream, eval_set);
  report_peak_memory(world, device);
  return 0;
}

}  // namespace

int run_train(int argc, char** argv) {
  TrainCommand command;
  po::options_description options = train_options(command);
  ParsedCommand cmd = parse_command({"stilts train [options]"}, options, argc, argv);
  if (cmd.help) return 0;
  return run_as_job_rank([&](Communicator& world) { return train(command, cmd.values, world); });
}

}  // namespace stilts::launch
