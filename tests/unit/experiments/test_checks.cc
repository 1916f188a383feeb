// A controlled study's checks (experiments/checks.h) on simulated runs of the synthetic study's
// design: a working pipeline passes every check; the same runs with their predictions shuffled
// (each example's score drawn at chance, as a broken evaluation scores) fail; noiseless runs give
// the designed contrasts with collapsed intervals; a missing regime or language is named, not
// guessed; the study's languages come from the runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "data/languages.h"
#include "experiments/checks.h"
#include "experiments/report.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::HasSubstr;

// The synthetic study's table (data/synthetic_study.h): English and its identity copy, the
// family Alpha with English's word order, Beta with another; aa and ba in the mix.
class Checks : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = dir_.path() + "/languages.tsv";
    std::ofstream(path) << "code\tname\tfamily\tbranch\tscript\n"
                           "en\tEnglish\tEnglish\tSVO\tLatn\n"
                           "ei\tEnglish identity\tEnglish\tSVO\tLatn\n"
                           "aa\tAlpha A\tAlpha\tSVO\tGrek\n"
                           "ab\tAlpha B\tAlpha\tSVO\tCyrl\n"
                           "ba\tBeta A\tBeta\tOSV\tArmn\n"
                           "bb\tBeta B\tBeta\tOSV\tGeor\n";
    data::use_language_table(path);
  }
  void TearDown() override { data::use_xtreme_r_language_table(); }
  TempDir dir_;
};

const std::vector<std::string> kModels = {"demo-small", "demo-base"};
const std::vector<std::string> kRegimes = {"none", "english", "multilingual", "shuffled"};
const std::vector<std::string> kLanguages = {"en", "ei", "aa", "ab", "ba", "bb"};
constexpr size_t kExamples = 600;

// The probability that a run answers an example of `lang` right, as the design predicts it: the
// mix's languages gain from the multilingual intermediate task (more at the larger size), the
// shuffled mix and the held-out languages do not, the identity language is English.
double designed_accuracy(const std::string& model, const std::string& regime,
                         const std::string& lang) {
  if (lang == "en" || lang == "ei") return regime == "none" ? 0.5 : 0.8;
  const bool mix = lang == "aa" || lang == "ba";
  if (regime == "multilingual" && mix) return model == "demo-base" ? 0.5 : 0.4;
  return 0.27;
}

// Runs of every model, regime and seed 1 and 2, scored per example by `accuracy`: a Bernoulli
// draw per example, or the probability itself where `noiseless` (every example scores it).
template <typename Accuracy>
std::vector<RunRecord> simulate(Accuracy accuracy, bool noiseless = false) {
  std::vector<RunRecord> runs;
  std::mt19937_64 engine(7);
  for (const std::string& model : kModels)
    for (const std::string& regime : kRegimes)
      for (const int64_t seed : {1, 2}) {
        RunRecord run;
        run.id = model + "-" + regime + "-synth-topic-s" + std::to_string(seed);
        run.model = model;
        run.regime = regime;
        run.task = "synth-topic";
        run.seed = seed;
        RunRecord::Evaluation& e = run.evaluations["synth-topic"];
        e.headline_metric = "accuracy";
        for (const std::string& lang : kLanguages) {
          ExampleScores& ex = e.examples[lang];
          for (size_t i = 0; i < kExamples; ++i) {
            const double p = accuracy(model, regime, lang);
            ex.scores.push_back(noiseless                        ? 100.0 * p
                                : (engine() >> 11) * 0x1p-53 < p ? 100.0
                                                                 : 0.0);
            ex.ids.push_back("topic-test-" + std::to_string(i));
          }
          if (lang == "ei") ex.scores = e.examples.at("en").scores;  // English under another code
          double sum = 0.0;
          for (const double s : ex.scores) sum += s;
          e.scores[lang] = sum / static_cast<double>(kExamples);
        }
        runs.push_back(std::move(run));
      }
  return runs;
}

BootstrapOptions bootstrap() {
  BootstrapOptions options;
  options.resamples = 400;
  return options;
}

ControlledStudy study_of(const std::vector<RunRecord>& runs) {
  return controlled_study(runs, {"aa", "ba", "en"}, "ei");
}

const CheckLine& check(const experiments::Checks& checks, const std::string& name,
                       const std::string& model) {
  for (const CheckLine& c : checks.checks)
    if (c.check == name && c.model == model) return c;
  throw std::runtime_error("no check " + name + " of " + model);
}

