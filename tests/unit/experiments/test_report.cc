// stilts report's computation (experiments/report.h, bootstrap.h, report_plots.h) on runs folders
// the tests write: exact means, standard deviations, gains and the relative gain, families from
// experiments/languages.tsv, the bootstrap interval's properties and determinism, and the
// refusals naming the file and field (gnuplot itself runs in tests/e2e/report.sh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/params.h"
#include "data/corpus_writer.h"
#include "data/tasks.h"
#include "experiments/bootstrap.h"
#include "experiments/published_scores.h"
#include "experiments/report.h"
#include "experiments/report_plots.h"
#include "tests/tolerance.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ReportRuns : public ::testing::Test {
 protected:
  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  // A run folder with run.json and the summaries of the given tasks.
  void add_run(const std::string& id, const std::string& model, const std::string& regime, int seed,
               const std::map<std::string, std::map<std::string, double>>& tasks,
               const std::string& target = "xnli") {
    write(dir_ / id / "run.json",
          json{{"model", model}, {"regime", regime}, {"task", target}, {"seed", seed}}.dump());
    for (const auto& [task, scores] : tasks)
      write(dir_ / id / "eval" / task / "summary.json", json{{"task", task},
                                                             {"headline_metric", "accuracy"},
                                                             {"languages", scores},
                                                             {"mean", nullptr},
                                                             {"families", json::array()}}
                                                            .dump());
  }
  Report build(const ReportOptions& options = {}) {
    return build_report(load_runs(dir_.string()), options);
  }

  const TempDir scratch_;
  const fs::path dir_{scratch_.path()};
};

// "n1", "m2": built by appending, which GCC 12's -Wrestrict does not misread as "x" + string does.
std::string run_id(char prefix, int seed) {
  std::string id(1, prefix);
  id += std::to_string(seed);
  return id;
}

const ReportRow& row_of(const std::vector<ReportRow>& rows, const std::string& family,
                        const std::string& language = "") {
  for (const ReportRow& row : rows)
    if (row.family == family && row.language == language) return row;
  throw std::runtime_error("no row " + family + "/" + language);
}

