// Task groups and aggregation of XTREME and XTREME-R, as evaluate.py computes them
// (google-research/xtreme @838c13b: XTREME_GROUP2TASK, XTREME_R_GROUP2TASK, XTREME_TASK2LANGS,
// XTREME_R_TASK2LANGS and evaluate()):
//
//   * per task and metric: the plain mean over the task's languages (in the official language
//     order) of the per-language values, "avg_<metric>";
//   * the task's headline "avg_metric": QA tasks (xquad, mlqa, tydiqa) (avg_exact_match + avg_f1)
//     / 2, i.e. EM and F1 are averaged over languages first; otherwise avg_f1 if present (panx,
//     udpos, bucc2018), else avg_accuracy (xnli, pawsx, xcopa, tatoeba), else avg_map@20 (mewslix;
//     lareqa, see below);
//   * a group score: the unweighted mean of its tasks' avg_metric, only when all of them are
//     present; XTREME-R groups: classification = xnli, xcopa; tagging = udpos, panx; qa = xquad,
//     mlqa, tydiqa; retrieval = tatoeba, mewslix; multi_choice = xcopa (xcopa counts in two groups;
//     lareqa is in no group). XTREME: classification = pawsx, xnli; tagging = udpos, panx; qa;
//     retrieval = bucc2018, tatoeba;
//   * "all_task": the unweighted mean of avg_metric over every task of the task-language table
//     (tasks, not groups), only when every one is present (9 for XTREME, 10 for XTREME-R).
//
// The LAReQA quirk: XTREME_R_TASK2LANGS lists 'lareqa' with no languages and evaluate.py has no
// reader or metric for it (LAReQA is scored by evaluate_retrieval.py as one pooled mAP@20, see
// retrieval.h), so evaluate.py itself never produces "all_task" for XTREME-R (without a lareqa
// folder it is skipped; with one, lareqa gets no avg_metric and the mean raises KeyError).
// aggregate() therefore takes lareqa's pooled mAP@20 from the caller as its avg_metric; with it,
// all_task is the 10-task mean the benchmark intends, without it all_task is absent, as in
// evaluate.py. Python sums all_task over a set (hash order); here the sums run in table order.
//
// The embedded demo's UDHR tasks (Benchmark::kUdhr, data/readers/udhr.h) are scored the same
// way: udhr-article and udhr-pairs in every language of data::udhr_xtreme_r_files(), udhr-align
// in all of them but English; all by accuracy; no groups; all_task the mean of the three.
//
// A benchmark's tasks are those whose entry in the task table (data/tasks.h) lists languages
// for it; the languages and the metric behind the headline are the entry's. What belongs to
// the benchmarks themselves is here: evaluate.py's task order and the groups.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/tasks.h"

namespace stilts::experiments::metrics {

using data::Benchmark;

// The tasks of the benchmark, in evaluate.py's order.
std::vector<std::string> benchmark_tasks(Benchmark benchmark);
// The languages evaluate.py scores for a task (empty for lareqa); throws for a task the
// benchmark does not have.
const std::vector<std::string>& task_languages(Benchmark benchmark, std::string_view task);
// Group name -> tasks, in evaluate.py's order.
const std::vector<std::pair<std::string, std::vector<std::string>>>& task_groups(
    Benchmark benchmark);
// Whether the task is scored by EM and F1 (SQuAD or MLQA rules).
bool is_qa_task(std::string_view task);
// "accuracy", "f1", "map@20", or "(exact_match+f1)/2" for QA tasks; throws for a task stilts
// does not evaluate.
std::string headline_metric(std::string_view task);

// One language's scores for a task: metric name ("exact_match", "f1", "precision", "recall",
// "accuracy", "map@20") -> value in percent.
struct LanguageScores {
  std::string language;
  std::map<std::string, double> metrics;
};

struct TaskSummary {
  std::map<std::string, double> averages;  // "avg_f1", "avg_exact_match", ...
  std::optional<double> avg_metric;        // absent when no language was given
};

// The per-language averages and the headline of one task, over the languages given (evaluate.py
// requires all of task_languages(); see missing_languages()).
TaskSummary summarize_task(std::string_view task, const std::vector<LanguageScores>& languages);

// The official languages of the task that `languages` lacks.
std::vector<std::string> missing_languages(Benchmark benchmark, std::string_view task,
                                           const std::vector<LanguageScores>& languages);

struct OverallScores {
  std::optional<double> all_task;
  std::vector<std::pair<std::string, double>> groups;  // only the complete groups
};

// task -> avg_metric of the tasks that were scored.
OverallScores aggregate(Benchmark benchmark, const std::map<std::string, double>& avg_metric);

}  // namespace stilts::experiments::metrics