TEST_F(Checks, TheStudysLanguagesComeFromTheRuns) {
  const std::vector<RunRecord> runs = simulate(designed_accuracy);
  const ControlledStudy study = study_of(runs);
  EXPECT_EQ(study.mix, (std::vector<std::string>{"aa", "ba"}));       // English is not the mix's
  EXPECT_EQ(study.held_out, (std::vector<std::string>{"ab", "bb"}));  // nor is the identity
  EXPECT_THAT(error_of([&] {
                controlled_study(runs, {"aa", "en"}, "en");
              }),
              HasSubstr("another code than English's"));
  EXPECT_THAT(error_of([&] {
                controlled_study(runs, {"aa", "ei"}, "ei");
              }),
              HasSubstr("identity language ei is in the multilingual mix"));
  EXPECT_THAT(error_of([&] { controlled_study(runs, {"aa"}, "xx"); }),
              HasSubstr("identity language xx was not evaluated"));
}

TEST_F(Checks, AWorkingPipelinePassesEveryCheck) {
  const experiments::Checks checks = compute_checks(
      simulate(designed_accuracy), study_of(simulate(designed_accuracy)), bootstrap());
  ASSERT_EQ(checks.checks.size(), 8u);  // four checks at each of two sizes
  for (const CheckLine& c : checks.checks) {
    EXPECT_TRUE(c.pass) << c.check << " " << c.model << " " << c.estimate.value;
    EXPECT_TRUE(c.per_example);
    ASSERT_TRUE(c.estimate.ci);
    EXPECT_LE(c.estimate.ci->low, c.estimate.value);
    EXPECT_GE(c.estimate.ci->high, c.estimate.value);
  }
  // The identity language is English's own scores: exactly zero, with a collapsed interval.
  const CheckLine& identity = check(checks, "identity", "demo-small");
  EXPECT_EQ(identity.estimate.value, 0.0);
  EXPECT_EQ(identity.estimate.ci->low, 0.0);
  EXPECT_EQ(identity.estimate.ci->high, 0.0);
  EXPECT_NEAR(check(checks, "positive control", "demo-base").estimate.value, 23.0, 4.0);
  EXPECT_TRUE(checks.notes.empty()) << checks.notes.front();

  const std::string md = checks_markdown(checks);
  EXPECT_THAT(md, HasSubstr("## Checks\n\n- PASS positive control, synth-topic, demo-small: "
                            "multilingual - english on aa, ba = +"));
  EXPECT_THAT(md, HasSubstr("(passes when the interval lies above 0)\n"));
  EXPECT_THAT(md, HasSubstr("- PASS identity, synth-topic, demo-base: ei - en, mean over the "
                            "regimes none, english, multilingual, shuffled = +0.00 [+0.00, "
                            "+0.00]"));
  EXPECT_THAT(md, HasSubstr("Findings (results, not gates):"));
  EXPECT_THAT(md, HasSubstr("- held-out members of mixed families, synth-topic, demo-small: "
                            "multilingual - english on ab, bb = "));
  EXPECT_THAT(md, HasSubstr("- changed word order, synth-topic, demo-base: (multilingual - "
                            "english) on ba (branch \"OSV\") minus on aa"));
  EXPECT_THAT(md, HasSubstr("- gain against model size, synth-topic: (multilingual - english) on "
                            "aa, ba, demo-base minus demo-small = +"));
}

TEST_F(Checks, ShuffledPredictionsFailTheChecks) {
  // A broken evaluation: every run's predictions shuffled against the labels, so each example of
  // every language is right at chance, independently in every run and language.
  const auto chance = [](const std::string&, const std::string&, const std::string&) {
    return 0.25;
  };
  std::vector<RunRecord> runs = simulate(chance);
  for (RunRecord& run : runs) {  // ei is no longer English's copy: its own shuffled predictions
    std::mt19937_64 engine(static_cast<uint64_t>(run.seed) * 31 + run.id.size());
    for (double& s : run.evaluations["synth-topic"].examples["ei"].scores)
      s = (engine() >> 11) * 0x1p-53 < 0.25 ? 100.0 : 0.0;
  }
  const experiments::Checks checks = compute_checks(runs, study_of(runs), bootstrap());
  for (const std::string& model : kModels) {
    EXPECT_FALSE(check(checks, "positive control", model).pass) << model;
    EXPECT_FALSE(check(checks, "held-out", model).pass) << model;
  }
  EXPECT_THAT(checks_markdown(checks), HasSubstr("- **FAIL** positive control, synth-topic, "));
}

