#include "experiments/checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include "data/languages.h"
#include "experiments/report.h"

namespace stilts::experiments {

namespace {

constexpr const char* kEnglish = "en";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A cell's runs of one target task: one model, one regime, seeds ascending.
using CellRuns = std::vector<const RunRecord*>;

// One term of a contrast: weight x the cell mean of (model, regime) over group `group`.
struct Term {
  std::string model, regime;
  size_t group = 0;
  double weight = 0.0;
};

struct Contrast {
  std::string key;  // names the bootstrap draw
  std::vector<std::vector<std::string>> groups;
  std::vector<Term> terms;
};

// Why a contrast cannot be estimated; the caller notes it.
struct Missing : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Estimated {
  Estimate estimate;
  bool per_example = false;
  bool one_seed = false;  // some cell has a single seed: the interval is conditional on it
};

class TaskRuns {
 public:
  TaskRuns(const std::vector<RunRecord>& runs, const std::string& task) : task_(task) {
    for (const RunRecord& run : runs)
      if (run.task == task && run.evaluations.count(task))
        cells_[{run.model, run.regime}].push_back(&run);
    for (auto& [key, cell] : cells_)
      std::sort(cell.begin(), cell.end(),
                [](const RunRecord* a, const RunRecord* b) { return a->seed < b->seed; });
  }

  bool has(const std::string& model, const std::string& regime) const {
    return cells_.count({model, regime}) > 0;
  }

  std::vector<std::string> models() const {
    std::set<std::string> models;
    for (const auto& [key, cell] : cells_) models.insert(key.first);
    return order_models_by_size({models.begin(), models.end()});
  }

  // Every language some run was evaluated in.
  std::set<std::string> languages() const {
    std::set<std::string> out;
    for (const auto& [key, cell] : cells_)
      for (const RunRecord* run : cell)
        for (const auto& [lang, score] : run->evaluations.at(task_).scores) out.insert(lang);
    return out;
  }

