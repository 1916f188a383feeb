// stilts score: a predictions folder against a labels folder in the layout of the XTREME
// repository's evaluate.py (`<task>/test-<lang>.<ext>`), per task, language, group and overall
// (experiments/scorer.h).
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "experiments/scorer.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

int run_score(int argc, char** argv) {
  std::string predictions, labels, version;
  boost::optional<std::string> json, languages;
  po::options_description o("stilts score");
  o.add_options()("predictions", po::value(&predictions)->required(),
                  "predictions folder: <task>/test-<lang>.tsv|json|jsonl")(
      "labels", po::value(&labels)->required(), "labels folder, laid out the same way")(
      "xtreme-version", po::value(&version)->default_value("xtreme-r"),
      (experiments::benchmark_choices() + ": the tasks, languages and groups").c_str())(
      "json", po::value(&json), "also write the scores as JSON to this file");
  add_language_table_option(o, languages);
  ParsedCommand cmd =
      parse_command({"stilts score --predictions DIR --labels DIR [--xtreme-version "
                     "xtreme|xtreme-r|udhr|synthetic] [--languages FILE]"},
                    o, argc, argv);
  if (cmd.help) return 0;
  apply_language_table_option(languages);
  experiments::metrics::Benchmark benchmark;
  try {
    benchmark = experiments::parse_benchmark(version);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--xtreme-version: ") + e.what());
  }
  const experiments::ScoreReport report =
      experiments::score_folders(predictions, labels, benchmark);
  std::fputs(experiments::text_report(report).c_str(), stdout);
  if (json) {
    std::ofstream out(*json);
    out << experiments::json_report(report).dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + *json);
  }
  if (report.tasks.empty())
    throw std::runtime_error("nothing scored: no task folder of " +
                             experiments::benchmark_name(benchmark) +
                             " has both prediction and label files");
  return 0;
}

}  // namespace stilts::launch
