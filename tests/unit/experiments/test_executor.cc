// stilts experiment's executor (experiments/executor.h) running a small grid with a fake
// `stilts`, a shell script that records its command line, makes the outputs the real commands
// make, and fails or sends the executor SIGTERM at a stage it is told to: the stages' order and
// arguments, the manifest, links and logs, the second run that does nothing, a failure and an
// interruption rerun from their stage, the dry run, an edited grid, and the mpirun launcher.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/executor.h"
#include "experiments/grid.h"
#include "experiments/manifest.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// One model, regimes none and english, one target task and one retrieval task: 8 stages.
const char* const kGrid = R"([grid]
name = small
models = test-tiny
regimes = none, english
tasks = xnli
retrieval = tatoeba
seeds = 1
runs_dir = runs
tokenizer = m.model

[init]
source = hf
hf_dir = hf/{model}

[intermediate]
corpora = en.h5
steps = 2

[target]
corpora = xnli.h5
steps = 2

[eval]
data = download
)";

// Records "$0 ARGS --end--", one line each, into DIR/calls; its output folder is the value
// of --run-dir or --out. DIR/fail-on or DIR/interrupt-on naming that folder make it exit 3,
// or send its parent (the executor) SIGTERM and wait to be stopped.
const char* const kFakeStilts = R"sh(#!/bin/sh
dir=$(dirname "$0")
{ printf '%s\n' "$0" "$@"; echo --end--; } >> "$dir/calls"
out= task= prev=
for arg in "$@"; do
  case "$prev" in --run-dir|--out) out=$arg ;; --task) task=$arg ;; esac
  prev=$arg
done
echo "fake stilts $1 -> $out"
if [ -f "$dir/fail-on" ] && [ "$out" = "$(cat "$dir/fail-on")" ]; then
  echo "error: failing as told" >&2
  exit 3
fi
if [ -f "$dir/interrupt-on" ] && [ "$out" = "$(cat "$dir/interrupt-on")" ]; then
  kill -TERM $PPID
  sleep 100
fi
case "$1" in
  train) mkdir -p "$out" && touch "$out/latest" ;;
  import-hf) mkdir -p "$out" && touch "$out/config.json" ;;
  eval) mkdir -p "$out/$task" && echo '{}' > "$out/$task/summary.json" ;;
esac
)sh";

// Records "mpirun ARGS --end--" and runs the command after its own options.
const char* const kFakeMpirun = R"sh(#!/bin/sh
dir=$(dirname "$0")
{ printf '%s\n' mpirun "$@"; echo --end--; } >> "$dir/../calls"
while [ "${1##*/}" != stilts ]; do shift; done
exec "$@"
)sh";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_executable(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

class Executor : public ::testing::Test {
 protected:
  Executor() {
    write_executable(stilts_, kFakeStilts);
    write_executable(dir_ / "bin/mpirun", kFakeMpirun);
  }

  // The grid with `from` replaced by `to`, then `append` added.
  Grid grid(const std::string& from = "", const std::string& to = "",
            const std::string& append = "") const {
    std::string text = kGrid;
    if (!from.empty()) text.replace(text.find(from), from.size(), to);
    const std::string path = (dir_ / "grid.ini").string();
    std::ofstream(path) << text << append;
    return parse_grid(path);
  }

  // run_plan's output; `ran` gets its result.
  std::string run(const Grid& g, const Plan& plan, bool dry_run = false, bool force = false,
                  int* ran = nullptr) const {
    std::ostringstream out;
    ExecutorOptions options;
    options.stilts = stilts_.string();
    options.dry_run = dry_run;
    options.force = force;
    options.out = &out;
    const int stages = run_plan(g, plan, options);
    if (ran) *ran = stages;
    return out.str();
  }
  // What run_plan throws, with its output so far.
  template <class Error>
  std::pair<std::string, std::string> failed_run(const Grid& g, const Plan& plan) const {
    std::ostringstream out;
    ExecutorOptions options;
    options.stilts = stilts_.string();
    options.out = &out;
    try {
      run_plan(g, plan, options);
    } catch (const Error& e) {
      return {e.what(), out.str()};
    }
    ADD_FAILURE() << "run_plan did not throw";
    return {};
  }

