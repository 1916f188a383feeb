#include "data/readers/glue_tsv.h"

#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

// T5's GLUE preprocessor: "{benchmark} {key}: {value} ..." with no colon after the name, and
// the label names as targets.
struct GlueTask {
  std::string benchmark;
  std::vector<std::string> text_columns;  // also the keys of the input
  std::string id_column;                  // empty: the id is "{split}-{row}"
  std::string test_id_column;             // the id column of test.tsv, if it has one
  std::string label_column;               // absent from test.tsv
  std::vector<std::string> label_words;   // by the label column's 0, 1
};

std::vector<Example> read_glue_tsv(const std::string& path, const GlueTask& task,
                                   const ReadOptions& options, ReadSummary& summary) {
  const std::string language = resolve_language(path, "", options);
  std::string split = options.split;
  for (const char* name : {"train", "dev", "test"})
    if (base_name(path) == std::string(name) + ".tsv") split = name;
  const HeaderedTsv file(path);
  std::vector<std::string> needed = task.text_columns;
  const std::string& label_column = task.label_column;
  const bool labeled = file.has(label_column);
  if (!labeled && !labels_optional(split))
    throw RecordError(path, "1", "the header has no label column and the split is not test");
  const std::string id_column = labeled ? task.id_column : task.test_id_column;
  if (!id_column.empty()) needed.push_back(id_column);
  if (labeled) needed.push_back(label_column);
  file.require(needed);

  std::vector<Example> examples;
  file.for_each_row(options, summary, [&](int64_t line, const std::vector<std::string>& columns) {
    Example example;
    example.id =
        id_column.empty() ? split + "-" + std::to_string(line - 2) : columns[file.index(id_column)];
    example.language = language;
    example.input = task.benchmark;
    for (const std::string& name : task.text_columns)
      example.input += " " + name + ": " + columns[file.index(name)];
    example.gold["labeled"] = labeled;
    if (labeled) {
      const std::string& label = columns[file.index(label_column)];
      if (label != "0" && label != "1")
        throw RecordError(path, std::to_string(line),
                          "bad " + label_column + " '" + label + "', expected 0 or 1");
      const size_t index = label == "1" ? 1 : 0;
      example.target = task.label_words[index];
      example.gold["label"] = task.label_words[index];
      example.gold["label_index"] = index;
    }
    examples.push_back(std::move(example));
  });
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace

std::vector<Example> read_qqp(const std::string& path, const ReadOptions& options,
                              ReadSummary& summary) {
  static const GlueTask qqp{"qqp",          {"question1", "question2"},    "id", "id",
                            "is_duplicate", {"not_duplicate", "duplicate"}};
  return read_glue_tsv(path, qqp, options, summary);
}

std::vector<Example> read_sst2(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  static const GlueTask sst2{"sst2", {"sentence"}, "", "index", "label", {"negative", "positive"}};
  return read_glue_tsv(path, sst2, options, summary);
}

}  // namespace stilts::data
