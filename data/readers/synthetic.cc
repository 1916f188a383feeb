#include "data/readers/synthetic.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/languages.h"
#include "data/readers/retrieval_roles.h"
#include "data/readers/text_file.h"
#include "data/synthetic_study.h"

namespace stilts::data {
namespace {

// The file's language: its stem's last "-"-separated part (en.txt, test-aa.tsv), else
// options.language; checked against the language table.
std::string file_language(const std::string& path, const ReadOptions& options) {
  std::string stem = std::filesystem::path(path).stem().string();
  if (const size_t dash = stem.rfind('-'); dash != std::string::npos) stem = stem.substr(dash + 1);
  // A stem that is no code of the table may still be one of another table: checking it names
  // the table in force, which says what --languages should have been.
  const std::string language =
      find_language(stem) || options.language.empty() ? stem : options.language;
  check_language(language, path);
  return language;
}

std::vector<Example> read_topic(const std::string& path, const std::string& prefix,
                                const ReadOptions& options, ReadSummary& summary) {
  const std::string language = file_language(path, options);
  const std::vector<std::string>& labels = synthetic_topic_labels();
  std::vector<Example> examples;
  for_each_tsv_row(
      path, Quoting::none, options, summary,
      [&](int64_t line, const std::vector<std::string>& columns) {
        if (columns.size() != 3)
          throw RecordError(path, std::to_string(line),
                            "expected 3 tab-separated columns (id, sentence, label), "
                            "got " +
                                std::to_string(columns.size()));
        const auto it = std::find(labels.begin(), labels.end(), columns[2]);
        if (it == labels.end())
          throw RecordError(path, std::to_string(line),
                            "label '" + columns[2] + "' is none of animal, food, tool, place");
        Example e;
        e.id = columns[0];
        e.language = language;
        e.input = prefix + ": " + columns[1];
        e.target = columns[2];
        e.gold = {{"labeled", true}, {"label", columns[2]}, {"label_index", it - labels.begin()}};
        examples.push_back(std::move(e));
        ++summary.examples;
      });
  return examples;
}

// `id<TAB>sentence` lines.
std::vector<Example> read_sentences(const std::string& path, const std::string& language,
                                    const ReadOptions& options, ReadSummary& summary) {
  std::vector<Example> examples;
  for_each_tsv_row(path, Quoting::none, options, summary,
                   [&](int64_t line, const std::vector<std::string>& columns) {
                     if (columns.size() != 2)
                       throw RecordError(path, std::to_string(line),
                                         "expected 2 tab-separated columns (id, sentence), got " +
                                             std::to_string(columns.size()));
                     Example e;
                     e.id = columns[0];
                     e.language = language;
                     e.input = columns[1];
                     examples.push_back(std::move(e));
                   });
  return examples;
}

}  // namespace

std::vector<Example> read_synthetic_text(const std::string& path, const ReadOptions& options,
                                         ReadSummary& summary) {
  const std::string language = file_language(path, options);
  std::vector<Example> examples;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    Example e;
    e.id = language + "-" + std::to_string(i + 1);
    e.language = language;
    e.input = lines[i];
    examples.push_back(std::move(e));
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

std::vector<Example> read_synthetic_topic(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary) {
  return read_topic(path, "subject", options, summary);
}

std::vector<Example> read_synthetic_object(const std::string& path, const ReadOptions& options,
                                           ReadSummary& summary) {
  return read_topic(path, "object", options, summary);
}

std::vector<Example> read_synthetic_align(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary) {
  const std::string language = file_language(path, options);
  const std::string english_path = (std::filesystem::path(path).parent_path() / "en.tsv").string();
  if (!std::filesystem::is_regular_file(english_path))
    throw std::runtime_error(path + ": no English file " + english_path +
                             " beside it (synth-align retrieves each sentence's English original)");
  ReadSummary english_read;
  const std::vector<Example> english = read_sentences(english_path, "en", options, english_read);
  std::vector<Example> examples = read_sentences(path, language, options, summary);
  std::map<std::string, size_t> english_line;
  for (size_t j = 0; j < english.size(); ++j) english_line.emplace(english[j].id, j);
  for (Example& query : examples) {
    const auto counterpart = english_line.find(query.id);
    mark_query(query, counterpart == english_line.end() ? std::nullopt
                                                        : std::optional(counterpart->second));
  }
  std::vector<Example> candidates = english;
  for (Example& candidate : candidates) candidate.id = "en-" + candidate.id;
  append_candidates(examples, std::move(candidates));
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