  // The command lines the fakes recorded, in order.
  std::vector<std::vector<std::string>> calls() const {
    std::vector<std::vector<std::string>> all(1);
    std::ifstream in(dir_ / "calls");
    for (std::string line; std::getline(in, line);)
      if (line == "--end--")
        all.emplace_back();
      else
        all.back().push_back(line);
    all.pop_back();
    return all;
  }
  // The command lines of `stages` as the executor composes them.
  std::vector<std::vector<std::string>> lines(const Grid& g,
                                              const std::vector<const Stage*>& stages) const {
    std::vector<std::vector<std::string>> all;
    for (const Stage* stage : stages) all.push_back(command_line(g.launcher, stilts_, *stage));
    return all;
  }
  static std::vector<const Stage*> from(const Plan& plan, size_t first) {
    std::vector<const Stage*> stages;
    for (size_t i = first; i < plan.stages.size(); ++i) stages.push_back(&plan.stages[i]);
    return stages;
  }
  static size_t index_of(const Plan& plan, const std::string& id) {
    for (size_t i = 0; i < plan.stages.size(); ++i)
      if (plan.stages[i].id == id) return i;
    ADD_FAILURE() << "no stage " << id;
    return 0;
  }
  // Every path under the folder with its size (links as links), to see that nothing changed.
  static std::vector<std::string> tree(const fs::path& root) {
    std::vector<std::string> entries;
    if (!fs::exists(root)) return entries;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      std::string text = entry.path().string();
      if (entry.is_symlink())
        text += " -> " + fs::read_symlink(entry.path()).string();
      else if (entry.is_regular_file())
        text += " " + std::to_string(entry.file_size());
      entries.push_back(text);
    }
    std::sort(entries.begin(), entries.end());
    return entries;
  }

  const TempDir scratch_;
  const fs::path dir_{scratch_.path()};
  const fs::path stilts_ = dir_ / "stilts";
};

TEST_F(Executor, RunsEveryStageInPlanOrderAndASecondRunDoesNothing) {
  const Grid g = grid();
  const Plan plan = expand_grid(g);
  ASSERT_EQ(plan.stages.size(), 8u);
  int ran = -1;
  const std::string out = run(g, plan, false, false, &ran);
  EXPECT_EQ(ran, 8);
  EXPECT_THAT(calls(), ElementsAreArray(lines(g, from(plan, 0))));

  const Manifest manifest = Manifest::load(Manifest::path_in(g.runs_dir), g.name);
  for (const Stage& stage : plan.stages) {
    EXPECT_TRUE(manifest.finished(stage.id)) << stage.id;
    EXPECT_THAT(out, HasSubstr(stage.id + ": done in "));
    const std::string log = read_file(stage_log_path(g.runs_dir, stage.id));
    EXPECT_THAT(log, HasSubstr("[stilts experiment] attempt 1 of " + stage.id));
    EXPECT_THAT(log, HasSubstr("fake stilts " + stage.args[0] + " -> " + stage.output));
  }
  EXPECT_EQ(stage_log_path(g.runs_dir, "eval/test-tiny-none-xnli-s1"),
            g.runs_dir + "/logs/eval__test-tiny-none-xnli-s1.log");
  EXPECT_THAT(out, HasSubstr("[1/8] import/test-tiny: " + stilts_.string() + " import-hf "));
  EXPECT_THAT(
      out, HasSubstr("ran 8 stages, skipped 0 finished; next: stilts report " + g.runs_dir + "\n"));
  const fs::path run_dir = fs::path(g.runs_dir) / "test-tiny-english-xnli-s1";
  EXPECT_TRUE(fs::is_regular_file(run_dir / "run.json"));
  EXPECT_TRUE(fs::is_symlink(run_dir / "eval/tatoeba"));
  EXPECT_TRUE(fs::is_regular_file(run_dir / "eval/tatoeba/summary.json"));
  EXPECT_TRUE(fs::is_regular_file(run_dir / "eval/xnli/summary.json"));

  const std::string manifest_bytes = read_file(manifest.path());
  const std::vector<std::string> before = tree(g.runs_dir);
  const std::string again = run(g, plan, false, false, &ran);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(again,
            "nothing to do: all 8 stages of grid small have finished (" + manifest.path() + ")\n");
  EXPECT_EQ(calls().size(), 8u);
  EXPECT_EQ(read_file(manifest.path()), manifest_bytes);
  EXPECT_EQ(tree(g.runs_dir), before);
}

