#include "experiments/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/params.h"
#include "data/corpus_reader.h"
#include "data/languages.h"
#include "data/tasks.h"
#include "experiments/published_scores.h"

namespace stilts::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Folders `stilts eval --out` writes beside the task folders.
const std::set<std::string> kEvalSideFolders = {"predictions", "labels"};
// What stilts experiment keeps beside the runs: the shared stages' outputs and the stage logs.
const std::set<std::string> kExperimentFolders = {"shared", "logs"};

json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

[[noreturn]] void bad_field(const fs::path& path, const std::string& field,
                            const std::string& what) {
  throw std::runtime_error(path.string() + ": field '" + field + "': " + what);
}

const json& field_of(const json& object, const fs::path& path, const std::string& field) {
  if (!object.is_object()) throw std::runtime_error(path.string() + ": expected a JSON object");
  if (!object.contains(field)) bad_field(path, field, "missing");
  return object.at(field);
}

std::string string_field(const json& object, const fs::path& path, const std::string& field) {
  const json& value = field_of(object, path, field);
  if (!value.is_string() || value.get<std::string>().empty())
    bad_field(path, field, "expected a non-empty string, got " + value.dump());
  return value.get<std::string>();
}

RunRecord read_run_json(const fs::path& path, const std::string& id) {
  const json run = read_json_file(path);
  RunRecord record;
  record.id = id;
  record.model = string_field(run, path, "model");
  try {
    model_preset(record.model);
  } catch (const std::invalid_argument& e) {
    bad_field(path, "model", e.what());
  }
  record.regime = string_field(run, path, "regime");
  if (!is_intermediate_regime(record.regime))
    bad_field(path, "regime", "'" + record.regime + "' is none of " + intermediate_regime_list());
  record.task = string_field(run, path, "task");
  const json& seed = field_of(run, path, "seed");
  if (!seed.is_number_integer()) bad_field(path, "seed", "expected an integer, got " + seed.dump());
  record.seed = seed.get<int64_t>();
  for (const auto& [field, list] : {std::pair{"intermediate_corpora", &record.intermediate_corpora},
                                    std::pair{"target_corpora", &record.target_corpora}}) {
    if (!run.contains(field)) continue;
    const json& value = run.at(field);
    if (!value.is_array()) bad_field(path, field, "expected a list of paths, got " + value.dump());
    for (const json& item : value) {
      if (!item.is_string()) bad_field(path, field, "expected a path, got " + item.dump());
      list->push_back(item.get<std::string>());
    }
  }
  return record;
}

// `stilts eval`'s <lang>.examples.tsv: a header `id<TAB>score`, then one line per example.
ExampleScores read_examples(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::string line;
  if (!std::getline(in, line) || line != "id\tscore")
    throw std::runtime_error(path.string() + ": expected the header 'id<TAB>score'");
  ExampleScores examples;
  for (int64_t number = 2; std::getline(in, line); ++number) {
    const size_t tab = line.rfind('\t');
    char* end = nullptr;
    const double score = tab == std::string::npos ? NAN : std::strtod(line.c_str() + tab + 1, &end);
    if (tab == std::string::npos || end == line.c_str() + tab + 1 || *end != '\0' ||
        !std::isfinite(score))
      throw std::runtime_error(path.string() + ":" + std::to_string(number) +
                               ": expected 'id<TAB>score', got '" + line + "'");
    examples.ids.push_back(line.substr(0, tab));
    examples.scores.push_back(score);
  }
  return examples;
}

RunRecord::Evaluation read_summary(const fs::path& path, const std::string& task) {
  if (!fs::is_regular_file(path))
    throw std::runtime_error(path.string() +
                             ": missing (every task folder under eval/ needs the "
                             "summary stilts eval writes)");
  const json summary = read_json_file(path);
  const std::string named = string_field(summary, path, "task");
  if (named != task)
    bad_field(path, "task", "names '" + named + "', not its folder's task '" + task + "'");
  RunRecord::Evaluation evaluation;
  evaluation.headline_metric = string_field(summary, path, "headline_metric");
  const json& languages = field_of(summary, path, "languages");
  if (!languages.is_object()) bad_field(path, "languages", "expected an object {code: score}");
  for (const auto& [code, score] : languages.items()) {
    if (!score.is_number())
      bad_field(path, "languages." + code, "expected a number, got " + score.dump());
    evaluation.scores[code] = score.get<double>();
    const fs::path examples = path.parent_path() / (code + ".examples.tsv");
    if (fs::exists(examples)) evaluation.examples[code] = read_examples(examples);
    // The per-language result's metrics, where it has them (optional: only the published
    // comparison reads them).
    if (const fs::path result = path.parent_path() / (code + ".json"); fs::exists(result)) {
      const json r = read_json_file(result);
      if (r.is_object() && r.contains("metrics") && r.at("metrics").is_object())
        for (const auto& [metric, value] : r.at("metrics").items())
          if (value.is_number()) evaluation.metrics[code][metric] = value.get<double>();
    }
  }
  return evaluation;
}

// Families alphabetically with "unknown" last, as the eval summaries order them.
bool family_before(const std::string& a, const std::string& b) {
  if ((a == "unknown") != (b == "unknown")) return b == "unknown";
  return a < b;
}

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

// Per task, model, regime and seed: each language's scores from the runs that evaluated it.
using LanguageValues = std::map<std::string, std::vector<double>>;
using Observations =
    std::map<std::string,
             std::map<std::string, std::map<std::string, std::map<int64_t, LanguageValues>>>>;