TEST_F(Checks, AnIdentityLanguageThatScoresApartFails) {
  // An evaluation that reads the identity language's file wrong: a tenth of its examples, right
  // in English, scored wrong.
  std::vector<RunRecord> runs = simulate(designed_accuracy);
  for (RunRecord& run : runs) {
    std::vector<double>& scores = run.evaluations["synth-topic"].examples["ei"].scores;
    for (size_t i = 0; i < scores.size(); i += 10) scores[i] = 0.0;
  }
  const experiments::Checks checks = compute_checks(runs, study_of(runs), bootstrap());
  for (const std::string& model : kModels) {
    const CheckLine& identity = check(checks, "identity", model);
    EXPECT_FALSE(identity.pass) << model;
    EXPECT_LT(identity.estimate.value, -kIdentityMargin) << model;
    EXPECT_TRUE(check(checks, "positive control", model).pass) << model;
  }
}

TEST_F(Checks, NoiselessRunsGiveTheDesignedContrastsWithCollapsedIntervals) {
  const std::vector<RunRecord> runs = simulate(designed_accuracy, true);
  const experiments::Checks checks = compute_checks(runs, study_of(runs), bootstrap());
  const auto expect = [&](const std::string& name, const std::string& model, double value) {
    const CheckLine& c = check(checks, name, model);
    EXPECT_NEAR(c.estimate.value, value, 1e-9) << name << " " << model;
    EXPECT_NEAR(c.estimate.ci->low, value, 1e-9) << name << " " << model;
    EXPECT_NEAR(c.estimate.ci->high, value, 1e-9) << name << " " << model;
  };
  expect("positive control", "demo-small", 40.0 - 27.0);
  expect("positive control", "demo-base", 50.0 - 27.0);
  expect("negative control", "demo-base", 0.0);
  expect("held-out", "demo-base", 50.0 - 27.0);
  EXPECT_TRUE(check(checks, "negative control", "demo-base").pass);
  ASSERT_EQ(checks.findings.size(), 5u);  // members and word order per size, then size
  EXPECT_NEAR(checks.findings.back().estimate.value, 10.0, 1e-9);  // 23 - 13
  EXPECT_NEAR(checks.findings.front().estimate.value, 0.0, 1e-9);  // ab, bb gain nothing
}

TEST_F(Checks, WhatIsMissingIsNamedNotGuessed) {
  std::vector<RunRecord> runs;
  for (RunRecord& run : simulate(designed_accuracy))
    if (run.regime != "shuffled" && !(run.model == "demo-base" && run.seed == 2)) {
      for (auto& [lang, examples] : run.evaluations["synth-topic"].examples)
        examples.scores.clear();  // summaries only
      runs.push_back(std::move(run));
    }
  const experiments::Checks checks = compute_checks(runs, study_of(runs), bootstrap());
  EXPECT_EQ(checks.checks.size(), 6u);  // no negative control at either size
  EXPECT_FALSE(check(checks, "positive control", "demo-small").per_example);
  EXPECT_THAT(checks.notes, ::testing::Contains("no shuffled runs of demo-small for synth-topic"));
  EXPECT_THAT(checks.notes, ::testing::Contains(HasSubstr("a cell has a single seed")));
  EXPECT_THAT(checks_markdown(checks), HasSubstr("; summaries only)"));
  EXPECT_THAT(checks_markdown(checks), HasSubstr("Notes:\n\n- "));

  BootstrapOptions bad = bootstrap();
  bad.resamples = 0;
  EXPECT_THAT(error_of([&] { compute_checks(runs, study_of(runs), bad); }), HasSubstr("resamples"));
}

TEST_F(Checks, TheReportRefusesChecksWithoutTheMixItsRunsWereTrainedOn) {
  // run.json without intermediate_corpora: the report cannot tell the mix from the held-out
  // languages, and says so rather than guessing.
  ReportOptions options;
  options.baseline = "english";
  options.checks = true;
  options.identity_language = "ei";
  EXPECT_THAT(error_of([&] {
                build_report({"runs", simulate(designed_accuracy), {}}, options);
              }),
              HasSubstr("checks: the runs do not say which languages the multilingual regime "
                        "was trained on"));
}

}  // namespace
}  // namespace stilts::experiments