  Estimated estimate(const Contrast& contrast, const BootstrapOptions& options) const {
    // The cells and languages involved, each once.
    std::vector<const CellRuns*> cells;
    std::vector<size_t> term_cell;
    std::map<std::pair<std::string, std::string>, size_t> cell_index;
    for (const Term& term : contrast.terms) {
      const auto found = cells_.find({term.model, term.regime});
      if (found == cells_.end())
        throw Missing("no " + term.regime + " runs of " + term.model + " for " + task_);
      const auto [at, added] = cell_index.emplace(found->first, cells.size());
      if (added) cells.push_back(&found->second);
      term_cell.push_back(at->second);
    }
    std::vector<std::string> languages;
    std::vector<std::vector<size_t>> group_languages;
    for (const std::vector<std::string>& group : contrast.groups) {
      if (group.empty()) throw Missing("an empty group of languages");
      group_languages.emplace_back();
      for (const std::string& lang : group) {
        auto at = std::find(languages.begin(), languages.end(), lang);
        if (at == languages.end()) at = languages.insert(languages.end(), lang);
        group_languages.back().push_back(static_cast<size_t>(at - languages.begin()));
      }
    }

    // scores[cell][run][language]: per-example scores where every run has them for every
    // language (the same count, and the same ids where given), else each run's summary.
    bool per_example = true;
    std::vector<size_t> example_count(languages.size(), 0);
    std::vector<const std::vector<std::string>*> example_ids(languages.size(), nullptr);
    for (size_t l = 0; l < languages.size() && per_example; ++l) {
      const ExampleScores* first = nullptr;
      for (const CellRuns* cell : cells)
        for (const RunRecord* run : *cell) {
          const auto& examples = run->evaluations.at(task_).examples;
          const auto found = examples.find(languages[l]);
          if (found == examples.end() || found->second.scores.empty() ||
              (first && (found->second.scores.size() != first->scores.size() ||
                         found->second.ids != first->ids))) {
            per_example = false;
            continue;
          }
          if (!first) first = &found->second;
        }
      if (first) {
        example_count[l] = first->scores.size();
        if (!first->ids.empty()) example_ids[l] = &first->ids;
      }
    }
    // Languages whose test sets are the same sentences (the same ids: translations keep their
    // original's) share one draw of examples, so a sentence's difficulty cancels between them.
    std::vector<size_t> draws_with(languages.size());
    for (size_t l = 0; l < languages.size(); ++l) {
      draws_with[l] = l;
      for (size_t k = 0; k < l; ++k)
        if (example_ids[l] && example_ids[k] && *example_ids[l] == *example_ids[k]) {
          draws_with[l] = draws_with[k];
          break;
        }
    }
    std::vector<std::vector<std::vector<const std::vector<double>*>>> scores(cells.size());
    std::vector<std::vector<double>> summaries;  // the scores when there are summaries only
    for (size_t c = 0; c < cells.size(); ++c)
      for (const RunRecord* run : *cells[c]) {
        const RunRecord::Evaluation& e = run->evaluations.at(task_);
        scores[c].emplace_back();
        for (const std::string& lang : languages) {
          if (per_example) {
            scores[c].back().push_back(&e.examples.at(lang).scores);
            continue;
          }
          const auto found = e.scores.find(lang);
          if (found == e.scores.end())
            throw Missing(run->id + " has no " + task_ + " score in " + lang);
          summaries.push_back({found->second});
          scores[c].back().push_back(nullptr);
        }
      }
    if (!per_example) {  // point into the copies once they no longer move
      size_t next = 0;
      for (auto& cell : scores)
        for (auto& run : cell)
          for (auto& lang : run) lang = &summaries[next++];
    }

    // The statistic of one draw: seed counts per cell, example weights per language (empty:
    // uniform, or summaries); `languages` of each group (fixed: see checks.h).
    const auto statistic = [&](const std::vector<std::vector<int64_t>>& seed_counts,
                               const std::vector<std::vector<size_t>>& drawn_languages,
                               const std::vector<std::vector<double>>& weights) {
      double total = 0.0;
      for (size_t t = 0; t < contrast.terms.size(); ++t) {
        const size_t c = term_cell[t];
        const Term& term = contrast.terms[t];
        double group_sum = 0.0;
        for (const size_t l : drawn_languages[term.group]) {
          double seed_sum = 0.0;
          for (size_t k = 0; k < scores[c].size(); ++k) {
            if (seed_counts[c][k] == 0) continue;
            const std::vector<double>& v = *scores[c][k][l];
            double mean = 0.0;
            if (weights.empty() || weights[l].empty()) {
              for (const double x : v) mean += x;
              mean /= static_cast<double>(v.size());
            } else {
              for (size_t i = 0; i < v.size(); ++i) mean += weights[l][i] * v[i];
            }
            seed_sum += static_cast<double>(seed_counts[c][k]) * mean;
          }
          group_sum += seed_sum / static_cast<double>(scores[c].size());
        }
        total += term.weight * group_sum / static_cast<double>(drawn_languages[term.group].size());
      }
      return total;
    };

    std::vector<std::vector<int64_t>> all_seeds;
    bool one_seed = false;
    for (const auto& cell : scores) {
      all_seeds.emplace_back(cell.size(), 1);
      one_seed = one_seed || cell.size() < 2;
    }
    Estimated result;
    result.per_example = per_example;
    result.one_seed = one_seed;
    result.estimate.value = statistic(all_seeds, group_languages, {});

    IndexDraw draw(options, contrast.key);
    std::vector<double> resampled;
    resampled.reserve(static_cast<size_t>(options.resamples));
    std::vector<std::vector<int64_t>> seed_counts = all_seeds;
    std::vector<std::vector<double>> weights(languages.size());
    for (int64_t b = 0; b < options.resamples; ++b) {
      for (auto& counts : seed_counts) {
        std::fill(counts.begin(), counts.end(), 0);
        for (size_t k = 0; k < counts.size(); ++k) ++counts[draw(counts.size())];
      }
      if (per_example)
        for (size_t l = 0; l < languages.size(); ++l) {
          if (draws_with[l] != l) {
            weights[l] = weights[draws_with[l]];
            continue;
          }
          weights[l].assign(example_count[l], 0.0);
          const double unit = 1.0 / static_cast<double>(example_count[l]);
          for (size_t i = 0; i < example_count[l]; ++i) weights[l][draw(example_count[l])] += unit;
        }
      resampled.push_back(statistic(seed_counts, group_languages, weights));
    }
    result.estimate.ci = percentile_interval(std::move(resampled), options);
    return result;
  }

