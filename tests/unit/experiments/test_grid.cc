// stilts experiment's foundation (experiments/grid.h, manifest.h) on grid files the tests write:
// parsing, every refusal naming the file and the key, the expansion's runs and shared stages,
// each stage kind's argument list, the equal token budgets, and the manifest's round trip,
// atomic save, resumption and changed-grid detection; and every grid shipped under
// experiments/scaling/ and experiments/demo/ parsing and expanding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "data/languages.h"
#include "data/synthetic_study.h"
#include "experiments/grid.h"
#include "experiments/manifest.h"
#include "tests/unit/error_of.h"
#include "tests/unit/temp_dir.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
using stilts::testing::error_of;
using stilts::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2 models x 3 regimes x 2 target tasks x 2 seeds, imported weights, two retrieval tasks.
const char* const kGrid = R"([grid]
name = t
models = test-tiny, test-small
regimes = none, english, multilingual
tasks = xnli, xquad
retrieval = tatoeba, lareqa
seeds = 1, 2
runs_dir = runs
tokenizer = tok/m.model

[init]
source = hf
hf_dir = hf/{model}

[intermediate]
token_budget = 100000
max_tokens = 1000

[intermediate.english]
corpora = c/squad-en.h5, c/mnli-en.h5

[intermediate.multilingual]
corpora = c/tydiqa.h5
lr = 5e-4

[target]
lr = 1e-3

[target.xnli]
corpora = c/xnli-en.h5
steps = 10

[target.xquad]
corpora = c/squad.h5
token_budget = 5000
max_tokens = 1000
split = test
langs = en,de

[eval]
data = download
split = dev
)";

class GridFiles : public ::testing::Test {
 protected:
  // The grid with `from` replaced by `to` (which must occur), then `append` added at the end.
  std::string write(const std::string& from = "", const std::string& to = "",
                    const std::string& append = "") {
    std::string text = kGrid;
    if (!from.empty()) {
      const size_t at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    }
    text += append;
    const std::string path = (dir_ / "grid.ini").string();
    std::ofstream(path) << text;
    return path;
  }
  // The error of a grid so changed; it must name the file and the key.
  void expect_error(const std::string& key, const std::string& what, const std::string& from,
                    const std::string& to, const std::string& append = "") {
    const std::string path = write(from, to, append);
    const std::string error = error_of([&] { parse_grid(path); });
    EXPECT_THAT(error, HasSubstr(path + ": " + key)) << from << " -> " << to << append;
    EXPECT_THAT(error, HasSubstr(what)) << from << " -> " << to << append;
  }
  std::string abs(const std::string& relative) const {
    return (dir_ / relative).lexically_normal().string();
  }

  const TempDir scratch_;
  const fs::path dir_{scratch_.path()};
};

TEST_F(GridFiles, ParsesEveryKeyWithSharedDefaultsAndPathsBesideTheFile) {
  const Grid g = parse_grid(write());
  EXPECT_EQ(g.name, "t");
  EXPECT_THAT(g.models, ElementsAre("test-tiny", "test-small"));
  EXPECT_THAT(g.regimes, ElementsAre("none", "english", "multilingual"));
  EXPECT_THAT(g.tasks, ElementsAre("xnli", "xquad"));
  EXPECT_THAT(g.retrieval, ElementsAre("tatoeba", "lareqa"));
  EXPECT_THAT(g.seeds, ElementsAre(1u, 2u));
  EXPECT_EQ(g.runs_dir, abs("runs"));
  EXPECT_EQ(g.tokenizer, abs("tok/m.model"));
  EXPECT_EQ(g.hf_dir, abs("hf/{model}"));
  const TrainSettings& english = g.intermediate_of("english");
  EXPECT_THAT(english.corpora, ElementsAre(abs("c/squad-en.h5"), abs("c/mnli-en.h5")));
  EXPECT_EQ(english.token_budget, 100000);  // from [intermediate]
  EXPECT_EQ(english.max_tokens, 1000);
  EXPECT_EQ(english.lr, "1e-3");
  EXPECT_EQ(g.intermediate_of("multilingual").lr, "5e-4");  // its own section wins
  EXPECT_EQ(g.target_of("xnli").train.steps, 10);
  EXPECT_EQ(g.target_of("xnli").eval.split, "dev");  // from [eval]
  EXPECT_EQ(g.target_of("xquad").eval.split, "test");
  EXPECT_EQ(g.target_of("xquad").eval.langs, "en,de");
  EXPECT_EQ(g.eval.data, abs("download"));
  EXPECT_EQ(g.eval.layer_depth, "0.5");  // XTREME's middle layer
  EXPECT_EQ(g.launcher.kind, "local");
  const Grid deep = parse_grid(write("", "", "[eval]\nlayer_depth = 0.75\n"));
  EXPECT_EQ(deep.eval.layer_depth, "0.75");
}

