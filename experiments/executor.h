// The executor of an experiment grid (`stilts experiment GRID.ini`, roadmap 6 item 1): runs a
// plan's unfinished stages in order, each as a child process under the grid's launcher with its
// output appended to RUNS_DIR/logs/<stage>.log, recording each in the manifest as it starts and
// finishes, so that running the same grid again resumes where it stopped. experiments/README.md,
// "Running a grid", describes what it prints and how it stops.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>

#include "experiments/grid.h"

namespace stilts::experiments {

struct ExecutorOptions {
  std::string stilts;  // the stilts executable the stages run
  bool force = false;  // Manifest::check_plan's: take a grid edited after its stages started
  bool dry_run = false;
  std::ostream* out = nullptr;  // progress lines; required
};

// A stage whose command failed: the message names the stage, its exit status or signal and
// its log; the stage stays "started" in the manifest, so the next run reruns it.
struct StageFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// SIGINT or SIGTERM arrived while the grid ran; the running stage was stopped and stays
// "started". `exit_status` is 128 + the signal (130, 143).
struct Interrupted : std::runtime_error {
  Interrupted(const std::string& what, int signal)
      : std::runtime_error(what), exit_status(128 + signal) {}
  int exit_status;
};

// The RUNS_DIR/logs/ file of a stage: its id with '/' replaced by "__".
std::string stage_log_path(const std::string& runs_dir, const std::string& stage_id);

// Checks the plan against the manifest (std::runtime_error on an edited grid unless `force`),
// then runs (or with dry_run only lists) the stages left. Returns the number of stages run.
int run_plan(const Grid& grid, const Plan& plan, const ExecutorOptions& options);

}  // namespace stilts::experiments
