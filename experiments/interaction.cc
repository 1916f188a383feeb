#include "experiments/interaction.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <utility>

namespace stilts::experiments {

namespace {

const char* const kRegimeNames[2] = {"english", "multilingual"};

// One (size, regime) cell: its runs by seed, each run's scores per language of the group (in the
// sorted order of InteractionResult::languages): a single summary, or one score per example.
struct Cell {
  std::string name;  // "mt5-small english", for messages
  std::vector<int64_t> seeds;
  std::vector<std::vector<std::vector<double>>> values;  // [seed][language][example or 0]
};

std::string run_name(const std::string& model, int regime, int64_t seed) {
  return model + " " + kRegimeNames[regime] + " seed " + std::to_string(seed);
}

[[noreturn]] void fail(const InteractionInput& input, const std::string& message) {
  throw std::invalid_argument("interaction (task " + input.task + ", group " + input.group +
                              "): " + message);
}

void check_finite(const InteractionInput& input, double value, const std::string& where) {
  if (!std::isfinite(value))
    fail(input, where + ": score " + std::to_string(value) + " is not finite");
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The least-squares slope of y against x (x not all equal).
double slope_of(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean_of(x);
  const double my = mean_of(y);
  double sxy = 0.0;
  double sxx = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

// The cell means of one (re)sample, a mean over seeds, then examples, then languages. `seed_count`
// [k] is how often run k is drawn, `languages` the drawn languages, `example_weight` per drawn
// language the weight of each example (its count over the example total; empty with summaries).
double cell_mean(const Cell& cell, const std::vector<int64_t>& seed_count,
                 const std::vector<size_t>& languages,
                 const std::vector<std::vector<double>>& example_weight) {
  const double seeds = static_cast<double>(cell.seeds.size());
  double total = 0.0;
  for (size_t j = 0; j < languages.size(); ++j) {
    const size_t l = languages[j];
    double language_sum = 0.0;
    for (size_t k = 0; k < cell.seeds.size(); ++k) {
      if (seed_count[k] == 0) continue;
      const std::vector<double>& v = cell.values[k][l];
      double score;
      if (example_weight.empty()) {
        score = v[0];
      } else {
        const std::vector<double>& w = example_weight[j];
        score = 0.0;
        for (size_t i = 0; i < v.size(); ++i) score += w[i] * v[i];
      }
      language_sum += static_cast<double>(seed_count[k]) * score;
    }
    total += language_sum / seeds;
  }
  return total / static_cast<double>(languages.size());
}

// One task's input, checked, with its cells: sizes ascending, English then multilingual.
struct PreparedTask {
  const InteractionInput* input = nullptr;
  std::vector<std::string> languages;  // sorted
  std::vector<const SizeScores*> sizes;
  std::string small;
  std::string large;
  bool per_example = false;
  std::vector<size_t> example_counts;  // per language, with per-example scores
  std::vector<Cell> cells;
};

PreparedTask prepare(const InteractionInput& input) {
  // The languages, sorted, so the result does not depend on the order they are listed in.
  if (input.languages.empty()) fail(input, "no languages");
  std::vector<std::string> languages = input.languages;
  std::sort(languages.begin(), languages.end());
  for (size_t l = 1; l < languages.size(); ++l)
    if (languages[l] == languages[l - 1]) fail(input, "language " + languages[l] + " given twice");
  const size_t n_languages = languages.size();

  // The sizes, by parameter count.
  if (input.sizes.size() < 2)
    fail(input, "the slope and the interaction need two model sizes or more, got " +
                    std::to_string(input.sizes.size()));
  std::vector<const SizeScores*> sizes;
  std::set<std::string> models;
  for (const SizeScores& size : input.sizes) {
    if (size.model.empty()) fail(input, "a size without a model name");
    if (!models.insert(size.model).second) fail(input, "model " + size.model + " given twice");
    if (!(std::isfinite(size.parameters) && size.parameters > 0.0))
      fail(input, size.model + ": parameter count " + std::to_string(size.parameters) +
                      " is not finite and positive");
    sizes.push_back(&size);
  }
  std::sort(sizes.begin(), sizes.end(),
            [](const SizeScores* a, const SizeScores* b) { return a->parameters < b->parameters; });
  for (size_t s = 1; s < sizes.size(); ++s)
    if (sizes[s]->parameters == sizes[s - 1]->parameters)
      fail(input, sizes[s - 1]->model + " and " + sizes[s]->model +
                      " have the same parameter count; the slope needs distinct sizes");

  const std::string small = input.small_model.empty() ? sizes.front()->model : input.small_model;
  const std::string large = input.large_model.empty() ? sizes.back()->model : input.large_model;
  if (!models.count(small)) fail(input, "small model " + small + " is not among the sizes");
  if (!models.count(large)) fail(input, "large model " + large + " is not among the sizes");
  if (small == large) fail(input, "the small and the large model are both " + small);

  // Per-example scores when every run has them for every language.
  bool per_example = true;
  for (const SizeScores* size : sizes)
    for (const std::vector<SeedScores>* runs : {&size->english, &size->multilingual})
      for (const SeedScores& run : *runs)
        for (const std::string& language : languages)
          if (!run.examples.count(language)) per_example = false;

  // The cells, sizes ascending, English then multilingual; runs by seed.
  std::vector<Cell> cells;
  std::vector<size_t> example_counts(n_languages, 0);
  std::vector<const std::vector<std::string>*> example_ids(n_languages, nullptr);
  std::vector<std::string> first_run(n_languages);
  for (const SizeScores* size : sizes) {
    for (int regime = 0; regime < 2; ++regime) {
      const std::vector<SeedScores>& runs = regime == 0 ? size->english : size->multilingual;
      Cell cell;
      cell.name = size->model + " " + kRegimeNames[regime];
      if (runs.empty()) fail(input, cell.name + ": no runs (each size needs both regimes)");
      std::vector<const SeedScores*> sorted;
      for (const SeedScores& run : runs) sorted.push_back(&run);
      std::sort(sorted.begin(), sorted.end(),
                [](const SeedScores* a, const SeedScores* b) { return a->seed < b->seed; });
      for (size_t k = 0; k < sorted.size(); ++k) {
        const SeedScores& run = *sorted[k];
        const std::string name = run_name(size->model, regime, run.seed);
        if (k > 0 && run.seed == sorted[k - 1]->seed) fail(input, name + " given twice");
        cell.seeds.push_back(run.seed);
        std::vector<std::vector<double>> per_language(n_languages);
        for (size_t l = 0; l < n_languages; ++l) {
          const std::string& language = languages[l];
          const std::string where = name + ", language " + language;
          if (!per_example) {
            auto it = run.summaries.find(language);
            if (it == run.summaries.end())
              fail(input, where +
                              ": no score (summaries are used, since per-example scores are "
                              "not given for every run and language)");
            check_finite(input, it->second, where);
            per_language[l] = {it->second};
            continue;
          }
          const ExampleScores& examples = run.examples.at(language);
          if (examples.scores.empty()) fail(input, where + ": no examples");
          if (!examples.ids.empty() && examples.ids.size() != examples.scores.size())
            fail(input, where + ": " + std::to_string(examples.ids.size()) + " ids for " +
                            std::to_string(examples.scores.size()) + " scores");
          if (example_counts[l] == 0) {
            example_counts[l] = examples.scores.size();
            first_run[l] = name;
          } else if (examples.scores.size() != example_counts[l]) {
            fail(input, where + ": " + std::to_string(examples.scores.size()) + " examples, but " +
                            std::to_string(example_counts[l]) + " in " + first_run[l] +
                            " (paired resampling needs the same examples in every run)");
          }
          if (!examples.ids.empty()) {
            if (example_ids[l] == nullptr)
              example_ids[l] = &examples.ids;
            else if (*example_ids[l] != examples.ids)
              fail(input, where +
                              ": the example ids differ from another run's (paired "
                              "resampling needs the same examples in the same order)");
          }
          for (size_t i = 0; i < examples.scores.size(); ++i)
            check_finite(input, examples.scores[i], where + ", example " + std::to_string(i));
          per_language[l] = examples.scores;
        }
        cell.values.push_back(std::move(per_language));
      }
      cells.push_back(std::move(cell));
    }
  }

  PreparedTask task;
  task.input = &input;
  task.languages = std::move(languages);
  task.sizes = std::move(sizes);
  task.small = small;
  task.large = large;
  task.per_example = per_example;
  task.example_counts = std::move(example_counts);
  task.cells = std::move(cells);
  return task;
}

}  // namespace

std::string interaction_key(const std::string& task, const std::string& group) {
  return "interaction/" + task + "/" + group;
}

namespace {

// The estimates of the mean over `tasks` (one or more, each with the same sizes) of each task's
// cell means, and their intervals. The draws follow the header: per task its languages and their
// examples, then per cell the seeds, drawn once for every task that has the same seeds there (one
// intermediate run per model, regime and seed serves every target task) and per task otherwise.
InteractionResult estimate(const std::vector<PreparedTask>& tasks, const std::string& key_task,
                           const std::string& group, const BootstrapOptions& options) {
  const PreparedTask& first = tasks.front();
  InteractionResult result;
  result.task = key_task;
  result.group = group;
  std::set<std::string> languages;
  result.per_example = true;
  for (const PreparedTask& task : tasks) {
    result.tasks.push_back(task.input->task);
    languages.insert(task.languages.begin(), task.languages.end());
    if (!task.per_example) result.per_example = false;
  }
  result.languages.assign(languages.begin(), languages.end());
  result.small_model = first.small;
  result.large_model = first.large;
  result.resamples = options.resamples;
  result.confidence = options.confidence;

  const size_t n_sizes = first.sizes.size();
  const size_t n_cells = first.cells.size();
  std::vector<double> log_parameters(n_sizes);
  size_t small_index = 0;
  size_t large_index = 0;
  for (size_t s = 0; s < n_sizes; ++s) {
    log_parameters[s] = std::log(first.sizes[s]->parameters);
    if (first.sizes[s]->model == first.small) small_index = s;
    if (first.sizes[s]->model == first.large) large_index = s;
  }

  // The statistics of one set of cell means: per size English, multilingual, D, relative gain
  // (NaN where the English mean is 0), then the interaction and the slope.
  struct Statistics {
    std::vector<double> english, multilingual, difference, relative;
    double interaction = 0.0;
    double slope = 0.0;
  };
  auto statistics_of = [&](const std::vector<double>& means) {
    Statistics st;
    for (size_t s = 0; s < n_sizes; ++s) {
      const double en = means[2 * s];
      const double ml = means[2 * s + 1];
      st.english.push_back(en);
      st.multilingual.push_back(ml);
      st.difference.push_back(ml - en);
      st.relative.push_back(en == 0.0 ? std::nan("") : (ml - en) / en);
    }
    st.interaction = st.difference[large_index] - st.difference[small_index];
    st.slope = slope_of(log_parameters, st.difference);
    return st;
  };
  const double task_weight = 1.0 / static_cast<double>(tasks.size());

  // Point estimates on the full data: every seed once, every language once, every example once.
  std::vector<double> full_means(n_cells, 0.0);
  for (const PreparedTask& task : tasks) {
    const size_t n_languages = task.languages.size();
    std::vector<size_t> all_languages(n_languages);
    for (size_t l = 0; l < n_languages; ++l) all_languages[l] = l;
    std::vector<std::vector<double>> all_examples;
    if (task.per_example)
      for (size_t l = 0; l < n_languages; ++l)
        all_examples.emplace_back(task.example_counts[l],
                                  1.0 / static_cast<double>(task.example_counts[l]));
    for (size_t c = 0; c < n_cells; ++c) {
      const Cell& cell = task.cells[c];
      full_means[c] += task_weight * cell_mean(cell, std::vector<int64_t>(cell.seeds.size(), 1),
                                               all_languages, all_examples);
    }
  }
  const Statistics point = statistics_of(full_means);

  // Whether every task has the same seeds in a cell, so that one draw serves them all.
  std::vector<bool> shared_seeds(n_cells, true);
  for (size_t c = 0; c < n_cells; ++c)
    for (const PreparedTask& task : tasks)
      if (task.cells[c].seeds != first.cells[c].seeds) shared_seeds[c] = false;

  IndexDraw draw(options, interaction_key(key_task, group));
  std::vector<Statistics> resampled;
  resampled.reserve(static_cast<size_t>(options.resamples));
  std::vector<std::vector<size_t>> drawn_languages(tasks.size());
  std::vector<std::vector<std::vector<double>>> example_weight(tasks.size());
  std::vector<double> means(n_cells);
  const auto draw_seeds = [&](size_t n) {
    std::vector<int64_t> seed_count(n, 0);
    for (size_t k = 0; k < n; ++k) ++seed_count[draw(n)];
    return seed_count;
  };
  for (int64_t b = 0; b < options.resamples; ++b) {
    for (size_t t = 0; t < tasks.size(); ++t) {
      const PreparedTask& task = tasks[t];
      const size_t n_languages = task.languages.size();
      drawn_languages[t].resize(n_languages);
      for (size_t j = 0; j < n_languages; ++j) drawn_languages[t][j] = draw(n_languages);
      if (!task.per_example) continue;
      example_weight[t].resize(n_languages);
      for (size_t j = 0; j < n_languages; ++j) {
        const size_t n = task.example_counts[drawn_languages[t][j]];
        const double unit = 1.0 / static_cast<double>(n);
        example_weight[t][j].assign(n, 0.0);
        for (size_t i = 0; i < n; ++i) example_weight[t][j][draw(n)] += unit;
      }
    }
    for (size_t c = 0; c < n_cells; ++c) {
      means[c] = 0.0;
      std::vector<int64_t> seed_count;
      if (shared_seeds[c]) seed_count = draw_seeds(first.cells[c].seeds.size());
      for (size_t t = 0; t < tasks.size(); ++t) {
        if (!shared_seeds[c]) seed_count = draw_seeds(tasks[t].cells[c].seeds.size());
        means[c] += task_weight *
                    cell_mean(tasks[t].cells[c], seed_count, drawn_languages[t], example_weight[t]);
      }
    }
    resampled.push_back(statistics_of(means));
  }

  auto interval_of = [&](auto&& pick) -> std::optional<Interval> {
    std::vector<double> values;
    values.reserve(resampled.size());
    for (const Statistics& st : resampled) {
      const double v = pick(st);
      if (std::isnan(v)) return std::nullopt;
      values.push_back(v);
    }
    return percentile_interval(std::move(values), options);
  };

  // An interval is given where every cell it depends on has two seeds or more in every task:
  // with one, that cell's training randomness is not resampled and the interval would understate
  // the spread.
  std::vector<size_t> fewest_seeds(n_cells, SIZE_MAX);
  for (const PreparedTask& task : tasks)
    for (size_t c = 0; c < n_cells; ++c)
      fewest_seeds[c] = std::min(fewest_seeds[c], task.cells[c].seeds.size());
  std::vector<bool> resampled_seeds(n_sizes);
  for (size_t s = 0; s < n_sizes; ++s) {
    resampled_seeds[s] = fewest_seeds[2 * s] >= 2 && fewest_seeds[2 * s + 1] >= 2;
    for (size_t c = 2 * s; c < 2 * s + 2; ++c)
      if (fewest_seeds[c] < 2)
        result.notes.push_back(first.cells[c].name +
                               " has one seed: no interval for what depends on it");
  }
  for (size_t c = 0; c < n_cells; ++c)
    if (!shared_seeds[c])
      result.notes.push_back(first.cells[c].name +
                             ": the tasks' seeds differ, so each task's seeds are drawn apart");
  if (!result.per_example) {
    std::vector<std::string> summaries_only;
    for (const PreparedTask& task : tasks)
      if (!task.per_example) summaries_only.push_back(task.input->task);
    result.notes.push_back(
        "summaries only (a score per seed and language)" +
        (tasks.size() > 1 ? " for " + join_names(summaries_only) : std::string()) +
        ": seeds and languages resampled, test examples not");
  }
  for (const PreparedTask& task : tasks)
    if (task.languages.size() == 1)
      result.notes.push_back("one language (" + task.languages[0] + ")" +
                             (tasks.size() > 1 ? " in " + task.input->task : std::string()) +
                             ": languages not resampled; the intervals are for that language");

  for (size_t s = 0; s < n_sizes; ++s) {
    SizeEstimate size;
    size.model = first.sizes[s]->model;
    size.parameters = first.sizes[s]->parameters;
    size.english_seeds = static_cast<int64_t>(fewest_seeds[2 * s]);
    size.multilingual_seeds = static_cast<int64_t>(fewest_seeds[2 * s + 1]);
    size.english.value = point.english[s];
    size.multilingual.value = point.multilingual[s];
    size.difference.value = point.difference[s];
    if (fewest_seeds[2 * s] >= 2)
      size.english.ci = interval_of([s](const Statistics& st) { return st.english[s]; });
    if (fewest_seeds[2 * s + 1] >= 2)
      size.multilingual.ci = interval_of([s](const Statistics& st) { return st.multilingual[s]; });
    if (resampled_seeds[s])
      size.difference.ci = interval_of([s](const Statistics& st) { return st.difference[s]; });
    if (!std::isnan(point.relative[s])) {
      Estimate relative;
      relative.value = point.relative[s];
      if (resampled_seeds[s]) {
        relative.ci = interval_of([s](const Statistics& st) { return st.relative[s]; });
        if (!relative.ci)
          result.notes.push_back(size.model +
                                 ": some resample has an English mean of 0, so the relative gain "
                                 "has no interval");
      }
      size.relative_gain = relative;
    } else {
      result.notes.push_back(size.model +
                             ": the English mean is 0, so the relative gain is undefined");
    }
    result.sizes.push_back(std::move(size));
  }

  result.interaction.value = point.interaction;
  if (resampled_seeds[small_index] && resampled_seeds[large_index])
    result.interaction.ci = interval_of([](const Statistics& st) { return st.interaction; });
  result.slope.value = point.slope;
  if (std::all_of(resampled_seeds.begin(), resampled_seeds.end(), [](bool b) { return b; }))
    result.slope.ci = interval_of([](const Statistics& st) { return st.slope; });
  return result;
}

}  // namespace

InteractionResult estimate_interaction(const InteractionInput& input,
                                       const BootstrapOptions& options) {
  check_bootstrap_options(options);
  std::vector<PreparedTask> tasks;
  tasks.push_back(prepare(input));
  return estimate(tasks, input.task, input.group, options);
}

InteractionResult estimate_pooled_interaction(const std::vector<InteractionInput>& inputs,
                                              const std::string& group,
                                              const BootstrapOptions& options) {
  check_bootstrap_options(options);
  if (inputs.empty())
    throw std::invalid_argument("pooled interaction (group " + group + "): no tasks");
  std::vector<PreparedTask> tasks;
  std::set<std::string> names;
  for (const InteractionInput& input : inputs) {
    if (!names.insert(input.task).second)
      throw std::invalid_argument("pooled interaction (group " + group + "): task " + input.task +
                                  " given twice");
    tasks.push_back(prepare(input));
  }
  const PreparedTask& first = tasks.front();
  for (const PreparedTask& task : tasks) {
    std::vector<std::string> mine, theirs;
    for (const SizeScores* size : task.sizes) mine.push_back(size->model);
    for (const SizeScores* size : first.sizes) theirs.push_back(size->model);
    bool same = mine == theirs && task.small == first.small && task.large == first.large;
    for (size_t s = 0; same && s < task.sizes.size(); ++s)
      same = task.sizes[s]->parameters == first.sizes[s]->parameters;
    if (!same)
      throw std::invalid_argument(
          "pooled interaction (group " + group + "): task " + task.input->task + " has the sizes " +
          join_names(mine) + " (small " + task.small + ", large " + task.large + "), task " +
          first.input->task + " " + join_names(theirs) + " (small " + first.small + ", large " +
          first.large + "); pooling needs the same sizes and parameter counts");
  }
  return estimate(tasks, kPooledTasks, group, options);
}

}  // namespace stilts::experiments
