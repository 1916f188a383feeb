// stilts experiment: an experiment grid (experiments/grid.h) expanded into its runs and stages
// and run in order, resumably (experiments/executor.h, experiments/README.md "Running a grid").
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "experiments/executor.h"
#include "experiments/grid.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

int run_experiment(int argc, char** argv) {
  po::options_description o("stilts experiment");
  o.add_options()("grid", po::value<std::string>()->required(),
                  "the grid file (experiments/README.md, \"Grids\")")(
      "dry-run", po::bool_switch(),
      "list every stage with its state (finished, started, pending) and command line; run "
      "and write nothing")("force", po::bool_switch(),
                           "run a grid edited after its stages started: record the new "
                           "arguments and keep the outputs as they are")(
      "stilts", po::value<std::string>(),
      "the stilts executable the stages run (default: this one)");
  po::positional_options_description positional;
  positional.add("grid", 1);
  ParsedCommand cmd =
      parse_command("stilts experiment GRID.ini [--dry-run] [--force] [--stilts PATH]", o, argc,
                    argv, positional);
  if (cmd.help) return 0;
  const po::variables_map& v = cmd.values;

  experiments::Grid grid;
  experiments::Plan plan;
  try {
    grid = experiments::parse_grid(v["grid"].as<std::string>());
    plan = experiments::expand_grid(grid);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "stilts experiment: error: %s\n", e.what());
    return 2;
  }
  experiments::ExecutorOptions options;
  options.stilts = v.count("stilts") ? v["stilts"].as<std::string>()
                                     : std::filesystem::canonical("/proc/self/exe").string();
  options.force = v["force"].as<bool>();
  options.dry_run = v["dry-run"].as<bool>();
  options.out = &std::cout;
  try {
    experiments::run_plan(grid, plan, options);
  } catch (const experiments::Interrupted& e) {
    std::cout << std::flush;
    std::fprintf(stderr, "stilts experiment: %s\n", e.what());
    return e.exit_status;
  }
  return 0;
}

}  // namespace stilts::launch
