// stilts report: the runs of an experiment grid (RUNS_DIR/<run-id>/run.json and eval/<task>/)
// aggregated per task, model size, language family and regime, with gains, bootstrap intervals
// over seeds, Markdown, CSV, gnuplot figures and one HTML page with all of them
// (experiments/report.h, report_plots.h, report_html.h).
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "core/checkpoint/file_io.h"
#include "experiments/report.h"
#include "experiments/report_html.h"
#include "experiments/report_plots.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

namespace {

// Written whole or not at all, so a report interrupted or failing halfway never leaves a
// truncated file that reads as a finished one.
void write_file(const std::filesystem::path& path, const std::string& text) {
  checkpoint_io::write_text_atomically(path.string(), text);
}

}  // namespace

int run_report(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string runs_dir;
  boost::optional<std::string> out_dir, languages;
  experiments::ReportOptions options;
  po::options_description o("stilts report");
  o.add_options()("runs", po::value(&runs_dir)->required(),
                  "the runs folder: <run-id>/run.json and <run-id>/eval/<task>/summary.json")(
      "out", po::value(&out_dir), "the report folder (default RUNS_DIR/report)")(
      "baseline", po::value(&options.baseline)->default_value("none"),
      ("the regime gains are measured against (" + experiments::intermediate_regime_list() + ")")
          .c_str())("bootstrap", po::value(&options.bootstrap.resamples)->default_value(1000),
                    "bootstrap resamples of the seeds per interval")(
      "seed", po::value(&options.bootstrap.seed)->default_value(0),
      "the bootstrap's seed (the same seed gives the same report)")(
      "confidence", po::value(&options.bootstrap.confidence)->default_value(0.95),
      "the share of the bootstrap distribution inside an interval")(
      "note", po::value(&options.notes)->composing(),
      "a paragraph the report opens with (repeat for several)")(
      "checks", po::bool_switch(&options.checks),
      "a controlled study's checks at the top (positive and negative controls, identity, "
      "held-out languages; experiments/checks.h), each PASS or FAIL with its number and interval")(
      "identity-language", po::value(&options.identity_language),
      "with --checks: the language whose text is English's under another code");
  add_language_table_option(o, languages);
  CommandSyntax syntax{
      "stilts report RUNS_DIR [--out DIR] [--baseline none] [--bootstrap 1000] [--seed 0] "
      "[--confidence 0.95] [--note TEXT]... [--languages FILE] [--checks [--identity-language "
      "XX]]"};
  syntax.positional.add("runs", 1);
  ParsedCommand cmd = parse_command(syntax, o, argc, argv);
  if (cmd.help) return 0;
  apply_language_table_option(languages);
  if (!options.identity_language.empty() && !options.checks)
    throw UsageError("--identity-language: only with --checks");
  if (!experiments::is_intermediate_regime(options.baseline))
    throw UsageError("--baseline " + options.baseline + ": expected one of " +
                     experiments::intermediate_regime_list());
  try {
    experiments::check_bootstrap_options(options.bootstrap);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--bootstrap / --confidence: ") + e.what());
  }

  // Before reading anything, so a machine without gnuplot fails at once and writes nothing.
  const std::string gnuplot = experiments::find_gnuplot();
  const fs::path out = out_dir ? fs::path(*out_dir) : fs::path(runs_dir) / "report";
  experiments::LoadedRuns loaded = experiments::load_runs(runs_dir, out.string());
  for (const std::string& note : loaded.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  if (loaded.runs.empty())
    throw std::runtime_error(runs_dir +
                             ": no run with results (a run is <run-id>/run.json with "
                             "<run-id>/eval/<task>/summary.json)");
  const experiments::Report report = experiments::build_report(std::move(loaded), options);

  fs::create_directories(out);
  write_file(out / "report.csv", experiments::report_csv(report));
  write_file(out / "transfer.csv", experiments::transfer_csv(report));
  const experiments::PlotSet plots =
      experiments::write_plot_files(report, (out / "plots").string());
  experiments::run_gnuplot(gnuplot, plots.script);
  const std::string markdown = experiments::report_markdown(report);
  write_file(out / "report.md", markdown + experiments::plots_markdown(plots, "plots"));
  write_file(out / "report.html", experiments::report_html(markdown, plots));

  std::printf("%zu runs, %zu tasks\n", report.loaded.runs.size(), report.tasks.size());
  for (const experiments::TaskSection& task : report.tasks)
    for (const experiments::ModelSection& model : task.models) {
      const experiments::ReportRow& all = model.groups.front();
      std::printf("%s %s:", task.task.c_str(), model.model.c_str());
      for (const experiments::RegimeCell& cell : all.cells)
        std::printf(" %s %.2f (n=%lld)", cell.regime.c_str(), cell.score.mean,
                    static_cast<long long>(cell.score.n));
      std::printf("\n");
    }
  if (report.checks) {
    size_t passed = 0;
    for (const experiments::CheckLine& check : report.checks->checks) passed += check.pass;
    std::printf("checks: %zu PASS, %zu FAIL (report.md, \"## Checks\")\n", passed,
                report.checks->checks.size() - passed);
  }
  std::printf("wrote %s, %s, %s and %zu figures (PNG and SVG) under %s\n",
              (out / "report.md").c_str(), (out / "report.csv").c_str(),
              (out / "transfer.csv").c_str(), plots.figures.size(), (out / "plots").c_str());
  std::printf("wrote %s: every table and figure in one page to browse offline\n",
              (out / "report.html").c_str());
  return 0;
}

}  // namespace stilts::launch