 private:
  std::string task_;
  std::map<std::pair<std::string, std::string>, CellRuns> cells_;
};

// multilingual - english (or `treated` - english) on one group, as terms.
std::vector<Term> difference_terms(const std::string& model, const std::string& treated,
                                   size_t group, double sign) {
  return {{model, treated, group, sign}, {model, "english", group, -sign}};
}

std::vector<Term> concat(std::vector<Term> a, const std::vector<Term>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string signed_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%+.2f", value);
  return buffer;
}

std::string estimate_text(const Estimate& e) {
  std::string text = signed_number(e.value);
  if (e.ci) text += " [" + signed_number(e.ci->low) + ", " + signed_number(e.ci->high) + "]";
  return text;
}

std::vector<std::string> intersect(const std::vector<std::string>& wanted,
                                   const std::set<std::string>& present) {
  std::vector<std::string> out;
  for (const std::string& code : wanted)
    if (present.count(code)) out.push_back(code);
  return out;
}

std::string branch_of(const std::string& code) {
  const data::Language* language = data::find_language(code);
  return language ? std::string(language->branch) : "";
}

}  // namespace

ControlledStudy controlled_study(const std::vector<RunRecord>& runs,
                                 const std::vector<std::string>& seen_languages,
                                 const std::string& identity_language) {
  std::set<std::string> evaluated;
  for (const RunRecord& run : runs)
    if (const auto found = run.evaluations.find(run.task); found != run.evaluations.end())
      for (const auto& [lang, score] : found->second.scores) evaluated.insert(lang);
  ControlledStudy study;
  study.identity_language = identity_language;
  for (const std::string& code : seen_languages)
    if (code != kEnglish) study.mix.push_back(code);
  if (!identity_language.empty()) {
    if (identity_language == kEnglish)
      throw std::invalid_argument("the identity language must be another code than English's");
    if (std::find(study.mix.begin(), study.mix.end(), identity_language) != study.mix.end())
      throw std::invalid_argument("the identity language " + identity_language +
                                  " is in the multilingual mix");
    if (!evaluated.count(identity_language))
      throw std::invalid_argument("the identity language " + identity_language +
                                  " was not evaluated by any target task's run");
  }
  for (const std::string& code : evaluated)
    if (code != kEnglish && code != identity_language &&
        std::find(study.mix.begin(), study.mix.end(), code) == study.mix.end())
      study.held_out.push_back(code);
  return study;
}

Checks compute_checks(const std::vector<RunRecord>& runs, const ControlledStudy& study,
                      const BootstrapOptions& options) {
  check_bootstrap_options(options);
  std::set<std::string> tasks;
  for (const RunRecord& run : runs) tasks.insert(run.task);

  Checks out;
  for (const std::string& task : tasks) {
    const TaskRuns task_runs(runs, task);
    const std::vector<std::string> models = task_runs.models();
    const std::set<std::string> evaluated = task_runs.languages();
    const std::vector<std::string> mix = intersect(study.mix, evaluated);
    const std::vector<std::string> held = intersect(study.held_out, evaluated);
    if (mix.empty()) {
      out.notes.push_back(task +
                          ": no language of the multilingual mix was evaluated, so there "
                          "are no checks");
      continue;
    }
    // Each estimate is computed where its runs exist; what is missing is named once.
    std::set<std::string> noted;
    const auto estimate = [&](const Contrast& contrast) -> std::optional<Estimated> {
      try {
        Estimated e = task_runs.estimate(contrast, options);
        if (e.one_seed && noted.insert("one seed").second)
          out.notes.push_back(task +
                              ": a cell has a single seed, so the intervals hold that "
                              "seed fixed (languages and examples resampled only)");
        return e;
      } catch (const Missing& missing) {
        if (noted.insert(missing.what()).second) out.notes.push_back(missing.what());
        return std::nullopt;
      }
    };
    const auto add_check = [&](const std::string& check, const std::string& model,
                               const std::string& quantity, const std::string& rule,
                               const Contrast& contrast, auto passes) {
      if (const auto e = estimate(contrast))
        out.checks.push_back({check, task, model, quantity, rule, e->estimate,
                              e->estimate.ci && passes(*e->estimate.ci), e->per_example});
    };
    const auto key = [&](const std::string& model, const std::string& what) {
      return "check/" + task + "/" + model + "/" + what;
    };

    for (const std::string& model : models) {
      add_check("positive control", model, "multilingual - english on " + join(mix),
                "passes when the interval lies above 0",
                {key(model, "positive"), {mix}, difference_terms(model, "multilingual", 0, 1)},
                [](const Interval& ci) { return ci.low > 0; });
      add_check("negative control", model, "shuffled - english on " + join(mix),
                "passes when the interval does not lie above 0",
                {key(model, "negative"), {mix}, difference_terms(model, "shuffled", 0, 1)},
                [](const Interval& ci) { return ci.low <= 0; });
      if (!study.identity_language.empty() && evaluated.count(kEnglish)) {
        std::vector<std::string> regimes;
        for (const std::string& regime : intermediate_regimes())
          if (task_runs.has(model, regime)) regimes.push_back(regime);
        std::vector<Term> terms;
        for (const std::string& regime : regimes) {
          const double w = 1.0 / static_cast<double>(regimes.size());
          terms.push_back({model, regime, 0, w});
          terms.push_back({model, regime, 1, -w});
        }
        add_check("identity", model,
                  study.identity_language + " - en, mean over the regimes " + join(regimes),
                  "passes when the interval lies inside [" + signed_number(-kIdentityMargin) +
                      ", " + signed_number(kIdentityMargin) + "]",
                  {key(model, "identity"), {{study.identity_language}, {kEnglish}}, terms},
                  [](const Interval& ci) {
                    return ci.low >= -kIdentityMargin && ci.high <= kIdentityMargin;
                  });
      }
      if (!held.empty())
        add_check("held-out", model,
                  "(multilingual - english) on " + join(mix) + " minus on " + join(held),
                  "passes when the interval lies above 0",
                  {key(model, "held-out"),
                   {mix, held},
                   concat(difference_terms(model, "multilingual", 0, 1),
                          difference_terms(model, "multilingual", 1, -1))},
                  [](const Interval& ci) { return ci.low > 0; });

      // The findings.
      std::set<std::string> mixed_families;
      for (const std::string& code : mix) mixed_families.insert(data::family_of(code));
      std::vector<std::string> members;
      for (const std::string& code : held)
        if (mixed_families.count(data::family_of(code))) members.push_back(code);
      if (!members.empty())
        if (const auto e = estimate(
                {key(model, "members"), {members}, difference_terms(model, "multilingual", 0, 1)}))
          out.findings.push_back({"held-out members of mixed families", task, model,
                                  "multilingual - english on " + join(members), e->estimate});
      std::vector<std::string> same_order, other_order;
      for (const std::string& code : mix)
        (branch_of(code) == branch_of(kEnglish) ? same_order : other_order).push_back(code);
      if (!same_order.empty() && !other_order.empty())
        if (const auto e = estimate({key(model, "order"),
                                     {other_order, same_order},
                                     concat(difference_terms(model, "multilingual", 0, 1),
                                            difference_terms(model, "multilingual", 1, -1))}))
          out.findings.push_back({"changed word order", task, model,
                                  "(multilingual - english) on " + join(other_order) +
                                      " (branch \"" + branch_of(other_order.front()) +
                                      "\") minus on " + join(same_order) + " (English's branch \"" +
                                      branch_of(kEnglish) + "\")",
                                  e->estimate});
    }
    if (models.size() >= 2) {
      const std::string &small = models.front(), &large = models.back();
      if (const auto e = estimate({key(large + "-" + small, "size"),
                                   {mix},
                                   concat(difference_terms(large, "multilingual", 0, 1),
                                          difference_terms(small, "multilingual", 0, -1))}))
        out.findings.push_back(
            {"gain against model size", task, "",
             "(multilingual - english) on " + join(mix) + ", " + large + " minus " + small,
             e->estimate});
    }
  }
  return out;
}

std::string checks_markdown(const Checks& checks) {
  std::string md = "## Checks\n\n";
  if (checks.checks.empty()) md += "No check could be computed (see the notes below).\n\n";
  for (const CheckLine& c : checks.checks)
    md += "- " + std::string(c.pass ? "PASS" : "**FAIL**") + " " + c.check + ", " + c.task + ", " +
          c.model + ": " + c.quantity + " = " + estimate_text(c.estimate) + " (" + c.rule +
          (c.per_example ? "" : "; summaries only") + ")\n";
  if (!checks.findings.empty()) {
    md += "\nFindings (results, not gates):\n\n";
    for (const Finding& f : checks.findings)
      md += "- " + f.finding + ", " + f.task + (f.model.empty() ? "" : ", " + f.model) + ": " +
            f.quantity + " = " + estimate_text(f.estimate) + "\n";
  }
  if (!checks.notes.empty()) {
    md += "\nNotes:\n\n";
    for (const std::string& note : checks.notes) md += "- " + note + "\n";
  }
  return md + "\n";
}

}  // namespace stilts::experiments
