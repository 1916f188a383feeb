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
  std::string grid_file;
  boost::optional<std::string> stilts;
  experiments::ExecutorOptions options;
  po::options_description o("stilts experiment");
  o.add_options()("grid", po::value(&grid_file)->required(),
                  "the grid file (experiments/README.md, \"Grids\")")(
      "dry-run", po::bool_switch(&options.dry_run),
      "list every stage with its state (finished, started, pending) and command line; run "
      "and write nothing")("force", po::bool_switch(&options.force),
                           "run a grid edited after its stages started: record the new "
                           "arguments and keep the outputs as they are")(
      "stilts", po::value(&stilts), "the stilts executable the stages run (default: this one)");
  CommandSyntax syntax{"stilts experiment GRID.ini [--dry-run] [--force] [--stilts PATH]"};
  syntax.positional.add("grid", 1);
  ParsedCommand cmd = parse_command(syntax, o, argc, argv);
  if (cmd.help) return 0;

  experiments::Grid grid;
  experiments::Plan plan;
  try {
    grid = experiments::parse_grid(grid_file);
    plan = experiments::expand_grid(grid);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "stilts experiment: error: %s\n", e.what());
    return 2;
  }
  options.stilts = stilts ? *stilts : std::filesystem::canonical("/proc/self/exe").string();
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