TEST_F(GridFiles, EveryRefusalNamesTheFileTheKeyAndWhatWasExpected) {
  expect_error("grid.colour", "unknown key; [grid] takes name, models", "", "",
               "[grid]\ncolour = red\n");
  expect_error("gird.name", "unknown key; section [gird] is none of grid, init", "", "",
               "[gird]\nname = x\n");
  expect_error("target.xcopa.corpora", "task xcopa is not in grid.tasks", "", "",
               "[target.xcopa]\ncorpora = a.h5\nsteps = 1\n");
  expect_error("target.tatoeba.corpora", "unknown key", "", "", "[target.tatoeba]\ncorpora = a\n");
  expect_error("intermediate.mlm.corpora", "regime mlm is not in grid.regimes", "", "",
               "[intermediate.mlm]\ncorpora = a.h5\n");
  expect_error("grid.name", "missing (required)", "name = t\n", "");
  expect_error("grid.name", "expected letters, digits", "name = t\n", "name = a/b\n");
  expect_error("grid.models", "'mt5-tiny' is no preset; expected", "test-tiny, test-small",
               "mt5-tiny");
  expect_error("grid.models", "'test-tiny' is listed twice", "test-tiny, test-small",
               "test-tiny, test-tiny");
  expect_error("grid.models", "without empty items", "test-tiny, test-small", "test-tiny,,x");
  expect_error("grid.regimes",
               "'german' is no regime; expected none, english, multilingual, shuffled, mlm",
               "none, english, multilingual", "none, german");
  expect_error("grid.tasks", "'tatoeba' is no target task", "tasks = xnli, xquad",
               "tasks = tatoeba");
  expect_error("grid.tasks", "'xnlii' is no target task", "tasks = xnli, xquad", "tasks = xnlii");
  expect_error("grid.retrieval", "'xnli' is no retrieval task", "retrieval = tatoeba, lareqa",
               "retrieval = xnli");
  expect_error("grid.seeds", "expected integers >= 0, got '-1'", "seeds = 1, 2", "seeds = 1, -1");
  expect_error("grid.seeds", "missing", "seeds = 1, 2\n", "");
  expect_error("grid.runs_dir", "missing", "runs_dir = runs\n", "");
  expect_error("grid.tokenizer", "missing", "tokenizer = tok/m.model\n", "");
  expect_error("init.source", "expected one of hf, pretrain, scratch, got 'web'", "source = hf",
               "source = web");
  expect_error("init.hf_dir", "expected a template with {model}", "hf/{model}", "hf/one");
  expect_error("init.hf_dir", "missing", "hf_dir = hf/{model}\n", "");
  expect_error("init.vocab_size", "applies to source = pretrain or scratch", "", "",
               "[init]\nvocab_size = 300\n");
  expect_error("pretrain.steps", "applies to init.source = pretrain only", "", "",
               "[pretrain]\nsteps = 5\n");
  expect_error("intermediate.max_tokens", "expected an integer >= 1, got '1k'",
               "max_tokens = 1000\n\n[intermediate.english]",
               "max_tokens = 1k\n\n[intermediate.english]");
  expect_error("intermediate.multilingual.lr", "expected a number in", "lr = 5e-4", "lr = fast");
  expect_error("intermediate.multilingual.lr", "got '0'", "lr = 5e-4", "lr = 0");
  expect_error("target.xnli.dropout", "expected a number in [0.000000, 1.000000)", "", "",
               "[target.xnli]\ndropout = 1.5\n");
  expect_error("eval.layer_depth", "expected a relative depth in [0, 1], got '1.5'", "", "",
               "[eval]\nlayer_depth = 1.5\n");
  expect_error("eval.layer_depth", "expected a number in", "", "", "[eval]\nlayer_depth = -0.1\n");
  expect_error("target.xnli.span_corruption_ratio", "needs span_corruption_corpora", "", "",
               "[target.xnli]\nspan_corruption_ratio = 0.01\n");
  expect_error("target.span_corruption_corpora", "applies with span_corruption_ratio only", "", "",
               "[target]\nspan_corruption_corpora = c/sc.h5\n");
  expect_error("target.xnli.span_corruption_ratio", "expected a number in", "", "",
               "[target.xnli]\nspan_corruption_ratio = 1:100\nspan_corruption_corpora = c/sc.h5\n");
  expect_error("target.xnli.mixture_alpha", "give one of mixture_alpha and span_corruption_ratio",
               "", "",
               "[target.xnli]\nspan_corruption_ratio = 0.01\nspan_corruption_corpora = "
               "c/sc.h5\nmixture_alpha = 0.5\n");
  expect_error("target.xnli.span_corruption_corpora", "which the stage already has", "", "",
               "[target.xnli]\nspan_corruption_ratio = 0.01\nspan_corruption_corpora = "
               "c/xnli-en.h5\n");
  expect_error("target.xnli.optimizer", "expected one of adafactor, adamw", "", "",
               "[target.xnli]\noptimizer = sgd\n");
  expect_error("target.xquad.steps", "give exactly one of steps and token_budget", "", "",
               "[target.xquad]\nsteps = 4\n");
  expect_error("target.xnli.steps", "give exactly one of steps and token_budget",
               "corpora = c/xnli-en.h5\nsteps = 10\n", "corpora = c/xnli-en.h5\n");
  expect_error("target.xnli.corpora", "missing (required: the prepared corpora)",
               "corpora = c/xnli-en.h5\n", "");
  expect_error("intermediate.multilingual.corpora", "missing", "corpora = c/tydiqa.h5\n", "");
  expect_error("target.xquad.langs", "for task xquad", "langs = en,de", "langs = en,xx");
  expect_error("eval.langs", "for task tatoeba", "", "", "[eval]\nlangs = en\n");
  expect_error("target.xquad.split", "expected one of dev, test", "split = test", "split = val");
  expect_error("eval.data", "missing", "data = download\n", "");
  expect_error("launcher.np", "the local launcher runs one process", "", "",
               "[launcher]\nnp = 2\n");
  expect_error("launcher.np", "3 ranks are not a multiple of launcher.tp 2", "", "",
               "[launcher]\nkind = mpirun\nnp = 3\ntp = 2\n");
  expect_error("launcher.zero", "expected true or false", "", "", "[launcher]\nzero = maybe\n");
  expect_error("launcher.mpirun_args", "applies to kind = mpirun only", "", "",
               "[launcher]\nmpirun_args = --oversubscribe\n");
  expect_error("grid.retrieval", "regime none from init.source = scratch",
               "source = hf\nhf_dir = hf/{model}", "source = scratch");
  // Boost's own errors (a repeated key, a line that is no key = value) still name the file.
  expect_error("", "name", "name = t\n", "name = t\nname = u\n");
  expect_error("", "", "[eval]", "[eval]\nthis is no key\n");
  EXPECT_THAT(error_of([&] { parse_grid((dir_ / "absent.ini").string()); }),
              HasSubstr("absent.ini: cannot open the grid file"));
}

