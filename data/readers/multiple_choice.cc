#include "data/readers/multiple_choice.h"

#include <filesystem>

#include "data/readers/text_file.h"

namespace stilts::data {

using nlohmann::json;

namespace {

// One record, whatever its native layout; label -1 when the file gives none.
struct Choice {
  std::string id;
  std::string context;   // empty when the task has none
  std::string question;  // empty when the task has none
  std::vector<std::string> choices;
  int64_t label = -1;
};

Example to_example(const std::string& task, const std::string& language, const Choice& record) {
  Example example;
  example.id = record.id;
  example.language = language;
  example.input = task + ":";
  if (!record.context.empty()) example.input += " context: " + record.context;
  if (!record.question.empty()) example.input += " question: " + record.question;
  for (size_t i = 0; i < record.choices.size(); ++i)
    example.input += " choice" + std::to_string(i + 1) + ": " + record.choices[i];
  example.gold["labeled"] = record.label >= 0;
  example.gold["choices"] = record.choices;
  if (record.label >= 0) {
    example.target = record.choices[static_cast<size_t>(record.label)];
    example.gold["label"] = record.label;
  }
  return example;
}

// The label field as an index into `count` choices, -1 when a test record has none.
int64_t label_index(const json& record, const char* key, size_t count, bool optional,
                    const JsonPlace& place) {
  if (optional && !record.contains(key)) return -1;
  const int64_t label = json_int(record, key, place);
  if (label < 0 || label >= static_cast<int64_t>(count))
    place[key].fail("bad label " + std::to_string(label) + ", expected 0 to " +
                    std::to_string(count - 1));
  return label;
}

template <class Parse>
std::vector<Example> read_choice_jsonl(const std::string& path, const std::string& task,
                                       const ReadOptions& options, ReadSummary& summary,
                                       Parse&& parse) {
  const std::string language = resolve_language(path, "", options);
  const bool optional = labels_optional(options.split);
  std::vector<Example> examples;
  for_each_jsonl_record(path, options, summary, [&](const json& record, const JsonPlace& place) {
    examples.push_back(to_example(task, language, parse(record, place, optional)));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

std::vector<std::string> string_fields(const json& record, const std::vector<std::string>& keys,
                                       const JsonPlace& place) {
  std::vector<std::string> values;
  for (const std::string& key : keys) values.push_back(json_string(record, key, place));
  return values;
}

}  // namespace

std::vector<Example> read_hellaswag(const std::string& path, const ReadOptions& options,
                                    ReadSummary& summary) {
  return read_choice_jsonl(
      path, "hellaswag", options, summary,
      [](const json& record, const JsonPlace& place, bool optional) {
        Choice choice;
        choice.id = std::to_string(json_int(record, "ind", place));
        choice.context = json_string(record, "ctx", place);
        const json& endings = json_array(record, "endings", place);
        for (size_t i = 0; i < endings.size(); ++i) {
          if (!endings[i].is_string()) place["endings"][i].fail("expected a string");
          choice.choices.push_back(endings[i].get<std::string>());
        }
        if (choice.choices.size() != 4)
          place["endings"].fail("expected 4 endings, got " + std::to_string(choice.choices.size()));
        choice.label = label_index(record, "label", 4, optional, place);
        return choice;
      });
}

std::vector<Example> read_cosmosqa(const std::string& path, const ReadOptions& options,
                                   ReadSummary& summary) {
  return read_choice_jsonl(
      path, "cosmosqa", options, summary,
      [](const json& record, const JsonPlace& place, bool optional) {
        Choice choice;
        choice.id = json_string(record, "id", place);
        choice.context = json_string(record, "context", place);
        choice.question = json_string(record, "question", place);
        choice.choices = string_fields(record, {"answer0", "answer1", "answer2", "answer3"}, place);
        choice.label = label_index(record, "label", 4, optional, place);
        return choice;
      });
}

std::vector<Example> read_commonsenseqa(const std::string& path, const ReadOptions& options,
                                        ReadSummary& summary) {
  return read_choice_jsonl(
      path, "commonsenseqa", options, summary,
      [](const json& record, const JsonPlace& place, bool optional) {
        Choice choice;
        choice.id = json_string(record, "id", place);
        const json& question = json_field(record, "question", json::value_t::object, place);
        const JsonPlace at = place["question"];
        choice.question = json_string(question, "stem", at);
        const json& choices = json_array(question, "choices", at);
        std::vector<std::string> labels;
        for (size_t i = 0; i < choices.size(); ++i) {
          labels.push_back(json_string(choices[i], "label", at["choices"][i]));
          choice.choices.push_back(json_string(choices[i], "text", at["choices"][i]));
        }
        if (choices.empty()) at["choices"].fail("expected at least one choice");
        if (optional && !record.contains("answerKey")) return choice;
        const std::string key = json_string(record, "answerKey", place);
        for (size_t i = 0; i < labels.size(); ++i)
          if (labels[i] == key) choice.label = static_cast<int64_t>(i);
        if (choice.label < 0)
          place["answerKey"].fail("bad answerKey '" + key + "', not the label of a choice");
        return choice;
      });
}

std::vector<Example> read_socialiqa(const std::string& path, const ReadOptions& options,
                                    ReadSummary& summary) {
  std::filesystem::path labels_path(path);
  labels_path.replace_extension();
  const std::string labels_file = labels_path.string() + "-labels.lst";
  const bool has_labels = !labels_optional(options.split) || std::filesystem::exists(labels_file);
  std::vector<std::string> labels;
  if (has_labels) labels = read_lines(labels_file);
  while (!labels.empty() && labels.back().empty()) labels.pop_back();

  // Records are matched to labels by position, so every line of the file counts.
  const std::vector<std::string> lines = read_lines(path);
  size_t records = lines.size();
  while (records > 0 && lines[records - 1].empty()) --records;
  if (has_labels && labels.size() != records)
    throw std::runtime_error(labels_file + " has " + std::to_string(labels.size()) +
                             " labels but " + path + " has " + std::to_string(records) +
                             " records");

  const std::string split = options.split.empty() ? base_name(labels_path.string()) : options.split;
  return read_choice_jsonl(
      path, "socialiqa", options, summary, [&](const json& record, const JsonPlace& place, bool) {
        // JSONL places are "<line>:", and the label of line n is line n of the labels file.
        const size_t row = std::stoul(place.path) - 1;
        Choice choice;
        choice.id = split + "-" + std::to_string(row);
        choice.context = json_string(record, "context", place);
        choice.question = json_string(record, "question", place);
        choice.choices = string_fields(record, {"answerA", "answerB", "answerC"}, place);
        if (!has_labels) return choice;
        const std::string& label = labels[row];
        if (label != "1" && label != "2" && label != "3")
          throw RecordError(labels_file, std::to_string(row + 1),
                            "bad label '" + label + "', expected 1, 2 or 3");
        choice.label = label[0] - '1';
        return choice;
      });
}

}  // namespace stilts::data
