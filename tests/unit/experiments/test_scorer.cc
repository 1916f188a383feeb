// stilts score's scorer (experiments/scorer.h) on prediction and label trees the tests write:
// per-language scores equal to hand-computed values (several tasks, non-Latin scripts), task
// means, groups and all_task as evaluate.py forms them, the notes for unmatched files, and errors
// that name the files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "experiments/scorer.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
using metrics::Benchmark;
using stilts::testing::error_of;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr double kTolerance = 1e-9;

class ScorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "stilts-score-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    predictions_ = root_ + "/predictions";
    labels_ = root_ + "/labels";
    fs::create_directories(predictions_);
    fs::create_directories(labels_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes `text` to <root>/<task>/test-<lang>.<ext> and returns the path.
  static std::string write(const std::string& root, const std::string& task,
                           const std::string& name, const std::string& text) {
    fs::create_directories(root + "/" + task);
    const std::string path = root + "/" + task + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string prediction(const std::string& task, const std::string& language,
                         const std::string& text) {
    return write(predictions_, task, "test-" + language + "." + task_file_extension(task), text);
  }
  std::string label(const std::string& task, const std::string& language, const std::string& text) {
    return write(labels_, task, "test-" + language + "." + task_file_extension(task), text);
  }

  // Predictions equal to the labels, in the task's format.
  void write_perfect(const std::string& task, const std::string& language) {
    std::string text;
    std::string predicted;
    if (task == "udpos" || task == "panx") {
      text = "B-PER\nI-PER\nO\n\nO\nB-LOC\n";
    } else if (task == "bucc2018") {
      text = language + "-000001\ten-000007\n" + language + "-000002\ten-000003\n";
    } else if (task == "xcopa") {
      text = "{\"label\": 1}\n{\"label\": 0}\n";
    } else if (task == "xquad" || task == "mlqa" || task == "tydiqa") {
      text = R"({"data": [{"paragraphs": [{"context": "yes", "qas": [{"id": "q1", "answers": )"
             R"([{"text": "yes", "answer_start": 0}]}]}]}]})";
      predicted = R"({"q1": "yes"})";
    } else if (task == "mewslix" || task == "lareqa") {
      text = R"({"e1": ["Q1"], "e2": ["Q2"]})";
    } else {
      text = "entailment\nneutral\n";
    }
    label(task, language, text);
    prediction(task, language, predicted.empty() ? text : predicted);
  }
  void write_perfect_task(Benchmark benchmark, const std::string& task) {
    const std::vector<std::string> lareqa = {"ar", "de", "el", "en", "es", "hi",
                                             "ru", "th", "tr", "vi", "zh"};
    for (const std::string& language :
         task == "lareqa" ? lareqa : metrics::task_languages(benchmark, task))
      write_perfect(task, language);
  }

  static const ScoredTask& task_of(const ScoreReport& report, const std::string& name) {
    for (const ScoredTask& task : report.tasks)
      if (task.task == name) return task;
    throw std::runtime_error("no task " + name);
  }
  static const ScoredLanguage& language_of(const ScoredTask& task, const std::string& code) {
    for (const ScoredLanguage& language : task.languages)
      if (language.scores.language == code) return language;
    throw std::runtime_error("no language " + code);
  }
  static double group_of(const ScoreReport& report, const std::string& name) {
    for (const auto& [group, value] : report.overall.groups)
      if (group == name) return value;
    throw std::runtime_error("no group " + name);
  }

  std::string root_, predictions_, labels_;
};

TEST_F(ScorerTest, HandComputedScoresPerTaskAndLanguage) {
  // XNLI: 3 of 4 in ar, 4 of 4 in zh.
  label("xnli", "ar", "entailment\nneutral\ncontradiction\nneutral\n");
  prediction("xnli", "ar", "entailment\nneutral\nneutral\nneutral\n");
  label("xnli", "zh", "neutral\nneutral\n");
  prediction("xnli", "zh", "neutral\nneutral\n");
  // PAN-X: gold chunks PER, LOC, ORG; predicted PER, ORG: P 100, R 66.67, F1 80 (ja); th exact.
  label("panx", "ja", "B-PER\nI-PER\nO\nB-LOC\n\nO\nB-ORG\n");
  prediction("panx", "ja", "B-PER\nI-PER\nO\nO\n\nO\nB-ORG\n");
  label("panx", "th", "B-LOC\nO\n");
  prediction("panx", "th", "B-LOC\nO\n");
  // XQuAD: zh one exact answer, one unanswered (EM 50, F1 50); ar half the tokens (EM 0, F1
  // 66.67).
  label("xquad", "zh",
        R"({"data": [{"paragraphs": [{"context": "北京 上海", "qas": [)"
        R"({"id": "z1", "answers": [{"text": "北京", "answer_start": 0}]},)"
        R"({"id": "z2", "answers": [{"text": "上海", "answer_start": 3}]}]}]}]})");
  prediction("xquad", "zh", R"({"z1": "北京"})");
  label("xquad", "ar",
        R"({"data": [{"paragraphs": [{"context": "القاهرة مصر", "qas": [)"
        R"({"id": "a1", "answers": [{"text": "القاهرة مصر", "answer_start": 0}]}]}]}]})");
  prediction("xquad", "ar", R"({"a1": "القاهرة"})");
  // MLQA zh: the gold's four characters against two of them (mixed segmentation): F1 66.67.
  label("mlqa", "zh",
        R"({"data": [{"paragraphs": [{"context": "北京大学", "qas": [)"
        R"({"id": "m1", "answers": [{"text": "北京大学", "answer_start": 0}]}]}]}]})");
  prediction("mlqa", "zh", R"({"m1": "北京"})");
  // Mewsli-X ja: reciprocal rank 1/2 and a missing prediction: 25.
  label("mewslix", "ja", R"({"a": ["Q1"], "b": ["Q2"]})");
  prediction("mewslix", "ja", R"({"a": ["Q3", "Q1"], "c": ["Q2"]})");
  // LAReQA: en AP (1/1 + 2/3) / 2 = 83.33; de 1 and 0 (unanswered): 50; pooled over the three
  // questions (0.8333 + 1 + 0) / 3 = 61.11.
  label("lareqa", "en", R"({"q1": ["s1", "s2"]})");
  prediction("lareqa", "en", R"({"q1": ["s2", "x", "s1"]})");
  label("lareqa", "de", R"({"q1": ["t1"], "q2": ["t2"]})");
  prediction("lareqa", "de", R"({"q1": ["t1"]})");

  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  ASSERT_EQ(report.tasks.size(), 6u);
  // In XTREME-R's task order.
  EXPECT_EQ(report.tasks[0].task, "xnli");
  EXPECT_EQ(report.tasks[1].task, "panx");

  const ScoredTask& xnli = task_of(report, "xnli");
  EXPECT_NEAR(language_of(xnli, "ar").scores.metrics.at("accuracy"), 75.0, kTolerance);
  EXPECT_NEAR(language_of(xnli, "zh").scores.metrics.at("accuracy"), 100.0, kTolerance);
  EXPECT_NEAR(*xnli.summary.avg_metric, 87.5, kTolerance);
  EXPECT_FALSE(xnli.complete());
  EXPECT_EQ(xnli.missing_languages.size(), 13u);
  EXPECT_EQ(language_of(xnli, "ar").examples, 4u);

  const ScoredTask& panx = task_of(report, "panx");
  const auto& ja = language_of(panx, "ja").scores.metrics;
  EXPECT_NEAR(ja.at("precision"), 100.0, kTolerance);
  EXPECT_NEAR(ja.at("recall"), 200.0 / 3, kTolerance);
  EXPECT_NEAR(ja.at("f1"), 80.0, kTolerance);
  EXPECT_NEAR(*panx.summary.avg_metric, 90.0, kTolerance);
  EXPECT_NEAR(panx.summary.averages.at("avg_recall"), (200.0 / 3 + 100) / 2, kTolerance);

  const ScoredTask& xquad = task_of(report, "xquad");
  const ScoredLanguage& xquad_zh = language_of(xquad, "zh");
  EXPECT_NEAR(xquad_zh.scores.metrics.at("exact_match"), 50.0, kTolerance);
  EXPECT_NEAR(xquad_zh.scores.metrics.at("f1"), 50.0, kTolerance);
  EXPECT_EQ(xquad_zh.unanswered, 1u);
  EXPECT_EQ(xquad_zh.examples, 2u);
  const ScoredLanguage& xquad_ar = language_of(xquad, "ar");
  EXPECT_NEAR(xquad_ar.scores.metrics.at("exact_match"), 0.0, kTolerance);
  EXPECT_NEAR(xquad_ar.scores.metrics.at("f1"), 200.0 / 3, kTolerance);
  EXPECT_NEAR(xquad_ar.headline, 100.0 / 3, kTolerance);
  EXPECT_NEAR(xquad.summary.averages.at("avg_exact_match"), 25.0, kTolerance);
  EXPECT_NEAR(xquad.summary.averages.at("avg_f1"), (50 + 200.0 / 3) / 2, kTolerance);
  EXPECT_NEAR(*xquad.summary.avg_metric, (25 + (50 + 200.0 / 3) / 2) / 2, kTolerance);
  // The XTREME-R language order: ar comes before zh.
  EXPECT_EQ(xquad.languages[0].scores.language, "ar");

  const auto& mlqa_zh = language_of(task_of(report, "mlqa"), "zh").scores.metrics;
  EXPECT_NEAR(mlqa_zh.at("exact_match"), 0.0, kTolerance);
  EXPECT_NEAR(mlqa_zh.at("f1"), 200.0 / 3, kTolerance);

  const ScoredLanguage& mewslix_ja = language_of(task_of(report, "mewslix"), "ja");
  EXPECT_NEAR(mewslix_ja.scores.metrics.at("map@20"), 25.0, kTolerance);
  EXPECT_EQ(mewslix_ja.unanswered, 1u);

  const ScoredTask& lareqa = task_of(report, "lareqa");
  EXPECT_NEAR(language_of(lareqa, "en").scores.metrics.at("map@20"), 250.0 / 3, kTolerance);
  EXPECT_NEAR(language_of(lareqa, "de").scores.metrics.at("map@20"), 50.0, kTolerance);
  EXPECT_EQ(language_of(lareqa, "de").unanswered, 1u);
  EXPECT_NEAR(*lareqa.summary.avg_metric, (5.0 / 6 + 1) / 3 * 100, kTolerance);

  // Every task is incomplete: no group, no all_task, and the notes say why.
  EXPECT_TRUE(report.overall.groups.empty());
  EXPECT_FALSE(report.overall.all_task.has_value());
  EXPECT_THAT(report.notes, Contains(HasSubstr("xnli: 2 of 15 languages (missing bg de el")));
}

TEST_F(ScorerTest, PerExampleScoresAverageToTheHeadline) {
  label("xnli", "ar", "entailment\nneutral\ncontradiction\nneutral\n");
  prediction("xnli", "ar", "entailment\nneutral\nneutral\nneutral\n");
  label("xcopa", "zh", "{\"label\": 1}\n{\"label\": 0}\n");
  prediction("xcopa", "zh", "{\"label\": 1}\n{\"label\": 1}\n");
  label("xquad", "zh",
        R"({"data": [{"paragraphs": [{"context": "北京 上海", "qas": [)"
        R"({"id": "z1", "answers": [{"text": "北京", "answer_start": 0}]},)"
        R"({"id": "z2", "answers": [{"text": "上海", "answer_start": 3}]}]}]}]})");
  prediction("xquad", "zh", R"({"z1": "北京"})");
  label("mlqa", "zh",
        R"({"data": [{"paragraphs": [{"context": "北京大学", "qas": [)"
        R"({"id": "m1", "answers": [{"text": "北京大学", "answer_start": 0}]}]}]}]})");
  prediction("mlqa", "zh", R"({"m1": "北京"})");
  label("mewslix", "ja", R"({"a": ["Q1"], "b": ["Q2"]})");
  prediction("mewslix", "ja", R"({"a": ["Q3", "Q1"], "c": ["Q2"]})");
  label("lareqa", "en", R"({"q1": ["s1", "s2"], "q2": ["s3"]})");
  prediction("lareqa", "en", R"({"q1": ["s2", "x", "s1"]})");
  label("panx", "ja", "B-PER\nO\n");
  prediction("panx", "ja", "B-PER\nO\n");
  label("bucc2018", "de", "de-1\ten-1\n");
  prediction("bucc2018", "de", "de-1\ten-1\n");
  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  const auto examples = [&](const std::string& task, const std::string& language) {
    return language_of(task_of(report, task), language).example_scores;
  };
  const auto check = [&](const std::string& task, const std::string& language,
                         const std::vector<std::string>& ids, const std::vector<double>& scores) {
    SCOPED_TRACE(task + " " + language);
    const auto got = examples(task, language);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), ids.size());
    double sum = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ((*got)[i].id, ids[i]);
      EXPECT_NEAR((*got)[i].score, scores[i], kTolerance * 100);
      sum += (*got)[i].score;
    }
    EXPECT_NEAR(sum / static_cast<double>(ids.size()),
                language_of(task_of(report, task), language).headline, kTolerance * 100);
  };
  check("xnli", "ar", {"0", "1", "2", "3"}, {100, 100, 0, 100});
  check("xcopa", "zh", {"0", "1"}, {100, 0});
  check("xquad", "zh", {"z1", "z2"}, {100, 0});  // (EM + F1) / 2; z2 unanswered
  check("mlqa", "zh", {"m1"}, {100.0 / 3});      // EM 0, F1 66.67
  check("mewslix", "ja", {"a", "b"}, {50, 0});   // reciprocal rank; b unpredicted
  check("lareqa", "en", {"q1", "q2"}, {250.0 / 3, 0});
  // Corpus-level metrics have no per-example scores.
  EXPECT_FALSE(examples("panx", "ja").has_value());
  const ScoreReport xtreme = score_folders(predictions_, labels_, Benchmark::kXtreme);
  EXPECT_FALSE(language_of(task_of(xtreme, "bucc2018"), "de").example_scores.has_value());
}

