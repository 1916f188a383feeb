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

}  // namespace

std::vector<Example> read_tagging(const std::string& path, const TaggingTask& task,
                                  const ReadOptions& options, ReadSummary& summary) {
  const SplitFile file = resolve_split_file(path, "tsv", options);
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
                          "expected token<TAB>tag" +
                              std::string(file.labels_optional ? " or a token" : "") + ", got " +
                              std::to_string(columns.size()) + " columns");
      if (columns[0].empty()) throw RecordError(path, where, "empty token");
      tokens.push_back(columns[0]);
      if (columns.size() == 1) continue;
      if (task.tags.empty()
              ? columns[1].empty()
              : std::find(task.tags.begin(), task.tags.end(), columns[1]) == task.tags.end())
        throw RecordError(path, where, "bad tag '" + columns[1] + "' for " + task.prefix);
      tags.push_back(columns[1]);
    }
    if (!tags.empty() && tags.size() != tokens.size())
      throw RecordError(path, std::to_string(first + 1),
                        "tag/token count mismatch in the sentence on lines " +
                            std::to_string(first + 1) + "-" + std::to_string(end) + ": " +
                            std::to_string(tokens.size()) + " tokens, " +
                            std::to_string(tags.size()) + " tags");
    Example example;
    example.id = file.stem + "-" + std::to_string(sentence);
    example.language = file.language;
    example.input = task.prefix + ": " + join(tokens);
    example.target = join(tags);
    example.gold["labeled"] = !tags.empty();
    example.gold["tokens"] = tokens;
    example.gold["tags"] = tags;
    examples.push_back(std::move(example));
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

}  // namespace stilts::data
