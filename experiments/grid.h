// An experiment grid (`stilts experiment GRID.ini`, roadmap 6 item 1): the INI file, parsed with
// Boost.Program_options (a section's keys become "section.key"; unknown keys are refused), and
// its expansion into runs (model x regime x target task x seed) and the stages that produce
// them, each stage a checkpoint or an evaluation folder under the grid's runs_dir with the exact
// `stilts` argument list that runs it. The format is documented in experiments/README.md,
// "Grids". Shared stages are planned once: one import or pretraining per model, one
// intermediate stage per (model, regime, seed) reused by every target task, and the retrieval
// evaluations of that checkpoint, linked into each run's eval/ folder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stilts::experiments {

// One training stage's data and optimizer: `stilts train` options. Numbers the user writes
// as decimals (lr, mixture alpha, dropout) are kept as written, so the argument list repeats
// them exactly.
struct TrainSettings {
  std::vector<std::string> corpora;  // prepared HDF5 corpora, absolute
  int64_t token_budget = 0;          // tokens of batch budget in all (0: `steps` is given)
  int64_t steps = 0;                 // optimizer steps (0: from token_budget)
  std::string lr = "1e-3";
  std::string optimizer = "adafactor";
  std::string schedule = "constant";
  int64_t warmup_steps = 0;
  int64_t max_tokens = 8192;  // batch budget per data-parallel rank (train --max-tokens)
  int64_t max_input_len = 1024;
  int64_t max_target_len = 256;
  std::string mixture_alpha = "0.3";
  // "mnli=1,squad=1" (train --task-weights): the same per-task weights for every regime; empty:
  // mixture_alpha.
  std::string task_weights;
  // Target stages with span_corruption_ratio: --mixture-weights, one per corpus (the task's,
  // then the span-corrupted ones appended to corpora), instead of mixture_alpha.
  std::string mixture_weights;
  int64_t save_every = 200;  // checkpoints an interrupted stage resumes from (mT5: every 200)
  std::string dropout;       // empty: the model config's
};

struct EvalSettings {
  std::string data;  // XTREME download layout, absolute
  std::string split = "dev";
  std::string langs = "all";
  // The UDHR tasks: `stilts eval --articles` as written (e.g. 21-30), the articles evaluated;
  // empty: all.
  std::string articles;
  int64_t max_input_len = 1024;
  int64_t batch = 16;
  int64_t layer = -1;               // retrieval tasks' encoder layer (-1: by layer_depth)
  std::string layer_depth = "0.5";  // its relative depth when layer is -1, as written
  // Tasks ranking each example's own choices (xcopa): log-likelihood per target token.
  bool length_normalize = false;
};

struct TargetSettings {
  TrainSettings train;
  EvalSettings eval;
};

struct Launcher {
  std::string kind = "local";  // local | mpirun
  int np = 1;                  // ranks of a training stage
  int tp = 1;                  // tensor-parallel ranks (an evaluation runs on tp ranks)
  std::string device = "cpu";  // cpu | cuda
  bool zero = false;
  bool recompute = false;
  std::vector<std::string> mpirun_args;  // inserted after `mpirun -np N`
  int dp() const { return np / tp; }
};

struct Grid {
  std::string file;  // as given; errors name it
  std::string name;
  std::vector<std::string> models, regimes, tasks, retrieval;
  std::vector<uint64_t> seeds;
  std::string runs_dir, tokenizer;  // absolute
  // [grid] languages: the language table of a study on other languages (absolute; empty: the
  // XTREME-R table). parse_grid makes it the table in force and each eval stage gets --languages.
  std::string languages;

  std::string init_source;            // hf | pretrain | scratch
  std::string hf_dir;                 // template with {model}, absolute
  std::optional<int64_t> vocab_size;  // pretrain / scratch: a preset's shape with these rows
  TrainSettings pretrain;
  uint64_t pretrain_seed = 0;

  std::vector<std::pair<std::string, TrainSettings>> intermediate;  // per regime but none
  bool unequal_budgets = false;
  std::vector<std::pair<std::string, TargetSettings>> targets;  // per target task
  EvalSettings eval;
  Launcher launcher;

  const TrainSettings& intermediate_of(const std::string& regime) const;
  const TargetSettings& target_of(const std::string& task) const;
};

// Reads and checks a grid; relative paths are relative to the file's folder. Throws
// std::invalid_argument "FILE: KEY: what was expected" (or "FILE: ..." for whole-grid rules).
Grid parse_grid(const std::string& path);

// The retrieval tasks and the target tasks a grid may name (its regimes: regimes.h).
const std::vector<std::string>& retrieval_tasks();
std::vector<std::string> target_tasks();

enum class StageKind { kImport, kPretrain, kIntermediate, kTarget, kEval, kRetrievalEval };
std::string stage_kind_name(StageKind kind);  // import, pretrain, ..., retrieval_eval

// A symbolic link the executor makes once the stage has finished: path -> target, target
// relative to the link's folder so a runs folder can be moved.
struct Link {
  std::string path, target;
};
// A small file the executor writes (atomically) before running the stage.
struct FileToWrite {
  std::string path, contents;
};

struct Stage {
  std::string id;  // "<kind>/<key>", unique in a plan
  StageKind kind;
  std::vector<std::string> after;  // ids of the stages it needs, all earlier in the plan
  std::string input;               // the checkpoint it starts from or evaluates ("" if none)
  std::string output;              // its checkpoint run directory or eval --out folder
  std::vector<std::string> args;   // `stilts` arguments: {"train", "--run-dir", ...}
  int ranks = 1;                   // processes the launcher starts
  std::vector<FileToWrite> writes;
  std::vector<Link> links;
};

struct Run {
  std::string id;  // "<model>-<regime>-<task>-s<seed>"
  std::string model, regime, task;
  uint64_t seed = 0;
  std::string dir;
  // The prepared corpora of the run's intermediate stage (empty for regime none) and of its
  // target stage, recorded in run.json so that stilts report can learn from their attributes
  // which languages the intermediate mix contained and which tasks it trained.
  std::vector<std::string> intermediate_corpora, target_corpora;
  // RUNS_DIR/<id>/run.json: model, regime, task, seed, id, intermediate_corpora, target_corpora.
  nlohmann::json run_json() const;
};

struct Plan {
  std::vector<Run> runs;
  std::vector<Stage> stages;  // in dependency order
  const Stage& stage(const std::string& id) const;
};

// Throws std::invalid_argument naming the file for combinations that cannot be planned.
Plan expand_grid(const Grid& grid);

// The command line of a stage: `stilts ARGS` alone, or `mpirun -np RANKS MPIRUN_ARGS stilts
// ARGS` under the mpirun launcher (import-hf is one process and never goes through mpirun).
std::vector<std::string> command_line(const Launcher& launcher, const std::string& stilts,
                                      const Stage& stage);

// What the executor does around running a stage: writes its files and creates the folders
// its output needs before; replaces its links after (idempotent, so a rerun is harmless).
void write_stage_files(const Stage& stage);
void make_stage_links(const Stage& stage);

}  // namespace stilts::experiments