TEST_F(ScorerTest, GroupsFromCompleteTasksOnly) {
  write_perfect_task(Benchmark::kXtremeR, "xnli");
  label("xnli", "ar", "entailment\nneutral\ncontradiction\nneutral\n");
  prediction("xnli", "ar", "entailment\nneutral\nneutral\nneutral\n");
  write_perfect_task(Benchmark::kXtremeR, "xcopa");
  label("xcopa", "zh", "{\"label\": 0}\n{\"label\": 1}\n");
  prediction("xcopa", "zh", "{\"label\": 0}\n{\"label\": 0}\n");
  // An incomplete tagging task does not make a tagging group.
  write_perfect("udpos", "ta");
  write_perfect_task(Benchmark::kXtremeR, "panx");

  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  const double xnli = (75.0 + 14 * 100) / 15;
  const double xcopa = (50.0 + 10 * 100) / 11;
  EXPECT_NEAR(*task_of(report, "xnli").summary.avg_metric, xnli, kTolerance);
  EXPECT_NEAR(*task_of(report, "xcopa").summary.avg_metric, xcopa, kTolerance);
  ASSERT_EQ(report.overall.groups.size(), 2u);
  EXPECT_NEAR(group_of(report, "classification"), (xnli + xcopa) / 2, kTolerance);
  EXPECT_NEAR(group_of(report, "multi_choice"), xcopa, kTolerance);
  EXPECT_FALSE(report.overall.all_task.has_value());
  EXPECT_THAT(report.notes, Contains(HasSubstr("udpos: 1 of 38 languages")));
}