TEST(ReportBootstrap, MeanSdAndQuantiles) {
  EXPECT_DOUBLE_EQ(mean_of({1.0, 2.0, 6.0}), 3.0);
  EXPECT_DOUBLE_EQ(*sample_sd({1.0, 2.0, 6.0}), std::sqrt(7.0));  // (4 + 1 + 9) / 2
  EXPECT_FALSE(sample_sd({4.0}).has_value());
  // Type 7: position q (n - 1).
  EXPECT_DOUBLE_EQ(quantile_of_sorted({1.0, 2.0, 3.0, 4.0}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_of_sorted({1.0, 2.0, 3.0, 4.0}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile_of_sorted({1.0, 2.0, 3.0, 4.0}, 0.0), 1.0);
}

TEST(ReportBootstrap, IntervalProperties) {
  const BootstrapOptions options{2000, 0.9, 7};
  const std::vector<double> values = {60.0, 61.5, 63.0, 66.0, 64.0};
  const Interval ci = *bootstrap_mean_interval(values, options, "k");
  const double mean = mean_of(values);
  EXPECT_LT(ci.low, mean);
  EXPECT_GT(ci.high, mean);
  EXPECT_GE(ci.low, 60.0);
  EXPECT_LE(ci.high, 66.0);
  // Deterministic for a seed and key; another seed draws other resamples.
  const Interval again = *bootstrap_mean_interval(values, options, "k");
  EXPECT_EQ(ci.low, again.low);
  EXPECT_EQ(ci.high, again.high);
  // Values whose resampled means are nearly all distinct, so the quantiles show the draws.
  const std::vector<double> irregular = {60.1, 61.37, 63.9, 66.2, 64.05, 59.3, 62.71, 65.5};
  const Interval first = *bootstrap_mean_interval(irregular, {101, 0.9, 7}, "k");
  const Interval other_seed = *bootstrap_mean_interval(irregular, {101, 0.9, 8}, "k");
  const Interval other_key = *bootstrap_mean_interval(irregular, {101, 0.9, 7}, "j");
  EXPECT_TRUE(other_seed.low != first.low || other_seed.high != first.high);
  EXPECT_TRUE(other_key.low != first.low || other_key.high != first.high);
  // A wider confidence never narrows the interval (same resamples).
  const Interval wide = *bootstrap_mean_interval(values, {2000, 0.99, 7}, "k");
  EXPECT_LE(wide.low, ci.low);
  EXPECT_GE(wide.high, ci.high);
  // Identical seeds: every resample has the same mean, the interval collapses.
  const Interval same = *bootstrap_mean_interval({5.25, 5.25, 5.25}, options, "k");
  EXPECT_EQ(same.low, mean_of({5.25, 5.25, 5.25}));
  EXPECT_EQ(same.high, same.low);
  // One seed has no spread to resample; a difference needs two seeds on each side.
  EXPECT_FALSE(bootstrap_mean_interval({5.0}, options, "k").has_value());
  EXPECT_FALSE(bootstrap_difference_interval({1.0, 2.0}, {3.0}, options, "k").has_value());
  const Interval difference =
      *bootstrap_difference_interval({10.0, 10.0}, {4.0, 4.0}, options, "k");
  EXPECT_EQ(difference.low, 6.0);
  EXPECT_EQ(difference.high, 6.0);
  EXPECT_THAT(error_of([&] {
                bootstrap_mean_interval(values, {0, 0.9, 0}, "k");
              }),
              HasSubstr("resamples must be at least 1"));
  EXPECT_THAT(error_of([&] {
                bootstrap_mean_interval(values, {10, 1.0, 0}, "k");
              }),
              HasSubstr("confidence must lie strictly between 0 and 1"));
}

TEST(Report, ModelsAreOrderedBySize) {
  EXPECT_THAT(order_models_by_size({"mt5-xxl", "mt5-large", "test-small", "mt5-small", "test-tiny",
                                    "mt5-xl", "mt5-base"}),
              ElementsAre("test-tiny", "test-small", "mt5-small", "mt5-base", "mt5-large", "mt5-xl",
                          "mt5-xxl"));
}

TEST_F(ReportRuns, ExactMeansGainsAndFamilies) {
  // en, de: Indo-European; ar: Afro-Asiatic; sw: Niger-Congo (experiments/languages.tsv).
  add_run("n1", "mt5-small", "none", 1, {{"xnli", {{"en", 80}, {"de", 70}, {"ar", 60}}}});
  add_run("n2", "mt5-small", "none", 2, {{"xnli", {{"en", 82}, {"de", 74}, {"ar", 62}}}});
  add_run("n3", "mt5-small", "none", 3, {{"xnli", {{"en", 84}, {"de", 72}, {"ar", 64}}}});
  add_run("e1", "mt5-small", "english", 1, {{"xnli", {{"en", 81}, {"de", 71}, {"ar", 61}}}});
  add_run("e2", "mt5-small", "english", 2, {{"xnli", {{"en", 83}, {"de", 75}, {"ar", 63}}}});
  add_run("m1", "mt5-small", "multilingual", 1, {{"xnli", {{"en", 82}, {"de", 76}, {"ar", 66}}}});
  // The second multilingual seed lacks de: its all-language score is ar's alone.
  add_run("m2", "mt5-small", "multilingual", 2, {{"xnli", {{"en", 84}, {"ar", 68}}}});
  const Report report = build();
  ASSERT_EQ(report.tasks.size(), 1u);
  const TaskSection& task = report.tasks[0];
  EXPECT_EQ(task.task, "xnli");
  EXPECT_EQ(task.headline_metric, "accuracy");
  EXPECT_TRUE(task.target);
  ASSERT_EQ(task.models.size(), 1u);
  const ModelSection& model = task.models[0];
  EXPECT_THAT(model.seeds.at("none"), ElementsAre(1, 2, 3));
  std::vector<std::string> families;
  for (const ReportRow& row : model.groups) families.push_back(row.family);
  EXPECT_THAT(families, ElementsAre("all", "Afro-Asiatic", "Indo-European"));

  // English, the source language, is in no group: all is over de and ar, per seed none 65, 68,
  // 68; english 66, 69; multilingual 71, 68 (ar alone). Indo-European is de alone.
  EXPECT_TRUE(model.english_left_out);
  const ReportRow& all = row_of(model.groups, "all");
  const RegimeCell& none = *all.cell("none");
  EXPECT_EQ(none.score.n, 3);
  EXPECT_DOUBLE_EQ(none.score.mean, 67.0);
  EXPECT_DOUBLE_EQ(*none.score.sd, std::sqrt(3.0));  // (4 + 1 + 1) / 2
  EXPECT_FALSE(none.gain.has_value());
  const RegimeCell& english = *all.cell("english");
  EXPECT_DOUBLE_EQ(english.score.mean, 67.5);
  EXPECT_DOUBLE_EQ(*english.gain, 0.5);
  const RegimeCell& multilingual = *all.cell("multilingual");
  EXPECT_DOUBLE_EQ(multilingual.score.mean, 69.5);
  EXPECT_DOUBLE_EQ(*multilingual.gain, 2.5);
  EXPECT_DOUBLE_EQ(*all.multilingual_minus_english, 2.0);
  EXPECT_DOUBLE_EQ(*all.relative_gain, (2.5 - 0.5) / 0.5);
  // Intervals: inside the resampled means' range, around the point estimates.
  EXPECT_LE(none.score.ci->low, none.score.mean);
  EXPECT_GE(none.score.ci->high, none.score.mean);
  EXPECT_GE(none.score.ci->low, 65.0);
  EXPECT_LE(none.score.ci->high, 68.0);
  EXPECT_GE(multilingual.gain_ci->low, 68.0 - 68.0);
  EXPECT_LE(multilingual.gain_ci->high, 71.0 - 65.0);
  const ReportRow& ie = row_of(model.groups, "Indo-European");
  EXPECT_DOUBLE_EQ(ie.cell("none")->score.mean, 72.0);
  EXPECT_EQ(ie.cell("multilingual")->score.n, 1);
  // English keeps its own row among the languages.
  EXPECT_DOUBLE_EQ(row_of(model.languages, "Indo-European", "en").cell("none")->score.mean, 82.0);

  // A language row: ar over seeds, multilingual 67 against none 62; English gain 0.
  const ReportRow& ar = row_of(model.languages, "Afro-Asiatic", "ar");
  EXPECT_DOUBLE_EQ(*ar.cell("multilingual")->gain, 5.0);
  EXPECT_DOUBLE_EQ(*ar.cell("english")->gain, 0.0);
  EXPECT_DOUBLE_EQ(*ar.multilingual_minus_english, 5.0);
  EXPECT_FALSE(ar.relative_gain.has_value());  // undefined over a zero English gain
  // de exists in one multilingual seed only: n=1, no spread, no interval.
  const RegimeCell& de = *row_of(model.languages, "Indo-European", "de").cell("multilingual");
  EXPECT_EQ(de.score.n, 1);
  EXPECT_FALSE(de.score.sd.has_value());
  EXPECT_FALSE(de.score.ci.has_value());
  EXPECT_FALSE(de.gain_ci.has_value());
  EXPECT_DOUBLE_EQ(*de.gain, 76.0 - 72.0);

  std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("76.00 (n=1, no interval)"));
  EXPECT_THAT(md, HasSubstr("| all (non-English) | 67.00 ± 1.73"));
  EXPECT_EQ(md.rfind("# stilts report\n\nRuns from `", 0), 0u);
  EXPECT_THAT(md, HasSubstr("| xnli | mt5-small | none | 1, 2, 3 | n1, n2, n3 |"));
  EXPECT_THAT(md, HasSubstr("the runs of multilingual seed 2 lack some of the task's languages"));
  // The notes open the report, one paragraph each, before the list of runs.
  Report noted = report;
  noted.options.notes = {"**Small runs.** Read with care.", "Second paragraph."};
  md = report_markdown(noted);
  EXPECT_EQ(md.rfind("# stilts report\n\n**Small runs.** Read with care.\n\nSecond paragraph.\n\n"
                     "Runs from `",
                     0),
            0u);
  const std::string csv = report_csv(report);
  EXPECT_THAT(csv, HasSubstr("xnli,mt5-small,all,,none,3,67.000000,1.732051,"));
  EXPECT_THAT(csv, HasSubstr("xnli,mt5-small,all,,multilingual-english,,,,,,2.000000,"));
  EXPECT_THAT(csv, HasSubstr(",4.000000\n"));  // the relative gain, last column
  EXPECT_THAT(
      csv, HasSubstr("xnli,mt5-small,Indo-European,de,multilingual,1,76.000000,,,,4.000000,,,\n"));
}

TEST_F(ReportRuns, IdenticalSeedsCollapseTheIntervals) {
  for (int seed : {1, 2, 3}) {
    add_run(run_id('n', seed), "test-tiny", "none", seed, {{"xnli", {{"sw", 40.5}}}});
    add_run(run_id('m', seed), "test-tiny", "multilingual", seed, {{"xnli", {{"sw", 43.0}}}});
  }
  const Report report = build();
  const ReportRow& sw = row_of(report.tasks[0].models[0].groups, "Niger-Congo");
  const RegimeCell& none = *sw.cell("none");
  EXPECT_DOUBLE_EQ(*none.score.sd, 0.0);
  EXPECT_EQ(none.score.ci->low, none.score.mean);
  EXPECT_EQ(none.score.ci->high, none.score.mean);
  const RegimeCell& multilingual = *sw.cell("multilingual");
  EXPECT_EQ(multilingual.gain_ci->low, 2.5);
  EXPECT_EQ(multilingual.gain_ci->high, 2.5);
}

TEST_F(ReportRuns, DeterministicForASeed) {
  for (int seed : {1, 2, 3, 4}) {
    add_run(run_id('n', seed), "mt5-small", "none", seed, {{"xnli", {{"en", 70.0 + seed * seed}}}});
    add_run(run_id('e', seed), "mt5-small", "english", seed, {{"xnli", {{"en", 72.0 + 3 * seed}}}});
  }
  ReportOptions options;
  options.bootstrap.seed = 3;
  EXPECT_EQ(report_csv(build(options)), report_csv(build(options)));
  ReportOptions other = options;
  other.bootstrap.seed = 4;
  EXPECT_NE(report_csv(build(options)), report_csv(build(other)));
}

TEST_F(ReportRuns, ModelsBySizeRetrievalOnceAndMissingBaseline) {
  // tatoeba after the same intermediate stage in two runs of different target tasks: one
  // observation for the seed, each language averaged over them.
  add_run("x", "mt5-base", "english", 1, {{"xnli", {{"en", 80}}}, {"tatoeba", {{"de", 40}}}});
  add_run("p", "mt5-base", "english", 1, {{"pawsx", {{"en", 90}}}, {"tatoeba", {{"de", 44}}}},
          "pawsx");
  add_run("s", "mt5-small", "english", 1, {{"xnli", {{"en", 70}}}});
  const Report report = build();
  std::vector<std::string> tasks;
  for (const TaskSection& t : report.tasks) tasks.push_back(t.task);
  EXPECT_THAT(tasks, ElementsAre("pawsx", "tatoeba", "xnli"));
  const TaskSection& tatoeba = report.tasks[1];
  EXPECT_FALSE(tatoeba.target);
  const RegimeCell& de =
      *row_of(tatoeba.models[0].languages, "Indo-European", "de").cell("english");
  EXPECT_EQ(de.score.n, 1);
  EXPECT_DOUBLE_EQ(de.score.mean, 42.0);
  const TaskSection& xnli = report.tasks[2];
  ASSERT_EQ(xnli.models.size(), 2u);
  EXPECT_EQ(xnli.models[0].model, "mt5-small");
  EXPECT_EQ(xnli.models[1].model, "mt5-base");
  EXPECT_FALSE(xnli.models[0].groups[0].cell("english")->gain.has_value());
  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("task xnli, mt5-small: no run of the baseline regime 'none'"));
  EXPECT_THAT(md, HasSubstr("task tatoeba is no run's target task"));
  // Without a baseline no gain figure has a value; the heat maps are still drawn.
  const PlotSet plots = write_plot_files(report, (dir_ / "plots").string());
  EXPECT_TRUE(plots.figures.size() == 4u);  // a heat map per task and model
  EXPECT_THAT(plots.notes.at(0), HasSubstr("gain-pawsx-english: not drawn"));
  EXPECT_TRUE(fs::exists(dir_ / "plots" / "heatmap-xnli-mt5-base.dat"));
  EXPECT_TRUE(fs::exists(dir_ / "plots" / "plots.gp"));
}

