// The resumable record of a grid's stages, RUNS_DIR/manifest.json: for each stage that started,
// its kind, argument list, output and times, and whether it finished. Saved whole through a
// temporary file and a rename, so an interrupted save leaves the previous record. A finished
// stage is skipped; a started one is run again, and its command resumes by itself (stilts
// train from its run directory's `latest`, stilts eval skipping the languages already scored).
//
// {"format": "stilts-experiment-manifest", "version": 1, "grid": NAME,
//  "stages": {ID: {"kind", "args": [...], "output", "started": ISO-8601 UTC,
//                  "finished": ISO-8601 UTC or null}}}
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "experiments/grid.h"

namespace stilts::experiments {

struct StageRecord {
  std::string kind;
  std::vector<std::string> args;
  std::string output;
  std::string started;
  std::string finished;  // empty while it has not
};

class Manifest {
 public:
  static std::string path_in(const std::string& runs_dir);  // RUNS_DIR/manifest.json

  // The record at `path`, or an empty one when the file does not exist; throws
  // std::runtime_error naming the file and the field when it does not parse.
  static Manifest load(const std::string& path, const std::string& grid_name);
  void save() const;

  const std::string& path() const { return path_; }
  const std::map<std::string, StageRecord>& stages() const { return stages_; }
  bool finished(const std::string& stage_id) const;

  // A grid edited after its stages started: throws std::runtime_error naming the first stage
  // whose recorded argument list differs from the plan's (both shown), unless `force`, which
  // takes the plan's arguments into the records (the outputs are kept as they are). Returns
  // whether it took any, that is whether the records need saving.
  bool check_plan(const Plan& plan, bool force);

  using Time = std::chrono::system_clock::time_point;
  void mark_started(const Stage& stage, Time when = std::chrono::system_clock::now());
  void mark_finished(const Stage& stage, Time when = std::chrono::system_clock::now());

 private:
  std::string path_, grid_;
  std::map<std::string, StageRecord> stages_;
};

// The plan's stages not finished yet, in the plan's (dependency) order.
std::vector<const Stage*> next_stages(const Plan& plan, const Manifest& manifest);

std::string iso8601_utc(Manifest::Time when);

}  // namespace stilts::experiments