// UD-POS lacks a dev split in several languages; the grid does not refuse it with the dev split
// and every language (stilts eval skips and counts the languages without the file).
TEST_F(GridFiles, AcceptsUdposOnTheDevSplitWithEveryLanguage) {
  const Grid g = parse_grid(write("tasks = xnli, xquad", "tasks = xnli, xquad, udpos",
                                  "\n[target.udpos]\ncorpora = c/udpos.h5\nsteps = 10\n"
                                  "split = dev\nlangs = all\n"));
  EXPECT_EQ(g.target_of("udpos").eval.split, "dev");
  EXPECT_EQ(g.target_of("udpos").eval.langs, "all");
}

TEST_F(GridFiles, CorporaMayBeGlobPatternsBesideTheFileExpandedInNameOrder) {
  fs::create_directories(dir_ / "c");
  for (const char* name : {"pairs-fr.h5", "pairs-de.h5", "pairs-en.h5", "other.h5"})
    std::ofstream(dir_ / "c" / name) << "";
  const Grid g = parse_grid(write("corpora = c/tydiqa.h5", "corpora = c/pairs-*.h5, c/tydiqa.h5"));
  // A plain path is taken as it is, whether the file exists or not (c/tydiqa.h5 does not).
  EXPECT_THAT(g.intermediate_of("multilingual").corpora,
              ElementsAre(abs("c/pairs-de.h5"), abs("c/pairs-en.h5"), abs("c/pairs-fr.h5"),
                          abs("c/tydiqa.h5")));
  expect_error("intermediate.multilingual.corpora",
               "the pattern 'c/none-*.h5' matches no file (as " + abs("c/none-*.h5") + ")",
               "corpora = c/tydiqa.h5", "corpora = c/none-*.h5");
  expect_error("intermediate.multilingual.corpora",
               "'c/pairs-?e.h5' gives " + abs("c/pairs-de.h5") + ", which the list already has",
               "corpora = c/tydiqa.h5", "corpora = c/pairs-de.h5, c/pairs-?e.h5");
}

// The UDHR tasks' articles go to their evaluation stages as --articles, checked when the grid is
// read: target stages take [target.T], [target] or [eval], retrieval stages [eval].
TEST_F(GridFiles, UdhrEvaluationsTakeTheirArticles) {
  std::string grid = kGrid;
  grid = grid.substr(0, grid.find("tasks = ")) +
         "tasks = udhr-pairs\nretrieval = udhr-align\nseeds = 1\n" +
         grid.substr(grid.find("runs_dir"));
  grid = grid.substr(0, grid.find("[target.xnli]")) +
         "[target.udhr-pairs]\ncorpora = c/pairs-en.h5\nsteps = 2\n" +
         grid.substr(grid.find("[eval]"));
  const std::string path = (dir_ / "udhr.ini").string();
  // The grid with `target` added to [target.udhr-pairs] and `eval` to [eval].
  const auto parse = [&](const std::string& target, const std::string& eval) {
    std::string text = grid;
    text.insert(text.find("[eval]"), target);
    std::ofstream(path) << text + eval;
    return parse_grid(path);
  };
  const auto articles_of = [](const Stage& stage) {
    const auto at = std::find(stage.args.begin(), stage.args.end(), "--articles");
    return at == stage.args.end() ? std::string("(none)") : *(at + 1);
  };
  const Plan all = expand_grid(parse("", ""));
  EXPECT_EQ(articles_of(all.stage("eval/test-tiny-english-udhr-pairs-s1")), "(none)");
  const Plan held_out = expand_grid(parse("", "articles = 21-30\n"));
  EXPECT_EQ(articles_of(held_out.stage("eval/test-tiny-english-udhr-pairs-s1")), "21-30");
  EXPECT_EQ(articles_of(held_out.stage("retrieval_eval/test-tiny-english-s1/udhr-align")), "21-30");
  const Plan own = expand_grid(parse("articles = 0,30\n", "articles = 21-30\n"));
  EXPECT_EQ(articles_of(own.stage("eval/test-tiny-english-udhr-pairs-s1")), "0,30");
  EXPECT_EQ(articles_of(own.stage("retrieval_eval/test-tiny-english-s1/udhr-align")), "21-30");

  EXPECT_THAT(error_of([&] { parse("", "articles = 0-31\n"); }),
              HasSubstr(path + ": eval.articles: for task udhr-pairs: article 31 is past the "
                               "declaration's 30"));
  EXPECT_THAT(error_of([&] { parse("articles = 20-11\n", ""); }),
              HasSubstr(path + ": target.udhr-pairs.articles: for task udhr-pairs: the range "
                               "'20-11' runs backwards"));
  expect_error("target.xnli.articles", "for task xnli: task xnli has no articles to select", "", "",
               "[target.xnli]\narticles = 1-10\n");
}