TEST_F(ReportRuns, PlotDataFiles) {
  // English (gain 7) is in no group's mean: Indo-European is de's gain alone.
  add_run("n", "test-tiny", "none", 1, {{"xnli", {{"en", 50}, {"ar", 40}, {"de", 60}}}});
  add_run("m", "test-tiny", "multilingual", 1, {{"xnli", {{"en", 57}, {"ar", 41}, {"de", 63}}}});
  const PlotSet plots = write_plot_files(build(), (dir_ / "plots").string());
  ASSERT_EQ(plots.figures.size(), 2u);
  EXPECT_EQ(plots.figures[0].stem, "gain-xnli-multilingual");
  EXPECT_EQ(plots.figures[1].stem, "heatmap-xnli-test-tiny");
  std::ifstream gain(dir_ / "plots" / "gain-xnli-multilingual.dat");
  std::string header, line;
  std::getline(gain, header);
  std::getline(gain, line);
  EXPECT_EQ(header, "\"model\" \"all\" \"Afro-Asiatic\" \"Indo-European\"");
  EXPECT_EQ(line, "\"test-tiny\" 2 1 3");
  std::ifstream script(plots.script);
  const std::string text((std::istreambuf_iterator<char>(script)), {});
  EXPECT_THAT(text, HasSubstr("set output 'gain-xnli-multilingual.svg'"));
  EXPECT_THAT(text, HasSubstr("set output 'heatmap-xnli-test-tiny.png'"));
}

