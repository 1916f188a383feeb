// stilts prepare: native task files -> one tokenized corpus (data/corpus_format.h). Reads the
// files with the task's reader, tokenizes every example on all cores and writes the corpus in
// the readers' order, so the same inputs always give the same file.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/corpus_preparation.h"
#include "data/languages.h"
#include "data/readers/text_file.h"
#include "data/tasks.h"
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

}  // namespace

int run_prepare(int argc, char** argv) {
  po::options_description o("stilts prepare");
  o.add_options()(
      "task", po::value<std::string>()->required(),
      ("task whose reader reads the inputs: " + data::name_list(data::task_names())).c_str())(
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

  const std::string task = v["task"].as<std::string>();
  bool reads_folders = false;
  try {
    reads_folders = data::task_spec(task).reads_folders;
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--task: ") + e.what());
  }
  const std::vector<std::string> inputs = v["input"].as<std::vector<std::string>>();
  for (const std::string& input : inputs)
    if (!std::filesystem::is_regular_file(input) &&
        !(reads_folders && std::filesystem::is_directory(input)))
      throw UsageError("--input: '" + input + "' is not a readable file" +
                       (reads_folders ? " or folder" : ""));
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

  data::PreparationOptions preparation;
  preparation.task = task;
  preparation.inputs = inputs;
  preparation.out = out;
  preparation.force = v.count("force") > 0;
  preparation.read = read_options;
  preparation.max_input_length = max_input;
  preparation.max_target_length = max_target;
  preparation.span_corruption = objective == "span_corruption";
  preparation.seed = v["seed"].as<uint64_t>();
  try {
    preparation.validate(tokenizer);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  data::PreparationProgress progress;
  const Clock::time_point tokenize_start = Clock::now();
  Clock::time_point last_draw = tokenize_start;
  if (isatty(STDERR_FILENO)) {
    progress = [&](int64_t done, int64_t total) {
      if (done < total && seconds_since(last_draw) < 0.1) return;
      draw_progress(done, total, seconds_since(tokenize_start));
      last_draw = Clock::now();
      if (done == total) std::fputc('\n', stderr);
    };
  }
  const data::PreparationSummary summary = data::prepare_corpus(preparation, tokenizer, progress);
  const data::CorpusAttributes& attributes = summary.attributes;
  const data::ReadSummary& read_summary = summary.read;
  const int64_t total = summary.examples;
  const int64_t records = summary.records;

  const auto limit = [](int64_t length) {
    return length ? "max " + std::to_string(length) : std::string("no limit");
  };
  std::printf("wrote %s: task %s, lang %s, split %s, vocab %lld, tokenizer %s\n", out.c_str(),
              task.c_str(), attributes.lang.c_str(), attributes.split.c_str(),
              static_cast<long long>(attributes.vocab_size), attributes.tokenizer_checksum.c_str());
  std::printf("  examples:  %lld from %zu file%s\n", static_cast<long long>(total), inputs.size(),
              inputs.size() == 1 ? "" : "s");
  std::printf("  skipped:   %lld bad record%s\n", static_cast<long long>(read_summary.skipped),
              read_summary.skipped == 1 ? "" : "s");
  for (const std::string& reason : read_summary.skipped_reasons)
    std::printf("    %s\n", reason.c_str());
  if (read_summary.skipped > static_cast<int64_t>(read_summary.skipped_reasons.size()))
    std::printf("    ... (the first %zu shown)\n", read_summary.skipped_reasons.size());
  if (preparation.span_corruption)
    std::printf(
        "  span corruption: %lld records of at most %lld raw tokens (input %lld), "
        "%lld chunk%s under 2 tokens dropped\n",
        static_cast<long long>(records), static_cast<long long>(summary.chunk_tokens),
        static_cast<long long>(max_input ? max_input : 512),
        static_cast<long long>(summary.short_chunks), summary.short_chunks == 1 ? "" : "s");
  std::printf("  truncated: %lld input%s (%s), %lld target%s (%s)\n",
              static_cast<long long>(summary.inputs_truncated),
              summary.inputs_truncated == 1 ? "" : "s", limit(max_input).c_str(),
              static_cast<long long>(summary.targets_truncated),
              summary.targets_truncated == 1 ? "" : "s", limit(max_target).c_str());
  std::printf("  tokens:    %lld input, %lld target, eos included (%.1f and %.1f per record)\n",
              static_cast<long long>(summary.input_tokens),
              static_cast<long long>(summary.target_tokens),
              static_cast<double>(summary.input_tokens) /
                  static_cast<double>(std::max<int64_t>(records, 1)),
              static_cast<double>(summary.target_tokens) /
                  static_cast<double>(std::max<int64_t>(records, 1)));
  std::printf("  time:      %.2f s, %.0f examples/s on %d threads\n", summary.seconds,
              static_cast<double>(total) / std::max(summary.seconds, 1e-9), summary.threads);
  return 0;
}

}  // namespace stilts::launch
