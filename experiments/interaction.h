// The study's asked quantity for one target task and one group of languages (a family, or every
// non-English language pooled): how the gain of multilingual over English-only intermediate
// training, D = mean(multilingual) - mean(english), changes with model size. Point estimates of
// D and of the relative gain D / mean(english) per size, of the interaction
// D_large - D_small and of the least-squares slope of D against ln(parameters), each with a
// percentile interval from a hierarchical paired bootstrap (Roadmap 8, item 1).
//
// The bootstrap. The data are crossed and nested: a (size, regime) cell holds independent
// training runs (seeds); each run is scored on the same languages; each language on the same test
// examples. The statistic is a function of all cells at once, so one resample draws every level
// once and recomputes every statistic from that draw (the intervals of D, the interaction and the
// slope are of one joint resampling distribution). Per resample:
//
//   1. Seeds, within each (size, regime) cell, with replacement and independently per cell. Runs
//      are the independent units of training randomness; the seeds of two cells share nothing but
//      a number (the English and multilingual run of "seed 1" are separate trainings), so
//      pairing them would invent a correlation. A run's draw holds for all its languages and
//      examples, since one run's scores on them move together (a lucky run is lucky everywhere).
//   2. Languages of the group, with replacement, once per resample, the same draw for every
//      cell. A language is a unit shared by all sizes and regimes: its main effect (an easy or
//      hard language) cancels in D and in the interaction only if every cell sees the same
//      languages; drawing them per cell would add that effect as noise. Resampling them at all
//      treats the group's languages as a sample of the languages the family stands for, so the
//      interval covers the variation of D between languages, not just the test sets' noise.
//   3. With per-example scores: within each drawn language, test examples with replacement, once
//      per drawn language, the same indices for both regimes and all sizes (the examples are the
//      same sentences in every cell: paired, so an example's difficulty cancels in D). With
//      summaries only (a score per seed and language) this level is skipped and the result
//      says so (`per_example` false).
//
// This is Efron's nonparametric bootstrap (Efron & Tibshirani 1993, An Introduction to the
// Bootstrap, Chapman & Hall: resampling the independent units, percentile intervals) applied
// level by level as the cluster or multi-stage bootstrap for hierarchical data (Davison & Hinkley
// 1997, Bootstrap Methods and Their Application, Cambridge University Press, section 3.8; Ren et
// al. 2010, "Nonparametric bootstrapping for hierarchical data", Journal of Applied Statistics).
// Which levels to resample with replacement is the question those sources discuss: resampling a
// lower level inside a resampled upper level counts the lower level's variance a second time
// (each language's mean already carries its examples' noise), so that part errs wide, while with
// few languages or seeds the percentile interval errs narrow.
// tests/unit/experiments/test_interaction.cc measures the coverage on a simulated design;
// experiments/README.md states what it observed.
//
// The point estimates are on the full data. Each cell's mean is a mean over its seeds, then over
// each language's examples, then over the group's languages with equal weight (a language with
// more test examples does not count more). Per-example scores must average to the language's
// score (accuracy, exact match, a question's F1): for a corpus-level metric (seqeval's chunk F1,
// BUCC's F1) the mean of per-example values is not the headline, and the caller passes summaries.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/bootstrap.h"