TEST_F(ReportRuns, NotesForFoldersWithoutRunsAndEvalSideFolders) {
  add_run("a", "test-tiny", "none", 1, {{"xnli", {{"en", 50}}}});
  fs::create_directories(dir_ / "a" / "eval" / "predictions" / "xnli");
  fs::create_directories(dir_ / "a" / "eval" / "labels" / "xnli");
  fs::create_directories(dir_ / "notes");
  write(dir_ / "b" / "run.json",
        R"({"model": "test-tiny", "regime": "none", "task": "x", "seed": 2})");
  fs::create_directories(dir_ / "report");
  const LoadedRuns loaded = load_runs(dir_.string(), (dir_ / "report").string());
  ASSERT_EQ(loaded.runs.size(), 1u);
  EXPECT_THAT(loaded.runs[0].evaluations.size(), 1u);
  ASSERT_EQ(loaded.notes.size(), 2u);
  EXPECT_THAT(loaded.notes[0], HasSubstr("/b: no evaluated task under eval/ yet"));
  EXPECT_THAT(loaded.notes[1], HasSubstr("/notes: no run.json, left out"));
}

TEST_F(ReportRuns, ErrorsNameTheFileAndField) {
  const std::string run_json = (dir_ / "r" / "run.json").string();
  auto error_with = [&](const std::string& text) {
    write(run_json, text);
    return error_of([&] { load_runs(dir_.string()); });
  };
  EXPECT_THAT(error_with(R"({"regime": "none", "task": "xnli", "seed": 1})"),
              HasSubstr(run_json + ": field 'model': missing"));
  EXPECT_THAT(error_with(R"({"model": "mt5-huge", "regime": "none", "task": "xnli", "seed": 1})"),
              HasSubstr(run_json + ": field 'model': unknown model preset 'mt5-huge'"));
  EXPECT_THAT(error_with(R"({"model": "mt5-small", "regime": 3, "task": "xnli", "seed": 1})"),
              HasSubstr(run_json + ": field 'regime': expected a non-empty string, got 3"));
  EXPECT_THAT(error_with(R"({"model": "mt5-small", "regime": "none", "task": "", "seed": 1})"),
              HasSubstr(run_json + ": field 'task': expected a non-empty string"));
  EXPECT_THAT(error_with(R"({"model": "mt5-small", "regime": "none", "task": "x", "seed": 1.5})"),
              HasSubstr(run_json + ": field 'seed': expected an integer, got 1.5"));
  EXPECT_THAT(error_with("[1, 2]"), HasSubstr(run_json + ": expected a JSON object"));
  EXPECT_THAT(error_with("{"), HasSubstr(run_json + ": not valid JSON"));

  write(run_json, R"({"model": "mt5-small", "regime": "none", "task": "xnli", "seed": 1})");
  const fs::path summary = dir_ / "r" / "eval" / "xnli" / "summary.json";
  fs::create_directories(summary.parent_path());
  EXPECT_THAT(error_of([&] { load_runs(dir_.string()); }),
              HasSubstr(summary.string() + ": missing"));
  write(summary.string(),
        R"({"task": "xnli", "headline_metric": "accuracy", "languages": {"en": "x"}})");
  EXPECT_THAT(error_of([&] { load_runs(dir_.string()); }),
              HasSubstr(summary.string() + ": field 'languages.en': expected a number"));
  write(summary.string(), R"({"task": "pawsx", "headline_metric": "accuracy", "languages": {}})");
  EXPECT_THAT(error_of([&] { load_runs(dir_.string()); }),
              HasSubstr(summary.string() + ": field 'task': names 'pawsx'"));
  write(summary.string(), R"({"task": "xnli", "headline_metric": "accuracy", "languages": {}})");
  write((dir_ / "s" / "run.json").string(),
        R"({"model": "mt5-small", "regime": "none", "task": "xnli", "seed": 1})");
  EXPECT_THAT(error_of([&] { load_runs(dir_.string()); }),
              HasSubstr((dir_ / "s" / "run.json").string() +
                        " repeats the model, regime, task and seed of " + run_json));
  EXPECT_THAT(error_of([&] {
                ReportOptions options;
                options.baseline = "bilingual";
                build_report(LoadedRuns{}, options);
              }),
              HasSubstr("baseline regime 'bilingual'"));
}