TEST(TaskLists, UdhrAlignIsARetrievalTaskAndNoTargetTask) {
  EXPECT_THAT(retrieval_tasks(), ::testing::Contains("udhr-align"));
  EXPECT_THAT(target_tasks(), ::testing::Not(::testing::Contains("udhr-align")));
}

TEST_F(GridFiles, IntermediateRegimesGetEqualTokenBudgetsUnlessTheGridSaysOtherwise) {
  const std::string unequal = "[intermediate.english]\ntoken_budget = 200000\n";
  expect_error("intermediate.token_budget",
               "different token budgets (english 200000, multilingual 100000 tokens); give them "
               "the same budget or set intermediate.unequal_budgets = true",
               "", "", unequal);
  // Steps count as steps x max_tokens x data-parallel ranks.
  expect_error("intermediate.token_budget", "english 50000, multilingual 100000",
               "token_budget = 100000\nmax_tokens = 1000\n", "max_tokens = 1000\n",
               "[intermediate.english]\nsteps = 50\n[intermediate.multilingual]\n"
               "token_budget = 100000\n");
  const std::string mixed = "[intermediate.english]\ntoken_budget = 200000\n";
  const std::string fixed =
      write("max_tokens = 1000\n", "max_tokens = 1000\nunequal_budgets = true\n", mixed);
  const Grid g = parse_grid(fixed);
  EXPECT_TRUE(g.unequal_budgets);
  EXPECT_EQ(g.intermediate_of("english").token_budget, 200000);
}

TEST_F(GridFiles, ExpandsRunsAndSharesImportIntermediateAndRetrievalStages) {
  const Grid g = parse_grid(write());
  const Plan plan = expand_grid(g);
  ASSERT_EQ(plan.runs.size(), 2u * 3 * 2 * 2);
  EXPECT_EQ(plan.runs.front().id, "test-tiny-none-xnli-s1");
  EXPECT_EQ(plan.runs.back().id, "test-small-multilingual-xquad-s2");
  std::set<std::string> ids;
  for (const experiments::Run& run : plan.runs) {
    EXPECT_TRUE(ids.insert(run.id).second) << run.id;
    EXPECT_EQ(run.id,
              run.model + "-" + run.regime + "-" + run.task + "-s" + std::to_string(run.seed));
    EXPECT_EQ(run.dir, g.runs_dir + "/" + run.id);
  }
  std::map<StageKind, int> count;
  std::set<std::string> stage_ids, seen;
  for (const Stage& stage : plan.stages) {
    ++count[stage.kind];
    EXPECT_TRUE(stage_ids.insert(stage.id).second) << stage.id;
    for (const std::string& after : stage.after)
      EXPECT_TRUE(seen.count(after)) << stage.id << " runs before " << after;
    seen.insert(stage.id);
  }
  EXPECT_EQ(count[StageKind::kImport], 2);                // one per model
  EXPECT_EQ(count[StageKind::kIntermediate], 2 * 2 * 2);  // model x regime (not none) x seed
  // Per model: none's two tasks once (seed-independent), and two per intermediate checkpoint.
  EXPECT_EQ(count[StageKind::kRetrievalEval], 2 * 2 + 8 * 2);
  EXPECT_EQ(count[StageKind::kTarget], 24);
  EXPECT_EQ(count[StageKind::kEval], 24);
  EXPECT_EQ(count[StageKind::kPretrain], 0);

  // Both target tasks of (test-tiny, english, seed 1) start from one intermediate checkpoint
  // and link the same retrieval results.
  const std::string inter = g.runs_dir + "/shared/intermediate/test-tiny-english-s1";
  for (const std::string task : {"xnli", "xquad"}) {
    const Stage& target = plan.stage("target/test-tiny-english-" + task + "-s1");
    EXPECT_THAT(target.after, ElementsAre("intermediate/test-tiny-english-s1"));
    EXPECT_EQ(target.input, inter);
    const Stage& eval = plan.stage("eval/test-tiny-english-" + task + "-s1");
    EXPECT_THAT(eval.after, ElementsAre("target/test-tiny-english-" + std::string(task) + "-s1",
                                        "retrieval_eval/test-tiny-english-s1/tatoeba",
                                        "retrieval_eval/test-tiny-english-s1/lareqa"));
    ASSERT_EQ(eval.links.size(), 2u);
    EXPECT_EQ(eval.links[0].path, g.runs_dir + "/test-tiny-english-" + task + "-s1/eval/tatoeba");
    EXPECT_EQ(eval.links[0].target, "../../shared/retrieval/test-tiny-english-s1/tatoeba");
  }
  // Regime none: the target starts from the import; retrieval on it is shared by every seed.
  const Stage& none_target = plan.stage("target/test-small-none-xnli-s2");
  EXPECT_THAT(none_target.after, ElementsAre("import/test-small"));
  EXPECT_EQ(none_target.input, g.runs_dir + "/shared/import/test-small");
  EXPECT_EQ(plan.stage("eval/test-small-none-xnli-s2").links[1].target,
            "../../shared/retrieval/test-small-none/lareqa");
  EXPECT_EQ(plan.stage("eval/test-small-none-xnli-s1").links[1].target,
            "../../shared/retrieval/test-small-none/lareqa");
  // run.json is written before the run's first stage, with the fields stilts report reads.
  ASSERT_EQ(none_target.writes.size(), 1u);
  EXPECT_EQ(none_target.writes[0].path, g.runs_dir + "/test-small-none-xnli-s2/run.json");
  const nlohmann::json run = nlohmann::json::parse(none_target.writes[0].contents);
  EXPECT_EQ(run["model"], "test-small");
  EXPECT_EQ(run["regime"], "none");
  EXPECT_EQ(run["task"], "xnli");
  EXPECT_EQ(run["seed"], 2);
  // The corpora the report learns the intermediate mix's languages and tasks from.
  EXPECT_TRUE(run["intermediate_corpora"].empty());
  EXPECT_EQ(run["target_corpora"], nlohmann::json::array({g.target_of("xnli").train.corpora[0]}));
  const nlohmann::json multilingual = nlohmann::json::parse(
      plan.stage("target/test-small-multilingual-xnli-s1").writes[0].contents);
  EXPECT_EQ(multilingual["intermediate_corpora"],
            nlohmann::json(g.intermediate_of("multilingual").corpora));
}