TEST_F(ScorerTest, AllTaskOfXtremeIsTheMeanOverItsNineTasks) {
  for (const std::string& task : metrics::benchmark_tasks(Benchmark::kXtreme))
    write_perfect_task(Benchmark::kXtreme, task);
  label("xnli", "ar", "entailment\nneutral\ncontradiction\nneutral\n");
  prediction("xnli", "ar", "entailment\nneutral\nneutral\nneutral\n");

  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtreme);
  ASSERT_EQ(report.tasks.size(), 9u);
  const double xnli = (75.0 + 14 * 100) / 15;
  ASSERT_TRUE(report.overall.all_task.has_value());
  EXPECT_NEAR(*report.overall.all_task, (xnli + 8 * 100) / 9, kTolerance);
  EXPECT_NEAR(group_of(report, "classification"), (100 + xnli) / 2, kTolerance);
  EXPECT_NEAR(group_of(report, "retrieval"), 100.0, kTolerance);
  EXPECT_NEAR(group_of(report, "qa"), 100.0, kTolerance);
  EXPECT_EQ(report.overall.groups.size(), 4u);
  EXPECT_TRUE(report.notes.empty());
}

TEST_F(ScorerTest, AllTaskOfXtremeRNeedsLareqa) {
  for (const std::string& task : metrics::benchmark_tasks(Benchmark::kXtremeR))
    if (task != "lareqa") write_perfect_task(Benchmark::kXtremeR, task);
  EXPECT_FALSE(score_folders(predictions_, labels_, Benchmark::kXtremeR).overall.all_task);
  write_perfect_task(Benchmark::kXtremeR, "lareqa");
  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  EXPECT_EQ(report.tasks.size(), 10u);
  ASSERT_TRUE(report.overall.all_task.has_value());
  EXPECT_NEAR(*report.overall.all_task, 100.0, kTolerance);
  EXPECT_EQ(report.overall.groups.size(), 5u);
}

