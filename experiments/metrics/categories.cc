#include "experiments/metrics/categories.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "data/readers/udhr.h"

namespace stilts::experiments::metrics {
namespace {

using TaskLanguages = std::vector<std::pair<std::string, std::vector<std::string>>>;

std::vector<std::string> split_commas(std::string_view list) {
  std::vector<std::string> out;
  std::stringstream stream{std::string(list)};
  std::string item;
  while (std::getline(stream, item, ',')) {
    out.push_back(item);
  }
  return out;
}

const TaskLanguages& table(Benchmark benchmark) {
  static const TaskLanguages kXtreme = {
      {"pawsx", split_commas("de,en,es,fr,ja,ko,zh")},
      {"xnli", split_commas("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh")},
      {"panx", split_commas("ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,"
                            "it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu")},
      {"udpos", split_commas("af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,"
                             "nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh")},
      {"bucc2018", split_commas("de,fr,ru,zh")},
      {"tatoeba", split_commas("ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,"
                               "pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu")},
      {"xquad", split_commas("en,es,de,el,ru,tr,ar,vi,th,zh,hi")},
      {"mlqa", split_commas("en,es,de,ar,hi,vi,zh")},
      {"tydiqa", split_commas("en,ar,bn,fi,id,ko,ru,sw,te")},
  };
  static const TaskLanguages kXtremeR = {
      {"xnli", split_commas("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh")},
      {"panx", split_commas("ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,"
                            "it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu,qu,pl,uk,az,"
                            "lt,pa,gu,ro")},
      {"udpos", split_commas("af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,"
                             "nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh,lt,pl,uk,wo,ro")},
      {"tatoeba", split_commas("ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,"
                               "pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu,az,lt,pl,uk,ro")},
      {"xcopa", split_commas("et,ht,id,it,qu,sw,ta,th,tr,vi,zh")},
      {"lareqa", {}},
      {"mewslix", split_commas("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk")},
      {"xquad", split_commas("en,es,de,el,ru,tr,ar,vi,th,zh,hi,ro")},
      {"mlqa", split_commas("en,es,de,ar,hi,vi,zh")},
      {"tydiqa", split_commas("en,ar,bn,fi,id,ko,ru,sw,te")},
  };
  static const TaskLanguages kUdhr = [] {
    std::vector<std::string> all, non_english;
    for (const data::UdhrFile& file : data::udhr_xtreme_r_files()) {
      all.emplace_back(file.language);
      if (file.language != "en") non_english.emplace_back(file.language);
    }
    return TaskLanguages{{"udhr-article", all}, {"udhr-align", non_english}};
  }();
  if (benchmark == Benchmark::kUdhr) return kUdhr;
  return benchmark == Benchmark::kXtreme ? kXtreme : kXtremeR;
}

}  // namespace

std::vector<std::string> benchmark_tasks(Benchmark benchmark) {
  std::vector<std::string> tasks;
  for (const auto& [task, languages] : table(benchmark)) {
    tasks.push_back(task);
  }
  return tasks;
}

const std::vector<std::string>& task_languages(Benchmark benchmark, std::string_view task) {
  for (const auto& [name, languages] : table(benchmark)) {
    if (name == task) {
      return languages;
    }
  }
  throw std::invalid_argument("unknown task '" + std::string(task) + "' for " +
                              (benchmark == Benchmark::kXtreme    ? "XTREME"
                               : benchmark == Benchmark::kXtremeR ? "XTREME-R"
                                                                  : "the UDHR tasks"));
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
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kUdhr;
  if (benchmark == Benchmark::kUdhr) return kUdhr;
  return benchmark == Benchmark::kXtreme ? kXtreme : kXtremeR;
}

bool is_qa_task(std::string_view task) {
  return task == "xquad" || task == "mlqa" || task == "tydiqa";
}

std::string headline_metric(std::string_view task) {
  if (is_qa_task(task)) {
    return "(exact_match+f1)/2";
  }
  if (task == "panx" || task == "udpos" || task == "bucc2018") {
    return "f1";
  }
  if (task == "xnli" || task == "pawsx" || task == "xcopa" || task == "tatoeba" ||
      task == "udhr-article" || task == "udhr-align") {
    return "accuracy";
  }
  if (task == "mewslix" || task == "lareqa") {
    return "map@20";
  }
  throw std::invalid_argument("unknown task '" + std::string(task) + "'");
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