TEST_F(GridFiles, EachStageKindHasTheArgumentsOfItsCommand) {
  const Grid g = parse_grid(write());
  const Plan plan = expand_grid(g);
  const std::string runs = g.runs_dir, tok = abs("tok/m.model");

  EXPECT_THAT(plan.stage("import/test-tiny").args,
              ElementsAre("import-hf", "--hf-dir", abs("hf/test-tiny"), "--out",
                          runs + "/shared/import/test-tiny"));
  const std::string inter = runs + "/shared/intermediate/test-tiny-english-s2";
  // 100000 tokens at 1000 per step and one rank: 100 steps.
  EXPECT_THAT(
      plan.stage("intermediate/test-tiny-english-s2").args,
      ElementsAre("train", "--run-dir", inter, "--init-from", runs + "/shared/import/test-tiny",
                  "--seed", "2", "--corpus", abs("c/squad-en.h5"), "--corpus", abs("c/mnli-en.h5"),
                  "--tokenizer", tok, "--mixture-alpha", "0.3", "--max-tokens", "1000",
                  "--max-input-len", "1024", "--max-target-len", "256", "--steps", "100",
                  "--optimizer", "adafactor", "--lr", "1e-3", "--schedule", "constant",
                  "--warmup-steps", "0", "--save-every", "200", "--device", "cpu", "--tp", "1"));
  const std::string run = runs + "/test-tiny-english-xquad-s2";
  const std::vector<std::string>& target = plan.stage("target/test-tiny-english-xquad-s2").args;
  EXPECT_THAT(std::vector<std::string>(target.begin(), target.begin() + 5),
              ElementsAre("train", "--run-dir", run + "/target", "--init-from", inter));
  EXPECT_NE(std::find(target.begin(), target.end(), "5"), target.end());  // 5000 / 1000 steps
  EXPECT_THAT(plan.stage("eval/test-tiny-english-xquad-s2").args,
              ElementsAre("eval", "--checkpoint", run + "/target", "--tokenizer", tok, "--task",
                          "xquad", "--data", abs("download"), "--split", "test", "--langs", "en,de",
                          "--out", run + "/eval", "--max-input-len", "1024", "--batch", "16",
                          "--device", "cpu", "--tp", "1"));
  EXPECT_THAT(plan.stage("retrieval_eval/test-tiny-english-s2/tatoeba").args,
              ElementsAre("eval", "--checkpoint", inter, "--tokenizer", tok, "--task", "tatoeba",
                          "--data", abs("download"), "--split", "dev", "--langs", "all", "--out",
                          runs + "/shared/retrieval/test-tiny-english-s2", "--max-input-len",
                          "1024", "--batch", "16", "--layer", "-1", "--layer-depth", "0.5",
                          "--device", "cpu", "--tp", "1"));
}

TEST_F(GridFiles, LengthNormalizeReachesTheTasksThatRankTheirOwnChoices) {
  const Grid g = parse_grid(write("tasks = xnli, xquad", "tasks = xnli, xquad, xcopa",
                                  "\n[target.xcopa]\ncorpora = c/copa.h5\nsteps = 10\n"
                                  "length_normalize = true\n"));
  EXPECT_TRUE(g.target_of("xcopa").eval.length_normalize);
  EXPECT_FALSE(g.target_of("xnli").eval.length_normalize);
  const Plan plan = expand_grid(g);
  const auto flagged = [&](const std::string& stage) {
    const std::vector<std::string>& args = plan.stage(stage).args;
    return std::find(args.begin(), args.end(), "--length-normalize") != args.end();
  };
  EXPECT_TRUE(flagged("eval/test-tiny-english-xcopa-s1"));
  EXPECT_FALSE(flagged("eval/test-tiny-english-xnli-s1"));
  // Set for every task, it still reaches only the tasks that rank each example's choices.
  const Plan everywhere = expand_grid(parse_grid(
      write("tasks = xnli, xquad", "tasks = xnli, xquad, xcopa",
            "length_normalize = yes\n[target.xcopa]\ncorpora = c/copa.h5\nsteps = 10\n")));
  const std::vector<std::string>& xnli = everywhere.stage("eval/test-tiny-english-xnli-s1").args;
  EXPECT_EQ(std::find(xnli.begin(), xnli.end(), "--length-normalize"), xnli.end());
  const std::vector<std::string>& xcopa = everywhere.stage("eval/test-tiny-english-xcopa-s1").args;
  EXPECT_NE(std::find(xcopa.begin(), xcopa.end(), "--length-normalize"), xcopa.end());
  expect_error("eval.length_normalize", "expected true or false, got 'maybe'", "", "",
               "length_normalize = maybe\n");
}