namespace stilts::experiments {

// One language's test-set scores of one run, one per example, in one fixed order.
struct ExampleScores {
  std::vector<double> scores;
  // Empty, or one id per score. Where given, every run's ids for the language must be identical
  // (the same examples in the same order), which is what makes step 3 paired.
  std::vector<std::string> ids;
};

// One run (a seed) of one (size, regime) cell.
struct SeedScores {
  int64_t seed = 0;
  std::map<std::string, double> summaries;        // language -> the run's score on it
  std::map<std::string, ExampleScores> examples;  // language -> the run's per-example scores
};

struct SizeScores {
  std::string model;        // a name, unique within the input (e.g. "mt5-small")
  double parameters = 0.0;  // the model's parameter count, > 0; the slope's x is ln(parameters)
  std::vector<SeedScores> english;       // intermediate training on English only
  std::vector<SeedScores> multilingual;  // intermediate training in every language
};

struct InteractionInput {
  std::string task;   // the target task (names the bootstrap key)
  std::string group;  // a family of languages.tsv, or e.g. "all" (names the bootstrap key)
  std::vector<std::string> languages;  // the group's languages, each in every run
  std::vector<SizeScores> sizes;       // two or more, with distinct parameter counts
  // The interaction is D(large_model) - D(small_model); empty names mean the sizes with the
  // fewest and the most parameters.
  std::string small_model;
  std::string large_model;
};

// A point estimate on the full data and its percentile interval at options.confidence; the
// interval is nullopt where it would be misleading (see InteractionResult::notes).
struct Estimate {
  double value = 0.0;
  std::optional<Interval> ci;
};

struct SizeEstimate {
  std::string model;
  double parameters = 0.0;
  int64_t english_seeds = 0;
  int64_t multilingual_seeds = 0;
  Estimate english;       // the cell mean of English-only intermediate training
  Estimate multilingual;  // the cell mean of multilingual intermediate training
  Estimate difference;    // D = multilingual - english
  // D / english; nullopt where the English mean is 0. Its interval is nullopt where some resample
  // has an English mean of 0.
  std::optional<Estimate> relative_gain;
};

struct InteractionResult {
  std::string task;                // the target task, or kPooledTasks
  std::vector<std::string> tasks;  // the target tasks estimated over (one unless pooled)
  std::string group;
  std::vector<std::string> languages;  // over every task, sorted
  // true: seeds, languages and test examples were resampled (per-example scores for every run of
  // every task); false: summaries only for some task, its seeds and languages resampled.
  bool per_example = false;
  std::vector<SizeEstimate> sizes;  // by parameter count, ascending; seeds: the fewest of a task
  std::string small_model;
  std::string large_model;
  Estimate interaction;  // D(large_model) - D(small_model)
  Estimate slope;        // least-squares slope of D against ln(parameters), over every size
  int64_t resamples = 0;
  double confidence = 0.0;
  // Why an interval is missing or what it is conditional on (one seed in a cell, one language).
  std::vector<std::string> notes;
};

// The bootstrap key, which with options.seed seeds the generator (IndexDraw): one generator per
// task and group, so the result is the same whatever else is computed, on any platform.
std::string interaction_key(const std::string& task, const std::string& group);

// Estimates and intervals for one task and one group. Per-example scores are used when every run
// has them for every language of the group; otherwise every run needs a summary per language.
// Throws std::invalid_argument, naming the model, regime, seed and language where there is one,
// for: bad bootstrap options; no languages or a repeated one; fewer than two sizes (no slope); a
// repeated model name, a parameter count that is not finite and positive, two sizes with the
// same count; a regime with no runs in a size; a repeated seed in a cell; a run lacking a
// language (no summary, and per-example scores not given for every run); a score that is not
// finite; per-example scores of one language with different counts (or different ids) across
// runs, which could not be paired; a language with no examples; a small or large model name
// that is not among the sizes, or the same for both.
InteractionResult estimate_interaction(const InteractionInput& input,
                                       const BootstrapOptions& options);

// The task name of a pooled result, which with the group keys its bootstrap.
inline constexpr const char* kPooledTasks = "pooled";

// The same estimates for one group pooled over target tasks: each (size, regime) cell's mean is
// the mean over the tasks of each task's cell mean (every task weighs the same, as XTREME-R's
// scores average its tasks; the tasks' headline metrics are all on a 0-100 scale). The tasks are
// the study's fixed set, not a sample, and are not resampled. Per resample, each task draws its
// own languages and examples as estimate_interaction does: the tasks' language sets differ, so a
// language shared by two tasks is drawn for each apart, and a language's effect common to both
// tasks is not counted as one (that part errs narrow). Seeds are drawn once per cell for every
// task whose seeds there are the same: one intermediate run per model, regime and seed serves
// every target task (experiments/grid.h), so a lucky intermediate run is lucky in every task;
// where the tasks' seeds differ each task draws apart, and the result notes it. Throws as
// estimate_interaction for each input, and for no inputs, a task given twice, and tasks whose
// sizes (models, parameter counts, small and large model) differ.
InteractionResult estimate_pooled_interaction(const std::vector<InteractionInput>& inputs,
                                              const std::string& group,
                                              const BootstrapOptions& options);

}  // namespace stilts::experiments
