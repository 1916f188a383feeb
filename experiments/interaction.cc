#include "experiments/interaction.h"

#include <algorithm>
#include <cmath>
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

}  // namespace

std::string interaction_key(const std::string& task, const std::string& group) {
  return "interaction/" + task + "/" + group;
}

InteractionResult estimate_interaction(const InteractionInput& input,
                                       const BootstrapOptions& options) {
  check_bootstrap_options(options);

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

  InteractionResult result;
  result.task = input.task;
  result.group = input.group;
  result.languages = languages;
  result.per_example = per_example;
  result.small_model = small;
  result.large_model = large;
  result.resamples = options.resamples;
  result.confidence = options.confidence;

  const size_t n_sizes = sizes.size();
  std::vector<double> log_parameters(n_sizes);
  size_t small_index = 0;
  size_t large_index = 0;
  for (size_t s = 0; s < n_sizes; ++s) {
    log_parameters[s] = std::log(sizes[s]->parameters);
    if (sizes[s]->model == small) small_index = s;
    if (sizes[s]->model == large) large_index = s;
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

  // Point estimates on the full data: every seed once, every language once, every example once.
  std::vector<size_t> all_languages(n_languages);
  for (size_t l = 0; l < n_languages; ++l) all_languages[l] = l;
  std::vector<std::vector<double>> all_examples;
  if (per_example)
    for (size_t l = 0; l < n_languages; ++l)
      all_examples.emplace_back(example_counts[l], 1.0 / static_cast<double>(example_counts[l]));
  std::vector<double> full_means;
  for (const Cell& cell : cells)
    full_means.push_back(
        cell_mean(cell, std::vector<int64_t>(cell.seeds.size(), 1), all_languages, all_examples));
  const Statistics point = statistics_of(full_means);

  // The bootstrap: languages, then each drawn language's examples, then each cell's seeds.
  IndexDraw draw(options, interaction_key(input.task, input.group));
  std::vector<Statistics> resampled;
  resampled.reserve(static_cast<size_t>(options.resamples));
  std::vector<size_t> drawn_languages(n_languages);
  std::vector<std::vector<double>> example_weight(per_example ? n_languages : 0);
  std::vector<double> means(cells.size());
  for (int64_t b = 0; b < options.resamples; ++b) {
    for (size_t j = 0; j < n_languages; ++j) drawn_languages[j] = draw(n_languages);
    if (per_example) {
      for (size_t j = 0; j < n_languages; ++j) {
        const size_t n = example_counts[drawn_languages[j]];
        const double unit = 1.0 / static_cast<double>(n);
        example_weight[j].assign(n, 0.0);
        for (size_t i = 0; i < n; ++i) example_weight[j][draw(n)] += unit;
      }
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      const size_t n = cells[c].seeds.size();
      std::vector<int64_t> seed_count(n, 0);
      for (size_t k = 0; k < n; ++k) ++seed_count[draw(n)];
      means[c] = cell_mean(cells[c], seed_count, drawn_languages, example_weight);
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

  // An interval is given where every cell it depends on has two seeds or more: with one, that
  // cell's training randomness is not resampled and the interval would understate the spread.
  std::vector<bool> resampled_seeds(n_sizes);
  for (size_t s = 0; s < n_sizes; ++s) {
    resampled_seeds[s] = cells[2 * s].seeds.size() >= 2 && cells[2 * s + 1].seeds.size() >= 2;
    for (int regime = 0; regime < 2; ++regime)
      if (cells[2 * s + regime].seeds.size() < 2)
        result.notes.push_back(cells[2 * s + regime].name +
                               " has one seed: no interval for what depends on it");
  }
  if (!per_example)
    result.notes.push_back(
        "summaries only (a score per seed and language): seeds and languages resampled, test "
        "examples not");
  if (n_languages == 1)
    result.notes.push_back("one language (" + languages[0] +
                           "): languages not resampled; the intervals are for that language");

  for (size_t s = 0; s < n_sizes; ++s) {
    SizeEstimate size;
    size.model = sizes[s]->model;
    size.parameters = sizes[s]->parameters;
    size.english_seeds = static_cast<int64_t>(cells[2 * s].seeds.size());
    size.multilingual_seeds = static_cast<int64_t>(cells[2 * s + 1].seeds.size());
    size.english.value = point.english[s];
    size.multilingual.value = point.multilingual[s];
    size.difference.value = point.difference[s];
    const bool english_seeds = cells[2 * s].seeds.size() >= 2;
    const bool multilingual_seeds = cells[2 * s + 1].seeds.size() >= 2;
    if (english_seeds)
      size.english.ci = interval_of([s](const Statistics& st) { return st.english[s]; });
    if (multilingual_seeds)
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

}  // namespace stilts::experiments