TEST(PublishedScores, TheMt5ZeroShotTable) {
  EXPECT_EQ(published_zero_shot_scores().size(), 6u * 5u);  // six tasks, five sizes
  EXPECT_DOUBLE_EQ(published_zero_shot("xnli", "mt5-small")->score, 67.5);
  EXPECT_DOUBLE_EQ(published_zero_shot("xnli", "mt5-large")->score, 81.1);
  EXPECT_DOUBLE_EQ(published_zero_shot("pawsx", "mt5-base")->score, 86.4);
  EXPECT_DOUBLE_EQ(published_zero_shot("panx", "mt5-xl")->score, 65.5);
  EXPECT_DOUBLE_EQ(published_zero_shot("mlqa", "mt5-large")->score, 71.2);
  EXPECT_DOUBLE_EQ(published_zero_shot("tydiqa", "mt5-xxl")->score, 82.0);
  EXPECT_EQ(published_zero_shot("xquad", "mt5-small")->metric, "f1");
  EXPECT_EQ(published_zero_shot("xnli", "mt5-small")->metric, "accuracy");
  EXPECT_FALSE(published_zero_shot("udpos", "mt5-small").has_value());
  EXPECT_FALSE(published_zero_shot("xnli", "test-tiny").has_value());
}

TEST_F(ReportRuns, BaselineBesidePublishedScores) {
  add_run("n1", "mt5-small", "none", 1, {{"xnli", {{"en", 80}, {"de", 60}}}});
  add_run("n2", "mt5-small", "none", 2, {{"xnli", {{"en", 82}, {"de", 62}}}});
  // QA: the headline is (EM + F1) / 2; the comparison takes F1 from <lang>.json.
  add_run("q1", "mt5-small", "none", 1, {{"xquad", {{"en", 50}, {"de", 40}}}}, "xquad");
  write(dir_ / "q1" / "eval" / "xquad" / "en.json",
        R"({"metrics": {"f1": 60, "exact_match": 40}})");
  write(dir_ / "q1" / "eval" / "xquad" / "de.json",
        R"({"metrics": {"f1": 50, "exact_match": 30}})");
  // A model without a published score, and a QA run without per-language metrics.
  add_run("t1", "test-tiny", "none", 1, {{"xnli", {{"en", 50}}}});
  add_run("b1", "mt5-base", "none", 1, {{"xquad", {{"en", 50}}}}, "xquad");
  const Report report = build();
  ASSERT_EQ(report.published.size(), 3u);
  // By task, then model size.
  const PublishedComparison& xnli = report.published[0];
  EXPECT_EQ(xnli.task, "xnli");
  EXPECT_EQ(xnli.model, "mt5-small");
  EXPECT_DOUBLE_EQ(xnli.published, 67.5);
  EXPECT_DOUBLE_EQ(*xnli.ours, 71.0);  // seeds 70 and 72
  EXPECT_EQ(xnli.seeds, 2);
  EXPECT_EQ(xnli.languages, 2u);
  EXPECT_EQ(xnli.task_languages, data::task_evaluation("xnli").languages().size());
  const PublishedComparison& xquad_base = report.published[2];
  EXPECT_EQ(xquad_base.model, "mt5-base");
  EXPECT_FALSE(xquad_base.ours.has_value());
  EXPECT_EQ(xquad_base.seeds, 1);
  const PublishedComparison& xquad = report.published[1];
  EXPECT_EQ(xquad.metric, "f1");
  EXPECT_DOUBLE_EQ(xquad.published, 58.1);
  EXPECT_DOUBLE_EQ(*xquad.ours, 55.0);
  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("## Baseline against published mT5 zero-shot scores"));
  EXPECT_THAT(md, HasSubstr(kPublishedScoresSource));
  EXPECT_THAT(md, HasSubstr("| xnli | mt5-small | accuracy | 67.5 | 71.00 | +3.50 | 2 | 2 of " +
                            std::to_string(xnli.task_languages) + " |"));
  EXPECT_THAT(md, HasSubstr("| xquad | mt5-small | f1 | 58.1 | 55.00 | -3.10 | 1 | 2 of " +
                            std::to_string(xquad.task_languages) + " |"));
  EXPECT_THAT(md, HasSubstr("| xquad | mt5-base | f1 | 67.0 | - (no f1 in the results) | - |"));
}

