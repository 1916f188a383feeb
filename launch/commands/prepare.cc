// stilts prepare: native task files -> one tokenized corpus (data/corpus_format.h). Reads the
// files with the task's reader, tokenizes every example on all cores and writes the corpus in
// the readers' order, so the same inputs always give the same file.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/corpus_writer.h"
#include "data/languages.h"
#include "data/readers/task_registry.h"
#include "data/readers/text_file.h"
#include "data/span_corruption.h"
#include "data/tokenizer.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The corpus's split: --split, else the one every input's XTREME file name gives
// ({split}-{lang}.{ext}), else "train" (files that name no split, like the UDHR, are training
// text).
std::string corpus_split(const po::variables_map& v, const std::vector<std::string>& inputs) {
  if (v.count("split")) {
    const std::string split = v["split"].as<std::string>();
    if (split.empty()) throw UsageError("--split: must not be empty");
    return split;
  }
  std::string split;
  for (const std::string& input : inputs) {
    std::string extension = std::filesystem::path(input).extension().string();
    if (!extension.empty()) extension.erase(0, 1);
    const auto name = data::parse_split_language_name(input, extension);
    if (!name) continue;
    if (!split.empty() && split != name->split)
      throw UsageError("--input: the file names give the splits '" + split + "' and '" +
                       name->split + "'; one corpus holds one split (or pass --split)");
    split = name->split;
  }
  return split.empty() ? "train" : split;
}

int64_t max_length(const po::variables_map& v, const char* option) {
  const int64_t length = v[option].as<int64_t>();
  if (length != 0 && length < 2)
    throw UsageError(std::string("--") + option +
                     ": must be 0 (no limit) or at least 2 (a token and eos)");
  return length;
}

// Keeps the first max_length - 1 tokens and the eos, as T5's preprocessing trims before it
// appends eos. Returns whether it cut.
bool truncate(std::vector<int32_t>& tokens, int64_t max_length, int32_t eos) {
  if (max_length == 0 || static_cast<int64_t>(tokens.size()) <= max_length) return false;
  tokens.resize(static_cast<size_t>(max_length));
  tokens.back() = eos;
  return true;
}

// "[#####.....]  1234/5000 examples  812/s" on one terminal line.
void draw_progress(int64_t done, int64_t total, double elapsed) {
  constexpr int kWidth = 30;
  const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r[%s] %lld/%lld examples  %.0f/s", bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total),
               elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
  std::fflush(stderr);
}

// One example's corpus records: one for a supervised task, one per chunk of its text under
// span corruption.
struct Tokenized {
  struct Record {
    std::vector<int32_t> input;
    std::vector<int32_t> target;
  };
  std::vector<Record> records;
  bool input_truncated = false;
  bool target_truncated = false;
  int64_t short_chunks = 0;  // span corruption: chunks under 2 tokens, dropped
};

struct SpanObjective {
  data::SpanCorruptionOptions options;
  int64_t chunk_tokens;  // raw tokens per chunk, so the corrupted input fits max-input-len
  uint64_t seed;
};

// T5's span-corruption pre-processing of one example's text: split into chunks of
// chunk_tokens, corrupt each. Chunk k of example i is drawn from (seed, i * 2^20 + k), so the
// corpus does not depend on the thread schedule.
void span_corrupt_example(const std::vector<int32_t>& tokens, const SpanObjective& span,
                          uint64_t example, Tokenized& out) {
  for (size_t begin = 0, k = 0; begin < tokens.size(); begin += span.chunk_tokens, ++k) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(span.chunk_tokens));
    if (end - begin < 2) {
      ++out.short_chunks;
      continue;
    }
    const std::vector<int32_t> chunk(tokens.begin() + begin, tokens.begin() + end);
    data::SpanCorrupted corrupted =
        data::span_corrupt(chunk, span.options, span.seed, (example << 20) | k);
    out.records.push_back({std::move(corrupted.inputs), std::move(corrupted.targets)});
  }
}

}  // namespace

