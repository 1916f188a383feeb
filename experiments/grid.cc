#include "experiments/grid.h"

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "core/checkpoint/file_io.h"
#include "core/config.h"
#include "data/languages.h"
#include "data/sampler.h"
#include "data/tasks.h"
#include "experiments/eval_stage.h"
#include "experiments/regimes.h"

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

const std::vector<std::string> kTrainKeys = {
    "corpora",       "token_budget",   "steps",         "lr",
    "optimizer",     "schedule",       "warmup_steps",  "max_tokens",
    "max_input_len", "max_target_len", "mixture_alpha", "task_weights",
    "save_every",    "dropout"};
// eval_max_input_len is evaluation's truncation, apart from training's max_input_len in the
// [target] sections that take both.
const std::vector<std::string> kEvalKeys = {
    "data",  "split", "langs",       "articles",        "eval_max_input_len",
    "batch", "layer", "layer_depth", "length_normalize"};

std::vector<std::string> joined_keys(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Target fine-tuning only: span corruption mixed in (mT5, Xue et al. 2021).
const std::vector<std::string> kTargetKeys = {"span_corruption_ratio", "span_corruption_corpora"};

std::vector<std::string> target_keys() {
  return joined_keys(joined_keys(kTrainKeys, kEvalKeys), kTargetKeys);
}

// Section -> its keys; every key of a grid file is one of these.
std::vector<std::pair<std::string, std::vector<std::string>>> grid_sections() {
  std::vector<std::pair<std::string, std::vector<std::string>>> sections = {
      {"grid",
       {"name", "models", "regimes", "tasks", "retrieval", "seeds", "runs_dir", "tokenizer",
        "languages"}},
      {"init", {"source", "hf_dir", "vocab_size"}},
      {"pretrain", joined_keys(kTrainKeys, {"seed"})},
      {"intermediate", joined_keys(kTrainKeys, {"unequal_budgets"})},
      {"target", target_keys()},
      {"eval", kEvalKeys},
      {"launcher", {"kind", "np", "tp", "device", "zero", "recompute", "mpirun_args"}}};
  for (const std::string& regime : intermediate_regimes())
    if (regime != "none") sections.push_back({"intermediate." + regime, kTrainKeys});
  for (const std::string& task : target_tasks())
    sections.push_back({"target." + task, target_keys()});
  return sections;
}

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The parsed keys of one file, with the conversions that name the file and the key on error.
class Values {
 public:
  Values(std::string file, po::variables_map values)
      : file_(std::move(file)), values_(std::move(values)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw std::invalid_argument(file_ + ": " + key + ": " + what);
  }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // The first of `keys` that is set: a stage's own section before the shared one.
  std::optional<std::string> first_set(const std::vector<std::string>& keys) const {
    for (const std::string& key : keys)
      if (has(key)) return key;
    return std::nullopt;
  }
  std::string text(const std::string& key) const { return trim(values_[key].as<std::string>()); }
  std::string required(const std::string& key) const {
    if (!has(key)) fail(key, "missing (required)");
    const std::string value = text(key);
    if (value.empty()) fail(key, "empty (required)");
    return value;
  }
  std::vector<std::string> list(const std::string& key) const {
    std::vector<std::string> items;
    if (!has(key)) return items;
    std::stringstream in(text(key));
    for (std::string item; std::getline(in, item, ',');) {
      item = trim(item);
      if (item.empty()) fail(key, "expected a comma-separated list without empty items");
      items.push_back(item);
    }
    std::set<std::string> seen;
    for (const std::string& item : items)
      if (!seen.insert(item).second) fail(key, "'" + item + "' is listed twice");
    return items;
  }
  int64_t integer(const std::string& key, int64_t minimum) const {
    const std::string value = text(key);
    size_t used = 0;
    int64_t number = 0;
    try {
      number = std::stoll(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (value.empty() || used != value.size() || number < minimum)
      fail(key, "expected an integer >= " + std::to_string(minimum) + ", got '" + value + "'");
    return number;
  }
  // A decimal kept as written (it becomes a command-line value) once checked to lie in
  // [minimum, below).
  std::string decimal(const std::string& key, double minimum, double below) const {
    const std::string value = text(key);
    size_t used = 0;
    double number = NAN;
    try {
      number = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (value.empty() || used != value.size() || !(number >= minimum && number < below))
      fail(key, "expected a number in [" + std::to_string(minimum) + ", " +
                    (std::isinf(below) ? std::string("inf") : std::to_string(below)) + "), got '" +
                    value + "'");
    return value;
  }
  bool boolean(const std::string& key) const {
    const std::string value = text(key);
    if (value == "true" || value == "1" || value == "yes") return true;
    if (value == "false" || value == "0" || value == "no") return false;
    fail(key, "expected true or false, got '" + value + "'");
  }
  std::string choice(const std::string& key, const std::vector<std::string>& allowed) const {
    const std::string value = text(key);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
      fail(key, "expected one of " + comma_list(allowed) + ", got '" + value + "'");
    return value;
  }

 private:
  std::string file_;
  po::variables_map values_;
};

// Relative paths in a grid are relative to its folder, so a grid means the same from any
// working directory (and its argument lists, which the manifest compares, do not change).
std::string resolve_path(const fs::path& base, const std::string& path) {
  return (base / path).lexically_normal().string();
}

// A corpus of a `corpora` list: a path, or a glob(3) pattern (`pairs-*.h5`) standing for the
// files it matches, sorted by name so the argument list does not depend on the directory order.
std::vector<std::string> corpus_paths(const Values& v, const std::string& key, const fs::path& base,
                                      const std::string& corpus) {
  const std::string path = resolve_path(base, corpus);
  if (corpus.find_first_of("*?[") == std::string::npos) return {path};
  glob_t found{};
  const int status = glob(path.c_str(), 0, nullptr, &found);
  std::vector<std::string> paths;
  if (status == 0) paths.assign(found.gl_pathv, found.gl_pathv + found.gl_pathc);
  globfree(&found);
  if (paths.empty()) v.fail(key, "the pattern '" + corpus + "' matches no file (as " + path + ")");
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Reads the keys of `sections` for a training stage, each from the first section that sets it.
TrainSettings read_train(const Values& v, const std::vector<std::string>& sections,
                         const fs::path& base) {
  TrainSettings s;
  const auto key = [&](const std::string& name) {
    std::vector<std::string> keys;
    for (const std::string& section : sections) keys.push_back(section + "." + name);
    return v.first_set(keys);
  };
  if (const auto k = key("corpora"))
    for (const std::string& corpus : v.list(*k)) {
      const std::vector<std::string> paths = corpus_paths(v, *k, base, corpus);
      for (const std::string& path : paths) {
        if (std::find(s.corpora.begin(), s.corpora.end(), path) != s.corpora.end())
          v.fail(*k, "'" + corpus + "' gives " + path + ", which the list already has");
        s.corpora.push_back(path);
      }
    }
  if (const auto k = key("token_budget")) s.token_budget = v.integer(*k, 1);
  if (const auto k = key("steps")) s.steps = v.integer(*k, 1);
  if (const auto k = key("lr")) s.lr = v.decimal(*k, 1e-30, INFINITY);
  if (const auto k = key("optimizer")) s.optimizer = v.choice(*k, {"adafactor", "adamw"});
  if (const auto k = key("schedule"))
    s.schedule = v.choice(*k, {"constant", "linear", "rsqrt", "relative"});
  if (const auto k = key("warmup_steps")) s.warmup_steps = v.integer(*k, 0);
  if (const auto k = key("max_tokens")) s.max_tokens = v.integer(*k, 1);
  if (const auto k = key("max_input_len")) s.max_input_len = v.integer(*k, 2);
  if (const auto k = key("max_target_len")) s.max_target_len = v.integer(*k, 2);
  if (const auto k = key("mixture_alpha")) s.mixture_alpha = v.decimal(*k, 0, INFINITY);
  if (const auto k = key("task_weights")) {
    if (const auto alpha = key("mixture_alpha"))
      v.fail(*k, "give task_weights or mixture_alpha, not both (" + *alpha + " is set)");
    // As train --task-weights takes them, without the spaces a grid file may put after commas.
    s.task_weights = v.text(*k);
    std::erase(s.task_weights, ' ');
    try {
      data::parse_task_weights(s.task_weights);
    } catch (const std::invalid_argument& e) {
      v.fail(*k, e.what());
    }
  }
  if (const auto k = key("save_every")) s.save_every = v.integer(*k, 0);
  if (const auto k = key("dropout")) s.dropout = v.decimal(*k, 0, 1);

  const std::string where = sections.front();
  if (s.corpora.empty()) v.fail(where + ".corpora", "missing (required: the prepared corpora)");
  if ((s.steps > 0) == (s.token_budget > 0)) {
    const auto steps = key("steps"), budget = key("token_budget");
    v.fail(steps    ? *steps
           : budget ? *budget
                    : where + ".steps",
           "give exactly one of steps and token_budget" +
               std::string(steps && budget ? " (" + *steps + " and " + *budget + " are both set)"
                                           : ""));
  }
  return s;
}

// [target] span_corruption_ratio R with span_corruption_corpora: the stage also trains on those
// span-corrupted corpora, R of them per example of the task (mT5 mixes mC4 span corruption into
// fine-tuning at 1:100, R = 0.01, against accidental translation), by --mixture-weights: the
// task's corpora share weight 1 equally, the span-corruption corpora share R equally.
void mix_span_corruption(const Values& v, const std::string& task, const fs::path& base,
                         TrainSettings& s) {
  const auto key = [&](const std::string& name) {
    return v.first_set({"target." + task + "." + name, "target." + name});
  };
  const auto ratio_key = key("span_corruption_ratio");
  const auto corpora_key = key("span_corruption_corpora");
  const double ratio = ratio_key ? std::stod(v.decimal(*ratio_key, 0, INFINITY)) : 0.0;
  if (!ratio_key && corpora_key)
    v.fail(*corpora_key, "applies with span_corruption_ratio only (for task " + task + ")");
  if (ratio == 0) return;  // no key, or 0: no mixing (a task's 0 overrides [target]'s ratio)
  if (!corpora_key)
    v.fail(*ratio_key,
           "needs span_corruption_corpora (the span-corrupted corpora of stilts "
           "prepare, for task " +
               task + ")");
  if (const auto alpha = key("mixture_alpha"))
    v.fail(*alpha, "span_corruption_ratio sets the mixture's weights (for task " + task +
                       "); give one of mixture_alpha and span_corruption_ratio");
  if (const auto weights = key("task_weights"))
    v.fail(*weights, "span_corruption_ratio sets the mixture's weights (for task " + task +
                         "); give one of task_weights and span_corruption_ratio");
  std::vector<std::string> span;
  for (const std::string& corpus : v.list(*corpora_key))
    for (const std::string& path : corpus_paths(v, *corpora_key, base, corpus)) {
      if (std::find(s.corpora.begin(), s.corpora.end(), path) != s.corpora.end() ||
          std::find(span.begin(), span.end(), path) != span.end())
        v.fail(*corpora_key, "'" + corpus + "' gives " + path + ", which the stage already has");
      span.push_back(path);
    }
  if (span.empty()) v.fail(*corpora_key, "missing (the span-corrupted corpora)");
  auto number = [](double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", x);
    return std::string(buffer);
  };
  const std::string task_weight = number(1.0 / static_cast<double>(s.corpora.size()));
  const std::string span_weight = number(ratio / static_cast<double>(span.size()));
  for (size_t i = 0; i < s.corpora.size(); ++i) s.mixture_weights += (i ? "," : "") + task_weight;
  for (const std::string& path : span) {
    s.corpora.push_back(path);
    s.mixture_weights += "," + span_weight;
  }
}

EvalSettings read_eval(const Values& v, const std::vector<std::string>& sections,
                       const fs::path& base) {
  EvalSettings e;
  const auto key = [&](const std::string& name) {
    std::vector<std::string> keys;
    for (const std::string& section : sections) keys.push_back(section + "." + name);
    return v.first_set(keys);
  };
  if (const auto k = key("data")) e.data = resolve_path(base, v.required(*k));
  if (e.data.empty()) v.fail(sections.back() + ".data", "missing (required: the XTREME data)");
  if (const auto k = key("split")) e.split = v.choice(*k, {"dev", "test"});
  if (const auto k = key("langs")) {
    // `stilts eval --langs` takes "all" or codes joined by commas alone.
    e.langs.clear();
    for (const std::string& code : v.list(*k)) e.langs += (e.langs.empty() ? "" : ",") + code;
    if (e.langs.empty()) v.fail(*k, "missing (all, or comma-separated language codes)");
  }
  if (const auto k = key("articles")) e.articles = v.required(*k);
  if (const auto k = key("eval_max_input_len")) e.max_input_len = v.integer(*k, 0);
  if (const auto k = key("batch")) e.batch = v.integer(*k, 1);
  if (const auto k = key("layer")) e.layer = v.integer(*k, -1);
  if (const auto k = key("layer_depth")) {
    e.layer_depth = v.decimal(*k, 0, INFINITY);
    if (std::stod(e.layer_depth) > 1)
      v.fail(*k, "expected a relative depth in [0, 1], got '" + e.layer_depth + "'");
  }
  if (const auto k = key("length_normalize")) e.length_normalize = v.boolean(*k);
  return e;
}

// A task's languages and articles are checked against the eval stage's rules now, not when a
// stage runs. `sections` are those read_eval read the settings from, most specific first.
void check_eval_settings(const Values& v, const std::vector<std::string>& sections,
                         const std::string& task, const EvalSettings& e) {
  const auto key = [&](const std::string& name) {
    std::vector<std::string> keys;
    for (const std::string& section : sections) keys.push_back(section + "." + name);
    return v.first_set(keys).value_or(sections.back() + "." + name);
  };
  try {
    resolve_eval_languages(task, e.langs);
  } catch (const std::invalid_argument& error) {
    v.fail(key("langs"), std::string("for task ") + task + ": " + error.what());
  }
  if (e.articles.empty()) return;
  try {
    data::task_articles(data::task_spec(task), e.articles);
  } catch (const std::invalid_argument& error) {
    v.fail(key("articles"), std::string("for task ") + task + ": " + error.what());
  }
}

// Names used in run ids and folders: no separators or spaces.
bool plain_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

po::variables_map read_values(const std::string& path) {
  po::options_description options;
  const auto sections = grid_sections();
  for (const auto& [section, keys] : sections)
    for (const std::string& key : keys)
      options.add_options()((section + "." + key).c_str(), po::value<std::string>());
  std::ifstream file(path);
  if (!file) throw std::invalid_argument(path + ": cannot open the grid file");
  po::variables_map values;
  try {
    po::store(po::parse_config_file(file, options, false), values);
  } catch (const po::unknown_option& e) {
    const std::string key = e.get_option_name();
    const std::string section =
        key.substr(0, key.rfind('.') == std::string::npos ? 0 : key.rfind('.'));
    for (const auto& [name, keys] : sections)
      if (name == section)
        throw std::invalid_argument(path + ": " + key + ": unknown key; [" + section + "] takes " +
                                    comma_list(keys));
    std::vector<std::string> names;
    for (const auto& entry : sections) names.push_back(entry.first);
    throw std::invalid_argument(path + ": " + key + ": unknown key; section [" + section +
                                "] is none of " + comma_list(names));
  } catch (const po::error& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return values;
}

}  // namespace

// The tasks stilts eval answers by sentence embeddings: they need no target training and are
// evaluated on the intermediate checkpoint itself (Phang et al. 2020 evaluate BUCC and Tatoeba
// so; XTREME-R adds LAReQA and Mewsli-X; udhr-align aligns the UDHR's articles across languages).
const std::vector<std::string>& retrieval_tasks() {
  static const std::vector<std::string> tasks = data::retrieval_task_names();
  return tasks;
}

std::vector<std::string> target_tasks() {
  std::vector<std::string> tasks;
  for (const std::string& task : supported_eval_tasks())
    if (std::find(retrieval_tasks().begin(), retrieval_tasks().end(), task) ==
        retrieval_tasks().end())
      tasks.push_back(task);
  return tasks;
}

const TrainSettings& Grid::intermediate_of(const std::string& regime) const {
  for (const auto& [name, settings] : intermediate)
    if (name == regime) return settings;
  throw std::out_of_range("grid " + name + ": no intermediate regime " + regime);
}

const TargetSettings& Grid::target_of(const std::string& task) const {
  for (const auto& [name, settings] : targets)
    if (name == task) return settings;
  throw std::out_of_range("grid " + name + ": no target task " + task);
}

Grid parse_grid(const std::string& path) {
  const Values v(path, read_values(path));
  const fs::path base = fs::absolute(fs::path(path)).parent_path();
  Grid g;
  g.file = path;

  g.name = v.required("grid.name");
  if (!plain_name(g.name)) v.fail("grid.name", "expected letters, digits, '-', '_' or '.'");
  g.models = v.list("grid.models");
  if (g.models.empty()) v.fail("grid.models", "missing (required: model presets)");
  const std::vector<std::string> presets = model_preset_names();
  for (const std::string& model : g.models)
    if (std::find(presets.begin(), presets.end(), model) == presets.end())
      v.fail("grid.models", "'" + model + "' is no preset; expected " + comma_list(presets));
  g.regimes = v.list("grid.regimes");
  if (g.regimes.empty())
    v.fail("grid.regimes", "missing (required: " + intermediate_regime_list() + ")");
  for (const std::string& regime : g.regimes)
    if (!is_intermediate_regime(regime))
      v.fail("grid.regimes",
             "'" + regime + "' is no regime; expected " + intermediate_regime_list());
  g.tasks = v.list("grid.tasks");
  if (g.tasks.empty()) v.fail("grid.tasks", "missing (required: target tasks)");
  const std::vector<std::string> targets = target_tasks();
  for (const std::string& task : g.tasks)
    if (std::find(targets.begin(), targets.end(), task) == targets.end())
      v.fail("grid.tasks", "'" + task + "' is no target task; expected " + comma_list(targets) +
                               " (retrieval tasks go in grid.retrieval)");
  g.retrieval = v.list("grid.retrieval");
  for (const std::string& task : g.retrieval)
    if (std::find(retrieval_tasks().begin(), retrieval_tasks().end(), task) ==
        retrieval_tasks().end())
      v.fail("grid.retrieval",
             "'" + task + "' is no retrieval task; expected " + comma_list(retrieval_tasks()));
  for (const std::string& seed : v.list("grid.seeds")) {
    size_t used = 0;
    long long number = -1;
    try {
      number = std::stoll(seed, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != seed.size() || number < 0)
      v.fail("grid.seeds", "expected integers >= 0, got '" + seed + "'");
    g.seeds.push_back(static_cast<uint64_t>(number));
  }
  if (g.seeds.empty()) v.fail("grid.seeds", "missing (required: a list of seeds)");
  g.runs_dir = resolve_path(base, v.required("grid.runs_dir"));
  g.tokenizer = resolve_path(base, v.required("grid.tokenizer"));
  // A study on other languages than XTREME-R's: its table checks the languages named below and
  // goes to every eval stage. Without the key the XTREME-R table is in force, whatever grid was
  // parsed before.
  if (v.has("grid.languages")) {
    g.languages = resolve_path(base, v.required("grid.languages"));
    try {
      data::use_language_table(g.languages);
    } catch (const std::invalid_argument& e) {
      v.fail("grid.languages", e.what());
    }
  } else {
    data::use_xtreme_r_language_table();
  }

  // The launcher first: a token budget becomes steps through its data-parallel size.
  Launcher& l = g.launcher;
  if (v.has("launcher.kind")) l.kind = v.choice("launcher.kind", {"local", "mpirun"});
  if (v.has("launcher.np")) l.np = static_cast<int>(v.integer("launcher.np", 1));
  if (v.has("launcher.tp")) l.tp = static_cast<int>(v.integer("launcher.tp", 1));
  if (v.has("launcher.device")) l.device = v.choice("launcher.device", {"cpu", "cuda"});
  if (v.has("launcher.zero")) l.zero = v.boolean("launcher.zero");
  if (v.has("launcher.recompute")) l.recompute = v.boolean("launcher.recompute");
  if (v.has("launcher.mpirun_args")) {
    std::stringstream in(v.text("launcher.mpirun_args"));
    for (std::string arg; in >> arg;) l.mpirun_args.push_back(arg);
  }
  if (l.kind == "local" && (l.np != 1 || l.tp != 1))
    v.fail(l.np != 1 ? "launcher.np" : "launcher.tp",
           "the local launcher runs one process; use kind = mpirun for several ranks");
  if (l.np % l.tp != 0)
    v.fail("launcher.np", std::to_string(l.np) + " ranks are not a multiple of launcher.tp " +
                              std::to_string(l.tp));
  if (!l.mpirun_args.empty() && l.kind != "mpirun")
    v.fail("launcher.mpirun_args", "applies to kind = mpirun only");

  g.init_source = v.has("init.source") ? v.choice("init.source", {"hf", "pretrain", "scratch"})
                                       : v.required("init.source");
  if (v.has("init.vocab_size")) {
    if (g.init_source == "hf")
      v.fail("init.vocab_size", "applies to source = pretrain or scratch (hf weights give theirs)");
    g.vocab_size = v.integer("init.vocab_size", 3);
  }
  if (g.init_source == "hf") {
    g.hf_dir = resolve_path(base, v.required("init.hf_dir"));
    if (g.models.size() > 1 && g.hf_dir.find("{model}") == std::string::npos)
      v.fail("init.hf_dir", "expected a template with {model}: the grid has " +
                                std::to_string(g.models.size()) + " models");
  } else if (v.has("init.hf_dir")) {
    v.fail("init.hf_dir", "applies to source = hf only");
  }
  std::vector<std::string> pretrain_keys = joined_keys(kTrainKeys, {"seed"});
  if (g.init_source == "pretrain") {
    g.pretrain = read_train(v, {"pretrain"}, base);
    if (v.has("pretrain.seed"))
      g.pretrain_seed = static_cast<uint64_t>(v.integer("pretrain.seed", 0));
  } else {
    for (const std::string& key : pretrain_keys)
      if (v.has("pretrain." + key))
        v.fail("pretrain." + key, "applies to init.source = pretrain only");
  }

  for (const std::string& regime : intermediate_regimes()) {
    if (regime == "none") continue;
    const bool used = std::find(g.regimes.begin(), g.regimes.end(), regime) != g.regimes.end();
    if (used) {
      g.intermediate.push_back(
          {regime, read_train(v, {"intermediate." + regime, "intermediate"}, base)});
      continue;
    }
    for (const std::string& key : kTrainKeys)
      if (v.has("intermediate." + regime + "." + key))
        v.fail("intermediate." + regime + "." + key,
               "regime " + regime + " is not in grid.regimes");
  }
  if (v.has("intermediate.unequal_budgets"))
    g.unequal_budgets = v.boolean("intermediate.unequal_budgets");
  // English-only and multilingual (and continued MLM) intermediate training are compared at
  // the same number of training tokens unless the grid says otherwise.
  if (!g.unequal_budgets && g.intermediate.size() > 1) {
    std::string budgets;
    bool differ = false;
    const auto tokens = [&](const TrainSettings& s) {
      return s.token_budget ? s.token_budget : s.steps * s.max_tokens * l.dp();
    };
    for (const auto& [regime, settings] : g.intermediate) {
      differ |= tokens(settings) != tokens(g.intermediate.front().second);
      budgets += (budgets.empty() ? "" : ", ") + regime + " " + std::to_string(tokens(settings));
    }
    if (differ)
      v.fail("intermediate.token_budget",
             "the intermediate regimes get different token budgets (" + budgets +
                 " tokens); give them the same budget or set intermediate.unequal_budgets = true");
  }

  g.eval = read_eval(v, {"eval"}, base);
  for (const std::string& task : target_tasks()) {
    const bool used = std::find(g.tasks.begin(), g.tasks.end(), task) != g.tasks.end();
    if (!used) {
      for (const std::string& key : target_keys())
        if (v.has("target." + task + "." + key))
          v.fail("target." + task + "." + key, "task " + task + " is not in grid.tasks");
      continue;
    }
    TargetSettings t;
    t.train = read_train(v, {"target." + task, "target"}, base);
    const std::vector<std::string> sections = {"target." + task, "target", "eval"};
    t.eval = read_eval(v, sections, base);
    mix_span_corruption(v, task, base, t.train);
    check_eval_settings(v, sections, task, t.eval);
    g.targets.push_back({task, std::move(t)});
  }
  for (const std::string& task : g.retrieval) check_eval_settings(v, {"eval"}, task, g.eval);
  if (g.init_source == "scratch" && !g.retrieval.empty() &&
      std::find(g.regimes.begin(), g.regimes.end(), "none") != g.regimes.end())
    v.fail("grid.retrieval",
           "regime none from init.source = scratch has no checkpoint to evaluate retrieval on");
  return g;
}

std::string stage_kind_name(StageKind kind) {
  switch (kind) {
    case StageKind::kImport:
      return "import";
    case StageKind::kPretrain:
      return "pretrain";
    case StageKind::kIntermediate:
      return "intermediate";
    case StageKind::kTarget:
      return "target";
    case StageKind::kEval:
      return "eval";
    case StageKind::kRetrievalEval:
      return "retrieval_eval";
  }
  return "?";
}

nlohmann::json Run::run_json() const {
  return {{"model", model},
          {"regime", regime},
          {"task", task},
          {"seed", seed},
          {"id", id},
          {"intermediate_corpora", intermediate_corpora},
          {"target_corpora", target_corpora}};
}

const Stage& Plan::stage(const std::string& id) const {
  for (const Stage& s : stages)
    if (s.id == id) return s;
  throw std::out_of_range("no stage " + id + " in the plan");
}

namespace {

// Steps of a training stage: given, or the token budget over the global batch budget
// (max_tokens per data-parallel rank), rounded up.
int64_t stage_steps(const TrainSettings& s, const Launcher& l) {
  if (s.steps) return s.steps;
  const int64_t per_step = s.max_tokens * l.dp();
  return (s.token_budget + per_step - 1) / per_step;
}

// `start`: {"--init-from", CKPT} or {"--model", PRESET, ...}.
std::vector<std::string> train_args(const Grid& g, const TrainSettings& s,
                                    const std::string& run_dir,
                                    const std::vector<std::string>& start, uint64_t seed) {
  std::vector<std::string> a = {"train", "--run-dir", run_dir};
  a.insert(a.end(), start.begin(), start.end());
  a.insert(a.end(), {"--seed", std::to_string(seed)});
  for (const std::string& corpus : s.corpora) a.insert(a.end(), {"--corpus", corpus});
  a.insert(a.end(), {"--tokenizer", g.tokenizer});
  if (!s.task_weights.empty())
    a.insert(a.end(), {"--task-weights", s.task_weights});
  else if (!s.mixture_weights.empty())
    a.insert(a.end(), {"--mixture-weights", s.mixture_weights});
  else
    a.insert(a.end(), {"--mixture-alpha", s.mixture_alpha});
  a.insert(a.end(),
           {"--max-tokens", std::to_string(s.max_tokens), "--max-input-len",
            std::to_string(s.max_input_len), "--max-target-len", std::to_string(s.max_target_len),
            "--steps", std::to_string(stage_steps(s, g.launcher)), "--optimizer", s.optimizer,
            "--lr", s.lr, "--schedule", s.schedule, "--warmup-steps",
            std::to_string(s.warmup_steps), "--save-every", std::to_string(s.save_every)});
  if (!s.dropout.empty()) a.insert(a.end(), {"--dropout", s.dropout});
  a.insert(a.end(), {"--device", g.launcher.device, "--tp", std::to_string(g.launcher.tp)});
  if (g.launcher.zero) a.push_back("--zero");
  if (g.launcher.recompute) a.push_back("--recompute");
  return a;
}

std::vector<std::string> eval_args(const Grid& g, const EvalSettings& e, const std::string& task,
                                   const std::string& checkpoint, const std::string& out) {
  std::vector<std::string> a = {"eval",
                                "--checkpoint",
                                checkpoint,
                                "--tokenizer",
                                g.tokenizer,
                                "--task",
                                task,
                                "--data",
                                e.data,
                                "--split",
                                e.split,
                                "--langs",
                                e.langs,
                                "--out",
                                out,
                                "--max-input-len",
                                std::to_string(e.max_input_len),
                                "--batch",
                                std::to_string(e.batch)};
  if (!e.articles.empty()) a.insert(a.end(), {"--articles", e.articles});
  if (std::find(retrieval_tasks().begin(), retrieval_tasks().end(), task) !=
      retrieval_tasks().end())
    a.insert(a.end(), {"--layer", std::to_string(e.layer), "--layer-depth", e.layer_depth});
  if (e.length_normalize && data::task_evaluation(task).mode == data::InferenceMode::kRankChoices)
    a.push_back("--length-normalize");
  if (!g.languages.empty()) a.insert(a.end(), {"--languages", g.languages});
  a.insert(a.end(), {"--device", g.launcher.device, "--tp", std::to_string(g.launcher.tp)});
  return a;
}

std::string replace_model(std::string text, const std::string& model) {
  for (size_t at; (at = text.find("{model}")) != std::string::npos;) text.replace(at, 7, model);
  return text;
}

}  // namespace

Plan expand_grid(const Grid& g) {
  Plan plan;
  const fs::path runs(g.runs_dir), shared = runs / "shared";
  const int train_ranks = g.launcher.np, eval_ranks = g.launcher.tp;
  const auto add = [&](Stage stage) {
    for (const std::string& id : stage.after) plan.stage(id);  // dependencies come first
    plan.stages.push_back(std::move(stage));
  };

  for (const std::string& model : g.models) {
    // The checkpoint every stage of this model starts from: imported or pretrained once,
    // whatever the seed; from scratch each stage initializes a preset from its own seed.
    std::string init_stage, init_checkpoint;
    std::vector<std::string> preset = {"--model", model};
    if (g.vocab_size) preset.insert(preset.end(), {"--vocab-size", std::to_string(*g.vocab_size)});
    if (g.init_source == "hf") {
      init_stage = "import/" + model;
      init_checkpoint = (shared / "import" / model).string();
      const std::string hf_dir = replace_model(g.hf_dir, model);
      add({init_stage,
           StageKind::kImport,
           {},
           hf_dir,
           init_checkpoint,
           {"import-hf", "--hf-dir", hf_dir, "--out", init_checkpoint},
           1,
           {},
           {}});
    } else if (g.init_source == "pretrain") {
      init_stage = "pretrain/" + model;
      init_checkpoint = (shared / "pretrain" / model).string();
      add({init_stage,
           StageKind::kPretrain,
           {},
           "",
           init_checkpoint,
           train_args(g, g.pretrain, init_checkpoint, preset, g.pretrain_seed),
           train_ranks,
           {},
           {}});
    }
    const std::vector<std::string> start_init =
        init_checkpoint.empty() ? preset : std::vector<std::string>{"--init-from", init_checkpoint};
    const std::vector<std::string> init_after =
        init_stage.empty() ? std::vector<std::string>{} : std::vector<std::string>{init_stage};

    // Retrieval evaluations of one checkpoint: one stage per task, all writing one folder.
    const auto retrieval_stages = [&](const std::string& key, const std::string& checkpoint,
                                      const std::vector<std::string>& after) {
      std::vector<std::string> ids;
      const std::string out = (shared / "retrieval" / key).string();
      for (const std::string& task : g.retrieval) {
        ids.push_back("retrieval_eval/" + key + "/" + task);
        add({ids.back(),
             StageKind::kRetrievalEval,
             after,
             checkpoint,
             out,
             eval_args(g, g.eval, task, checkpoint, out),
             eval_ranks,
             {},
             {}});
      }
      return ids;
    };
    // Regime none has no intermediate checkpoint: retrieval is evaluated on the pretrained
    // one, the same for every seed.
    std::vector<std::string> none_retrieval;
    if (std::find(g.regimes.begin(), g.regimes.end(), "none") != g.regimes.end() &&
        !g.retrieval.empty())
      none_retrieval = retrieval_stages(model + "-none", init_checkpoint, init_after);

    for (const std::string& regime : g.regimes)
      for (const uint64_t seed : g.seeds) {
        const std::string key = model + "-" + regime + "-s" + std::to_string(seed);
        std::vector<std::string> start = start_init, after = init_after, retrieval = none_retrieval;
        std::string retrieval_key = model + "-none";
        if (regime != "none") {
          const std::string id = "intermediate/" + key,
                            dir = (shared / "intermediate" / key).string();
          add({id,
               StageKind::kIntermediate,
               init_after,
               init_checkpoint,
               dir,
               train_args(g, g.intermediate_of(regime), dir, start_init, seed),
               train_ranks,
               {},
               {}});
          start = {"--init-from", dir};
          after = {id};
          retrieval = retrieval_stages(key, dir, after);
          retrieval_key = key;
        }
        for (const std::string& task : g.tasks) {
          Run run{
              model + "-" + regime + "-" + task + "-s" + std::to_string(seed),
              model,
              regime,
              task,
              seed,
              (runs / (model + "-" + regime + "-" + task + "-s" + std::to_string(seed))).string(),
              {},
              {}};
          const TargetSettings& t = g.target_of(task);
          if (regime != "none") run.intermediate_corpora = g.intermediate_of(regime).corpora;
          run.target_corpora = t.train.corpora;
          const std::string target = run.dir + "/target", eval_dir = run.dir + "/eval";
          Stage target_stage{"target/" + run.id,
                             StageKind::kTarget,
                             after,
                             start.front() == "--init-from" ? start[1] : "",
                             target,
                             train_args(g, t.train, target, start, seed),
                             train_ranks,
                             {{run.dir + "/run.json", run.run_json().dump(2) + "\n"}},
                             {}};
          add(std::move(target_stage));
          // The run's eval/ folder holds its target task's results and, as links, the
          // retrieval results of the checkpoint its target training started from.
          Stage eval{"eval/" + run.id,
                     StageKind::kEval,
                     {"target/" + run.id},
                     target,
                     eval_dir,
                     eval_args(g, t.eval, task, target, eval_dir),
                     eval_ranks,
                     {},
                     {}};
          eval.after.insert(eval.after.end(), retrieval.begin(), retrieval.end());
          const fs::path retrieval_dir = shared / "retrieval" / retrieval_key;
          for (const std::string& rt : g.retrieval)
            eval.links.push_back(
                {eval_dir + "/" + rt, (retrieval_dir / rt).lexically_relative(eval_dir).string()});
          add(std::move(eval));
          plan.runs.push_back(std::move(run));
        }
      }
  }
  return plan;
}

std::vector<std::string> command_line(const Launcher& launcher, const std::string& stilts,
                                      const Stage& stage) {
  std::vector<std::string> line;
  if (launcher.kind == "mpirun" && stage.kind != StageKind::kImport) {
    line = {"mpirun", "-np", std::to_string(stage.ranks)};
    line.insert(line.end(), launcher.mpirun_args.begin(), launcher.mpirun_args.end());
  }
  line.push_back(stilts);
  line.insert(line.end(), stage.args.begin(), stage.args.end());
  return line;
}

void write_stage_files(const Stage& stage) {
  fs::create_directories(fs::path(stage.output).parent_path());
  for (const FileToWrite& file : stage.writes) {
    fs::create_directories(fs::path(file.path).parent_path());
    checkpoint_io::write_text_atomically(file.path, file.contents);
  }
}

void make_stage_links(const Stage& stage) {
  for (const Link& link : stage.links) {
    fs::create_directories(fs::path(link.path).parent_path());
    // A link made by an earlier attempt is replaced through a new name and a rename, so the
    // path never disappears; anything else in its place is left alone and refused.
    const fs::path path(link.path), tmp(link.path + ".tmp");
    if (fs::exists(fs::symlink_status(path)) && !fs::is_symlink(fs::symlink_status(path)))
      throw std::runtime_error(link.path + ": exists and is not a link; cannot link it to " +
                               link.target);
    fs::remove(tmp);
    fs::create_directory_symlink(link.target, tmp);
    fs::rename(tmp, path);
  }
}

}  // namespace stilts::experiments