TEST_F(ScorerTest, UnmatchedAndIgnoredFilesAreReported) {
  write_perfect("xnli", "ar");
  const std::string orphan_prediction = prediction("xnli", "bg", "neutral\n");
  const std::string orphan_label = label("xnli", "de", "neutral\n");
  write(predictions_, "xnli", "notes.txt", "");
  write_perfect("udpos", "en");
  write(predictions_, "udpos", "test-lt.tsv", "O\n");  // lt: XTREME-R only
  write(labels_, "udpos", "test-lt.tsv", "O\n");
  write(predictions_, "pawsx", "test-de.tsv", "1\n");  // no labels folder
  fs::create_directories(labels_ + "/mystery");

  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtreme);
  EXPECT_EQ(report.tasks.size(), 2u);
  const auto& notes = report.notes;
  EXPECT_THAT(notes,
              Contains(orphan_prediction + ": no label file " + labels_ + "/xnli/test-bg.tsv"));
  EXPECT_THAT(
      notes, Contains(orphan_label + ": no prediction file " + predictions_ + "/xnli/test-de.tsv"));
  EXPECT_THAT(notes, Contains("ignored " + predictions_ +
                              "/xnli/notes.txt: expected test-<lang>.tsv of a xnli language"));
  EXPECT_THAT(notes, Contains("ignored " + predictions_ +
                              "/udpos/test-lt.tsv: xtreme does not score udpos in lt"));
  EXPECT_THAT(notes, Contains(predictions_ + "/pawsx: no labels folder " + labels_ +
                              "/pawsx; pawsx not scored"));
  EXPECT_THAT(notes, Contains("ignored " + labels_ + "/mystery: not a task folder of xtreme"));
  // Under XTREME-R, lt is a UD-POS language and PAWS-X is no task.
  const ScoreReport r = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  EXPECT_EQ(task_of(r, "udpos").languages.size(), 2u);
  EXPECT_THAT(r.notes,
              Contains("ignored " + predictions_ + "/pawsx: not a task folder of xtreme-r"));
}

