// `stilts report RUNS_DIR`: reads the runs of an experiment grid, one folder each
// (RUNS_DIR/<run-id>/run.json with model, regime, target task and seed, and
// RUNS_DIR/<run-id>/eval/<task>/summary.json as `stilts eval` writes it; experiments/README.md
// "Runs and the report"), and aggregates them per task x model x language family (and per
// language) and intermediate regime: the zero-shot score as mean, standard deviation and
// percentile bootstrap interval over seeds, the gain over the baseline regime, and multilingual
// against English-only (plain difference and relative gain). The plots are in report_plots.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/bootstrap.h"

namespace stilts::experiments {

// The intermediate regimes a run.json may name, in report order.
const std::vector<std::string>& report_regimes();

// The pseudo-regime of the CSV rows comparing multilingual with English-only.
inline constexpr const char* kMultilingualMinusEnglish = "multilingual-english";

struct RunRecord {
  std::string id;  // the folder name under RUNS_DIR
  std::string model;
  std::string regime;
  std::string task;  // the target task
  int64_t seed = 0;
  struct Evaluation {
    std::string headline_metric;
    std::map<std::string, double> scores;  // language code -> headline score (x100)
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
// missing or bad field (model: a preset name; regime: one of report_regimes(); task: a non-empty
// name; seed: an integer), for a task folder under eval/ without a readable summary.json, and
// for two runs with the same model, regime, target task and seed. `stilts eval`'s predictions/
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
  std::string family;    // "all": every language of the run; else a family of languages.tsv
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
  std::vector<ReportRow> languages;  // by family, then code
};

struct TaskSection {
  std::string task;
  std::string headline_metric;
  bool target = false;               // the target task of some run (else evaluated after the
                                     // intermediate stage only)
  std::vector<ModelSection> models;  // by size
};

struct Report {
  LoadedRuns loaded;
  ReportOptions options;
  std::vector<TaskSection> tasks;  // alphabetical
  std::vector<std::string> caveats;
};

// Aggregates the runs. A seed's family score is the mean over that family's languages in the
// run, "all" the mean over all its languages; the statistics are then over seeds. A task
// evaluated by several runs of one model, regime and seed (a retrieval task after the same
// intermediate stage, for several target tasks) counts once for that seed, each language's
// score averaged over those runs. Throws std::invalid_argument for an unknown baseline regime or
// bad bootstrap options.
Report build_report(LoadedRuns loaded, const ReportOptions& options);

// The Markdown report without its plots section (report_plots.h adds it): a header with the runs
// and seeds found, the method and the caveats, one section per task with a score table and a
// gain table per model (rows: all languages and each family), and a per-language appendix.
std::string report_markdown(const Report& report);

// Long format, one line per task, model, row and regime, plus a "multilingual-english" line per
// row where both exist (gain: the difference and its interval; relative_gain: the relative gain):
// task,model,family,language,regime,n_seeds,mean,sd,ci_low,ci_high,gain,gain_ci_low,gain_ci_high,
// relative_gain. Empty fields where a value does not exist.
std::string report_csv(const Report& report);

}  // namespace stilts::experiments
