#include "experiments/metrics/categories.h"

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

namespace stilts::experiments::metrics {
namespace {

// evaluate.py's task order, the keys of XTREME_TASK2LANGS and XTREME_R_TASK2LANGS (which agree
// on the tasks they share): the order of the score reports and of the all_task sum. It belongs
// to the published benchmarks, not to a task; a task outside them keeps the table's order.
constexpr std::array<std::string_view, 12> kEvaluatePyOrder = {
    "pawsx", "xnli",   "panx",    "udpos", "bucc2018", "tatoeba",
    "xcopa", "lareqa", "mewslix", "xquad", "mlqa",     "tydiqa"};

size_t evaluate_py_position(std::string_view task) {
  return static_cast<size_t>(std::find(kEvaluatePyOrder.begin(), kEvaluatePyOrder.end(), task) -
                             kEvaluatePyOrder.begin());
}

std::string benchmark_title(Benchmark benchmark) {
  return benchmark == Benchmark::kXtreme    ? "XTREME"
         : benchmark == Benchmark::kXtremeR ? "XTREME-R"
         : benchmark == Benchmark::kUdhr    ? "the UDHR tasks"
                                            : "the synthetic study";
}

}  // namespace

std::vector<std::string> benchmark_tasks(Benchmark benchmark) {
  std::vector<std::string> tasks;
  for (const data::TaskSpec& task : data::task_table())
    if (task.evaluation && task.evaluation->languages_in(benchmark)) tasks.push_back(task.name);
  std::stable_sort(tasks.begin(), tasks.end(), [](const std::string& a, const std::string& b) {
    return evaluate_py_position(a) < evaluate_py_position(b);
  });
  return tasks;
}

const std::vector<std::string>& task_languages(Benchmark benchmark, std::string_view task) {
  const data::TaskSpec* spec = data::find_task(task);
  if (spec && spec->evaluation)
    if (const std::vector<std::string>* languages = spec->evaluation->languages_in(benchmark))
      return *languages;
  throw std::invalid_argument("unknown task '" + std::string(task) + "' for " +
                              benchmark_title(benchmark));
}

const std::vector<std::pair<std::string, std::vector<std::string>>>& task_groups(
    Benchmark benchmark) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kXtreme = {
      {"classification", {"pawsx", "xnli"}},
      {"tagging", {"udpos", "panx"}},
      {"qa", {"xquad", "mlqa", "tydiqa"}},
      {"retrieval", {"bucc2018", "tatoeba"}},
  };
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kXtremeR = {
      {"classification", {"xnli", "xcopa"}}, {"tagging", {"udpos", "panx"}},
      {"qa", {"xquad", "mlqa", "tydiqa"}},   {"retrieval", {"tatoeba", "mewslix"}},
      {"multi_choice", {"xcopa"}},
  };
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kNoGroups;
  if (benchmark == Benchmark::kUdhr || benchmark == Benchmark::kSynthetic) return kNoGroups;
  return benchmark == Benchmark::kXtreme ? kXtreme : kXtremeR;
}

bool is_qa_task(std::string_view task) {
  const data::TaskSpec* spec = data::find_task(task);
  return spec && spec->evaluation &&
         (spec->evaluation->metric == data::Metric::kSquad ||
          spec->evaluation->metric == data::Metric::kMlqa);
}

std::string headline_metric(std::string_view task) {
  switch (data::task_evaluation(task).metric) {
    case data::Metric::kSquad:
    case data::Metric::kMlqa:
      return "(exact_match+f1)/2";
    case data::Metric::kSeqeval:
    case data::Metric::kBuccF1:
      return "f1";
    case data::Metric::kAccuracy:
      return "accuracy";
    case data::Metric::kMewslixMap:
    case data::Metric::kLareqaMap:
      return "map@20";
  }
  throw std::logic_error("unknown metric");
}

TaskSummary summarize_task(std::string_view task, const std::vector<LanguageScores>& languages) {
  // score[metric][language], averaged over the languages that reported the metric.
  std::map<std::string, std::pair<double, std::size_t>> sums;
  for (const LanguageScores& language : languages) {
    for (const auto& [metric, value] : language.metrics) {
      auto& [sum, count] = sums[metric];
      sum += value;
      ++count;
    }
  }
  TaskSummary summary;
  for (const auto& [metric, sum_count] : sums) {
    summary.averages["avg_" + metric] = sum_count.first / static_cast<double>(sum_count.second);
  }
  auto average = [&](const std::string& name) -> std::optional<double> {
    auto it = summary.averages.find(name);
    return it == summary.averages.end() ? std::nullopt : std::optional<double>(it->second);
  };
  if (is_qa_task(task)) {
    const auto exact_match = average("avg_exact_match");
    const auto f1 = average("avg_f1");
    if (exact_match && f1) {
      summary.avg_metric = (*exact_match + *f1) / 2;
    } else if (!languages.empty()) {
      throw std::invalid_argument("QA task '" + std::string(task) +
                                  "' needs exact_match and f1 for its headline");
    }
  } else if (auto f1 = average("avg_f1")) {
    summary.avg_metric = f1;
  } else if (auto accuracy_value = average("avg_accuracy")) {
    summary.avg_metric = accuracy_value;
  } else if (auto map = average("avg_map@20")) {
    summary.avg_metric = map;
  }
  return summary;
}

std::vector<std::string> missing_languages(Benchmark benchmark, std::string_view task,
                                           const std::vector<LanguageScores>& languages) {
  std::set<std::string> given;
  for (const LanguageScores& language : languages) {
    given.insert(language.language);
  }
  std::vector<std::string> missing;
  for (const std::string& language : task_languages(benchmark, task)) {
    if (given.count(language) == 0) {
      missing.push_back(language);
    }
  }
  return missing;
}

OverallScores aggregate(Benchmark benchmark, const std::map<std::string, double>& avg_metric) {
  OverallScores overall;
  const std::vector<std::string> tasks = benchmark_tasks(benchmark);
  const bool all_present = std::all_of(tasks.begin(), tasks.end(), [&](const std::string& task) {
    return avg_metric.count(task) != 0;
  });
  if (all_present) {
    double sum = 0.0;
    for (const std::string& task : tasks) {
      sum += avg_metric.at(task);
    }
    overall.all_task = sum / static_cast<double>(tasks.size());
  }
  for (const auto& [group, group_tasks] : task_groups(benchmark)) {
    const bool complete =
        std::all_of(group_tasks.begin(), group_tasks.end(),
                    [&](const std::string& task) { return avg_metric.count(task) != 0; });
    if (complete) {
      double sum = 0.0;
      for (const std::string& task : group_tasks) {
        sum += avg_metric.at(task);
      }
      overall.groups.emplace_back(group, sum / static_cast<double>(group_tasks.size()));
    }
  }
  return overall;
}

}  // namespace stilts::experiments::metrics
