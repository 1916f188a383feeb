#include "data/readers/xnli.h"

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

std::string quoted_list(const std::vector<std::string>& values) {
  std::string list;
  for (const std::string& value : values) {
    if (!list.empty()) list += ", ";
    list += "'" + value + "'";
  }
  return list;
}

}  // namespace

Example sentence_pair_example(const SentencePairTask& task, const std::string& first,
                              const std::string& second, const std::string* label,
                              const std::string& path, const std::string& where) {
  Example example;
  example.input = task.before_first + first + task.before_second + second;
  example.gold["labeled"] = label != nullptr;
  if (label == nullptr) return example;
  size_t index = 0;
  while (index < task.file_labels.size() && task.file_labels[index] != *label) ++index;
  for (const auto& [value, synonym_index] : task.label_synonyms)
    if (value == *label) index = synonym_index;
  if (index == task.file_labels.size())
    throw RecordError(
        path, where,
        "bad label '" + *label + "', expected one of " + quoted_list(task.file_labels));
  example.target = task.label_words[index];
  example.gold["label"] = task.label_words[index];
  example.gold["label_index"] = index;
  return example;
}

std::vector<Example> read_sentence_pair_tsv(const std::string& path, const SentencePairTask& task,
                                            const ReadOptions& options, ReadSummary& summary) {
  const SplitFile file = resolve_split_file(path, "tsv", options);

  std::vector<Example> examples;
  const Quoting quoting = file.split == "translate-train" ? Quoting::none : Quoting::csv;
  for_each_tsv_row(path, quoting, options, summary, [&](int64_t line, const auto& columns) {
    const std::string where = std::to_string(line);
    if (columns.size() != 3 && !(file.labels_optional && columns.size() == 2))
      throw RecordError(path, where,
                        std::string("expected ") + (file.labels_optional ? "2 or 3" : "3") +
                            " tab-separated columns (sentence1, sentence2" +
                            (file.labels_optional ? "[, label]" : ", label") + "), got " +
                            std::to_string(columns.size()));
    Example example = sentence_pair_example(
        task, columns[0], columns[1], columns.size() == 3 ? &columns[2] : nullptr, path, where);
    example.id =
        file.stem + "-" + std::to_string(line - 1);  // the row, as XTREME's gold files count
    example.language = file.language;
    examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

const SentencePairTask& xnli_task() {
  // The label order of the mT5/T5 MNLI and XNLI recipes.
  static const SentencePairTask xnli{"xnli: premise: ",
                                     " hypothesis: ",
                                     {"entailment", "neutral", "contradiction"},
                                     {"entailment", "neutral", "contradiction"},
                                     // XNLI's own spelling, which XTREME's preprocessing
                                     // rewrites but its translate-train files keep.
                                     {{"contradictory", 2}}};
  return xnli;
}

std::vector<Example> read_xnli(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  return read_sentence_pair_tsv(path, xnli_task(), options, summary);
}

}  // namespace stilts::data
