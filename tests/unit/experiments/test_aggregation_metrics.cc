// evaluate.py's task lists, groups and averages for XTREME and XTREME-R.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "experiments/metrics/categories.h"

namespace stilts::experiments::metrics {
namespace {

TEST(Categories, TaskLists) {
  EXPECT_EQ(benchmark_tasks(Benchmark::kXtremeR),
            (std::vector<std::string>{"xnli", "panx", "udpos", "tatoeba", "xcopa", "lareqa",
                                      "mewslix", "xquad", "mlqa", "tydiqa"}));
  EXPECT_EQ(benchmark_tasks(Benchmark::kXtreme),
            (std::vector<std::string>{"pawsx", "xnli", "panx", "udpos", "bucc2018", "tatoeba",
                                      "xquad", "mlqa", "tydiqa"}));
  const std::vector<std::string> udhr = benchmark_tasks(Benchmark::kUdhr);
  EXPECT_NE(std::find(udhr.begin(), udhr.end(), "udhr-article"), udhr.end());
  EXPECT_NE(std::find(udhr.begin(), udhr.end(), "udhr-align"), udhr.end());
  EXPECT_EQ(task_languages(Benchmark::kXtremeR, "xnli").size(), 15u);
  EXPECT_EQ(task_languages(Benchmark::kXtremeR, "udpos").size(), 38u);
  EXPECT_EQ(task_languages(Benchmark::kXtremeR, "panx").size(), 48u);
  EXPECT_EQ(task_languages(Benchmark::kXtremeR, "tatoeba").size(), 41u);
  EXPECT_EQ(task_languages(Benchmark::kXtremeR, "xquad").size(), 12u);
  EXPECT_TRUE(task_languages(Benchmark::kXtremeR, "lareqa").empty());
  EXPECT_EQ(task_languages(Benchmark::kXtreme, "udpos").size(), 33u);
  EXPECT_THROW(task_languages(Benchmark::kXtremeR, "pawsx"), std::invalid_argument);
  // The union of the XTREME-R lists is the 50 languages.
  std::set<std::string> languages;
  for (const std::string& task : benchmark_tasks(Benchmark::kXtremeR)) {
    const auto& list = task_languages(Benchmark::kXtremeR, task);
    languages.insert(list.begin(), list.end());
  }
  EXPECT_EQ(languages.size(), 50u);
}

TEST(Categories, GroupsAndHeadlines) {
  const auto& groups = task_groups(Benchmark::kXtremeR);
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].first, "classification");
  EXPECT_EQ(groups[0].second, (std::vector<std::string>{"xnli", "xcopa"}));
  EXPECT_EQ(groups[3].second, (std::vector<std::string>{"tatoeba", "mewslix"}));
  EXPECT_EQ(groups[4].second, (std::vector<std::string>{"xcopa"}));
  EXPECT_EQ(task_groups(Benchmark::kXtreme)[3].second,
            (std::vector<std::string>{"bucc2018", "tatoeba"}));
  EXPECT_EQ(headline_metric("mlqa"), "(exact_match+f1)/2");
  EXPECT_EQ(headline_metric("udpos"), "f1");
  EXPECT_EQ(headline_metric("xcopa"), "accuracy");
  EXPECT_EQ(headline_metric("lareqa"), "map@20");
  EXPECT_THROW(headline_metric("squad"), std::invalid_argument);
}

TEST(Categories, TaskSummaries) {
  const TaskSummary qa = summarize_task("xquad", {{"en", {{"exact_match", 60}, {"f1", 70}}},
                                                  {"de", {{"exact_match", 40}, {"f1", 60}}}});
  EXPECT_DOUBLE_EQ(qa.averages.at("avg_exact_match"), 50.0);
  EXPECT_DOUBLE_EQ(qa.averages.at("avg_f1"), 65.0);
  EXPECT_DOUBLE_EQ(*qa.avg_metric, 57.5);
  const TaskSummary tagging = summarize_task(
      "panx", {{"en", {{"f1", 80}, {"precision", 90}, {"recall", 72}}}, {"de", {{"f1", 70}}}});
  EXPECT_DOUBLE_EQ(*tagging.avg_metric, 75.0);
  EXPECT_DOUBLE_EQ(tagging.averages.at("avg_precision"), 90.0);
  EXPECT_DOUBLE_EQ(*summarize_task("mewslix", {{"ar", {{"map@20", 30}}}}).avg_metric, 30.0);
  EXPECT_FALSE(summarize_task("lareqa", {}).avg_metric.has_value());
  EXPECT_THROW(summarize_task("mlqa", {{"en", {{"f1", 1}}}}), std::invalid_argument);
  EXPECT_EQ(missing_languages(Benchmark::kXtremeR, "mlqa",
                              {{"en", {}}, {"es", {}}, {"de", {}}, {"ar", {}}, {"hi", {}}}),
            (std::vector<std::string>{"vi", "zh"}));
}

TEST(Categories, OverallNeedsEveryTaskIncludingLareqa) {
  std::map<std::string, double> scores = {{"xnli", 80},    {"panx", 60},  {"udpos", 70},
                                          {"tatoeba", 50}, {"xcopa", 60}, {"mewslix", 40},
                                          {"xquad", 70},   {"mlqa", 60},  {"tydiqa", 50}};
  OverallScores overall = aggregate(Benchmark::kXtremeR, scores);
  EXPECT_FALSE(overall.all_task.has_value());  // as evaluate.py: lareqa is never present there
  ASSERT_EQ(overall.groups.size(), 5u);
  EXPECT_EQ(overall.groups[0].first, "classification");
  EXPECT_DOUBLE_EQ(overall.groups[0].second, 70.0);
  EXPECT_DOUBLE_EQ(overall.groups[1].second, 65.0);
  EXPECT_DOUBLE_EQ(overall.groups[2].second, 60.0);
  EXPECT_DOUBLE_EQ(overall.groups[3].second, 45.0);
  EXPECT_DOUBLE_EQ(overall.groups[4].second, 60.0);
  scores["lareqa"] = 30;
  overall = aggregate(Benchmark::kXtremeR, scores);
  ASSERT_TRUE(overall.all_task.has_value());
  EXPECT_DOUBLE_EQ(*overall.all_task, 570.0 / 10);  // a mean over tasks, not over groups
  scores.erase("xquad");
  overall = aggregate(Benchmark::kXtremeR, scores);
  EXPECT_FALSE(overall.all_task.has_value());
  EXPECT_EQ(overall.groups.size(), 4u);  // no qa group
}

TEST(Categories, XtremeOverall) {
  const std::map<std::string, double> scores = {{"pawsx", 90}, {"xnli", 80},     {"panx", 60},
                                                {"udpos", 70}, {"bucc2018", 40}, {"tatoeba", 50},
                                                {"xquad", 70}, {"mlqa", 60},     {"tydiqa", 50}};
  const OverallScores overall = aggregate(Benchmark::kXtreme, scores);
  ASSERT_TRUE(overall.all_task.has_value());
  EXPECT_DOUBLE_EQ(*overall.all_task, 570.0 / 9);
  EXPECT_EQ(overall.groups.size(), 4u);
  EXPECT_DOUBLE_EQ(overall.groups[3].second, 45.0);
}

}  // namespace
}  // namespace stilts::experiments::metrics
