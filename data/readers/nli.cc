#include "data/readers/nli.h"

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

// Where one JSONL release keeps the pair and its label.
struct NliJsonl {
  const char* id_key;
  const char* premise_key;
  const char* hypothesis_key;
  const char* label_key;
  std::vector<std::string> file_labels;  // by label index: entailment, neutral, contradiction
  const char* no_majority;               // the label of pairs without a gold label, or nullptr
};

std::vector<Example> read_nli_jsonl(const std::string& path, const NliJsonl& format,
                                    const ReadOptions& options, ReadSummary& summary) {
  static const std::vector<std::string> words = {"entailment", "neutral", "contradiction"};
  const std::string language = resolve_language(path, "", options);
  const bool optional = labels_optional(options.split);

  std::vector<Example> examples;
  for_each_jsonl_record(path, options, summary, [&](const auto& record, const JsonPlace& place) {
    Example example;
    example.id = json_string(record, format.id_key, place);
    example.language = language;
    example.input = "xnli: premise: " + json_string(record, format.premise_key, place) +
                    " hypothesis: " + json_string(record, format.hypothesis_key, place);
    const bool labeled = !optional || record.contains(format.label_key);
    example.gold["labeled"] = labeled;
    if (labeled) {
      const std::string label = json_string(record, format.label_key, place);
      if (format.no_majority != nullptr && label == format.no_majority) return;
      size_t index = 0;
      while (index < format.file_labels.size() && format.file_labels[index] != label) ++index;
      if (index == format.file_labels.size())
        place[format.label_key].fail("bad label '" + label + "', expected one of '" +
                                     format.file_labels[0] + "', '" + format.file_labels[1] +
                                     "', '" + format.file_labels[2] + "'");
      example.target = words[index];
      example.gold["label"] = words[index];
      example.gold["label_index"] = index;
    }
    examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace

std::vector<Example> read_multinli_jsonl(const std::string& path, const ReadOptions& options,
                                         ReadSummary& summary) {
  static const NliJsonl format{
      "pairID", "sentence1", "sentence2", "gold_label", {"entailment", "neutral", "contradiction"},
      "-"};
  return read_nli_jsonl(path, format, options, summary);
}

std::vector<Example> read_anli(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  static const NliJsonl format{"uid", "context", "hypothesis", "label", {"e", "n", "c"}, nullptr};
  return read_nli_jsonl(path, format, options, summary);
}

}  // namespace stilts::data