int run_prepare(int argc, char** argv) {
  po::options_description o("stilts prepare");
  o.add_options()("task", po::value<std::string>()->required(),
                  "task whose reader reads the inputs (xnli, squad, udhr, ...)")(
      "input", po::value<std::vector<std::string>>()->required()->composing(),
      "native task file (repeat for several; their examples go into one corpus)")(
      "tokenizer", po::value<std::string>()->required(), "SentencePiece model file")(
      "extra-ids", po::value<int>()->default_value(100),
      "sentinels <extra_id_N> at the top of the tokenizer (0 for a model without them)")(
      "out", po::value<std::string>()->required(), "corpus file to write (HDF5)")(
      "split", po::value<std::string>(),
      "split attribute of the corpus (default: from the XTREME file names, else train)")(
      "language", po::value<std::string>(),
      "language of files whose names or contents do not give it")(
      "max-input-len", po::value<int64_t>()->default_value(0),
      "truncate inputs to this many tokens, eos included (0 = no limit)")(
      "max-target-len", po::value<int64_t>()->default_value(0),
      "truncate targets to this many tokens, eos included (0 = no limit)")(
      "objective", po::value<std::string>()->default_value("supervised"),
      "supervised: the task's input and target; span_corruption: T5's noise on the input text "
      "(noise density 0.15, mean span 3), for pre-training and continued MLM")(
      "seed", po::value<uint64_t>()->default_value(0), "span corruption: seed of the noise")(
      "skip-bad-records", "skip malformed records (counted and reported) instead of failing")(
      "force", "replace an existing corpus file");
  add_thread_option(o);
  ParsedCommand cmd = parse_command(
      "stilts prepare --task T --input FILE... --tokenizer M.model --out CORPUS.h5", o, argc, argv);
  if (cmd.help) return 0;
  const po::variables_map& v = cmd.values;
  apply_thread_option(v);
  const Clock::time_point start = Clock::now();

  const std::string task = v["task"].as<std::string>();
  const std::vector<std::string> task_names = data::task_names();
  if (std::find(task_names.begin(), task_names.end(), task) == task_names.end()) {
    std::string known;
    for (const std::string& name : task_names) known += (known.empty() ? "" : ", ") + name;
    throw UsageError("--task: unknown task '" + task + "' (known tasks: " + known + ")");
  }
  const std::vector<std::string> inputs = v["input"].as<std::vector<std::string>>();
  for (const std::string& input : inputs)
    if (!std::filesystem::is_regular_file(input))
      throw UsageError("--input: '" + input + "' is not a readable file");
  const std::string out = v["out"].as<std::string>();
  const int64_t max_input = max_length(v, "max-input-len");
  const int64_t max_target = max_length(v, "max-target-len");
  const std::string objective = v["objective"].as<std::string>();
  if (objective != "supervised" && objective != "span_corruption")
    throw UsageError("--objective: expected supervised or span_corruption, got '" + objective +
                     "'");

  data::ReadOptions read_options;
  read_options.skip_bad_records = v.count("skip-bad-records") > 0;
  read_options.split = corpus_split(v, inputs);
  if (v.count("language")) {
    read_options.language = v["language"].as<std::string>();
    try {
      data::check_language(read_options.language, "--language");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }

  data::TokenizerOptions tokenizer_options;
  tokenizer_options.num_extra_ids = v["extra-ids"].as<int>();
  if (tokenizer_options.num_extra_ids < 0) throw UsageError("--extra-ids: must be >= 0");
  const data::Tokenizer tokenizer =
      data::Tokenizer::load(v["tokenizer"].as<std::string>(), tokenizer_options);

  data::ReadSummary read_summary;
  std::vector<data::Example> examples;
  for (const std::string& input : inputs) {
    std::vector<data::Example> read = data::read_task(task, input, read_options, read_summary);
    examples.insert(examples.end(), std::make_move_iterator(read.begin()),
                    std::make_move_iterator(read.end()));
  }
  if (examples.empty())
    throw std::runtime_error("no examples in " + inputs.front() +
                             (inputs.size() > 1 ? " and the other inputs" : "") +
                             (read_summary.skipped ? " (every record was skipped)" : ""));
  const std::string& language = examples.front().language;
  for (const data::Example& example : examples)
    if (example.language != language)
      throw std::runtime_error("example '" + example.id + "' is in '" + example.language +
                               "' but '" + examples.front().id + "' in '" + language +
                               "': a corpus holds one language (prepare each language apart)");

  data::CorpusAttributes attributes;
  attributes.task = task;
  attributes.lang = language;
  attributes.split = read_options.split;
  attributes.vocab_size = tokenizer.model_vocab_size();
  attributes.tokenizer_checksum = tokenizer.checksum();
  attributes.pad_id = tokenizer.pad_id();
  attributes.eos_id = tokenizer.eos_id();
  attributes.unk_id = tokenizer.unk_id();
  std::optional<SpanObjective> span;
  if (objective == "span_corruption") {
    if (max_target != 0)
      throw UsageError("--max-target-len: span corruption sets the target length itself");
    if (tokenizer.num_extra_ids() == 0)
      throw UsageError("--objective span_corruption: the tokenizer has no sentinels");
    SpanObjective o;
    o.options.eos_id = tokenizer.eos_id();
    o.options.first_sentinel_id = tokenizer.sentinel_id(0);
    o.options.max_sentinels = tokenizer.num_extra_ids();
    o.options.validate();
    // 512 is mT5's fine-tuning input length; pre-training used 1024.
    o.chunk_tokens =
        data::span_corruption_lengths(max_input ? max_input : 512, o.options.noise_density,
                                      o.options.mean_noise_span_length)
            .tokens_length;
    o.seed = v["seed"].as<uint64_t>();
    span = o;
  }
  // Opened before tokenizing, so an existing output (without --force) fails before the work.
  data::CorpusWriter writer(out, attributes, v.count("force") > 0);

  const int64_t total = static_cast<int64_t>(examples.size());
  std::vector<Tokenized> tokenized(examples.size());
  const bool show_progress = isatty(STDERR_FILENO) != 0;
  std::atomic<int64_t> done{0};
  const Clock::time_point tokenize_start = Clock::now();
  // Results go to their example's slot, so the order of the corpus does not depend on the
  // schedule. Only thread 0 draws, between its own examples, which keeps stderr to one writer.
#pragma omp parallel
  {
    Clock::time_point last_draw = Clock::now();
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < total; ++i) {
      const data::Example& example = examples[static_cast<size_t>(i)];
      Tokenized& t = tokenized[static_cast<size_t>(i)];
      if (span) {
        span_corrupt_example(tokenizer.encode(example.input), *span, static_cast<uint64_t>(i), t);
      } else {
        Tokenized::Record r{tokenizer.encode_with_eos(example.input),
                            tokenizer.encode_with_eos(example.target)};
        t.input_truncated = truncate(r.input, max_input, tokenizer.eos_id());
        t.target_truncated = truncate(r.target, max_target, tokenizer.eos_id());
        t.records.push_back(std::move(r));
      }
      const int64_t now_done = done.fetch_add(1, std::memory_order_relaxed) + 1;
      if (show_progress && omp_get_thread_num() == 0 && seconds_since(last_draw) > 0.1) {
        draw_progress(now_done, total, seconds_since(tokenize_start));
        last_draw = Clock::now();
      }
    }
  }
  if (show_progress) {
    draw_progress(total, total, seconds_since(tokenize_start));
    std::fputc('\n', stderr);
  }

  int64_t input_tokens = 0, target_tokens = 0, inputs_truncated = 0, targets_truncated = 0,
          records = 0, short_chunks = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Tokenized& t = tokenized[i];
    const nlohmann::json& gold = examples[i].gold;
    for (size_t k = 0; k < t.records.size(); ++k) {
      const Tokenized::Record& r = t.records[k];
      const std::string id = span ? examples[i].id + "-c" + std::to_string(k) : examples[i].id;
      writer.add(r.input, r.target, id, gold.empty() ? std::string() : gold.dump());
      input_tokens += static_cast<int64_t>(r.input.size());
      target_tokens += static_cast<int64_t>(r.target.size());
    }
    records += static_cast<int64_t>(t.records.size());
    inputs_truncated += t.input_truncated;
    targets_truncated += t.target_truncated;
    short_chunks += t.short_chunks;
  }
  writer.finish();
  const double elapsed = seconds_since(start);

  const auto limit = [](int64_t length) {
    return length ? "max " + std::to_string(length) : std::string("no limit");
  };
  std::printf("wrote %s: task %s, lang %s, split %s, vocab %lld, tokenizer %s\n", out.c_str(),
              task.c_str(), language.c_str(), attributes.split.c_str(),
              static_cast<long long>(attributes.vocab_size), attributes.tokenizer_checksum.c_str());
  std::printf("  examples:  %lld from %zu file%s\n", static_cast<long long>(total), inputs.size(),
              inputs.size() == 1 ? "" : "s");
  std::printf("  skipped:   %lld bad record%s\n", static_cast<long long>(read_summary.skipped),
              read_summary.skipped == 1 ? "" : "s");
  for (const std::string& reason : read_summary.skipped_reasons)
    std::printf("    %s\n", reason.c_str());
  if (read_summary.skipped > static_cast<int64_t>(read_summary.skipped_reasons.size()))
    std::printf("    ... (the first %zu shown)\n", read_summary.skipped_reasons.size());
  if (span)
    std::printf(
        "  span corruption: %lld records of at most %lld raw tokens (input %lld), "
        "%lld chunk%s under 2 tokens dropped\n",
        static_cast<long long>(records), static_cast<long long>(span->chunk_tokens),
        static_cast<long long>(max_input ? max_input : 512), static_cast<long long>(short_chunks),
        short_chunks == 1 ? "" : "s");
  std::printf("  truncated: %lld input%s (%s), %lld target%s (%s)\n",
              static_cast<long long>(inputs_truncated), inputs_truncated == 1 ? "" : "s",
              limit(max_input).c_str(), static_cast<long long>(targets_truncated),
              targets_truncated == 1 ? "" : "s", limit(max_target).c_str());
  std::printf(
      "  tokens:    %lld input, %lld target, eos included (%.1f and %.1f per record)\n",
      static_cast<long long>(input_tokens), static_cast<long long>(target_tokens),
      static_cast<double>(input_tokens) / static_cast<double>(std::max<int64_t>(records, 1)),
      static_cast<double>(target_tokens) / static_cast<double>(std::max<int64_t>(records, 1)));
  std::printf("  time:      %.2f s, %.0f examples/s on %d threads\n", elapsed,
              static_cast<double>(total) / std::max(elapsed, 1e-9), omp_get_max_threads());
  return 0;
}

}  // namespace stilts::launch