TEST_F(Executor, AFailedStageStopsTheGridStaysStartedAndIsRerunWithTheStagesAfterIt) {
  const Grid g = grid();
  const Plan plan = expand_grid(g);
  const std::string failing = "intermediate/test-tiny-english-s1";
  const size_t at = index_of(plan, failing);
  std::ofstream(dir_ / "fail-on") << plan.stages[at].output;

  const auto [error, out] = failed_run<StageFailed>(g, plan);
  const std::string log = stage_log_path(g.runs_dir, failing);
  EXPECT_THAT(error, HasSubstr("stage " + failing + " failed with exit status 3 (log " + log));
  EXPECT_THAT(out, HasSubstr("last lines of " + log + ":\n"));
  EXPECT_THAT(out, HasSubstr("  error: failing as told\n"));
  const std::vector<std::vector<std::string>> planned = lines(g, from(plan, 0));
  EXPECT_THAT(calls(), ElementsAreArray(planned.begin(), planned.begin() + at + 1));
  const Manifest manifest = Manifest::load(Manifest::path_in(g.runs_dir), g.name);
  for (size_t i = 0; i < plan.stages.size(); ++i)
    EXPECT_EQ(manifest.finished(plan.stages[i].id), i < at) << plan.stages[i].id;
  EXPECT_TRUE(manifest.stages().count(failing));
  EXPECT_EQ(manifest.stages().size(), at + 1);

  fs::remove(dir_ / "fail-on");
  fs::remove(dir_ / "calls");
  int ran = -1;
  const std::string rerun = run(g, plan, false, false, &ran);
  EXPECT_EQ(ran, static_cast<int>(plan.stages.size() - at));
  EXPECT_THAT(calls(), ElementsAreArray(lines(g, from(plan, at))));
  EXPECT_THAT(rerun, HasSubstr("skipped " + std::to_string(at) + " finished"));
  EXPECT_THAT(read_file(log), HasSubstr("[stilts experiment] attempt 2 of " + failing));
  EXPECT_THAT(read_file(log), HasSubstr("error: failing as told"));  // appended, not replaced
}

TEST_F(Executor, SigtermStopsTheStageWhichStaysStartedAndTheHandlersAreRestored) {
  const Grid g = grid();
  const Plan plan = expand_grid(g);
  const std::string stopped = "target/test-tiny-none-xnli-s1";
  const size_t at = index_of(plan, stopped);
  std::ofstream(dir_ / "interrupt-on") << plan.stage(stopped).output;

  std::ostringstream out;
  ExecutorOptions options;
  options.stilts = stilts_.string();
  options.out = &out;
  int exit_status = 0;
  std::string error;
  try {
    run_plan(g, plan, options);
  } catch (const Interrupted& e) {
    exit_status = e.exit_status;
    error = e.what();
  }
  EXPECT_EQ(exit_status, 143);
  EXPECT_THAT(error, HasSubstr("SIGTERM: stopped stage " + stopped));
  EXPECT_THAT(error, HasSubstr("run the same command again to resume the grid"));
  struct sigaction now {};
  sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  const Manifest manifest = Manifest::load(Manifest::path_in(g.runs_dir), g.name);
  EXPECT_TRUE(manifest.stages().count(stopped));
  EXPECT_FALSE(manifest.finished(stopped));
  EXPECT_EQ(calls().size(), at + 1);

  fs::remove(dir_ / "interrupt-on");
  fs::remove(dir_ / "calls");
  run(g, plan);
  EXPECT_THAT(calls(), ElementsAreArray(lines(g, from(plan, at))));
}