// The value of a row for one seed: the mean over the row's languages present in that seed, each
// language's score first averaged over the runs that gave it. nullopt when none is present.
std::optional<double> row_value(const LanguageValues& scores,
                                const std::vector<std::string>& languages) {
  std::vector<double> per_language;
  for (const std::string& code : languages)
    if (const auto it = scores.find(code); it != scores.end())
      per_language.push_back(mean_of(it->second));
  if (per_language.empty()) return std::nullopt;
  return mean_of(per_language);
}

// The row of `family` (or of `language` when not empty): the mean over `languages`.
ReportRow make_row(const std::string& task, const std::string& model, const std::string& family,
                   const std::string& language, const std::vector<std::string>& languages,
                   const std::map<std::string, std::map<int64_t, LanguageValues>>& by_regime,
                   const ReportOptions& options) {
  ReportRow row{family, language, {}, std::nullopt, std::nullopt, std::nullopt};
  const std::string key = task + "|" + model + "|" + family + "|" + language + "|";
  for (const std::string& regime : intermediate_regimes()) {
    const auto it = by_regime.find(regime);
    if (it == by_regime.end()) continue;
    RegimeCell cell;
    cell.regime = regime;
    for (const auto& [seed, scores] : it->second)
      if (const auto value = row_value(scores, languages)) cell.values.push_back(*value);
    if (cell.values.empty()) continue;
    cell.score = {static_cast<int64_t>(cell.values.size()), mean_of(cell.values),
                  sample_sd(cell.values),
                  bootstrap_mean_interval(cell.values, options.bootstrap, key + regime)};
    row.cells.push_back(std::move(cell));
  }
  const RegimeCell* baseline = row.cell(options.baseline);
  for (RegimeCell& cell : row.cells) {
    if (!baseline || cell.regime == options.baseline) continue;
    cell.gain = cell.score.mean - baseline->score.mean;
    cell.gain_ci = bootstrap_difference_interval(cell.values, baseline->values, options.bootstrap,
                                                 key + cell.regime + "-" + options.baseline);
  }
  const RegimeCell* multilingual = row.cell("multilingual");
  const RegimeCell* english = row.cell("english");
  if (multilingual && english) {
    row.multilingual_minus_english = multilingual->score.mean - english->score.mean;
    row.difference_ci = bootstrap_difference_interval(
        multilingual->values, english->values, options.bootstrap, key + kMultilingualMinusEnglish);
    if (multilingual->gain && english->gain && *english->gain != 0.0)
      row.relative_gain = (*multilingual->gain - *english->gain) / std::fabs(*english->gain);
  }
  return row;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

const RegimeCell* ReportRow::cell(const std::string& regime) const {
  for (const RegimeCell& c : cells)
    if (c.regime == regime) return &c;
  return nullptr;
}

LoadedRuns load_runs(const std::string& runs_dir, const std::string& skip) {
  if (!fs::is_directory(runs_dir)) throw std::runtime_error(runs_dir + ": not a directory of runs");
  LoadedRuns loaded;
  loaded.runs_dir = runs_dir;
  std::vector<fs::path> folders;
  for (const fs::directory_entry& entry : fs::directory_iterator(runs_dir))
    if (entry.is_directory()) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  std::map<std::string, fs::path> run_of_key;  // model|regime|task|seed -> its run.json
  for (const fs::path& folder : folders) {
    if (!skip.empty() && fs::exists(skip) && fs::equivalent(folder, skip)) continue;
    if (kExperimentFolders.count(folder.filename().string())) continue;
    const fs::path run_json = folder / "run.json";
    if (!fs::exists(run_json)) {
      loaded.notes.push_back(folder.string() + ": no run.json, left out");
      continue;
    }
    RunRecord run = read_run_json(run_json, folder.filename().string());
    const std::string key =
        run.model + "|" + run.regime + "|" + run.task + "|" + std::to_string(run.seed);
    if (const auto [it, fresh] = run_of_key.emplace(key, run_json); !fresh)
      throw std::runtime_error(run_json.string() + " repeats the model, regime, task and seed of " +
                               it->second.string());
    const fs::path eval_dir = folder / "eval";
    if (fs::is_directory(eval_dir)) {
      for (const fs::directory_entry& entry : fs::directory_iterator(eval_dir)) {
        const std::string task = entry.path().filename().string();
        if (!entry.is_directory() || kEvalSideFolders.count(task)) continue;
        run.evaluations[task] = read_summary(entry.path() / "summary.json", task);
      }
    }
    if (run.evaluations.empty()) {
      loaded.notes.push_back(folder.string() + ": no evaluated task under eval/ yet, left out");
      continue;
    }
    loaded.runs.push_back(std::move(run));
  }
  return loaded;
}

std::vector<std::string> order_models_by_size(std::vector<std::string> models) {
  std::stable_sort(models.begin(), models.end(), [](const std::string& a, const std::string& b) {
    return param_count(model_preset(a)) < param_count(model_preset(b));
  });
  return models;
}

std::optional<CorpusContent> read_corpus_content(const std::string& path) {
  try {
    const data::CorpusReader reader(path);
    return CorpusContent{reader.attributes().task, reader.attributes().lang};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

// What the runs' corpora say: the languages of the multilingual mix, the intermediate tasks,
// and each target task's training tasks that are also intermediate tasks.
std::map<std::string, std::set<std::string>> read_corpora(Report& report) {
  std::map<std::string, std::optional<CorpusContent>> cache;
  std::set<std::string> unreadable;
  const auto content = [&](const std::string& path) {
    auto it = cache.find(path);
    if (it == cache.end()) it = cache.emplace(path, read_corpus_content(path)).first;
    if (!it->second) unreadable.insert(path);
    return it->second;
  };
  std::set<std::string> seen, intermediate_tasks;
  bool seen_known = false, seen_complete = true;
  std::map<std::string, std::set<std::string>> target_tasks;  // target task -> training tasks
  for (const RunRecord& run : report.loaded.runs) {
    for (const std::string& path : run.target_corpora)
      if (const auto c = content(path)) target_tasks[run.task].insert(c->task);
    if (run.regime != "english" && run.regime != "multilingual") continue;
    if (run.regime == "multilingual") {
      if (run.intermediate_corpora.empty()) seen_complete = false;
      seen_known = true;
    }
    for (const std::string& path : run.intermediate_corpora) {
      const auto c = content(path);
      if (!c) {
        if (run.regime == "multilingual") seen_complete = false;
        continue;
      }
      intermediate_tasks.insert(c->task);
      if (run.regime == "multilingual") seen.insert(c->lang);
    }
  }
  if (seen_known && seen_complete)
    report.seen_languages = std::vector<std::string>(seen.begin(), seen.end());
  else if (seen_known)
    report.caveats.push_back(
        "which languages the multilingual intermediate mix contained is unknown (a multilingual "
        "run.json without intermediate_corpora, or a corpus that cannot be read), so there are "
        "no seen and unseen rows");
  if (!unreadable.empty())
    report.caveats.push_back(
        "corpora named in run.json that cannot be read: " +
        join(std::vector<std::string>(unreadable.begin(), unreadable.end()), ", "));
  report.intermediate_tasks.assign(intermediate_tasks.begin(), intermediate_tasks.end());
  return target_tasks;
}

std::string english_code() {
  return "en";
}

// The pooling inputs of each group (all, a family, seen, unseen) over the target tasks.
using PoolingInputs = std::map<std::string, std::vector<InteractionInput>>;

TransferTable transfer_table(const Report& report, const std::string& task,
                             const BootstrapOptions& bootstrap, PoolingInputs& pooling) {
  TransferTable table;
  table.task = task;
  std::map<std::string, std::map<std::string, std::vector<const RunRecord*>>> runs;
  for (const RunRecord& run : report.loaded.runs)
    if (run.task == task && run.evaluations.count(task) &&
        (run.regime == "english" || run.regime == "multilingual"))
      runs[run.model][run.regime].push_back(&run);
  std::vector<std::string> models;
  for (const auto& [model, by_regime] : runs)
    if (by_regime.size() == 2) models.push_back(model);
  table.models = order_models_by_size(models);
  // The non-English languages every run has; the rest are left out with a note.
  std::set<std::string> all, common;
  bool first = true;
  for (const std::string& model : table.models)
    for (const auto& [regime, list] : runs.at(model))
      for (const RunRecord* run : list) {
        std::set<std::string> mine;
        for (const auto& entry : run->evaluations.at(task).scores)
          if (entry.first != english_code()) mine.insert(entry.first);
        all.insert(mine.begin(), mine.end());
        if (first) {
          common = mine;
          first = false;
        } else {
          std::set<std::string> both;
          std::set_intersection(common.begin(), common.end(), mine.begin(), mine.end(),
                                std::inserter(both, both.begin()));
          common = both;
        }
      }
  std::vector<std::string> dropped;
  for (const std::string& code : all)
    if (!common.count(code)) dropped.push_back(code);
  if (!dropped.empty())
    table.notes.push_back("left out, missing from some run: " + join(dropped, ", "));
  if (table.models.size() < 2) {
    table.notes.push_back(
        "needs English-only and multilingual runs of two model sizes or more; has " +
        std::to_string(table.models.size()));
    return table;
  }
  std::vector<std::string> families;
  for (const std::string& code : common)
    if (std::find(families.begin(), families.end(), data::family_of(code)) == families.end())
      families.push_back(data::family_of(code));
  std::sort(families.begin(), families.end(), family_before);
  const auto add_group = [&](const std::string& name, bool family,
                             const std::vector<std::string>& languages) {
    TransferGroup group;
    group.group = name;
    group.family = family;
    group.languages = languages;
    group.few_languages = family && languages.size() <= 2;
    if (languages.empty()) {
      group.missing = "no language";
      table.groups.push_back(std::move(group));
      return;
    }
    InteractionInput input;
    input.task = task;
    input.group = name;
    input.languages = languages;
    for (const std::string& model : table.models) {
      SizeScores size;
      size.model = model;
      size.parameters = static_cast<double>(param_count(model_preset(model)));
      for (const auto& [regime, list] : runs.at(model))
        for (const RunRecord* run : list) {
          const RunRecord::Evaluation& evaluation = run->evaluations.at(task);
          SeedScores seed;
          seed.seed = run->seed;
          for (const std::string& code : languages) {
            seed.summaries[code] = evaluation.scores.at(code);
            if (const auto it = evaluation.examples.find(code); it != evaluation.examples.end())
              seed.examples[code] = it->second;
          }
          (regime == "english" ? size.english : size.multilingual).push_back(std::move(seed));
        }
      input.sizes.push_back(std::move(size));
    }
    try {
      group.result = estimate_interaction(input, bootstrap);
      pooling[name].push_back(std::move(input));
    } catch (const std::invalid_argument& e) {
      group.missing = e.what();
    }
    table.groups.push_back(std::move(group));
  };
  add_group("all", false, std::vector<std::string>(common.begin(), common.end()));
  for (const std::string& family : families) {
    std::vector<std::string> languages;
    for (const std::string& code : common)
      if (data::family_of(code) == family) languages.push_back(code);
    add_group(family, true, languages);
  }
  if (report.seen_languages) {
    std::vector<std::string> seen, unseen;
    for (const std::string& code : common)
      (std::find(report.seen_languages->begin(), report.seen_languages->end(), code) !=
               report.seen_languages->end()
           ? seen
           : unseen)
          .push_back(code);
    add_group("seen", false, seen);
    add_group("unseen", false, unseen);
  }
  return table;
}

// The groups pooled over `tasks` (each task's inputs for the group, restricted to the models every
// input has), in the order all, the families, seen, unseen.
TransferTable pooled_table(const std::vector<std::string>& tasks, const PoolingInputs& pooling,
                           std::vector<std::string> notes, const BootstrapOptions& bootstrap) {
  TransferTable table;
  table.task = kPooledTasks;
  table.tasks = tasks;
  table.notes = std::move(notes);
  std::vector<std::string> order = {"all"};
  std::vector<std::string> families;
  for (const auto& [name, inputs] : pooling)
    if (name != "all" && name != "seen" && name != "unseen") families.push_back(name);
  std::sort(families.begin(), families.end(), family_before);
  order.insert(order.end(), families.begin(), families.end());
  order.push_back("seen");
  order.push_back("unseen");
  std::set<std::string> table_models;
  for (const std::string& name : order) {
    const auto it = pooling.find(name);
    if (it == pooling.end()) continue;
    std::vector<InteractionInput> inputs;
    for (const InteractionInput& input : it->second)
      if (std::find(tasks.begin(), tasks.end(), input.task) != tasks.end()) inputs.push_back(input);
    if (inputs.empty()) continue;
    // The sizes every task has: pooling needs the same sizes in each.
    std::set<std::string> common;
    for (const SizeScores& size : inputs.front().sizes) common.insert(size.model);
    for (const InteractionInput& input : inputs) {
      std::set<std::string> mine;
      for (const SizeScores& size : input.sizes)
        if (common.count(size.model)) mine.insert(size.model);
      common = mine;
    }
    TransferGroup group;
    group.group = name;
    group.family = name != "all" && name != "seen" && name != "unseen";
    std::set<std::string> languages;
    for (InteractionInput& input : inputs) {
      languages.insert(input.languages.begin(), input.languages.end());
      std::erase_if(input.sizes, [&](const SizeScores& size) { return !common.count(size.model); });
    }
    group.languages.assign(languages.begin(), languages.end());
    group.few_languages = group.family && group.languages.size() <= 2;
    try {
      group.result = estimate_pooled_interaction(inputs, name, bootstrap);
      for (const SizeEstimate& size : group.result->sizes) table_models.insert(size.model);
      if (inputs.size() < tasks.size())
        group.result->notes.push_back("pooled over " + join(group.result->tasks, ", ") +
                                      " only, the tasks with these languages");
    } catch (const std::invalid_argument& e) {
      group.missing = e.what();
    }
    table.groups.push_back(std::move(group));
  }
  table.models = order_models_by_size({table_models.begin(), table_models.end()});
  return table;
}

}  // namespace

Report build_report(LoadedRuns loaded, const ReportOptions& options) {
  if (!is_intermediate_regime(options.baseline))
    throw std::invalid_argument("baseline regime '" + options.baseline + "' is none of " +
                                intermediate_regime_list());
  check_bootstrap_options(options.bootstrap);

  Report report;
  report.options = options;
  Observations observations;
  std::map<std::string, std::string> headline;
  std::set<std::string> target_tasks;
  for (const RunRecord& run : loaded.runs) {
    target_tasks.insert(run.task);
    for (const auto& [task, evaluation] : run.evaluations) {
      headline.emplace(task, evaluation.headline_metric);
      LanguageValues& scores = observations[task][run.model][run.regime][run.seed];
      for (const auto& [code, score] : evaluation.scores) scores[code].push_back(score);
    }
  }

  std::set<std::string> unknown_languages;
  for (const auto& [task, by_model] : observations) {
    TaskSection section{task, headline.at(task), target_tasks.count(task) != 0, {}};
    std::vector<std::string> models;
    for (const auto& entry : by_model) models.push_back(entry.first);
    for (const std::string& model : order_models_by_size(models)) {
      const auto& by_regime = by_model.at(model);
      ModelSection ms;
      ms.model = model;
      std::set<std::string> languages;
      for (const auto& [regime, by_seed] : by_regime)
        for (const auto& [seed, scores] : by_seed) {
          ms.seeds[regime].push_back(seed);
          for (const auto& entry : scores) languages.insert(entry.first);
        }
      // English, the source language, is left out of every transfer average: of the all and
      // family rows, unless it is the task's only language (an English task evaluated after the
      // intermediate stage). Its own row stays among the languages.
      std::vector<std::string> averaged;
      for (const std::string& code : languages)
        if (code != english_code()) averaged.push_back(code);
      ms.english_left_out = !averaged.empty() && averaged.size() < languages.size();
      if (averaged.empty()) averaged.assign(languages.begin(), languages.end());
      const auto families_of = [&](const auto& codes) {
        std::vector<std::string> families;
        for (const std::string& code : codes)
          if (std::find(families.begin(), families.end(), data::family_of(code)) == families.end())
            families.push_back(data::family_of(code));
        std::sort(families.begin(), families.end(), family_before);
        return families;
      };
      for (const std::string& code : languages)
        if (data::family_of(code) == "unknown") unknown_languages.insert(code);
      ms.groups.push_back(make_row(task, model, "all", "", averaged, by_regime, options));
      for (const std::string& family : families_of(averaged)) {
        std::vector<std::string> members;
        for (const std::string& code : averaged)
          if (data::family_of(code) == family) members.push_back(code);
        ms.groups.push_back(make_row(task, model, family, "", members, by_regime, options));
      }
      for (const std::string& family : families_of(languages))
        for (const std::string& code : languages)
          if (data::family_of(code) == family)
            ms.languages.push_back(make_row(task, model, family, code, {code}, by_regime, options));

      const std::string where = "task " + task + ", " + model + ": ";
      if (!by_regime.count(options.baseline))
        report.caveats.push_back(where + "no run of the baseline regime '" + options.baseline +
                                 "', so no gains");
      std::vector<std::string> uneven;
      for (const auto& [regime, by_seed] : by_regime)
        for (const auto& [seed, scores] : by_seed)
          if (scores.size() != languages.size())
            uneven.push_back(regime + " seed " + std::to_string(seed));
      if (!uneven.empty())
        report.caveats.push_back(where + "the runs of " + join(uneven, ", ") +
                                 " lack some of the task's languages; their family and "
                                 "all-language means are over fewer languages");
      std::vector<std::string> single;
      for (const auto& [regime, seeds] : ms.seeds)
        if (seeds.size() == 1) single.push_back(regime);
      if (!single.empty())
        report.caveats.push_back(where + "one seed (n=1, no interval) for " + join(single, ", "));
      section.models.push_back(std::move(ms));
    }
    if (!section.target)
      report.caveats.push_back("task " + task +
                               " is no run's target task: it was evaluated straight after the "
                               "intermediate stage, so its gains are the intermediate stage's "
                               "alone");
    report.tasks.push_back(std::move(section));
  }
  if (!unknown_languages.empty()) {
    std::vector<std::string> codes(unknown_languages.begin(), unknown_languages.end());
    report.caveats.push_back(
        "languages outside experiments/languages.tsv, grouped as family "
        "'unknown': " +
        join(codes, ", "));
  }
  report.loaded = std::move(loaded);
  for (const TaskSection& section : report.tasks)
    for (const ModelSection& model : section.models)
      if (const auto published = published_zero_shot(section.task, model.model);
          published && model.seeds.count(options.baseline)) {
        PublishedComparison c;
        c.task = section.task;
        c.model = model.model;
        c.metric = published->metric;
        c.published = published->score;
        if (const data::TaskSpec* spec = data::find_task(section.task); spec && spec->evaluation)
          c.task_languages = spec->evaluation->languages().size();
        std::vector<double> per_seed;
        bool complete = true;
        c.languages = SIZE_MAX;
        for (const RunRecord& run : report.loaded.runs) {
          if (run.model != model.model || run.regime != options.baseline ||
              run.task != section.task || !run.evaluations.count(section.task))
            continue;
          const RunRecord::Evaluation& e = run.evaluations.at(section.task);
          std::vector<double> values;
          for (const auto& [code, score] : e.scores) {
            if (e.headline_metric == c.metric) {
              values.push_back(score);
              continue;
            }
            const auto m = e.metrics.find(code);
            if (m == e.metrics.end() || !m->second.count(c.metric)) {
              complete = false;
              continue;
            }
            values.push_back(m->second.at(c.metric));
          }
          ++c.seeds;
          c.languages = std::min(c.languages, e.scores.size());
          if (!values.empty()) per_seed.push_back(mean_of(values));
        }
        if (c.seeds == 0) c.languages = 0;
        if (complete && !per_seed.empty()) c.ours = mean_of(per_seed);
        report.published.push_back(c);
      }
  const std::map<std::string, std::set<std::string>> training_tasks = read_corpora(report);
  PoolingInputs pooling;
  for (const TaskSection& section : report.tasks) {
    if (!section.target) continue;
    TransferTable table = transfer_table(report, section.task, options.bootstrap, pooling);
    if (const auto it = training_tasks.find(section.task); it != training_tasks.end())
      for (const std::string& task : it->second)
        if (std::find(report.intermediate_tasks.begin(), report.intermediate_tasks.end(), task) !=
            report.intermediate_tasks.end())
          table.also_intermediate.push_back(task);
    report.transfer.push_back(std::move(table));
  }
  // Pooled over the target tasks with an estimate. Those whose training set was also an
  // intermediate task are reported apart, left out of the pool, where two other tasks remain;
  // otherwise they are pooled and marked.
  std::vector<std::string> clean, marked, every;
  for (const TransferTable& table : report.transfer)
    if (std::any_of(table.groups.begin(), table.groups.end(),
                    [](const TransferGroup& g) { return g.result.has_value(); })) {
      (table.also_intermediate.empty() ? clean : marked).push_back(table.task);
      every.push_back(table.task);
    }
  const bool apart = clean.size() >= 2;
  const std::vector<std::string>& pooled = apart ? clean : every;
  if (pooled.size() >= 2) {
    std::vector<std::string> notes;
    if (!marked.empty())
      notes.push_back((apart ? "left out, their training set also an intermediate task: "
                             : "includes tasks whose training set is also an intermediate task "
                               "(too few others to pool apart): ") +
                      join(marked, ", "));
    report.pooled = pooled_table(pooled, pooling, std::move(notes), options.bootstrap);
  }
  if (options.checks) {
    if (!report.seen_languages)
      throw std::invalid_argument(
          "checks: the runs do not say which languages the multilingual regime was trained on "
          "(run.json's intermediate_corpora, readable corpora)");
    report.checks = compute_checks(
        report.loaded.runs,
        controlled_study(report.loaded.runs, *report.seen_languages, options.identity_language),
        options.bootstrap);
  }
  return report;
}

namespace {

std::string signed_number(double value) {
  return format("%+.2f", value);
}

std::string interval_text(const std::optional<Interval>& ci) {
  if (!ci) return "";
  return " [" + format("%.2f", ci->low) + ", " + format("%.2f", ci->high) + "]";
}

std::string score_text(const RegimeCell* cell) {
  if (!cell) return "-";
  const SeedSummary& s = cell->score;
  if (s.n == 1) return format("%.2f", s.mean) + " (n=1, no interval)";
  return format("%.2f", s.mean) + " ± " + format("%.2f", *s.sd) + interval_text(s.ci) +
         " (n=" + std::to_string(s.n) + ")";
}

std::string gain_text(const std::optional<double>& gain, const std::optional<Interval>& ci) {
  if (!gain) return "-";
  return signed_number(*gain) + (ci ? interval_text(ci) : " (no interval)");
}

// The regimes with a value in any of the rows, in report order.
std::vector<std::string> regimes_in(const std::vector<ReportRow>& rows) {
  std::vector<std::string> present;
  for (const std::string& regime : intermediate_regimes())
    for (const ReportRow& row : rows)
      if (row.cell(regime)) {
        present.push_back(regime);
        break;
      }
  return present;
}

// A score table and a gain table of the rows; `label` heads the first column.
void write_tables(std::ostringstream& md, const std::vector<ReportRow>& rows, bool by_language,
                  bool english_left_out, const std::string& baseline) {
  const std::vector<std::string> regimes = regimes_in(rows);
  auto row_label = [&](const ReportRow& row) {
    if (by_language) return "| " + row.language + " | " + row.family;
    return "| " + row.family + (row.family == "all" && english_left_out ? " (non-English)" : "");
  };
  const std::string head = by_language ? "| language | family" : "| family";
  const std::string rule = by_language ? "|---|---" : "|---";
  md << "Zero-shot score (mean ± sd [bootstrap interval] (seeds)):\n\n" << head;
  for (const std::string& regime : regimes) md << " | " << regime;
  md << " |\n" << rule;
  for (size_t i = 0; i < regimes.size(); ++i) md << "|---";
  md << "|\n";
  for (const ReportRow& row : rows) {
    md << row_label(row);
    for (const std::string& regime : regimes) md << " | " << score_text(row.cell(regime));
    md << " |\n";
  }
  std::vector<std::string> gained;
  for (const std::string& regime : regimes)
    if (regime != baseline) gained.push_back(regime);
  md << "\nGain over " << baseline
     << " [bootstrap interval], multilingual − english [interval] and the relative gain over the "
        "baseline (gain_multilingual − gain_english) / |gain_english| (not D / EN, which divides "
        "by "
        "the English-only score):\n\n"
     << head;
  for (const std::string& regime : gained) md << " | " << regime;
  md << " | multilingual − english | relative to the English gain over " << baseline << " |\n"
     << rule;
  for (size_t i = 0; i < gained.size() + 2; ++i) md << "|---";
  md << "|\n";
  for (const ReportRow& row : rows) {
    md << row_label(row);
    for (const std::string& regime : gained) {
      const RegimeCell* cell = row.cell(regime);
      md << " | " << (cell ? gain_text(cell->gain, cell->gain_ci) : "-");
    }
    md << " | " << gain_text(row.multilingual_minus_english, row.difference_ci) << " | "
       << (row.relative_gain ? format("%+.1f %%", 100.0 * *row.relative_gain) : "-") << " |\n";
  }
  md << "\n";
}

std::string estimate_text(const Estimate& e, double scale, const char* pattern) {
  std::string text = format(pattern, scale * e.value);
  if (e.ci)
    text +=
        " [" + format("%.2f", scale * e.ci->low) + ", " + format("%.2f", scale * e.ci->high) + "]";
  else
    text += " (no interval)";
  return text;
}

std::string group_label(const TransferGroup& group) {
  if (group.group == "all") return "all (non-English)";
  if (group.group == "seen" && !group.family) return "seen (in the multilingual mix)";
  if (group.group == "unseen" && !group.family) return "unseen (not in the mix)";
  return group.group;
}

// The study's table of one target task: ML - EN per size, D / EN, the interaction and the slope.
void write_transfer(std::ostringstream& md, const TransferTable& table) {
  md << "### ML − EN across model sizes (zero-shot transfer, English left out)\n\n";
  if (!table.also_intermediate.empty())
    md << "**Target task also an intermediate task:** its training set ("
       << join(table.also_intermediate, ", ")
       << ") is also an intermediate task, so the intermediate stage already trained on the "
          "target task; the gains are not those of an unrelated intermediate task.\n\n";
  for (const std::string& note : table.notes) md << "Note: " << note << ".\n\n";
  if (table.groups.empty()) return;
  md << "D = multilingual − English-only per size [interval]; D / EN the relative gain over "
        "English-only (percent); the interaction D("
     << table.models.back() << ") − D(" << table.models.front()
     << "); the slope of D per unit of ln(parameters). Rows: every non-English language, each "
        "family, and the languages in and out of the multilingual mix.\n\n| group | languages |";
  for (const std::string& model : table.models) md << " D " << model << " |";
  for (const std::string& model : table.models) md << " D / EN " << model << " |";
  md << " interaction | slope | resampled |\n|---|---|";
  for (size_t i = 0; i < 2 * table.models.size() + 3; ++i) md << "---|";
  md << "\n";
  for (const TransferGroup& group : table.groups) {
    md << "| " << group_label(group) << " | " << group.languages.size();
    if (group.few_languages)
      md << " ⚠ " << (group.languages.size() == 1 ? "one language" : "two languages");
    md << " (" << join(group.languages, ", ") << ") |";
    if (!group.result) {
      for (size_t i = 0; i < 2 * table.models.size() + 2; ++i) md << " - |";
      md << " no estimate: " << group.missing << " |\n";
      continue;
    }
    const InteractionResult& r = *group.result;
    for (const SizeEstimate& size : r.sizes)
      md << " " << estimate_text(size.difference, 1, "%+.2f") << " |";
    for (const SizeEstimate& size : r.sizes)
      md << " " << (size.relative_gain ? estimate_text(*size.relative_gain, 100, "%+.1f %%") : "-")
         << " |";
    md << " " << estimate_text(r.interaction, 1, "%+.2f") << " | "
       << estimate_text(r.slope, 1, "%+.3f") << " | "
       << (r.per_example ? "seeds, languages, examples" : "seeds, languages (summaries only)")
       << " |\n";
  }
  std::set<std::string> notes;
  bool summaries_only = false;
  for (const TransferGroup& group : table.groups)
    if (group.result) {
      summaries_only |= !group.result->per_example;
      for (const std::string& note : group.result->notes)
        if (note.rfind("summaries only", 0) != 0) notes.insert(group.group + ": " + note);
    }
  if (summaries_only)
    md << "\nSummaries only: some run has no per-example scores "
          "(`eval/<task>/<lang>.examples.tsv`) "
          "for these languages, or the task's metric has none (seqeval, BUCC), so the test "
          "examples were not resampled and the intervals leave out the test sets' sampling "
          "noise.\n";
  if (!notes.empty()) {
    md << "\n";
    for (const std::string& note : notes) md << "- " << note << "\n";
  }
  md << "\n";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_number(const std::optional<double>& value) {
  return value ? format("%.6f", *value) : "";
}

// "low,high", or "," where there is no interval.
std::string csv_interval(const std::optional<Interval>& interval) {
  return interval ? format("%.6f", interval->low) + "," + format("%.6f", interval->high) : ",";
}

}  // namespace

std::string report_markdown(const Report& report) {
  const ReportOptions& o = report.options;
  std::ostringstream md;
  md << "# stilts report\n\n";
  for (const std::string& note : o.notes) md << note << "\n\n";
  md << "Runs from `" << report.loaded.runs_dir << "`: " << report.loaded.runs.size()
     << " run(s) with results.\n\n";
  md << "| target task | model | regime | seeds | runs |\n|---|---|---|---|---|\n";
  std::map<std::tuple<std::string, size_t, std::string, size_t>,
           std::pair<std::string, std::string>>
      found;  // (task, model order, model, regime order) -> (seeds, run ids)
  std::vector<std::string> models;
  for (const RunRecord& run : report.loaded.runs) models.push_back(run.model);
  models = order_models_by_size(models);
  for (const RunRecord& run : report.loaded.runs) {
    const size_t model_rank =
        static_cast<size_t>(std::find(models.begin(), models.end(), run.model) - models.begin());
    const auto& regimes = intermediate_regimes();
    const size_t regime_rank = static_cast<size_t>(
        std::find(regimes.begin(), regimes.end(), run.regime) - regimes.begin());
    auto& [seeds, ids] = found[{run.task, model_rank, run.model, regime_rank}];
    seeds += (seeds.empty() ? "" : ", ") + std::to_string(run.seed);
    ids += (ids.empty() ? "" : ", ") + run.id;
  }
  for (const auto& [key, value] : found)
    md << "| " << std::get<0>(key) << " | " << std::get<2>(key) << " | "
       << intermediate_regimes()[std::get<3>(key)] << " | " << value.first << " | " << value.second
       << " |\n";
  if (!report.loaded.notes.empty()) {
    md << "\nLeft out:\n\n";
    for (const std::string& note : report.loaded.notes) md << "- " << note << "\n";
  }
  // After the runs they are computed from, and a section of their own up to the method (the
  // HTML page lifts it to the top).
  if (report.checks) md << "\n" << checks_markdown(*report.checks);
  md << "\n## Method\n\n"
     << "Scores are each task's headline metric x100, from `eval/<task>/summary.json`. A run's "
        "family score is the mean over that family's languages in the run (`all`: over all its "
        "languages), English left out (it is the source language, not a transfer target) "
        "unless it is the task's only language; its own score is in the appendix. The tables give "
        "the mean over seeds, the sample standard deviation, and a "
        "percentile bootstrap interval ("
     << o.bootstrap.resamples << " resamples of the seeds, "
     << format("%g", 100 * o.bootstrap.confidence) << " %, --seed " << o.bootstrap.seed
     << "). The gain is a regime's mean minus the `" << o.baseline
     << "` baseline's; its interval resamples the seeds of each regime independently. The "
        "relative gain is (gain_multilingual − gain_english) / |gain_english|; multilingual − "
        "english is the plain difference, with an interval resampling both regimes.\n\n";
  md << "ML − EN across model sizes (each target task's first table; `transfer.csv`): per "
        "group of non-English languages (English, the source language, is left out of every "
        "transfer average), D = multilingual − English-only per model size, D / EN, the "
        "interaction D(largest) − D(smallest) and the least-squares slope of D against "
        "ln(parameters), with percentile intervals from one hierarchical bootstrap "
        "(experiments/interaction.h): seeds within each size and regime, the group's "
        "languages, and each language's test examples where every run has per-example scores "
        "(else summaries only, as the table says). A family of one or two languages is "
        "flagged: its interval is about those languages, not the family.\n\n";
  if (report.seen_languages)
    md << "Languages of the multilingual intermediate mix (from the corpora in run.json): "
       << join(*report.seen_languages, ", ") << "; the `seen` and `unseen` rows pool the "
       << "non-English languages in and out of it.\n\n";
  if (!report.intermediate_tasks.empty())
    md << "Intermediate tasks (from the corpora in run.json): "
       << join(report.intermediate_tasks, ", ") << ".\n\n";
  if (report.checks)
    md << "Checks (experiments/checks.h): each is a difference of cell means (a model and a "
          "regime, over seeds, then the named languages with equal weight, then examples), with a "
          "percentile interval resampling the seeds of each cell and the test examples, paired "
          "across cells and across languages that share their test sentences; the named "
          "languages are fixed, not resampled.\n\n";
  md << "## Caveats\n\n"
     << "- A bootstrap over few seeds can only recombine those seeds: with fewer than about five "
        "the intervals understate the uncertainty; read them as descriptive.\n"
     << "- A relative gain is undefined when the English gain is zero and unstable near it; the "
        "plain difference is the safer figure.\n";
  for (const std::string& caveat : report.caveats) md << "- " << caveat << "\n";
  if (!report.published.empty()) {
    md << "\n## Baseline against published mT5 zero-shot scores\n\n"
       << "The `" << o.baseline
       << "` regime (no intermediate stage) beside mT5's published zero-shot scores "
          "(English-only fine-tuning, the mean over the task's languages, English included); "
          "source: "
       << kPublishedScoresSource
       << ". Ours: the mean over seeds of each run's mean over its languages of the same "
          "metric (QA: F1 alone, from `eval/<task>/<lang>.json`, not the (EM + F1) / 2 "
          "headline).\n\n| task | model | metric | published | "
       << o.baseline << " (this report) | difference | seeds | languages |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (const PublishedComparison& c : report.published)
      md << "| " << c.task << " | " << c.model << " | " << c.metric << " | "
         << format("%.1f", c.published) << " | "
         << (c.ours ? format("%.2f", *c.ours)
                    : std::string("- (no ") + c.metric + " in the results)")
         << " | " << (c.ours ? signed_number(*c.ours - c.published) : "-") << " | " << c.seeds
         << " | " << c.languages << " of " << c.task_languages << " |\n";
  }
  if (report.pooled) {
    md << "\n## Pooled over target tasks\n\nML − EN across model sizes pooled over "
       << join(report.pooled->tasks, ", ")
       << ": each (size, regime) cell is the mean over the tasks of each task's cell mean (every "
          "task weighs the same, as XTREME-R averages its tasks; headline metrics x100). Per "
          "resample each task's languages and test examples are drawn apart, and the seeds once "
          "per cell for every task, since one intermediate run per model, regime and seed serves "
          "every target task. A language's effect shared by two tasks is drawn apart in each, so "
          "that part of the interval errs narrow. A group is pooled over the tasks that have its "
          "languages.\n\n";
    write_transfer(md, *report.pooled);
  }
  for (const TaskSection& task : report.tasks) {
    md << "\n## " << task.task << " (" << task.headline_metric << ", x100)\n\n";
    for (const TransferTable& table : report.transfer)
      if (table.task == task.task) write_transfer(md, table);
    for (const ModelSection& model : task.models) {
      md << "### " << model.model << "\n\n";
      write_tables(md, model.groups, false, model.english_left_out, o.baseline);
    }
  }
  md << "\n## Appendix: per language\n";
  for (const TaskSection& task : report.tasks)
    for (const ModelSection& model : task.models) {
      md << "\n### " << task.task << ", " << model.model << "\n\n";
      write_tables(md, model.languages, true, false, o.baseline);
    }
  return md.str();
}

std::string report_csv(const Report& report) {
  std::ostringstream csv;
  csv << "task,model,family,language,regime,n_seeds,mean,sd,ci_low,ci_high,gain,gain_ci_low,"
         "gain_ci_high,relative_gain\n";
  for (const TaskSection& task : report.tasks)
    for (const ModelSection& model : task.models) {
      auto emit_rows = [&](const std::vector<ReportRow>& rows) {
        for (const ReportRow& row : rows) {
          std::ostringstream prefix;
          prefix << csv_field(task.task) << ',' << csv_field(model.model) << ','
                 << csv_field(row.family) << ',' << csv_field(row.language) << ',';
          for (const RegimeCell& cell : row.cells) {
            const SeedSummary& s = cell.score;
            csv << prefix.str() << cell.regime << ',' << s.n << ',' << csv_number(s.mean) << ','
                << csv_number(s.sd) << ',' << csv_interval(s.ci) << ',' << csv_number(cell.gain)
                << ',' << csv_interval(cell.gain_ci) << ",\n";
          }
          if (!row.multilingual_minus_english) continue;
          csv << prefix.str() << kMultilingualMinusEnglish << ",,,,,,"
              << csv_number(row.multilingual_minus_english) << ','
              << csv_interval(row.difference_ci) << ',' << csv_number(row.relative_gain) << "\n";
        }
      };
      emit_rows(model.groups);
      emit_rows(model.languages);
    }
  return csv.str();
}

std::string transfer_csv(const Report& report) {
  std::ostringstream csv;
  csv << "task,group,n_languages,few_languages,statistic,model,value,ci_low,ci_high,per_example\n";
  std::vector<const TransferTable*> tables;
  for (const TransferTable& table : report.transfer) tables.push_back(&table);
  if (report.pooled) tables.push_back(&*report.pooled);
  for (const TransferTable* table : tables)
    for (const TransferGroup& group : table->groups) {
      if (!group.result) continue;
      const InteractionResult& r = *group.result;
      const std::string prefix = csv_field(table->task) + ',' + csv_field(group.group) + ',' +
                                 std::to_string(group.languages.size()) + ',' +
                                 (group.few_languages ? "true" : "false") + ',';
      const std::string suffix = std::string(",") + (r.per_example ? "true" : "false") + "\n";
      const auto line = [&](const std::string& statistic, const std::string& model,
                            const Estimate& e) {
        csv << prefix << statistic << ',' << csv_field(model) << ',' << csv_number(e.value) << ','
            << csv_interval(e.ci) << suffix;
      };
      for (const SizeEstimate& size : r.sizes) {
        line("english", size.model, size.english);
        line("multilingual", size.model, size.multilingual);
        line("difference", size.model, size.difference);
        if (size.relative_gain) line("relative_gain", size.model, *size.relative_gain);
      }
      line("interaction", r.large_model + "-" + r.small_model, r.interaction);
      line("slope", "", r.slope);
    }
  return csv.str();
}

}  // namespace stilts::experiments
