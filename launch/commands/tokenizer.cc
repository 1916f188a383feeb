// stilts tokenizer train|encode|decode: train a SentencePiece model in the mT5 layout, and
// encode or decode text with one (a trained one or the real mT5 model).
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "data/tasks.h"
#include "data/tokenizer.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {
namespace {

// The tokenizer encode and decode read, named as every other command names it (--tokenizer).
struct TokenizerFile {
  std::string path;
  data::TokenizerOptions options;
};

void add_load_options(po::options_description& o, TokenizerFile& file) {
  o.add_options()("tokenizer", po::value(&file.path)->required(), "SentencePiece model file")(
      "extra-ids", po::value(&file.options.num_extra_ids)->default_value(100),
      "sentinels <extra_id_N> at the top of the model (0 for a model without them)");
}

data::Tokenizer load(const TokenizerFile& file) {
  if (file.options.num_extra_ids < 0) throw UsageError("--extra-ids: must be >= 0");
  return data::Tokenizer::load(file.path, file.options);
}

// The syntax of encode and decode, whose --model the previous release had for --tokenizer.
CommandSyntax load_syntax(const std::string& usage) {
  return {usage, {}, {{"model", "tokenizer"}}};
}

// The given value as the only line, or else every line of stdin.
std::vector<std::string> lines(const boost::optional<std::string>& given) {
  if (given) return {*given};
  std::vector<std::string> out;
  for (std::string line; std::getline(std::cin, line);) out.push_back(line);
  return out;
}

// The texts of task files (inputs, and targets where the task has them), one per line, in a
// temporary file beside the model: SentencePiece then trains on what the model will read,
// whatever the files' native format. Removed when the training is done.
class TaskText {
 public:
  TaskText(const std::string& task, const std::vector<std::string>& inputs,
           const data::ReadOptions& options, const std::string& model_prefix)
      : path_(model_prefix + ".text.tmp") {
    std::ofstream out(path_);
    if (!out) throw std::runtime_error(path_ + ": cannot write the tokenizer's training text");
    for (const std::string& input : inputs) {
      data::ReadSummary summary;
      for (const data::Example& e : data::read_task(task, input, options, summary))
        for (const std::string* text : {&e.input, &e.target})
          if (!text->empty()) out << one_line(*text) << '\n';
    }
    if (!out.flush()) throw std::runtime_error(path_ + ": write failed");
  }
  ~TaskText() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TaskText(const TaskText&) = delete;
  TaskText& operator=(const TaskText&) = delete;
  const std::string& path() const { return path_; }