TEST_F(ScorerTest, UnequalCountsNameBothFiles) {
  const std::string p = prediction("xnli", "th", "neutral\nneutral\n");
  const std::string l = label("xnli", "th", "neutral\nneutral\nentailment\n");
  EXPECT_EQ(error_of([&] { score_folders(predictions_, labels_, Benchmark::kXtremeR); }),
            "unequal numbers of lines: 2 in " + p + ", 3 in " + l);
}

TEST_F(ScorerTest, UnequalSentencesAndTagsNameBothFiles) {
  const std::string p = prediction("panx", "ka", "O\n\nO\n");
  const std::string l = label("panx", "ka", "O\n");
  EXPECT_EQ(error_of([&] { score_folders(predictions_, labels_, Benchmark::kXtremeR); }),
            "unequal numbers of sentences: 2 in " + p + ", 1 in " + l);
  prediction("panx", "ka", "O\nO\n");
  const std::string error =
      error_of([&] { score_folders(predictions_, labels_, Benchmark::kXtremeR); });
  EXPECT_THAT(error, HasSubstr(p + " against " + l + ": "));
}

TEST_F(ScorerTest, MalformedFilesNameTheFile) {
  const std::string gold = label("tydiqa", "bn", R"({"data": [{"paragraphs": [{"qas": [{}]}]}]})");
  prediction("tydiqa", "bn", "{}");
  EXPECT_THAT(error_of([&] { score_folders(predictions_, labels_, Benchmark::kXtremeR); }),
              HasSubstr(gold + ":data[0].paragraphs[0].qas[0].id: missing"));
  fs::remove_all(labels_ + "/tydiqa");
  fs::remove_all(predictions_ + "/tydiqa");
  const std::string bad = prediction("xcopa", "qu", "{\"label\": 1}\nnot json\n");
  label("xcopa", "qu", "{\"label\": 1}\n{\"label\": 0}\n");
  EXPECT_THAT(error_of([&] { score_folders(predictions_, labels_, Benchmark::kXtremeR); }),
              HasSubstr(bad + ":2: expected a JSON object"));
  EXPECT_THAT(error_of([&] { score_folders(root_ + "/none", labels_, Benchmark::kXtremeR); }),
              HasSubstr("predictions folder " + root_ + "/none does not exist"));
}

