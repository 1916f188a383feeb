#include "data/readers/xcopa.h"

#include <optional>

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

// XCOPA's release names its files {split}.{lang}.jsonl and keeps every label.
std::optional<SplitFile> release_file(const std::string& path, const ReadOptions& options) {
  const std::string name = base_name(path);
  const size_t dot = name.find('.');
  const size_t extension = name.rfind(".jsonl");
  if (dot == std::string::npos || extension == std::string::npos || extension <= dot + 1 ||
      extension + 6 != name.size())
    return std::nullopt;
  const std::string split = name.substr(0, dot);
  if (split != "val" && split != "test") return std::nullopt;
  const std::string language =
      resolve_language(path, name.substr(dot + 1, extension - dot - 1), options);
  return SplitFile{language, split, split + "-" + language, false};
}

}  // namespace

std::vector<Example> read_xcopa(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary) {
  const std::optional<SplitFile> release = release_file(path, options);
  const SplitFile file = release ? *release : resolve_split_file(path, "jsonl", options);

  std::vector<Example> examples;
  for_each_jsonl_record(path, options, summary, [&](const auto& record, const JsonPlace& place) {
    const std::string premise = json_string(record, "premise", place);
    const std::string choice1 = json_string(record, "choice1", place);
    const std::string choice2 = json_string(record, "choice2", place);
    const std::string question = json_string(record, "question", place);
    if (question != "cause" && question != "effect")
      place["question"].fail("bad value '" + question + "', expected 'cause' or 'effect'");
    const int64_t label = json_int(record, "label", place);
    if (label != 0 && label != 1)
      place["label"].fail("bad label " + std::to_string(label) + ", expected 0 or 1");
    const int64_t idx = json_int(record, "idx", place);

    Example example;
    example.id = file.stem + "-" + std::to_string(idx);
    example.language = file.language;
    example.input = "xcopa: premise: " + premise + " question: " + question +
                    " choice1: " + choice1 + " choice2: " + choice2;
    example.gold["labeled"] = !file.labels_optional;
    example.gold["question"] = question;
    example.gold["choices"] = {choice1, choice2};
    if (!file.labels_optional) {
      example.target = label == 0 ? choice1 : choice2;
      example.gold["label"] = label;
    }
    examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