TEST_F(GridFiles, AStudysOwnLanguageTableGoesToEveryEvalStage) {
  std::ofstream(dir_ / "languages.tsv") << "code\tname\tfamily\tbranch\tscript\n"
                                        << "en\tEnglish\tEnglish\t\tLatn\n"
                                        << "aa\tAlpha A\tAlpha\t\tGrek\n";
  const std::string study = R"([grid]
name = s
models = test-tiny
regimes = none, english
tasks = synth-topic
retrieval = synth-align
seeds = 1
runs_dir = runs
tokenizer = tok/m.model
languages = languages.tsv
[init]
source = hf
hf_dir = hf/{model}
[intermediate.english]
corpora = c/object-en.h5
steps = 10
[target.synth-topic]
corpora = c/topic-en.h5
steps = 10
langs = en, aa
[eval]
data = study
)";
  std::ofstream(dir_ / "study.ini") << study;
  const Grid g = parse_grid((dir_ / "study.ini").string());
  EXPECT_EQ(g.languages, abs("languages.tsv"));
  const Plan plan = expand_grid(g);
  for (const std::string stage : {"eval/test-tiny-english-synth-topic-s1",
                                  "retrieval_eval/test-tiny-english-s1/synth-align"}) {
    const std::vector<std::string>& args = plan.stage(stage).args;
    const auto at = std::find(args.begin(), args.end(), "--languages");
    ASSERT_NE(at, args.end()) << stage;
    EXPECT_EQ(*(at + 1), abs("languages.tsv"));
  }
  // A grid without the key is checked against the XTREME-R table again; a study's language is no
  // code of it, and a table that cannot be read is named.
  EXPECT_TRUE(parse_grid(write()).languages.empty());
  expect_error("grid.languages", "none.tsv: cannot open the language table", "tasks = xnli, xquad",
               "tasks = xnli, xquad\nlanguages = none.tsv");
}

TEST_F(GridFiles, TargetStagesMayMixInSpanCorruptionAtARatio) {
  // [target] mixes two span-corrupted corpora into every task at 1:100; xquad's own section
  // turns it off.
  const std::string path =
      write("split = test\nlangs = en,de", "split = test\nlangs = en,de\nspan_corruption_ratio = 0",
            "[target]\nspan_corruption_ratio = 0.01\nspan_corruption_corpora = c/sc-a.h5, "
            "c/sc-b.h5\n");
  // write() appends a second [target] section; the keys land in [target] all the same.
  const Grid g = parse_grid(path);
  EXPECT_THAT(g.target_of("xnli").train.corpora,
              ElementsAre(abs("c/xnli-en.h5"), abs("c/sc-a.h5"), abs("c/sc-b.h5")));
  EXPECT_EQ(g.target_of("xnli").train.mixture_weights, "1,0.005,0.005");
  EXPECT_THAT(g.target_of("xquad").train.corpora, ElementsAre(abs("c/squad.h5")));
  EXPECT_EQ(g.target_of("xquad").train.mixture_weights, "");
  const Plan plan = expand_grid(g);
  const std::vector<std::string>& xnli = plan.stage("target/test-tiny-english-xnli-s1").args;
  const auto weights = std::find(xnli.begin(), xnli.end(), "--mixture-weights");
  ASSERT_NE(weights, xnli.end());
  EXPECT_EQ(*(weights + 1), "1,0.005,0.005");
  EXPECT_EQ(std::find(xnli.begin(), xnli.end(), "--mixture-alpha"), xnli.end());
  EXPECT_EQ(std::count(xnli.begin(), xnli.end(), "--corpus"), 3);
  const std::vector<std::string>& xquad = plan.stage("target/test-tiny-english-xquad-s1").args;
  EXPECT_NE(std::find(xquad.begin(), xquad.end(), "--mixture-alpha"), xquad.end());
}

TEST_F(GridFiles, TaskWeightsAreSharedByTheRegimesInsteadOfAlpha) {
  const Plan plan = expand_grid(
      parse_grid(write("[intermediate]\n", "[intermediate]\ntask_weights = squad=1, mnli=2\n")));
  for (const char* stage :
       {"intermediate/test-tiny-english-s1", "intermediate/test-tiny-multilingual-s1"}) {
    const std::vector<std::string>& args = plan.stage(stage).args;
    const auto at = std::find(args.begin(), args.end(), "--task-weights");
    ASSERT_NE(at, args.end()) << stage;
    EXPECT_EQ(*(at + 1), "squad=1,mnli=2") << stage;
    EXPECT_EQ(std::find(args.begin(), args.end(), "--mixture-alpha"), args.end()) << stage;
  }
  expect_error("intermediate.task_weights", "'mnli' is not task=weight", "[intermediate]\n",
               "[intermediate]\ntask_weights = mnli\n");
  expect_error("intermediate.task_weights", "not both", "[intermediate]\n",
               "[intermediate]\ntask_weights = mnli=1\nmixture_alpha = 0.5\n");
}

