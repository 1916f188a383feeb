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
#include "data/readers/udhr.h"
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
std::string corpus_split(const boost::optional<std::string>& given,
                         const std::vector<std::string>& inputs) {
  if (given) {
    if (given->empty()) throw UsageError("--split: must not be empty");
    return *given;
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

void check_max_length(int64_t length, const char* option) {
  if (length != 0 && length < 2)
    throw UsageError(std::string("--") + option +
                     ": must be 0 (no limit) or at least 2 (a token and eos)");
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

// What the options of stilts prepare set, each field bound to its option by prepare_options.
struct PrepareCommand {
  data::PreparationOptions preparation;
  std::string tokenizer;
  int extra_ids = 0;
  boost::optional<std::string> split, language, articles;
  std::string objective;
  int threads = 0;
  boost::optional<std::string> languages;
};

po::options_description prepare_options(PrepareCommand& c) {
  data::PreparationOptions& p = c.preparation;
  po::options_description o("stilts prepare");
  o.add_options()(
      "task", po::value(&p.task)->required(),
      ("task whose reader reads the inputs: " + data::name_list(data::task_names())).c_str())(
      "input", po::value(&p.inputs)->required()->composing(),
      "native task file (repeat for several; their examples go into one corpus)")(
      "tokenizer", po::value(&c.tokenizer)->required(), "SentencePiece model file")(
      "extra-ids", po::value(&c.extra_ids)->default_value(100),
      "sentinels <extra_id_N> at the top of the tokenizer (0 for a model without them)")(
      "out", po::value(&p.out)->required(), "corpus file to write (HDF5)")(
      "split", po::value(&c.split),
      "split attribute of the corpus (default: from the XTREME file names, else train)")(
      "language", po::value(&c.language),
      "language of files whose names or contents do not give it")(
      "articles", po::value(&c.articles),
      "the UDHR tasks: only the paragraphs of these articles, e.g. 0,11-20 (0 the preamble, "
      "1 to 30; default: all), so that tasks on disjoint articles share no text")(
      "max-input-len", po::value(&p.max_input_len)->default_value(0),
      "truncate inputs to this many tokens, eos included (0 = no limit)")(
      "max-target-len", po::value(&p.max_target_len)->default_value(0),
      "truncate targets to this many tokens, eos included (0 = no limit)")(
      "objective", po::value(&c.objective)->default_value("supervised"),
      "supervised: the task's input and target; span_corruption: T5's noise on the input text "
      "(noise density 0.15, mean span 3), for pre-training and continued MLM")(
      "seed", po::value(&p.seed)->default_value(0), "span corruption: seed of the noise")(
      "keep-fraction", po::value(&p.keep_fraction)->default_value(1.0, "1"),
      "keep about this fraction of the examples, chosen by a hash of --keep-seed and the "
      "example's id, so a task's line-aligned translations keep the same source examples")(
      "keep-seed", po::value(&p.keep_seed)->default_value(0), "the seed of --keep-fraction")(
      "skip-bad-records", po::bool_switch(&p.read.skip_bad_records),
      "skip malformed records (counted and reported) instead of failing")(
      "force", po::bool_switch(&p.force), "replace an existing corpus file");
  add_thread_option(o, c.threads);
  add_language_table_option(o, c.languages);
  return o;
}

}  // namespace

int run_prepare(int argc, char** argv) {
  PrepareCommand command;
  po::options_description options = prepare_options(command);
  ParsedCommand cmd =
      parse_command({"stilts prepare --task T --input FILE... --tokenizer M.model --out CORPUS.h5"},
                    options, argc, argv);
  if (cmd.help) return 0;
  apply_thread_option(command.threads);
  apply_language_table_option(command.languages);
  data::PreparationOptions& preparation = command.preparation;

  const std::string& task = preparation.task;
  const data::TaskSpec* spec = nullptr;
  try {
    spec = &data::task_spec(task);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--task: ") + e.what());
  }
  const bool reads_folders = spec->reads_folders;
  const std::vector<std::string>& inputs = preparation.inputs;
  for (const std::string& input : inputs)
    if (!std::filesystem::is_regular_file(input) &&
        !(reads_folders && std::filesystem::is_directory(input)))
      throw UsageError("--input: '" + input + "' is not a readable file" +
                       (reads_folders ? " or folder" : ""));
  const std::string& out = preparation.out;
  const int64_t max_input = preparation.max_input_len;
  const int64_t max_target = preparation.max_target_len;
  check_max_length(max_input, "max-input-len");
  check_max_length(max_target, "max-target-len");
  if (command.objective != "supervised" && command.objective != "span_corruption")
    throw UsageError("--objective: expected supervised or span_corruption, got '" +
                     command.objective + "'");
  preparation.span_corruption = command.objective == "span_corruption";

  data::ReadOptions& read_options = preparation.read;
  read_options.split = corpus_split(command.split, inputs);
  if (command.language) {
    read_options.language = *command.language;
    try {
      data::check_language(read_options.language, "--language");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (command.articles) {
    try {
      read_options.articles = data::task_articles(*spec, *command.articles);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--articles: ") + e.what());
    }
  }

  data::TokenizerOptions tokenizer_options;
  tokenizer_options.num_extra_ids = command.extra_ids;
  if (tokenizer_options.num_extra_ids < 0) throw UsageError("--extra-ids: must be >= 0");
  const data::Tokenizer tokenizer = data::Tokenizer::load(command.tokenizer, tokenizer_options);

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
  if (!read_options.articles.empty())
    std::printf("  articles:  %s\n", data::udhr_articles_text(read_options.articles).c_str());
  if (summary.not_kept > 0)
    std::printf("  not kept:  %lld outside --keep-fraction %g (seed %llu)\n",
                static_cast<long long>(summary.not_kept), preparation.keep_fraction,
                static_cast<unsigned long long>(preparation.keep_seed));
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
