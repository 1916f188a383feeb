#include "data/readers/sentence_pair_release.h"

#include <filesystem>

#include "data/languages.h"
#include "data/readers/pawsx.h"
#include "data/readers/text_file.h"
#include "data/readers/xnli.h"

namespace stilts::data {

namespace {

// Where a release keeps the pair and its label; `language` is empty when a file holds one.
struct PairColumns {
  std::string language;
  std::string first;
  std::string second;
  std::string label;
};

std::vector<Example> read_pair_release(const std::string& path, const SentencePairTask& task,
                                       const PairColumns& names, const std::string& language,
                                       const std::string& split, const ReadOptions& options,
                                       ReadSummary& summary) {
  const HeaderedTsv file(path);
  std::vector<std::string> needed = {names.first, names.second, names.label};
  if (!names.language.empty()) needed.insert(needed.begin(), names.language);
  file.require(needed);

  std::vector<Example> examples;
  int64_t row = 0;  // counts the language's bad rows too, so ids keep XTREME's order
  file.for_each_row(options, summary, [&](int64_t line, const std::vector<std::string>& columns) {
    if (!names.language.empty() && columns[file.index(names.language)] != language) return;
    const int64_t index = row++;
    Example example = sentence_pair_example(
        task, columns[file.index(names.first)], columns[file.index(names.second)],
        &columns[file.index(names.label)], path, std::to_string(line));
    example.id = split + "-" + language + "-" + std::to_string(index);
    example.language = language;
    examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

// The split a release's file name gives ("xnli.test.tsv", "test_2k.tsv"), else the options'.
std::string split_of(const std::string& path, const std::string& prefix, const std::string& suffix,
                     const ReadOptions& options) {
  const std::string name = base_name(path);
  for (const char* split : {"dev", "test"})
    if (name == prefix + split + suffix) return split;
  return options.split;
}

}  // namespace

std::vector<Example> read_xnli_release(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary) {
  static const PairColumns columns{"language", "sentence1", "sentence2", "gold_label"};
  return read_pair_release(path, xnli_task(), columns, resolve_language(path, "", options),
                           split_of(path, "xnli.", ".tsv", options), options, summary);
}

std::vector<Example> read_pawsx_release(const std::string& path, const ReadOptions& options,
                                        ReadSummary& summary) {
  static const PairColumns columns{"", "sentence1", "sentence2", "label"};
  const std::string folder = std::filesystem::path(path).parent_path().filename().string();
  const std::string from_folder = find_language(folder) != nullptr ? folder : "";
  return read_pair_release(path, pawsx_task(), columns,
                           resolve_language(path, from_folder, options),
                           split_of(path, "", "_2k.tsv", options), options, summary);
}

}  // namespace stilts::data
