// `stilts score`: a predictions folder against a labels folder, both laid out as the XTREME
// repository's evaluate.py reads them (`<task>/test-<lang>.<ext>`, formats in
// prediction_files.h), scored per (task, language) with experiments/metrics and aggregated per
// task, per group and overall as evaluate.py does for `xtreme` or `xtreme-r`
// (metrics/categories.h). All scores are percentages (x100), as evaluate.py prints them.
//
// Where evaluate.py stops at the first missing file, the scorer scores every (task, language)
// whose prediction and label files both exist and reports the rest: a prediction file without
// labels or a label file without predictions, a file or folder that is not one of the
// benchmark's (task, language) pairs. A task that lacks some of its official languages is scored
// over the languages it has but is left out of the group and overall scores (evaluate.py would
// not produce them), and the report says so.
//
// LAReQA (xtreme-r only; files `lareqa/test-<lang>.json`, {question id: [correct candidate ids]}
// against ranked {question id: [candidate ids]}) is scored as evaluate_retrieval.py does: one
// mAP@20 pooled over the questions of all languages (per-language values are shown too); with
// its 11 XQuAD-R languages present it completes the 10 tasks of XTREME-R's all_task.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/metrics/categories.h"

namespace stilts::experiments {

// "xtreme", "xtreme-r" or "udhr" (the embedded demo's UDHR tasks, scored the same way: labels
// one a line, accuracy); throws std::invalid_argument otherwise.
metrics::Benchmark parse_benchmark(std::string_view name);
std::string benchmark_name(metrics::Benchmark benchmark);

// The benchmarks parse_benchmark takes, each with its tasks, for help texts: "xtreme (pawsx,
// ...), xtreme-r (...) or udhr (...)".
std::string benchmark_choices();

// The file extension of the task's prediction format (the task table's), as evaluate.py's
// get_suffix() gives it: "json" (QA, mewslix; lareqa here), "jsonl" (xcopa) or "tsv".
std::string task_file_extension(std::string_view task);

// One test example's score (percent), its share of the language's headline score.
struct ExampleScore {
  std::string id;
  double score = 0.0;
};

struct ScoredLanguage {
  metrics::LanguageScores scores;  // language code and metric -> percent
  double headline = 0.0;           // (exact_match + f1) / 2 for QA, else the task's metric
  std::string prediction_file;
  std::string label_file;
  std::size_t examples = 0;    // gold examples (sentences for tagging, pairs for BUCC)
  std::size_t unanswered = 0;  // QA, Mewsli-X, LAReQA: gold ids without a prediction (score 0)
  // One score per example, in the label file's order, for the tasks whose headline is a mean
  // over test examples, so that the scores' mean is the headline: accuracy (xnli, pawsx, xcopa,
  // tatoeba, udhr-*: 100 or 0 per example, id its 0-based position in the file); QA (xquad,
  // mlqa, tydiqa: per question (EM + F1) / 2, each the maximum over the gold answers under the
  // task's SQuAD or MLQA rules, 0 for an unanswered question, id the question id); Mewsli-X (the
  // mention's reciprocal rank within the top 20, id the mention id) and LAReQA (the question's
  // average precision at 20, id the question id; the language's value, whereas the task's
  // headline pools every language's questions). nullopt for the corpus-level metrics, whose
  // score is no mean over examples: seqeval's chunk F1 (udpos, panx: spans are counted over the
  // whole file) and BUCC's F1 (pairs mined over the whole corpus).
  std::optional<std::vector<ExampleScore>> example_scores;
};

struct ScoredTask {
  std::string task;
  std::string headline_metric;                 // metrics::headline_metric(task)
  std::vector<ScoredLanguage> languages;       // in the benchmark's language order
  metrics::TaskSummary summary;                // avg_<metric> and avg_metric over `languages`
  std::vector<std::string> missing_languages;  // official languages not scored
  bool complete() const { return missing_languages.empty(); }
};

struct ScoreReport {
  metrics::Benchmark benchmark = metrics::Benchmark::kXtremeR;
  std::string predictions_dir;
  std::string labels_dir;
  std::vector<ScoredTask> tasks;   // in the benchmark's task order
  metrics::OverallScores overall;  // groups and all_task, from the complete tasks only
  std::vector<std::string> notes;  // unmatched and ignored files, incomplete tasks
};

// Throws std::runtime_error naming the file(s) on a malformed file, on unequal numbers of
// predictions and labels (naming both files), or when a folder does not exist.
ScoreReport score_folders(const std::string& predictions_dir, const std::string& labels_dir,
                          metrics::Benchmark benchmark);

// Per task one line per language and the mean, then the groups, all_task and the notes.
std::string text_report(const ScoreReport& report);

// {"benchmark", "predictions", "labels", "tasks": {task: {"headline_metric", "languages":
// {lang: {metric: value, "examples", "unanswered"}}, "averages": {"avg_<metric>": value},
// "avg_metric", "complete", "missing_languages"}}, "groups": {group: value}, "all_task": value or
// null, "notes": [...]}.
nlohmann::json json_report(const ScoreReport& report);

}  // namespace stilts::experiments