TEST_F(GridFiles, PretrainingIsOneSharedStagePerModelAndMpirunSetsStepsAndRanks) {
  const std::string path =
      write("source = hf\nhf_dir = hf/{model}", "source = pretrain\nvocab_size = 512",
            "[pretrain]\ncorpora = c/udhr.h5\ntoken_budget = 64000\n"
            "max_tokens = 1000\nseed = 7\n"
            "[launcher]\nkind = mpirun\nnp = 4\ntp = 2\nzero = true\n"
            "mpirun_args = --oversubscribe --bind-to none\n");
  const Grid g = parse_grid(path);
  const Plan plan = expand_grid(g);
  const Stage& pretrain = plan.stage("pretrain/test-tiny");
  EXPECT_EQ(pretrain.kind, StageKind::kPretrain);
  EXPECT_EQ(pretrain.ranks, 4);
  const std::vector<std::string>& a = pretrain.args;
  EXPECT_THAT(std::vector<std::string>(a.begin(), a.begin() + 9),
              ElementsAre("train", "--run-dir", g.runs_dir + "/shared/pretrain/test-tiny",
                          "--model", "test-tiny", "--vocab-size", "512", "--seed", "7"));
  // 64000 tokens over 1000 per rank x 2 data-parallel ranks: 32 steps.
  EXPECT_EQ(*(std::find(a.begin(), a.end(), "--steps") + 1), "32");
  EXPECT_THAT(std::vector<std::string>(a.end() - 5, a.end()),
              ElementsAre("--device", "cpu", "--tp", "2", "--zero"));
  // 100000 tokens at 1000 per rank x 2 ranks: 50 intermediate steps.
  const std::vector<std::string>& inter = plan.stage("intermediate/test-tiny-english-s1").args;
  EXPECT_EQ(*(std::find(inter.begin(), inter.end(), "--steps") + 1), "50");
  const std::vector<std::string> line = command_line(g.launcher, "/bin/stilts", pretrain);
  EXPECT_THAT(std::vector<std::string>(line.begin(), line.begin() + 8),
              ElementsAre("mpirun", "-np", "4", "--oversubscribe", "--bind-to", "none",
                          "/bin/stilts", "train"));
  EXPECT_EQ(line.size(), a.size() + 7);
  // An evaluation runs one model replica: tp ranks.
  const Stage& eval = plan.stage("eval/test-tiny-none-xnli-s1");
  EXPECT_EQ(eval.ranks, 2);
  const std::vector<std::string> eval_line = command_line(g.launcher, "stilts", eval);
  EXPECT_THAT(std::vector<std::string>(eval_line.begin(), eval_line.begin() + 4),
              ElementsAre("mpirun", "-np", "2", "--oversubscribe"));
  // import-hf is one process, outside mpirun.
  EXPECT_EQ(
      command_line(g.launcher, "stilts",
                   Stage{"import/x", StageKind::kImport, {}, "", "", {"import-hf"}, 1, {}, {}})
          .front(),
      "stilts");
}

TEST_F(GridFiles, ScratchStartsEachStageFromThePresetAndItsSeed) {
  const std::string path = write("source = hf\nhf_dir = hf/{model}", "source = scratch");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("retrieval = tatoeba, lareqa\n"), 28, "");
  std::ofstream(path) << text;
  const Plan plan = expand_grid(parse_grid(path));
  for (const Stage& stage : plan.stages) EXPECT_NE(stage.kind, StageKind::kImport) << stage.id;
  const Stage& none = plan.stage("target/test-tiny-none-xnli-s2");
  EXPECT_TRUE(none.after.empty());
  EXPECT_EQ(none.input, "");
  EXPECT_THAT(std::vector<std::string>(none.args.begin() + 3, none.args.begin() + 7),
              ElementsAre("--model", "test-tiny", "--seed", "2"));
  const Stage& inter = plan.stage("intermediate/test-tiny-english-s2");
  EXPECT_THAT(std::vector<std::string>(inter.args.begin() + 3, inter.args.begin() + 7),
              ElementsAre("--model", "test-tiny", "--seed", "2"));
  EXPECT_TRUE(plan.stage("eval/test-tiny-english-xnli-s2").links.empty());
}

TEST_F(GridFiles, StageFilesAndLinksAreMadeAndRemade) {
  const Plan plan = expand_grid(parse_grid(write()));
  const Stage& target = plan.stage("target/test-tiny-english-xnli-s1");
  write_stage_files(target);
  EXPECT_TRUE(fs::is_regular_file(target.writes[0].path));
  const Stage& eval = plan.stage("eval/test-tiny-english-xnli-s1");
  const fs::path shared = dir_ / "runs/shared/retrieval/test-tiny-english-s1/tatoeba";
  fs::create_directories(shared);
  std::ofstream(shared / "summary.json") << "{}";
  make_stage_links(eval);
  make_stage_links(eval);  // a rerun replaces its own links
  EXPECT_TRUE(fs::is_symlink(eval.links[0].path));
  EXPECT_TRUE(fs::is_regular_file(fs::path(eval.links[0].path) / "summary.json"));
  fs::remove(eval.links[1].path);
  fs::create_directories(eval.links[1].path);
  EXPECT_THAT(error_of([&] { make_stage_links(eval); }), HasSubstr("exists and is not a link"));
}