TEST_F(Executor, DryRunListsEachStageWithItsStateAndWritesNothing) {
  const Grid g = grid();
  const Plan plan = expand_grid(g);
  const std::string fresh = run(g, plan, true);
  EXPECT_FALSE(fs::exists(g.runs_dir));
  EXPECT_THAT(fresh, HasSubstr("[1/8] pending import/test-tiny: " + stilts_.string() +
                               " import-hf --hf-dir "));
  EXPECT_THAT(fresh, HasSubstr("dry run: 8 of 8 stages to run, 0 finished"));

  const size_t at = index_of(plan, "intermediate/test-tiny-english-s1");
  std::ofstream(dir_ / "fail-on") << plan.stages[at].output;
  failed_run<StageFailed>(g, plan);
  fs::remove(dir_ / "calls");
  const std::vector<std::string> before = tree(g.runs_dir);
  const std::string listed = run(g, plan, true);
  EXPECT_FALSE(fs::exists(dir_ / "calls"));
  EXPECT_EQ(tree(g.runs_dir), before);
  EXPECT_THAT(listed, HasSubstr("[1/8] finished import/test-tiny: "));
  EXPECT_THAT(listed, HasSubstr("started intermediate/test-tiny-english-s1: "));
  EXPECT_THAT(listed, HasSubstr("[8/8] pending eval/test-tiny-english-xnli-s1: "));
  EXPECT_THAT(listed, HasSubstr("dry run: " + std::to_string(plan.stages.size() - at) +
                                " of 8 stages to run, " + std::to_string(at) + " finished"));
}

TEST_F(Executor, AGridEditedAfterItsStagesRanIsRefusedUnlessForced) {
  const Grid g = grid();
  run(g, expand_grid(g));
  const std::string manifest_path = Manifest::path_in(g.runs_dir);
  const std::string manifest_bytes = read_file(manifest_path);

  const Grid edited =
      grid("[target]\ncorpora = xnli.h5\nsteps = 2", "[target]\ncorpora = xnli.h5\nsteps = 3");
  const Plan plan = expand_grid(edited);
  EXPECT_THAT(error_of([&] { run(edited, plan); }),
              HasSubstr("stage target/test-tiny-none-xnli-s1 finished with other arguments"));
  EXPECT_EQ(read_file(manifest_path), manifest_bytes);
  EXPECT_EQ(calls().size(), 8u);

  const std::string forced = run(edited, plan, false, true);
  EXPECT_THAT(forced, HasSubstr("--force: recorded the grid's new arguments"));
  EXPECT_THAT(forced, HasSubstr("nothing to do: all 8 stages"));
  EXPECT_EQ(calls().size(), 8u);  // the outputs are kept
  EXPECT_EQ(Manifest::load(manifest_path, g.name).stages().at("target/test-tiny-none-xnli-s1").args,
            plan.stage("target/test-tiny-none-xnli-s1").args);
  EXPECT_THAT(run(edited, plan), HasSubstr("nothing to do"));
}

TEST_F(Executor, TheMpirunLauncherRunsTheComposedCommandLine) {
  const std::string path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", ((dir_ / "bin").string() + ":" + path).c_str(), 1);
  const Grid g =
      grid("", "", "\n[launcher]\nkind = mpirun\nnp = 2\nmpirun_args = --oversubscribe -x A=1\n");
  const Plan plan = expand_grid(g);
  run(g, plan);
  setenv("PATH", path.c_str(), 1);

  // mpirun's command line, then stilts's as mpirun started it; import-hf runs alone.
  std::vector<std::vector<std::string>> expected;
  for (const Stage& stage : plan.stages) {
    const std::vector<std::string> line = command_line(g.launcher, stilts_, stage);
    expected.push_back(line);
    if (line.front() == "mpirun") expected.push_back(command_line(Launcher{}, stilts_, stage));
  }
  EXPECT_THAT(calls(), ElementsAreArray(expected));
  // An evaluation runs on tp ranks, a training stage on np.
  const auto head = [](const std::vector<std::string>& call) {
    return std::vector<std::string>(call.begin(), call.begin() + std::min<size_t>(8, call.size()));
  };
  const std::vector<std::vector<std::string>> recorded = calls();
  ASSERT_GE(recorded.size(), 6u);
  EXPECT_THAT(recorded[0], ::testing::Contains("import-hf"));
  EXPECT_THAT(head(recorded[1]),
              ElementsAreArray({std::string("mpirun"), std::string("-np"), std::string("1"),
                                std::string("--oversubscribe"), std::string("-x"),
                                std::string("A=1"), stilts_.string(), std::string("eval")}));
  EXPECT_THAT(head(recorded[3]),
              ElementsAreArray({std::string("mpirun"), std::string("-np"), std::string("2"),
                                std::string("--oversubscribe"), std::string("-x"),
                                std::string("A=1"), stilts_.string(), std::string("train")}));
}

}  // namespace
}  // namespace stilts::experiments