// The transfer tables (Roadmap 8): ML - EN per size, its interaction and slope per family and
// pooled, English left out, families of one or two languages flagged, languages in and out of
// the multilingual mix, a target task whose training set is also an intermediate task.
constexpr double kF64Epsilon = std::numeric_limits<double>::epsilon();
using stilts::test::within_rounding;

class TransferRuns : public ReportRuns {
 protected:
  // A prepared corpus of one (task, language), as stilts prepare writes it.
  std::string corpus(const std::string& task, const std::string& lang) {
    const fs::path path = dir_ / "corpora" / (task + "-" + lang + ".h5");
    if (fs::exists(path)) return path.string();
    fs::create_directories(path.parent_path());
    data::CorpusWriter writer(path.string(), {task, lang, "train", 8, "x", 0, 1, 2});
    const std::vector<int32_t> tokens = {3, 1};
    writer.add(tokens, tokens, "0");
    writer.finish();
    return path.string();
  }
  // English-only and multilingual runs of two sizes, two seeds each, on `task` (trained on
  // `training_task`'s corpus): per language a base score b, English-only b + {0, 2} over the
  // seeds, multilingual b + d + {0, 2}, plus `base_shift` at mt5-base.
  void add_grid(bool with_examples, const std::string& task = "xnli",
                const std::string& training_task = "mnli", double base_shift = 0) {
    const std::map<std::string, double> base = {
        {"en", 85}, {"de", 70}, {"fr", 68}, {"ar", 60}, {"sw", 50}};
    const std::map<std::string, std::map<std::string, double>> d = {
        {"mt5-small", {{"en", 20}, {"de", 2}, {"fr", 2}, {"ar", 4}, {"sw", 0}}},
        {"mt5-base", {{"en", 20}, {"de", 3}, {"fr", 5}, {"ar", 8}, {"sw", 4}}}};
    const std::vector<std::string> english_mix = {corpus("mnli", "en")};
    const std::vector<std::string> multilingual_mix = {corpus("mnli", "en"), corpus("xnli", "de"),
                                                       corpus("xnli", "ar")};
    const std::vector<std::string> target = {corpus(training_task, "en")};
    for (const std::string model : {"mt5-small", "mt5-base"})
      for (const std::string regime : {"english", "multilingual"})
        for (int seed : {1, 2}) {
          const std::string id = task + "-" + model + "-" + regime + "-" + std::to_string(seed);
          const double shift = model == "mt5-base" ? base_shift : 0;
          std::map<std::string, double> scores;
          for (const auto& [lang, b] : base)
            scores[lang] =
                b + 2 * (seed - 1) + (regime == "multilingual" ? d.at(model).at(lang) + shift : 0);
          add_run(id, model, regime, seed, {{task, scores}}, task);
          json run = json::parse(std::ifstream(dir_ / id / "run.json"));
          run["intermediate_corpora"] = regime == "english" ? english_mix : multilingual_mix;
          run["target_corpora"] = target;
          write(dir_ / id / "run.json", run.dump());
          if (!with_examples) continue;
          // Two examples per language whose mean is the language's score.
          for (const auto& [lang, score] : scores) {
            std::ostringstream tsv;
            tsv << "id\tscore\nq1\t" << score - 10 << "\nq2\t" << score + 10 << "\n";
            write(dir_ / id / "eval" / task / (lang + ".examples.tsv"), tsv.str());
          }
        }
  }
  static const TransferGroup& group_of(const TransferTable& table, const std::string& name) {
    for (const TransferGroup& group : table.groups)
      if (group.group == name) return group;
    throw std::runtime_error("no group " + name);
  }
};