TEST_F(ScorerTest, TextAndJsonReports) {
  write_perfect_task(Benchmark::kXtremeR, "xnli");
  label("xnli", "ar", "entailment\nneutral\ncontradiction\nneutral\n");
  prediction("xnli", "ar", "entailment\nneutral\nneutral\nneutral\n");
  write_perfect_task(Benchmark::kXtremeR, "xcopa");
  label("xquad", "zh",
        R"({"data": [{"paragraphs": [{"context": "北京", "qas": [)"
        R"({"id": "z1", "answers": [{"text": "北京", "answer_start": 0}]},)"
        R"({"id": "z2", "answers": [{"text": "北京", "answer_start": 0}]}]}]}]})");
  prediction("xquad", "zh", R"({"z1": "北京"})");

  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kXtremeR);
  const std::string text = text_report(report);
  EXPECT_THAT(text, HasSubstr("xnli: accuracy, 15 of 15 languages\n"));
  EXPECT_THAT(text, HasSubstr("  ar  Arabic          accuracy 75.00\n"));
  EXPECT_THAT(text, HasSubstr("  mean                accuracy 98.33  metric 98.33\n"));
  EXPECT_THAT(text, HasSubstr("  zh  Chinese         exact_match 50.00  f1 50.00  metric 50.00  "
                              "(1 of 2 unanswered, scored 0)\n"));
  EXPECT_THAT(text, HasSubstr("(incomplete)"));
  EXPECT_THAT(text, HasSubstr("groups\n  classification   99.17\n  multi_choice     100.00\n"));
  EXPECT_THAT(text, HasSubstr("all_task: not computed"));
  EXPECT_THAT(text, HasSubstr("xquad: 1 of 12 languages (missing en es de"));

  const nlohmann::json json = json_report(report);
  EXPECT_EQ(json["benchmark"], "xtreme-r");
  EXPECT_NEAR(json["tasks"]["xnli"]["languages"]["ar"]["accuracy"].get<double>(), 75.0, kTolerance);
  EXPECT_NEAR(json["tasks"]["xnli"]["avg_metric"].get<double>(), (75.0 + 1400) / 15, kTolerance);
  EXPECT_EQ(json["tasks"]["xnli"]["complete"], true);
  EXPECT_EQ(json["tasks"]["xquad"]["complete"], false);
  EXPECT_EQ(json["tasks"]["xquad"]["languages"]["zh"]["unanswered"], 1);
  EXPECT_NEAR(json["groups"]["classification"].get<double>(), ((75.0 + 1400) / 15 + 100) / 2,
              kTolerance);
  EXPECT_TRUE(json["all_task"].is_null());
  EXPECT_EQ(json["notes"].size(), 1u);
}

