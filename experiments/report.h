// `stilts report RUNS_DIR`: reads the runs of an experiment grid, one folder each
// (RUNS_DIR/<run-id>/run.json with model, regime, target task and seed, and
// RUNS_DIR/<run-id>/eval/<task>/summary.json as `stilts eval` writes it; experiments/README.md
// "Runs and the report"), and aggregates them per task x model x language family (and per
// language) and intermediate regime: the zero-shot score as mean, standard deviation and
// percentile bootstrap interval over seeds, the gain over the baseline regime, and multilingual
// against English-only (plain difference and relative gain), and per target task the transfer
// tables of ML - EN across model sizes (interaction.h). The plots are in report_plots.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/bootstrap.h"
#include "experiments/checks.h"
#include "experiments/interaction.h"
#include "experiments/regimes.h"

namespace stilts::experiments {

// The pseudo-regime of the CSV rows comparing multilingual with English-only.
inline constexpr const char* kMultilingualMinusEnglish = "multilingual-english";

struct RunRecord {
  std::string id;  // the folder name under RUNS_DIR
  std::string model;
  std::string regime;
  std::string task;  // the target task
  int64_t seed = 0;
  // run.json's intermediate_corpora and target_corpora (stilts experiment records them; empty
  // where absent): the prepared corpora whose attributes name their task and language.
  std::vector<std::string> intermediate_corpora, target_corpora;
  struct Evaluation {
    std::string headline_metric;
    std::map<std::string, double> scores;  // language code -> headline score (x100)
    // language code -> per-example scores from eval/<task>/<lang>.examples.tsv, where it exists
    std::map<std::string, ExampleScores> examples;
    // language code -> metric -> value (x100), from eval/<task>/<lang>.json's "metrics" where
    // the file has them (the published comparison needs QA's F1 alone)
    std::map<std::string, std::map<std::string, double>> metrics;
  };
  std::map<std::string, Evaluation> evaluations;  // by evaluated task
};

struct LoadedRuns {
  std::string runs_dir;
  std::vector<RunRecord> runs;     // by folder name
  std::vector<std::string> notes;  // folders left out, and why
};

// Every folder of runs_dir except `skip` (the report's own output folder, when it lies inside):
// one without run.json is left out with a note, as is a run with no evaluated task yet. Throws
// std::runtime_error naming the file (and the field) for a run.json that does not parse or has a
// missing or bad field (model: a preset name; regime: one of intermediate_regimes(); task: a
// non-empty name; seed: an integer), for a task folder under eval/ without a readable summary.json,
// and for two runs with the same model, regime, target task and seed. `stilts eval`'s predictions/
// and labels/ folders under eval/ are not task folders.
LoadedRuns load_runs(const std::string& runs_dir, const std::string& skip = "");

// Model presets by parameter count (test presets, then mt5-small ... mt5-xxl).
std::vector<std::string> order_models_by_size(std::vector<std::string> models);

struct ReportOptions {
  std::string baseline = "none";  // the regime gains are measured against
  BootstrapOptions bootstrap;
  // Paragraphs the report opens with: what its readers must know about the runs (the demo says
  // that its numbers are small-model numbers).
  std::vector<std::string> notes;
  // A controlled study's checks (checks.h), after the list of runs (report.html shows them
  // first); identity_language may be empty (no identity check).
  bool checks = false;
  std::string identity_language;
};

struct SeedSummary {
  int64_t n = 0;  // seeds
  double mean = 0.0;
  std::optional<double> sd;    // n >= 2
  std::optional<Interval> ci;  // n >= 2
};

struct RegimeCell {
  std::string regime;
  std::vector<double> values;  // one per seed, in seed order
  SeedSummary score;
  std::optional<double> gain;  // mean - the baseline's mean; none for the baseline itself
  std::optional<Interval> gain_ci;
};

struct ReportRow {
  std::string family;    // "all": every language of the run but English (see ModelSection);
                         // else a family of languages.tsv
  std::string language;  // empty for the rows of all languages and of a family
  std::vector<RegimeCell> cells;  // the regimes with values, in report order
  // multilingual - english (the baseline cancels); with its interval (both sides resampled), and
  // (gain_multilingual - gain_english) / |gain_english| where both gains exist and the English
  // gain is not zero.
  std::optional<double> multilingual_minus_english;
  std::optional<Interval> difference_ci;
  std::optional<double> relative_gain;

