// The checks of a controlled study (Roadmap 9; experiments/demo/README.md): a study whose answer
// is known in advance (the synthetic languages of data/synthetic_study.h) tests the pipeline
// between the mixture, the evaluation, the grouping and the intervals. `stilts report --checks`
// computes them from the runs' own results and prints each as PASS or FAIL with its number and
// interval, at the top of the report; a FAIL is a bug to find, in the pipeline or the design.
//
// Per target task and model size (D(L) = multilingual - english on the languages L):
//   positive control   D(mix) > 0: the multilingual intermediate task teaches the target-relevant
//                      mapping in the mix's languages, so they gain. PASS: interval above 0.
//   negative control   shuffled - english on the mix's languages: the same mix with shuffled
//                      labels teaches no mapping, so no gain. PASS: interval not above 0.
//   identity           identity language - English, every regime's runs: the identity language
//                      is English under another code, so it must score as English does.
//                      PASS: interval inside [-kIdentityMargin, +kIdentityMargin].
//   held-out           D(mix) - D(held-out) > 0: languages outside the mix gain less.
//                      PASS: interval above 0.
// and the findings beside them, which are results rather than gates: D on the held-out members
// of families with a member in the mix; D on the mix's languages with English's word order
// (branch) and with another, and their difference; D against model size (largest - smallest).
//
// The mix is the languages of the multilingual regime's intermediate corpora but English; the
// held-out languages are the others but English and the identity language.
//
// Every estimate is a linear contrast of cell means (a cell: a model and a regime; its mean over
// seeds, then over a group's languages with equal weight, then over each language's examples),
// with a percentile interval from the paired bootstrap of interaction.h but for one level: per
// resample, seeds within each cell (a contrast's terms on one cell share the draw, so the
// identity check pairs each run with itself) and each language's test examples once for every
// cell (the examples are the same sentences in every run), one draw for all the languages whose
// examples have the same ids (translations of one test set, which keep their original's ids:
// the same sentences). The languages are not resampled: a check is about the study's own
// languages (the two of its mix, say), a fixed set, not a sample of the family they stand for as
// in interaction.h; resampling two languages would make the interval the range between them.
// Per-example scores are used
// when every run has them for every language involved; otherwise seeds and languages are resampled
// and the check says "summaries only".
#pragma once

#include <string>
#include <vector>

#include "experiments/bootstrap.h"
#include "experiments/interaction.h"

namespace stilts::experiments {

struct RunRecord;  // report.h, which holds the checks of its runs

// Points on the score's scale (x100): the identity language's equivalence margin, the standard
// error the study's test sets are sized for (Roadmap 9).
inline constexpr double kIdentityMargin = 2.0;

struct ControlledStudy {
  std::string identity_language;  // empty: no identity check
  std::vector<std::string> mix;   // the multilingual regime's languages but English
  std::vector<std::string> held_out;
};

struct CheckLine {
  std::string check;  // "positive control", "negative control", "identity", "held-out"
  std::string task;
  std::string model;
  std::string quantity;  // what was estimated, e.g. "multilingual - english on aa, ba"
  std::string rule;      // when it passes
  Estimate estimate;
  bool pass = false;
  bool per_example = false;
};

struct Finding {
  std::string finding;  // "held-out members of mixed families", "changed word order", ...
  std::string task;
  std::string model;  // empty for a finding across sizes
  std::string quantity;
  Estimate estimate;
};

struct Checks {
  std::vector<CheckLine> checks;
  std::vector<Finding> findings;
  // What could not be checked, and why (a regime without runs, no mix, no held-out language).
  std::vector<std::string> notes;
};

// The study's languages from the runs: the mix from `seen_languages` (Report::seen_languages),
// the held-out ones from every language a target task was evaluated in. Throws
// std::invalid_argument when the identity language is English or in the mix, or was not
// evaluated.
ControlledStudy controlled_study(const std::vector<RunRecord>& runs,
                                 const std::vector<std::string>& seen_languages,
                                 const std::string& identity_language);

// The checks and findings of every target task with english and multilingual runs, per model
// (models by size). A check whose regime or languages are missing is not computed and is named
// in `notes`, and so is one whose interval cannot be computed (a single seed).
Checks compute_checks(const std::vector<RunRecord>& runs, const ControlledStudy& study,
                      const BootstrapOptions& options);

// "## Checks": one list item per check, "PASS"/"FAIL", the quantity, its number and interval
// and the rule; then the findings; then the notes (experiments/report_html.h renders it first).
std::string checks_markdown(const Checks& checks);

}  // namespace stilts::experiments