TEST_F(GridFiles, ManifestRoundTripsResumesAndDetectsAChangedGrid) {
  const Grid g = parse_grid(write());
  const Plan plan = expand_grid(g);
  const std::string path = Manifest::path_in(g.runs_dir);
  Manifest m = Manifest::load(path, g.name);
  EXPECT_TRUE(m.stages().empty());
  EXPECT_EQ(next_stages(plan, m).size(), plan.stages.size());

  const Manifest::Time when = std::chrono::system_clock::from_time_t(86400);
  m.mark_started(plan.stages[0], when);
  m.mark_finished(plan.stages[0], when);
  m.mark_started(plan.stages[1], when);  // interrupted
  m.save();
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  const Manifest back = Manifest::load(path, g.name);
  ASSERT_EQ(back.stages().size(), 2u);
  const StageRecord& first = back.stages().at(plan.stages[0].id);
  EXPECT_EQ(first.kind, "import");
  EXPECT_EQ(first.args, plan.stages[0].args);
  EXPECT_EQ(first.output, plan.stages[0].output);
  EXPECT_EQ(first.started, "1970-01-02T00:00:00Z");
  EXPECT_EQ(first.finished, "1970-01-02T00:00:00Z");
  EXPECT_TRUE(back.finished(plan.stages[0].id));
  EXPECT_FALSE(back.finished(plan.stages[1].id));
  // The finished stage is skipped, the interrupted one comes first again.
  const std::vector<const Stage*> left = next_stages(plan, back);
  ASSERT_EQ(left.size(), plan.stages.size() - 1);
  EXPECT_EQ(left.front()->id, plan.stages[1].id);

  // A save that cannot complete leaves the previous record whole.
  fs::create_directories(path + ".tmp");
  Manifest more = back;
  more.mark_finished(plan.stages[1], when);
  EXPECT_THAT(error_of([&] { more.save(); }), HasSubstr(".tmp"));
  EXPECT_EQ(Manifest::load(path, g.name).stages().size(), 2u);
  EXPECT_FALSE(Manifest::load(path, g.name).finished(plan.stages[1].id));
  fs::remove_all(path + ".tmp");

  // The same grid passes; a grid whose stage arguments changed names the stage.
  Manifest checked = Manifest::load(path, g.name);
  EXPECT_FALSE(checked.check_plan(plan, false));
  EXPECT_FALSE(checked.check_plan(plan, true));  // nothing to take
  const Plan changed =
      expand_grid(parse_grid(write("hf_dir = hf/{model}", "hf_dir = hf2/{model}")));
  const std::string error = error_of([&] { checked.check_plan(changed, false); });
  EXPECT_THAT(error, HasSubstr("stage import/test-tiny finished with other arguments"));
  EXPECT_THAT(error, HasSubstr("hf2/test-tiny"));
  EXPECT_TRUE(checked.check_plan(changed, true));
  EXPECT_EQ(checked.stages().at("import/test-tiny").args, changed.stage("import/test-tiny").args);
  EXPECT_TRUE(checked.finished("import/test-tiny"));

  // Refusals name the file and the field.
  std::ofstream(path) << R"({"format": "stilts-experiment-manifest", "version": 1,
                             "grid": "t", "stages": {"a": {"kind": "import"}}})";
  EXPECT_THAT(error_of([&] { Manifest::load(path, "t"); }), HasSubstr(path + ": stages.a: "));
  EXPECT_THAT(error_of([&] { Manifest::load(path, "other"); }),
              HasSubstr(path + ": grid: records grid 't', not 'other'"));
  std::ofstream(path) << "{";
  EXPECT_THAT(error_of([&] { Manifest::load(path, "t"); }), HasSubstr(path + ": (the file): "));
}

// A copy of a grid in `dir`, with a file for each `corpora` pattern to match ('*' and '?' as
// "x"): a pattern must match, and the data of a shipped grid is made where it runs. A grid's
// `languages` table is the synthetic study's (the demo's run.sh writes it with `stilts synth`),
// written here by the same code, small.
std::string copy_with_pattern_matches(const fs::path& grid, const fs::path& dir) {
  const fs::path copy = dir / grid.filename();
  fs::copy_file(grid, copy);
  std::ifstream in(grid);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("languages", 0) == 0) {
      std::string table = line.substr(line.find('=') + 1);
      table.erase(0, table.find_first_not_of(' '));
      data::SyntheticStudyOptions small;
      small.text_sentences = small.target_train = small.target_dev = small.target_test =
          small.intermediate_train = small.align_sentences = 8;
      data::write_synthetic_study((dir / table).parent_path().string(), small);
      continue;
    }
    if (line.rfind("corpora", 0) != 0) continue;
    std::stringstream items(line.substr(line.find('=') + 1));
    for (std::string item; std::getline(items, item, ',');) {
      if (item.find_first_of("*?") == std::string::npos) continue;
      item.erase(0, item.find_first_not_of(' '));
      std::replace(item.begin(), item.end(), '*', 'x');
      std::replace(item.begin(), item.end(), '?', 'x');
      fs::create_directories((dir / item).parent_path());
      std::ofstream(dir / item) << "";
    }
  }
  return copy.string();
}

// The grids shipped with the project: each parses and expands (their data need not exist).
TEST(ShippedGrids, EveryGridUnderScalingAndTheDemosParsesAndExpands) {
  int grids = 0;
  for (const char* folder : {"experiments/scaling", "experiments/demo", "experiments/demo-udhr"}) {
    const fs::path dir = fs::path(STILTS_SOURCE_DIR) / folder;
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".ini") continue;
      SCOPED_TRACE(entry.path().string());
      const TempDir scratch;
      const Grid g = parse_grid(copy_with_pattern_matches(entry.path(), scratch.path()));
      const Plan plan = expand_grid(g);
      EXPECT_EQ(plan.runs.size(),
                g.models.size() * g.regimes.size() * g.tasks.size() * g.seeds.size());
      ++grids;
    }
  }
  data::use_xtreme_r_language_table();
  EXPECT_GE(grids, 1);
}

}  // namespace
}  // namespace stilts::experiments