TEST_F(TransferRuns, DifferenceInteractionAndSlopePerFamily) {
  add_grid(false);
  ReportOptions options;
  options.bootstrap.resamples = 200;
  const Report report = build(options);
  ASSERT_EQ(report.transfer.size(), 1u);
  const TransferTable& table = report.transfer[0];
  EXPECT_EQ(table.task, "xnli");
  EXPECT_THAT(table.models, ElementsAre("mt5-small", "mt5-base"));
  // mnli trains the target task and is an intermediate task: the marker.
  EXPECT_THAT(table.also_intermediate, ElementsAre("mnli"));
  EXPECT_THAT(report.intermediate_tasks, ElementsAre("mnli", "xnli"));
  ASSERT_TRUE(report.seen_languages.has_value());
  EXPECT_THAT(*report.seen_languages, ElementsAre("ar", "de", "en"));
  std::vector<std::string> groups;
  for (const TransferGroup& group : table.groups) groups.push_back(group.group);
  EXPECT_THAT(groups,
              ElementsAre("all", "Afro-Asiatic", "Indo-European", "Niger-Congo", "seen", "unseen"));

  const double log_ratio = std::log(static_cast<double>(param_count(model_preset("mt5-base")))) -
                           std::log(static_cast<double>(param_count(model_preset("mt5-small"))));
  const auto check = [&](const std::string& name, const std::vector<std::string>& languages,
                         bool few, double small, double base, double english_small) {
    SCOPED_TRACE(name);
    const TransferGroup& group = group_of(table, name);
    EXPECT_EQ(group.languages, languages);  // English left out
    EXPECT_EQ(group.few_languages, few);
    ASSERT_TRUE(group.result.has_value()) << group.missing;
    const InteractionResult& r = *group.result;
    EXPECT_FALSE(r.per_example);
    ASSERT_EQ(r.sizes.size(), 2u);
    EXPECT_TRUE(within_rounding({r.sizes[0].difference.value, r.sizes[1].difference.value},
                                {small, base}, 64, kF64Epsilon, 100));
    EXPECT_TRUE(within_rounding({r.interaction.value, r.slope.value},
                                {base - small, (base - small) / log_ratio}, 64, kF64Epsilon, 100));
    EXPECT_TRUE(within_rounding({r.sizes[0].relative_gain->value}, {small / english_small}, 64,
                                kF64Epsilon, 100));
    EXPECT_TRUE(r.interaction.ci.has_value());
  };
  // Per language D: small de 2, fr 2, ar 4, sw 0; base 3, 5, 8, 4. English-only small: b + 1.
  check("all", {"ar", "de", "fr", "sw"}, false, 2.0, 5.0, (61 + 71 + 69 + 51) / 4.0);
  check("Indo-European", {"de", "fr"}, true, 2.0, 4.0, 70.0);
  check("Afro-Asiatic", {"ar"}, true, 4.0, 8.0, 61.0);
  check("seen", {"ar", "de"}, false, 3.0, 5.5, 66.0);
  check("unseen", {"fr", "sw"}, false, 1.0, 4.5, 60.0);

  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("### ML − EN across model sizes"));
  EXPECT_THAT(md, HasSubstr("**Target task also an intermediate task:** its training set (mnli)"));
  EXPECT_THAT(md, HasSubstr("| Afro-Asiatic | 1 ⚠ one language (ar) |"));
  EXPECT_THAT(md, HasSubstr("| Indo-European | 2 ⚠ two languages (de, fr) |"));
  EXPECT_THAT(md, HasSubstr("| seen (in the multilingual mix) | 2 (ar, de) |"));
  EXPECT_THAT(md, HasSubstr("| unseen (not in the mix) | 2 (fr, sw) |"));
  EXPECT_THAT(md, HasSubstr("Summaries only:"));
  EXPECT_THAT(md, HasSubstr("seeds, languages (summaries only)"));
  EXPECT_THAT(md, HasSubstr("Languages of the multilingual intermediate mix (from the corpora in "
                            "run.json): ar, de, en"));
  EXPECT_THAT(md, HasSubstr("relative to the English gain over none"));
  const std::string csv = transfer_csv(report);
  EXPECT_EQ(csv.rfind("task,group,n_languages,few_languages,statistic,model,value,ci_low,ci_high,"
                      "per_example\n",
                      0),
            0u);
  EXPECT_THAT(csv, HasSubstr("xnli,all,4,false,difference,mt5-small,2.000000,"));
  EXPECT_THAT(csv, HasSubstr("xnli,Afro-Asiatic,1,true,interaction,mt5-base-mt5-small,4.000000,"));

  // The forest plot of the interaction replaces the one-panel multilingual - english figure.
  const PlotSet plots = write_plot_files(report, (dir_ / "plots").string());
  std::vector<std::string> stems;
  for (const Figure& figure : plots.figures) stems.push_back(figure.stem);
  EXPECT_THAT(stems, ::testing::Contains("interaction-xnli"));
  EXPECT_THAT(stems, ::testing::Not(::testing::Contains("gain-xnli-multilingual-english")));
  std::ifstream forest(dir_ / "plots" / "interaction-xnli.dat");
  std::string header, line;
  std::getline(forest, header);
  std::getline(forest, line);
  EXPECT_EQ(header, "\"group\" \"interaction\" \"low\" \"high\"");
  EXPECT_EQ(line.rfind("\"all (4 languages)\" 3 ", 0), 0u) << line;
  std::getline(forest, line);
  EXPECT_EQ(line.rfind("\"Afro-Asiatic (1 language, few)\" 4 ", 0), 0u) << line;
}