  const RegimeCell* cell(const std::string& regime) const;
};

struct ModelSection {
  std::string model;
  std::map<std::string, std::vector<int64_t>> seeds;  // regime -> its seeds, ascending
  std::vector<ReportRow> groups;     // "all", then the families (alphabetical, "unknown" last)
  std::vector<ReportRow> languages;  // by family, then code; English included
  // The groups average over the non-English languages (false when English is the only one).
  bool english_left_out = false;
};

struct TaskSection {
  std::string task;
  std::string headline_metric;
  bool target = false;               // the target task of some run (else evaluated after the
                                     // intermediate stage only)
  std::vector<ModelSection> models;  // by size
};

// The study's quantity for one target task and one group of non-English languages: ML - EN per
// size, its interaction between the smallest and the largest size and its slope against
// ln(parameters) (interaction.h).
struct TransferGroup {
  std::string group;  // "all", a family, "seen" or "unseen" (in or out of the multilingual mix)
  bool family = false;
  std::vector<std::string> languages;  // non-English, each in every run of the table
  bool few_languages = false;          // a family of one or two languages
  std::optional<InteractionResult> result;
  std::string missing;  // why there is no result
};

struct TransferTable {
  std::string task;                   // a target task
  std::vector<std::string> models;    // with English-only and multilingual runs, by size
  std::vector<TransferGroup> groups;  // all, the families, then seen and unseen where known
  // The target task's own training tasks (its target corpora's) that some intermediate stage
  // also trained on (e.g. mnli for xnli): the intermediate stage then saw the target task.
  std::vector<std::string> also_intermediate;
  std::vector<std::string> notes;  // languages left out, fewer than two sizes
  std::vector<std::string> tasks;  // pooled: the target tasks pooled over
};

// The baseline regime's zero-shot score beside the published mT5 one (published_scores.h).
struct PublishedComparison {
  std::string task;
  std::string model;
  std::string metric;  // the published one
  double published = 0.0;
  // The mean over the baseline's seeds of the mean over each run's languages of `metric`;
  // nullopt where a run lacks it (QA's F1 is read from eval/<task>/<lang>.json).
  std::optional<double> ours;
  int64_t seeds = 0;
  size_t languages = 0;       // the fewest languages of a seed
  size_t task_languages = 0;  // the task's languages in the benchmark
};

struct Report {
  LoadedRuns loaded;
  ReportOptions options;
  std::vector<TaskSection> tasks;  // alphabetical
  std::vector<std::string> caveats;
  std::vector<TransferTable> transfer;  // per target task with both regimes, alphabetical
  // The same groups pooled over the target tasks (task kPooledTasks; estimate_pooled_interaction)
  // that are not also intermediate tasks, or over every target task where all are; nullopt with
  // fewer than two target tasks with a result.
  std::optional<TransferTable> pooled;
  // The languages of the multilingual regime's intermediate corpora; nullopt where the runs do
  // not say (no intermediate_corpora in run.json, or a corpus that cannot be read).
  std::optional<std::vector<std::string>> seen_languages;
  std::vector<std::string> intermediate_tasks;  // of every intermediate corpus read
  // Per task and model with baseline runs where mT5's zero-shot score is published.
  std::vector<PublishedComparison> published;
  std::optional<Checks> checks;  // with options.checks
};

// Aggregates the runs. A seed's family score is the mean over that family's languages in the
// run, "all" the mean over all its languages; the statistics are then over seeds. A task
// evaluated by several runs of one model, regime and seed (a retrieval task after the same
// intermediate stage, for several target tasks) counts once for that seed, each language's
// score averaged over those runs. Throws std::invalid_argument for an unknown baseline regime or
// bad bootstrap options.
Report build_report(LoadedRuns loaded, const ReportOptions& options);

// The task and language of each corpus path, from its HDF5 attributes (data/corpus_format.h);
// nullopt for a corpus that cannot be read. build_report calls it for run.json's corpora.
struct CorpusContent {
  std::string task;
  std::string lang;
};
std::optional<CorpusContent> read_corpus_content(const std::string& path);

// The Markdown report without its plots section (report_plots.h adds it): a header with the runs
// and seeds found, the method and the caveats, one section per task with a score table and a
// gain table per model (rows: all languages and each family), and a per-language appendix.
std::string report_markdown(const Report& report);

// Long format, one line per task, model, row and regime, plus a "multilingual-english" line per
// row where both exist (gain: the difference and its interval; relative_gain: the relative gain):
// task,model,family,language,regime,n_seeds,mean,sd,ci_low,ci_high,gain,gain_ci_low,gain_ci_high,
// relative_gain. Empty fields where a value does not exist.
std::string report_csv(const Report& report);

// The transfer tables in long format, one line per task, group and statistic (english,
// multilingual, difference, relative_gain per model; interaction and slope once):
// task,group,n_languages,few_languages,statistic,model,value,ci_low,ci_high,per_example.
std::string transfer_csv(const Report& report);

}  // namespace stilts::experiments
