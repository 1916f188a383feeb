#include "data/readers/tagging.h"

#include <algorithm>

#include "data/readers/text_file.h"

namespace stilts::data {

const TaggingTask& udpos_task() {
  static const TaggingTask task{"udpos",
                                {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
                                 "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}};
  return task;
}

const TaggingTask& panx_task() {
  static const TaggingTask task{"panx",
                                {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}};
  return task;
}

const TaggingTask& ccg_task() {
  static const TaggingTask task{"ccg", {}};
  return task;
}

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

// XTREME's "token<TAB>tag" lines, or the PAN-X release's "{lang}:token<TAB>tag".
enum class TokenColumn { plain, language_prefixed };

std::vector<Example> read_sentences(const std::string& path, const TaggingTask& task,
                                    const SplitFile& file, TokenColumn token_column,
                                    const ReadOptions& options, ReadSummary& summary) {
  const std::vector<std::string> lines = read_lines(path);

  std::vector<Example> examples;
  // A sentence is the record: one bad line makes the whole sentence unusable.
  int64_t sentence = 0;  // counts skipped sentences too, so ids keep the file's order
  auto read_sentence = [&](size_t first, size_t end) {
    std::vector<std::string> tokens, tags;
    for (size_t i = first; i < end; ++i) {
      const std::string where = std::to_string(i + 1);
      const std::vector<std::string> columns = split_tabs(lines[i]);
      if (columns.size() > 2 || (columns.size() == 1 && !file.labels_optional))
        throw RecordError(path, where,
                          std::string("expected ") +
                              (token_column == TokenColumn::plain ? "" : "{lang}:") +
                              "token<TAB>tag" + (file.labels_optional ? " or a token" : "") +
                              ", got " + std::to_string(columns.size()) + " columns");
      std::string token = columns[0];
      if (token_column == TokenColumn::language_prefixed) {
        const size_t colon = token.find(':');
        if (colon == std::string::npos)
          throw RecordError(path, where, "expected {lang}:token, got '" + token + "'");
        token.erase(0, colon + 1);
      }
      if (token.empty()) throw RecordError(path, where, "empty token");
      tokens.push_back(token);
      if (columns.size() == 1) continue;
      check_tag(task, columns[1], path, where);
      tags.push_back(columns[1]);
    }
    if (!tags.empty() && tags.size() != tokens.size())
      throw RecordError(path, std::to_string(first + 1),
                        "tag/token count mismatch in the sentence on lines " +
                            std::to_string(first + 1) + "-" + std::to_string(end) + ": " +
                            std::to_string(tokens.size()) + " tokens, " +
                            std::to_string(tags.size()) + " tags");
    examples.push_back(tagging_example(task, file.stem + "-" + std::to_string(sentence),
                                       file.language, std::move(tokens), std::move(tags)));
  };

  size_t first = 0;
  for (size_t i = 0; i <= lines.size(); ++i) {
    if (i < lines.size() && !lines[i].empty()) continue;
    if (i > first) {
      guarded(options, summary, [&] { read_sentence(first, i); });
      ++sentence;
    }
    first = i + 1;
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace

void check_tag(const TaggingTask& task, const std::string& tag, const std::string& path,
               const std::string& where) {
  if (task.tags.empty() ? tag.empty()
                        : std::find(task.tags.begin(), task.tags.end(), tag) == task.tags.end())
    throw RecordError(path, where, "bad tag '" + tag + "' for " + task.prefix);
}

Example tagging_example(const TaggingTask& task, std::string id, std::string language,
                        std::vector<std::string> tokens, std::vector<std::string> tags) {
  Example example;
  example.id = std::move(id);
  example.language = std::move(language);
  example.input = task.prefix + ": " + join(tokens);
  example.target = join(tags);
  example.gold["labeled"] = !tags.empty();
  example.gold["tokens"] = std::move(tokens);
  example.gold["tags"] = std::move(tags);
  return example;
}

std::vector<Example> read_tagging(const std::string& path, const TaggingTask& task,
                                  const ReadOptions& options, ReadSummary& summary) {
  return read_sentences(path, task, resolve_split_file(path, "tsv", options), TokenColumn::plain,
                        options, summary);
}

std::vector<Example> read_panx_release(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary) {
  const std::string name = base_name(path);
  const std::string split =
      name == "train" || name == "dev" || name == "test" ? name : options.split;
  const std::string language = resolve_language(path, "", options);
  return read_sentences(path, panx_task(),
                        SplitFile{language, split, split + "-" + language, false},
                        TokenColumn::language_prefixed, options, summary);
}

}  // namespace stilts::data