TEST_F(TransferRuns, PerExampleResamplingWhereEveryRunHasTheFiles) {
  add_grid(true);
  ReportOptions options;
  options.bootstrap.resamples = 100;
  const Report report = build(options);
  ASSERT_EQ(report.transfer.size(), 1u);
  const TransferGroup& all = group_of(report.transfer[0], "all");
  ASSERT_TRUE(all.result.has_value()) << all.missing;
  EXPECT_TRUE(all.result->per_example);
  EXPECT_TRUE(within_rounding({all.result->interaction.value}, {3.0}, 64, kF64Epsilon, 100));
  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("seeds, languages, examples"));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("Summaries only:")));
}

TEST_F(TransferRuns, OneSizeNoMixAndNoMarker) {
  // Runs without corpora in run.json (an older grid) and of one size: a note, no estimates, no
  // seen and unseen rows, no marker.
  add_run("e1", "mt5-small", "english", 1, {{"xnli", {{"en", 80}, {"de", 70}}}});
  add_run("m1", "mt5-small", "multilingual", 1, {{"xnli", {{"en", 81}, {"de", 72}}}});
  const Report report = build();
  ASSERT_EQ(report.transfer.size(), 1u);
  EXPECT_TRUE(report.transfer[0].groups.empty());
  EXPECT_TRUE(report.transfer[0].also_intermediate.empty());
  EXPECT_THAT(report.transfer[0].notes, ElementsAre(HasSubstr("two model sizes or more; has 1")));
  EXPECT_FALSE(report.seen_languages.has_value());
  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("which languages the multilingual intermediate mix contained is "
                            "unknown"));
}

TEST_F(TransferRuns, PooledOverTheTasksThatAreNotAlsoIntermediate) {
  // xnli trains on mnli, an intermediate task: reported apart. pawsx and xcopa pool: D at
  // mt5-small 2 in both (over ar, de, fr, sw), at mt5-base 5 + 2 and 5 + 4.
  add_grid(false);
  add_grid(false, "pawsx", "pawsx", 2);
  add_grid(false, "xcopa", "copa", 4);
  ReportOptions options;
  options.bootstrap.resamples = 100;
  const Report report = build(options);
  ASSERT_EQ(report.transfer.size(), 3u);
  ASSERT_TRUE(report.pooled.has_value());
  const TransferTable& pooled = *report.pooled;
  EXPECT_EQ(pooled.task, kPooledTasks);
  EXPECT_THAT(pooled.tasks, ElementsAre("pawsx", "xcopa"));
  EXPECT_THAT(pooled.notes, ElementsAre(HasSubstr("intermediate task: xnli")));
  EXPECT_THAT(pooled.models, ElementsAre("mt5-small", "mt5-base"));
  std::vector<std::string> groups;
  for (const TransferGroup& group : pooled.groups) groups.push_back(group.group);
  EXPECT_THAT(groups,
              ElementsAre("all", "Afro-Asiatic", "Indo-European", "Niger-Congo", "seen", "unseen"));
  const TransferGroup& all = group_of(pooled, "all");
  ASSERT_TRUE(all.result.has_value()) << all.missing;
  EXPECT_THAT(all.result->tasks, ElementsAre("pawsx", "xcopa"));
  EXPECT_TRUE(
      within_rounding({all.result->sizes[0].difference.value, all.result->sizes[1].difference.value,
                       all.result->interaction.value},
                      {2.0, 8.0, 6.0}, 64, kF64Epsilon, 100));
  EXPECT_TRUE(all.result->interaction.ci.has_value());
  const TransferGroup& ie = group_of(pooled, "Indo-European");
  EXPECT_EQ(ie.languages, (std::vector<std::string>{"de", "fr"}));
  EXPECT_TRUE(ie.few_languages);

  const std::string md = report_markdown(report);
  EXPECT_THAT(md, HasSubstr("## Pooled over target tasks\n\nML − EN across model sizes pooled "
                            "over pawsx, xcopa:"));
  EXPECT_THAT(md, HasSubstr("Note: left out, their training set also an intermediate task: xnli."));
  EXPECT_THAT(transfer_csv(report),
              HasSubstr("pooled,all,4,false,interaction,mt5-base-mt5-small,6.000000,"));
  const PlotSet plots = write_plot_files(report, (dir_ / "plots").string());
  std::vector<std::string> titles;
  for (const Figure& figure : plots.figures)
    if (figure.stem == "interaction-pooled") titles.push_back(figure.caption);
  EXPECT_THAT(titles, ElementsAre(HasSubstr("pooled over pawsx, xcopa: interaction")));
}

TEST_F(TransferRuns, PooledWithTheMarkedTaskWhereTooFewOthers) {
  add_grid(false);
  add_grid(false, "pawsx", "pawsx", 2);
  ReportOptions options;
  options.bootstrap.resamples = 50;
  const Report report = build(options);
  ASSERT_TRUE(report.pooled.has_value());
  EXPECT_THAT(report.pooled->tasks, ElementsAre("pawsx", "xnli"));
  EXPECT_THAT(report.pooled->notes, ElementsAre(HasSubstr("too few others to pool apart): xnli")));
  const TransferGroup& all = group_of(*report.pooled, "all");
  ASSERT_TRUE(all.result.has_value()) << all.missing;
  EXPECT_TRUE(within_rounding({all.result->interaction.value}, {4.0}, 64, kF64Epsilon, 100));
}

}  // namespace
}  // namespace stilts::experiments