TEST_F(ScorerTest, UdhrTasksAreScoredByAccuracy) {
  // udhr-article: 2 of 4 articles right in sw; udhr-align: 1 of 2 English paragraphs in zh;
  // udhr-pairs: 2 of 3 pairs right in sw.
  label("udhr-article", "sw", "0\n1\n30\n12\n");
  prediction("udhr-article", "sw", "0\n2\n30\n21\n");
  label("udhr-article", "en", "0\n1\n");
  prediction("udhr-article", "en", "0\n1\n");
  label("udhr-align", "zh", "0\n2\n");
  prediction("udhr-align", "zh", "0\n3\n");
  label("udhr-pairs", "sw", "same\ndifferent\ndifferent\n");
  prediction("udhr-pairs", "sw", "same\nsame\ndifferent\n");
  // An XTREME task's folder is none of the UDHR benchmark's.
  write_perfect("xnli", "en");
  const ScoreReport report = score_folders(predictions_, labels_, Benchmark::kUdhr);
  ASSERT_EQ(report.tasks.size(), 3u);
  EXPECT_NEAR(language_of(task_of(report, "udhr-pairs"), "sw").headline, 200.0 / 3, kTolerance);
  const ScoredTask& article = task_of(report, "udhr-article");
  EXPECT_EQ(article.headline_metric, "accuracy");
  EXPECT_NEAR(language_of(article, "sw").headline, 50.0, kTolerance);
  EXPECT_EQ(language_of(article, "sw").examples, 4u);
  EXPECT_NEAR(*article.summary.avg_metric, 75.0, kTolerance);
  EXPECT_EQ(article.missing_languages.size(), 48u);
  const ScoredTask& align = task_of(report, "udhr-align");
  EXPECT_NEAR(language_of(align, "zh").scores.metrics.at("accuracy"), 50.0, kTolerance);
  EXPECT_EQ(align.missing_languages.size(), 48u);
  EXPECT_FALSE(report.overall.all_task);
  EXPECT_THAT(report.notes, Contains(HasSubstr("not a task folder of udhr")));
}

TEST(ScorerNames, VersionsAndExtensions) {
  EXPECT_EQ(parse_benchmark("xtreme"), Benchmark::kXtreme);
  EXPECT_EQ(parse_benchmark("xtreme-r"), Benchmark::kXtremeR);
  EXPECT_EQ(parse_benchmark("udhr"), Benchmark::kUdhr);
  EXPECT_EQ(benchmark_name(Benchmark::kUdhr), "udhr");
  EXPECT_THAT(
      error_of([] { parse_benchmark("xtreme-s"); }),
      HasSubstr(
          "unknown XTREME version 'xtreme-s' (expected xtreme, xtreme-r, udhr or synthetic)"));
  EXPECT_EQ(task_file_extension("udhr-article"), "tsv");
  EXPECT_EQ(task_file_extension("udhr-align"), "tsv");
  EXPECT_EQ(task_file_extension("mlqa"), "json");
  EXPECT_EQ(task_file_extension("mewslix"), "json");
  EXPECT_EQ(task_file_extension("xcopa"), "jsonl");
  EXPECT_EQ(task_file_extension("bucc2018"), "tsv");
  EXPECT_EQ(task_file_extension("udpos"), "tsv");
  EXPECT_THAT(error_of([] { task_file_extension("squad"); }),
              HasSubstr("unknown task 'squad'; supported: xnli, pawsx"));
  EXPECT_THAT(benchmark_choices(),
              HasSubstr("xtreme (pawsx, xnli, panx, udpos, bucc2018, tatoeba, xquad, mlqa, "
                        "tydiqa), xtreme-r (xnli, panx, udpos, tatoeba, xcopa, lareqa, mewslix, "
                        "xquad, mlqa, tydiqa), udhr (udhr-article, udhr-pairs, udhr-align) or "
                        "synthetic (synth-topic, synth-object, synth-align)"));
}

}  // namespace
}  // namespace stilts::experiments