 private:
  static std::string one_line(std::string text) {
    for (char& c : text)
      if (c == '\n' || c == '\r') c = ' ';
    return text;
  }
  std::string path_;
};

int train(int argc, char** argv) {
  po::options_description o("stilts tokenizer train");
  data::TokenizerTrainOptions d;
  boost::optional<std::string> task, articles;
  o.add_options()("input", po::value(&d.inputs)->required()->composing(),
                  "training text file, one sentence per line (repeat for several); with --task, "
                  "a native task file")(
      "task", po::value(&task),
      "read each --input with this task's reader (as stilts prepare does) and train on the "
      "examples' texts")("model-prefix", po::value(&d.model_prefix)->required(),
                         "writes PREFIX.model, PREFIX.vocab")(
      "articles", po::value(&articles),
      "with --task of the UDHR: the paragraphs of these articles alone, e.g. 0-20 (0 the "
      "preamble, 1 to 30; default: all), so that held-out articles shape no piece")(
      "vocab-size", po::value(&d.vocab_size)->required(),
      "pieces of the model, sentinels included")(
      "extra-ids", po::value(&d.num_extra_ids)->default_value(d.num_extra_ids),
      "sentinels <extra_id_N>, the last pieces, <extra_id_0> at the top")(
      "character-coverage",
      po::value(&d.character_coverage)->default_value(d.character_coverage, "0.9995"),
      "share of characters with a piece of their own; the rest fall back to bytes")(
      "input-sentence-size",
      po::value(&d.input_sentence_size)->default_value(d.input_sentence_size),
      "sentences sampled from the inputs (0 = all)")(
      "seed", po::value(&d.seed)->default_value(d.seed), "seed of the sentence sampler")(
      "model-type", po::value(&d.model_type)->default_value(d.model_type),
      "unigram (mT5's) or bpe (whole words where a corpus has few word types)")(
      "threads", po::value(&d.num_threads)->default_value(0), "training threads (0 = every core)")(
      "verbose", po::bool_switch(&d.verbose), "show SentencePiece's training log");
  ParsedCommand cmd = parse_command(
      {"stilts tokenizer train --input FILE... --model-prefix P --vocab-size N"}, o, argc, argv);
  if (cmd.help) return 0;
  data::ReadOptions read_options;
  if (articles) {
    if (!task)
      throw UsageError("--articles: needs --task (a UDHR task whose paragraphs it selects)");
    // An unknown task is --task's error, below.
    if (const data::TaskSpec* spec = data::find_task(*task)) {
      try {
        read_options.articles = data::task_articles(*spec, *articles);
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--articles: ") + e.what());
      }
    }
  }
  std::optional<TaskText> task_text;
  if (task) {
    try {
      task_text.emplace(*task, d.inputs, read_options, d.model_prefix);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--task: ") + e.what());
    }
    d.inputs = {task_text->path()};
  }
  std::string path;
  try {
    path = data::train_tokenizer(d);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  data::TokenizerOptions load_options;
  load_options.num_extra_ids = d.num_extra_ids;
  const data::Tokenizer t = data::Tokenizer::load(path, load_options);
  std::printf("wrote %s: %lld pieces (%lld embedding rows), sentinels %d..%d, checksum %s\n",
              path.c_str(), static_cast<long long>(t.piece_count()),
              static_cast<long long>(t.model_vocab_size()),
              d.num_extra_ids ? t.sentinel_id(d.num_extra_ids - 1) : -1,
              d.num_extra_ids ? t.sentinel_id(0) : -1, t.checksum().c_str());
  return 0;
}

int encode(int argc, char** argv) {
  po::options_description o("stilts tokenizer encode");
  TokenizerFile file;
  boost::optional<std::string> text_given;
  bool pieces = false, eos = false;
  add_load_options(o, file);
  o.add_options()("text", po::value(&text_given), "text to encode (default: each stdin line)")(
      "pieces", po::bool_switch(&pieces), "print pieces instead of ids")(
      "eos", po::bool_switch(&eos), "append eos to the ids");
  ParsedCommand cmd = parse_command(
      load_syntax("stilts tokenizer encode --tokenizer M.model [--text T]"), o, argc, argv);
  if (cmd.help) return 0;
  const data::Tokenizer t = load(file);
  for (const std::string& text : lines(text_given)) {
    std::vector<std::string> words;
    if (pieces) {
      words = t.encode_pieces(text);
    } else {
      for (int32_t id : eos ? t.encode_with_eos(text) : t.encode(text))
        words.push_back(std::to_string(id));
    }
    for (size_t i = 0; i < words.size(); ++i) std::printf(i ? " %s" : "%s", words[i].c_str());
    std::printf("\n");
  }
  return 0;
}

int decode(int argc, char** argv) {
  po::options_description o("stilts tokenizer decode");
  TokenizerFile file;
  boost::optional<std::string> ids_given;
  add_load_options(o, file);
  o.add_options()("ids", po::value(&ids_given),
                  "space-separated token ids (default: each stdin line); stops at eos");
  ParsedCommand cmd = parse_command(
      load_syntax("stilts tokenizer decode --tokenizer M.model [--ids \"5 6 7\"]"), o, argc, argv);
  if (cmd.help) return 0;
  const data::Tokenizer t = load(file);
  for (const std::string& line : lines(ids_given)) {
    std::vector<int32_t> ids;
    std::istringstream in(line);
    for (std::string word; in >> word;) {
      int32_t id = 0;
      const char* end = word.data() + word.size();
      if (auto [ptr, error] = std::from_chars(word.data(), end, id);
          error != std::errc() || ptr != end)
        throw UsageError("--ids: '" + word + "' is not a token id");
      ids.push_back(id);
    }
    std::printf("%s\n", t.decode(ids).c_str());
  }
  return 0;
}

struct Subcommand {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Subcommand kSubcommands[] = {
    {"train", train,
     "train a unigram SentencePiece model with byte fallback and mT5's special ids"},
    {"encode", encode, "text (--text or stdin lines) -> token ids (or pieces), one line per text"},
    {"decode", decode, "token ids (--ids or stdin lines) -> text, one line per sequence"},
};

constexpr const char* kSynopsis = "stilts tokenizer <train|encode|decode> [options]";

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: %s   (stilts tokenizer <sub> --help)\n", kSynopsis);
  for (const Subcommand& s : kSubcommands) std::fprintf(out, "  %-7s %s\n", s.name, s.summary);
}

// The subcommands with their options, for docs/CLI.md.
void print_markdown_help() {
  std::printf("usage: `%s`\n\n", kSynopsis);
  for (const Subcommand& s : kSubcommands) {
    std::printf("### `stilts tokenizer %s`\n\n%s\n\n", s.name, s.summary);
    std::string name = s.name, help = "--help-markdown";
    char* sub_argv[] = {name.data(), help.data(), nullptr};
    s.run(2, sub_argv);
  }
}

}  // namespace

int run_tokenizer(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage(argc < 2 ? stderr : stdout);
    if (argc < 2) throw UsageError("expected a subcommand: train, encode or decode");
    return 0;
  }
  if (!std::strcmp(argv[1], "--help-markdown")) {
    print_markdown_help();
    return 0;
  }
  for (const Subcommand& s : kSubcommands)
    if (!std::strcmp(argv[1], s.name)) return s.run(argc - 1, argv + 1);
  throw UsageError("unknown subcommand '" + std::string(argv[1]) +
                   "' (expected train, encode or decode)");
}

}  // namespace stilts::launch
