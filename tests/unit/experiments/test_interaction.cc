// The interaction estimator (experiments/interaction.h) on simulated data: the truth recovered
// exactly without noise (and the intervals collapsing, which only a paired draw of languages and
// examples achieves), the bootstrap equal to a plain resampling written from the header's
// description, unbiasedness and coverage over many simulated datasets, the summaries-only path,
// the refusals, and the same over several tasks pooled.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "experiments/bootstrap.h"
#include "experiments/interaction.h"
#include "tests/tolerance.h"
#include "tests/unit/error_of.h"

namespace stilts::experiments {
namespace {

using stilts::test::within_rounding;
using stilts::testing::error_of;
using ::testing::HasSubstr;

// Standard normal deviates by Box-Muller from the 64-bit Mersenne Twister, whose sequence the
// standard fixes (std::normal_distribution's algorithm is the library's), so every test sees the
// same data with any standard library.
class Normal {
 public:
  explicit Normal(uint64_t seed) : engine_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 2.0 * std::numbers::pi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53; }
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

std::string numbered(const char* prefix, size_t i) {
  std::string name = prefix;
  name += std::to_string(i);
  return name;
}

// A hierarchical model of zero-shot scores:
//   y[size, regime, seed, language, example] = mu[size][regime] + language effect a[l]
//     + language x cell effect c[l, cell] + example effect e[l, i] + example x cell f[l, i, cell]
//     + run effect u[cell, seed] + run x language v[cell, seed, l] + run x example noise
// Language and example effects are shared by every cell, so they cancel in D; the others do not.
// `fixed_language_cell`, where given, adds a fixed offset per [cell][language] (cell = 2 * size +
// regime) to c. Each run also gets a summary per language: the mean of its example scores.
struct Design {
  std::vector<double> parameters = {3.0e8, 5.8e8, 1.23e9};
  std::vector<std::array<double, 2>> mu = {{50.0, 51.0}, {55.0, 57.0}, {60.0, 63.5}};
  int english_seeds = 5;
  int multilingual_seeds = 5;
  std::vector<int> examples = std::vector<int>(8, 10);  // per language
  double language = 5.0;
  double language_cell = 1.0;
  double example = 5.0;
  double example_cell = 3.0;
  double run = 0.5;
  double run_language = 0.3;
  double run_example = 2.0;
  std::vector<std::vector<double>> fixed_language_cell;

  double difference(size_t s) const { return mu[s][1] - mu[s][0]; }
  double interaction() const { return difference(mu.size() - 1) - difference(0); }
  double slope() const {
    double mx = 0.0, md = 0.0;
    for (size_t s = 0; s < mu.size(); ++s) {
      mx += std::log(parameters[s]) / static_cast<double>(mu.size());
      md += difference(s) / static_cast<double>(mu.size());
    }
    double sxy = 0.0, sxx = 0.0;
    for (size_t s = 0; s < mu.size(); ++s) {
      const double dx = std::log(parameters[s]) - mx;
      sxy += dx * (difference(s) - md);
      sxx += dx * dx;
    }
    return sxy / sxx;
  }
};

InteractionInput simulate(const Design& design, uint64_t seed) {
  Normal normal(seed);
  InteractionInput input;
  input.task = "xnli";
  input.group = "simulated";
  const size_t n_languages = design.examples.size();
  std::vector<double> a(n_languages);
  std::vector<std::vector<double>> e(n_languages);
  for (size_t l = 0; l < n_languages; ++l) {
    input.languages.push_back(numbered("l", 100 + l));
    a[l] = design.language * normal();
    for (int i = 0; i < design.examples[l]; ++i) e[l].push_back(design.example * normal());
  }
  for (size_t s = 0; s < design.mu.size(); ++s) {
    SizeScores size;
    size.model = numbered("size-", s);
    size.parameters = design.parameters[s];
    for (int regime = 0; regime < 2; ++regime) {
      const size_t cell = 2 * s + static_cast<size_t>(regime);
      std::vector<double> c(n_languages);
      std::vector<std::vector<double>> f(n_languages);
      for (size_t l = 0; l < n_languages; ++l) {
        c[l] = design.language_cell * normal();
        if (!design.fixed_language_cell.empty()) c[l] += design.fixed_language_cell[cell][l];
        for (int i = 0; i < design.examples[l]; ++i) f[l].push_back(design.example_cell * normal());
      }
      std::vector<SeedScores>& runs = regime == 0 ? size.english : size.multilingual;
      const int seeds = regime == 0 ? design.english_seeds : design.multilingual_seeds;
      for (int k = 0; k < seeds; ++k) {
        SeedScores run;
        run.seed = k + 1;
        const double u = design.run * normal();
        for (size_t l = 0; l < n_languages; ++l) {
          const double v = design.run_language * normal();
          ExampleScores scores;
          double sum = 0.0;
          for (int i = 0; i < design.examples[l]; ++i) {
            const double y = design.mu[s][static_cast<size_t>(regime)] + a[l] + c[l] + e[l][i] +
                             f[l][i] + u + v + design.run_example * normal();
            scores.scores.push_back(y);
            sum += y;
          }
          run.summaries[input.languages[l]] = sum / static_cast<double>(design.examples[l]);
          run.examples[input.languages[l]] = std::move(scores);
        }
        runs.push_back(std::move(run));
      }
    }
    input.sizes.push_back(std::move(size));
  }
  return input;
}

InteractionInput without_examples(InteractionInput input) {
  for (SizeScores& size : input.sizes) {
    for (SeedScores& run : size.english) run.examples.clear();
    for (SeedScores& run : size.multilingual) run.examples.clear();
  }
  return input;
}

double max_score(const InteractionInput& input) {
  double m = 0.0;
  for (const SizeScores& size : input.sizes)
    for (const auto* runs : {&size.english, &size.multilingual})
      for (const SeedScores& run : *runs)
        for (const auto& [language, examples] : run.examples)
          for (double y : examples.scores) m = std::max(m, std::fabs(y));
  return m;
}

// The least-squares slope of `d` (one value per size, in input order) against ln(parameters),
// written out for the plain resamplings to compare with.
double slope_over_log_parameters(const InteractionInput& input, const std::vector<double>& d) {
  std::vector<double> x;
  for (const SizeScores& size : input.sizes) x.push_back(std::log(size.parameters));
  const double mx = mean_of(x), md = mean_of(d);
  double sxy = 0.0, sxx = 0.0;
  for (size_t s = 0; s < x.size(); ++s) {
    sxy += (x[s] - mx) * (d[s] - md);
    sxx += (x[s] - mx) * (x[s] - mx);
  }
  return sxy / sxx;
}

BootstrapOptions bootstrap(int64_t resamples, uint64_t seed = 0) {
  BootstrapOptions options;
  options.resamples = resamples;
  options.seed = seed;
  return options;
}

constexpr double kUlps = 64.0;  // double rounding of sums of a few hundred terms, with margin

// (a) Without noise, only language and example main effects, which every cell shares: the
// estimates are the truth up to rounding, and every interval of D, the interaction and the slope
// collapses onto it, since a resample of languages and examples shared by all cells moves every
// cell mean alike. (Languages or examples drawn per cell would give wide intervals here.)
TEST(InteractionEstimator, NoiselessDataGiveTheTruthAndCollapsedIntervals) {
  Design design;
  // D = 1 + 2 ln(P / P_small): slope 2, interaction 2 ln(P_large / P_small).
  for (size_t s = 0; s < design.mu.size(); ++s) {
    design.mu[s][0] = 40.0 + 5.0 * static_cast<double>(s);
    design.mu[s][1] =
        design.mu[s][0] + 1.0 + 2.0 * std::log(design.parameters[s] / design.parameters[0]);
  }
  design.examples = {3, 7, 12, 5};
  design.language_cell = design.example_cell = design.run = design.run_language =
      design.run_example = 0.0;
  const InteractionInput input = simulate(design, 7);
  const InteractionResult result = estimate_interaction(input, bootstrap(200));
  const double scale = max_score(input);

  EXPECT_TRUE(result.per_example);
  EXPECT_TRUE(result.notes.empty());
  EXPECT_EQ(result.small_model, "size-0");
  EXPECT_EQ(result.large_model, "size-2");
  const double truth = 2.0 * std::log(design.parameters[2] / design.parameters[0]);
  EXPECT_TRUE(within_rounding(result.interaction.value, truth, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(result.slope.value, 2.0, kUlps, scale, DBL_EPSILON));
  ASSERT_TRUE(result.interaction.ci && result.slope.ci);
  EXPECT_TRUE(within_rounding(result.interaction.ci->low, truth, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(result.interaction.ci->high, truth, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(result.slope.ci->low, 2.0, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(result.slope.ci->high, 2.0, kUlps, scale, DBL_EPSILON));

  // The English mean: mu plus the languages' mean effect (each language's examples averaged
  // first, languages weighted equally whatever their example counts).
  double shared = 0.0;
  const SeedScores& any_run = input.sizes[0].english[0];
  for (const std::string& language : input.languages) {
    const std::vector<double>& y = any_run.examples.at(language).scores;
    double sum = 0.0;
    for (double v : y) sum += v - design.mu[0][0];
    shared += sum / static_cast<double>(y.size()) / static_cast<double>(input.languages.size());
  }
  ASSERT_EQ(result.sizes.size(), 3u);
  for (size_t s = 0; s < 3; ++s) {
    const SizeEstimate& size = result.sizes[s];
    EXPECT_EQ(size.english_seeds, 5);
    const double d = design.difference(s);
    EXPECT_TRUE(within_rounding(size.difference.value, d, kUlps, scale, DBL_EPSILON));
    ASSERT_TRUE(size.difference.ci);
    EXPECT_TRUE(within_rounding(size.difference.ci->low, d, kUlps, scale, DBL_EPSILON));
    EXPECT_TRUE(within_rounding(size.difference.ci->high, d, kUlps, scale, DBL_EPSILON));
    EXPECT_TRUE(
        within_rounding(size.english.value, design.mu[s][0] + shared, kUlps, scale, DBL_EPSILON));
    ASSERT_TRUE(size.relative_gain);
    EXPECT_TRUE(within_rounding(size.relative_gain->value, d / (design.mu[s][0] + shared), kUlps,
                                1.0, DBL_EPSILON));
    // The English mean itself does vary with the languages drawn.
    ASSERT_TRUE(size.english.ci);
    EXPECT_LT(size.english.ci->low, size.english.ci->high);
  }
}

// The bootstrap is exactly the documented procedure: a plain resampling written from the header
// (per resample: languages; each drawn language's examples; each cell's seeds, sizes ascending,
// English before multilingual; a cell mean over drawn seeds, then drawn examples, then drawn
// languages) with the same generator gives the same intervals, with per-example scores and with
// summaries only.
TEST(InteractionEstimator, MatchesAPlainResamplingOfTheDocumentedDraws) {
  Design design;
  design.examples = {4, 6, 3};
  design.english_seeds = 3;
  design.multilingual_seeds = 4;
  for (bool per_example : {true, false}) {
    SCOPED_TRACE(per_example ? "per example" : "summaries");
    InteractionInput input = simulate(design, 11);
    if (!per_example) input = without_examples(input);
    const BootstrapOptions options = bootstrap(50, 3);
    const InteractionResult result = estimate_interaction(input, options);
    EXPECT_EQ(result.per_example, per_example);

    IndexDraw draw(options, interaction_key(input.task, input.group));
    const size_t n_languages = input.languages.size();
    std::vector<double> interactions, slopes, large_differences;
    for (int64_t b = 0; b < options.resamples; ++b) {
      std::vector<size_t> languages;
      for (size_t j = 0; j < n_languages; ++j) languages.push_back(draw(n_languages));
      std::vector<std::vector<size_t>> examples(n_languages);
      if (per_example)
        for (size_t j = 0; j < n_languages; ++j) {
          const size_t n = static_cast<size_t>(design.examples[languages[j]]);
          for (size_t i = 0; i < n; ++i) examples[j].push_back(draw(n));
        }
      std::vector<double> d;
      for (const SizeScores& size : input.sizes) {
        double cell[2];
        for (int regime = 0; regime < 2; ++regime) {
          const std::vector<SeedScores>& runs = regime == 0 ? size.english : size.multilingual;
          std::vector<size_t> seeds;
          for (size_t k = 0; k < runs.size(); ++k) seeds.push_back(draw(runs.size()));
          double over_languages = 0.0;
          for (size_t j = 0; j < n_languages; ++j) {
            const std::string& language = input.languages[languages[j]];
            double over_seeds = 0.0;
            for (size_t k : seeds) {
              if (!per_example) {
                over_seeds += runs[k].summaries.at(language);
                continue;
              }
              double over_examples = 0.0;
              for (size_t i : examples[j]) over_examples += runs[k].examples.at(language).scores[i];
              over_seeds += over_examples / static_cast<double>(examples[j].size());
            }
            over_languages += over_seeds / static_cast<double>(seeds.size());
          }
          cell[regime] = over_languages / static_cast<double>(n_languages);
        }
        d.push_back(cell[1] - cell[0]);
      }
      interactions.push_back(d.back() - d.front());
      large_differences.push_back(d.back());
      slopes.push_back(slope_over_log_parameters(input, d));
    }
    const double scale = max_score(simulate(design, 11));
    const Interval interaction = percentile_interval(interactions, options);
    const Interval slope = percentile_interval(slopes, options);
    const Interval large = percentile_interval(large_differences, options);
    ASSERT_TRUE(result.interaction.ci && result.slope.ci && result.sizes[2].difference.ci);
    EXPECT_TRUE(within_rounding({result.interaction.ci->low, result.interaction.ci->high},
                                {interaction.low, interaction.high}, kUlps, DBL_EPSILON, scale));
    EXPECT_TRUE(within_rounding({result.slope.ci->low, result.slope.ci->high},
                                {slope.low, slope.high}, kUlps, DBL_EPSILON, scale));
    EXPECT_TRUE(
        within_rounding({result.sizes[2].difference.ci->low, result.sizes[2].difference.ci->high},
                        {large.low, large.high}, kUlps, DBL_EPSILON, scale));
  }
}

// The result depends on the data and (options.seed, task, group) alone: not on the order of the
// sizes, runs or languages, and not on what was estimated before.
TEST(InteractionEstimator, DeterministicAndIndependentOfInputOrder) {
  Design design;
  design.examples = {5, 8, 6, 4};
  const InteractionInput input = simulate(design, 5);
  const InteractionResult first = estimate_interaction(input, bootstrap(100, 9));
  InteractionInput shuffled = input;
  std::swap(shuffled.sizes[0], shuffled.sizes[2]);
  std::swap(shuffled.sizes[0].english[0], shuffled.sizes[0].english[3]);
  std::swap(shuffled.languages[0], shuffled.languages[3]);
  estimate_interaction(simulate(design, 6), bootstrap(100, 9));  // another estimate in between
  const InteractionResult second = estimate_interaction(shuffled, bootstrap(100, 9));
  EXPECT_EQ(first.interaction.value, second.interaction.value);
  EXPECT_EQ(first.interaction.ci->low, second.interaction.ci->low);
  EXPECT_EQ(first.interaction.ci->high, second.interaction.ci->high);
  EXPECT_EQ(first.slope.ci->low, second.slope.ci->low);
  EXPECT_EQ(first.sizes[0].model, "size-0");
  EXPECT_EQ(second.sizes[0].model, "size-0");
  EXPECT_EQ(first.languages, second.languages);
  // Another bootstrap seed or another group draws other resamples.
  const InteractionResult other = estimate_interaction(input, bootstrap(100, 10));
  EXPECT_NE(first.interaction.ci->low, other.interaction.ci->low);
  shuffled = input;
  shuffled.group = "other";
  EXPECT_NE(first.interaction.ci->low,
            estimate_interaction(shuffled, bootstrap(100, 9)).interaction.ci->low);
}

// (b) With noise the point estimates are unbiased: over many simulated datasets their mean is the
// truth within its Monte Carlo error. The languages' fixed offsets in the large multilingual cell
// sum to zero but not when weighted by their (unequal) example counts, so an estimator that
// weighted languages by examples would be off by 2/3 here, about 11 Monte Carlo errors. (Observed:
// within 2 Monte Carlo errors at 400 datasets; with 6000, interaction 2.487 against 2.5, error
// 0.017.)
TEST(InteractionEstimator, UnbiasedOverSimulatedDatasets) {
  Design design;
  design.examples = {4, 8, 12, 16, 20, 24};
  design.english_seeds = 3;
  design.multilingual_seeds = 4;
  design.fixed_language_cell.assign(6, std::vector<double>(6, 0.0));
  design.fixed_language_cell[5] = {6.0, -2.0, -2.0, -2.0, 2.0, -2.0};
  const int datasets = 400;
  std::vector<double> interactions, slopes, differences;
  for (int d = 0; d < datasets; ++d) {
    const InteractionResult result =
        estimate_interaction(simulate(design, 1000 + static_cast<uint64_t>(d)), bootstrap(1));
    interactions.push_back(result.interaction.value);
    slopes.push_back(result.slope.value);
    differences.push_back(result.sizes[1].difference.value);
  }
  auto check = [&](const char* name, const std::vector<double>& values, double truth) {
    const double mean = mean_of(values);
    const double error = *sample_sd(values) / std::sqrt(static_cast<double>(values.size()));
    std::printf("%s: mean over %d datasets %.4f, truth %.4f, Monte Carlo error %.4f\n", name,
                datasets, mean, truth, error);
    EXPECT_LE(std::fabs(mean - truth), 4.0 * error) << name;
  };
  check("interaction", interactions, design.interaction());
  check("slope", slopes, design.slope());
  check("D(size-1)", differences, design.difference(1));
}

// (c) Coverage: the share of simulated datasets whose 95 % interval holds the true interaction
// (and slope) is within three binomial standard deviations of 0.95. The design has every variance
// component of the model, 6 seeds per cell, 16 languages of 20 examples, 300 datasets of 200
// resamples. Observed (fixed data and draws, so every run prints the same): interaction 0.960,
// slope 0.960. That is two errors offsetting, not one level being right: in a simulation of the
// same model and design with one component at a time (400 datasets), language x cell effects
// alone cover 0.91 and run effects alone 0.91 (a percentile interval over 16 languages or 6 seeds
// is narrow: no n - 1, no t quantile), while example x cell effects alone cover 0.98, run x
// language 0.995 and run x example noise 1.00, since a resampled language's mean (and a resampled
// run's) already carries that noise and the lower levels' draws count it again. With all of them
// and fewer units: 3 seeds and 6 languages 0.94, 5 seeds and 4 languages 0.93.
TEST(InteractionEstimator, CoverageNearNominal) {
  Design design;
  design.english_seeds = design.multilingual_seeds = 6;
  design.examples = std::vector<int>(16, 20);
  const int datasets = 300;
  int interaction_covered = 0, slope_covered = 0;
  for (int d = 0; d < datasets; ++d) {
    const InteractionResult result =
        estimate_interaction(simulate(design, 5000 + static_cast<uint64_t>(d)),
                             bootstrap(200, static_cast<uint64_t>(d)));
    ASSERT_TRUE(result.interaction.ci && result.slope.ci);
    if (result.interaction.ci->low <= design.interaction() &&
        design.interaction() <= result.interaction.ci->high)
      ++interaction_covered;
    if (result.slope.ci->low <= design.slope() && design.slope() <= result.slope.ci->high)
      ++slope_covered;
  }
  const double nominal = 0.95;
  const double sd = std::sqrt(nominal * (1.0 - nominal) / datasets);
  const double interaction = static_cast<double>(interaction_covered) / datasets;
  const double slope = static_cast<double>(slope_covered) / datasets;
  std::printf("coverage over %d datasets: interaction %.3f, slope %.3f (nominal %.2f +- %.3f)\n",
              datasets, interaction, slope, nominal, 3.0 * sd);
  EXPECT_NEAR(interaction, nominal, 3.0 * sd);
  EXPECT_NEAR(slope, nominal, 3.0 * sd);
}

// (d) Summaries only: seeds and languages resampled, examples not, and the result says so. The
// point estimates equal the per-example path's when the summaries are the examples' means; a run
// lacking per-example scores sends every run to its summaries.
TEST(InteractionEstimator, SummariesOnly) {
  Design design;
  design.examples = {5, 9, 7};
  const InteractionInput full = simulate(design, 21);
  const InteractionResult examples = estimate_interaction(full, bootstrap(200));
  const InteractionResult summaries = estimate_interaction(without_examples(full), bootstrap(200));
  EXPECT_TRUE(examples.per_example);
  EXPECT_FALSE(summaries.per_example);
  ASSERT_EQ(summaries.notes.size(), 1u);
  EXPECT_THAT(summaries.notes[0], HasSubstr("summaries only"));
  const double scale = max_score(full);
  EXPECT_TRUE(within_rounding(summaries.interaction.value, examples.interaction.value, kUlps, scale,
                              DBL_EPSILON));
  EXPECT_TRUE(
      within_rounding(summaries.slope.value, examples.slope.value, kUlps, scale, DBL_EPSILON));
  ASSERT_TRUE(summaries.interaction.ci);
  EXPECT_LT(summaries.interaction.ci->low, summaries.interaction.value);
  EXPECT_GT(summaries.interaction.ci->high, summaries.interaction.value);

  InteractionInput mixed = full;
  mixed.sizes[1].multilingual[2].examples.clear();
  const InteractionResult fallback = estimate_interaction(mixed, bootstrap(200));
  EXPECT_FALSE(fallback.per_example);
  EXPECT_EQ(fallback.interaction.ci->low, summaries.interaction.ci->low);

  // By hand: two sizes, two seeds, two languages.
  InteractionInput hand;
  hand.task = "pawsx";
  hand.group = "all";
  hand.languages = {"de", "fr"};
  auto run = [](int64_t seed, double de, double fr) {
    SeedScores r;
    r.seed = seed;
    r.summaries = {{"de", de}, {"fr", fr}};
    return r;
  };
  hand.sizes = {
      {"mt5-small", 3.0e8, {run(1, 60, 70), run(2, 62, 72)}, {run(1, 63, 71), run(2, 65, 75)}},
      {"mt5-large", 1.2e9, {run(1, 80, 84), run(2, 82, 86)}, {run(1, 86, 88), run(2, 84, 90)}}};
  const InteractionResult r = estimate_interaction(hand, bootstrap(100));
  // small: EN 66, ML 68.5, D 2.5; large: EN 83, ML 87, D 4.
  EXPECT_DOUBLE_EQ(r.sizes[0].english.value, 66.0);
  EXPECT_DOUBLE_EQ(r.sizes[0].difference.value, 2.5);
  EXPECT_DOUBLE_EQ(r.sizes[1].difference.value, 4.0);
  EXPECT_DOUBLE_EQ(r.sizes[1].relative_gain->value, 4.0 / 83.0);
  EXPECT_DOUBLE_EQ(r.interaction.value, 1.5);
  EXPECT_NEAR(r.slope.value, 1.5 / std::log(4.0), 1e-12);
}

// What an interval cannot mean is said, not computed: one seed in a cell, one language, an
// English mean of zero.
TEST(InteractionEstimator, MissingIntervalsAndNotes) {
  Design design;
  design.examples = {5, 5, 5};
  InteractionInput input = simulate(design, 31);
  input.sizes[1].english.resize(1);
  InteractionResult result = estimate_interaction(input, bootstrap(100));
  EXPECT_TRUE(result.sizes[0].difference.ci);
  EXPECT_FALSE(result.sizes[1].difference.ci);
  EXPECT_FALSE(result.sizes[1].english.ci);
  EXPECT_TRUE(result.sizes[1].multilingual.ci);
  EXPECT_TRUE(result.interaction.ci);  // size-0 and size-2 have seeds to resample
  EXPECT_FALSE(result.slope.ci);       // the slope depends on size-1 too
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_THAT(result.notes[0], HasSubstr("size-1 english has one seed"));

  input = simulate(design, 31);
  input.languages = {input.languages[1]};
  result = estimate_interaction(input, bootstrap(100));
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_THAT(result.notes[0], HasSubstr("one language (l101)"));
  EXPECT_TRUE(result.interaction.ci);

  input = without_examples(simulate(design, 31));
  for (SeedScores& run : input.sizes[0].english)
    for (auto& [language, score] : run.summaries) score = 0.0;
  result = estimate_interaction(input, bootstrap(100));
  EXPECT_FALSE(result.sizes[0].relative_gain);
  EXPECT_TRUE(result.sizes[1].relative_gain);
  EXPECT_TRUE(result.sizes[0].difference.ci);
  EXPECT_THAT(result.notes.back(), HasSubstr("size-0: the English mean is 0"));
}

// (e) Malformed input is refused, naming what is wrong and where.
TEST(InteractionEstimator, Refusals) {
  Design design;
  design.examples = {3, 4};
  design.english_seeds = design.multilingual_seeds = 2;
  const InteractionInput good = simulate(design, 41);
  auto refusal = [](const InteractionInput& input, BootstrapOptions options = bootstrap(10)) {
    return error_of([&] { estimate_interaction(input, options); });
  };
  EXPECT_EQ(refusal(good), "(no error)");
  EXPECT_THAT(refusal(good, bootstrap(0)), HasSubstr("resamples must be at least 1"));

  InteractionInput in = good;
  in.languages.clear();
  EXPECT_THAT(refusal(in), HasSubstr("no languages"));
  in = good;
  in.languages.push_back(in.languages[0]);
  EXPECT_THAT(refusal(in), HasSubstr("language l100 given twice"));
  in = good;
  in.sizes.resize(1);
  EXPECT_THAT(refusal(in), HasSubstr("need two model sizes or more, got 1"));
  in = good;
  in.sizes[2].model = "size-0";
  EXPECT_THAT(refusal(in), HasSubstr("model size-0 given twice"));
  in = good;
  in.sizes[1].parameters = 0.0;
  EXPECT_THAT(refusal(in), HasSubstr("size-1: parameter count"));
  in = good;
  in.sizes[1].parameters = std::nan("");
  EXPECT_THAT(refusal(in), HasSubstr("not finite and positive"));
  in = good;
  in.sizes[2].parameters = in.sizes[1].parameters;
  EXPECT_THAT(refusal(in), HasSubstr("size-1 and size-2 have the same parameter count"));
  in = good;
  in.sizes[1].multilingual.clear();
  EXPECT_THAT(refusal(in), HasSubstr("size-1 multilingual: no runs"));
  in = good;
  in.sizes[0].english[1].seed = in.sizes[0].english[0].seed;
  EXPECT_THAT(refusal(in), HasSubstr("size-0 english seed 1 given twice"));
  in = good;
  in.small_model = "mt5-small";
  EXPECT_THAT(refusal(in), HasSubstr("small model mt5-small is not among the sizes"));
  in = good;
  in.small_model = in.large_model = "size-1";
  EXPECT_THAT(refusal(in), HasSubstr("the small and the large model are both size-1"));

  // Per-example scores that cannot be paired.
  in = good;
  in.sizes[1].multilingual[0].examples.at("l101").scores.pop_back();
  EXPECT_THAT(refusal(in), HasSubstr("size-1 multilingual seed 1, language l101: 3 examples, but "
                                     "4 in size-0 english seed 1"));
  in = good;
  for (auto* runs : {&in.sizes[0].english, &in.sizes[0].multilingual})
    for (SeedScores& run : *runs) run.examples.at("l100").ids = {"a", "b", "c"};
  in.sizes[0].multilingual[1].examples.at("l100").ids = {"a", "c", "b"};
  EXPECT_THAT(refusal(in), HasSubstr("size-0 multilingual seed 2, language l100: the example ids "
                                     "differ"));
  in.sizes[0].multilingual[1].examples.at("l100").ids = {"a", "b"};
  EXPECT_THAT(refusal(in), HasSubstr("2 ids for 3 scores"));
  in = good;
  for (SizeScores& size : in.sizes)
    for (auto* runs : {&size.english, &size.multilingual})
      for (SeedScores& run : *runs) run.examples.at("l100").scores.clear();
  EXPECT_THAT(refusal(in), HasSubstr("language l100: no examples"));
  in = good;
  in.sizes[2].english[1].examples.at("l101").scores[2] = INFINITY;
  EXPECT_THAT(refusal(in), HasSubstr("size-2 english seed 2, language l101, example 2: score inf "
                                     "is not finite"));

  // Summaries: a language missing from a run, a non-finite summary.
  in = without_examples(good);
  in.sizes[2].multilingual[0].summaries.erase("l100");
  EXPECT_THAT(refusal(in), HasSubstr("size-2 multilingual seed 1, language l100: no score"));
  in = without_examples(good);
  in.sizes[0].english[0].summaries["l101"] = std::nan("");
  EXPECT_THAT(refusal(in), HasSubstr("size-0 english seed 1, language l101: score nan"));
  EXPECT_THAT(refusal(in), HasSubstr("interaction (task xnli, group simulated)"));
}

// Pooled over tasks without noise: each cell is the mean over the tasks of their cell means, so D,
// the interaction and the slope are the tasks' means, whatever their languages; and the intervals
// collapse, since each task's draws move all its cells alike.
TEST(PooledInteraction, NoiselessTasksPoolToTheirMeanAndCollapse) {
  Design first, second;
  for (Design* design : {&first, &second}) {
    design->language_cell = design->example_cell = design->run = design->run_language =
        design->run_example = 0.0;
  }
  first.examples = {3, 7, 12, 5};
  second.examples = {6, 2};
  second.mu = {{30.0, 34.0}, {31.0, 34.5}, {33.0, 35.0}};  // D 4, 3.5, 2
  InteractionInput a = simulate(first, 7);
  InteractionInput b = simulate(second, 8);
  b.task = "pawsx";
  const InteractionResult pooled = estimate_pooled_interaction({a, b}, "simulated", bootstrap(200));
  const double scale = std::max(max_score(a), max_score(b));
  EXPECT_EQ(pooled.task, kPooledTasks);
  EXPECT_THAT(pooled.tasks, ::testing::ElementsAre("xnli", "pawsx"));
  EXPECT_EQ(pooled.languages.size(), 4u);  // the simulated tasks share their language names
  EXPECT_TRUE(pooled.per_example);
  EXPECT_TRUE(pooled.notes.empty());
  const double truth = (first.interaction() + second.interaction()) / 2.0;
  EXPECT_TRUE(within_rounding(pooled.interaction.value, truth, kUlps, scale, DBL_EPSILON));
  ASSERT_TRUE(pooled.interaction.ci && pooled.slope.ci);
  EXPECT_TRUE(within_rounding(pooled.interaction.ci->low, truth, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(pooled.interaction.ci->high, truth, kUlps, scale, DBL_EPSILON));
  const double slope = (first.slope() + second.slope()) / 2.0;
  EXPECT_TRUE(within_rounding(pooled.slope.value, slope, kUlps, scale, DBL_EPSILON));
  EXPECT_TRUE(within_rounding(pooled.slope.ci->high, slope, kUlps, scale, DBL_EPSILON));
  for (size_t s = 0; s < 3; ++s) {
    const double d = (first.difference(s) + second.difference(s)) / 2.0;
    EXPECT_TRUE(within_rounding(pooled.sizes[s].difference.value, d, kUlps, scale, DBL_EPSILON));
  }
  // One task pooled alone has that task's point estimates (its intervals draw under another key).
  const InteractionResult alone = estimate_pooled_interaction({a}, "simulated", bootstrap(200));
  const InteractionResult task = estimate_interaction(a, bootstrap(200));
  EXPECT_EQ(alone.interaction.value, task.interaction.value);
  EXPECT_EQ(alone.slope.value, task.slope.value);
}

// The pooled bootstrap is the documented procedure: per resample each task's languages and their
// examples, then per cell one seed draw for every task where their seeds agree (else one per
// task), each cell the tasks' mean. A plain resampling written from the header gives the same
// intervals, for shared seeds and for seeds that differ between the tasks.
TEST(PooledInteraction, MatchesAPlainResamplingOfTheDocumentedDraws) {
  Design first, second;
  first.examples = {4, 6, 3};
  first.english_seeds = 3;
  first.multilingual_seeds = 4;
  second.examples = {5, 2};
  second.english_seeds = 3;
  for (int multilingual_seeds : {4, 2}) {
    SCOPED_TRACE("second task's multilingual seeds: " + std::to_string(multilingual_seeds));
    second.multilingual_seeds = multilingual_seeds;
    const bool shared = multilingual_seeds == first.multilingual_seeds;
    InteractionInput a = simulate(first, 11);
    InteractionInput b = simulate(second, 12);
    b.task = "pawsx";
    const std::vector<InteractionInput> tasks = {a, b};
    const BootstrapOptions options = bootstrap(50, 3);
    const InteractionResult result = estimate_pooled_interaction(tasks, "g", options);
    EXPECT_EQ(std::count_if(result.notes.begin(), result.notes.end(),
                            [](const std::string& note) {
                              return note.find("the tasks' seeds differ") != std::string::npos;
                            }),
              shared ? 0 : 3);  // the multilingual cell of each size

    IndexDraw draw(options, interaction_key(kPooledTasks, "g"));
    std::vector<double> interactions, slopes;
    for (int64_t b_ = 0; b_ < options.resamples; ++b_) {
      std::vector<std::vector<size_t>> languages(2);
      std::vector<std::vector<std::vector<size_t>>> examples(2);
      for (size_t t = 0; t < 2; ++t) {
        const size_t n_languages = tasks[t].languages.size();
        for (size_t j = 0; j < n_languages; ++j) languages[t].push_back(draw(n_languages));
        const Design& design = t == 0 ? first : second;
        examples[t].resize(n_languages);
        for (size_t j = 0; j < n_languages; ++j) {
          const size_t n = static_cast<size_t>(design.examples[languages[t][j]]);
          for (size_t i = 0; i < n; ++i) examples[t][j].push_back(draw(n));
        }
      }
      const auto seed_draw = [&](size_t n) {
        std::vector<size_t> seeds;
        for (size_t k = 0; k < n; ++k) seeds.push_back(draw(n));
        return seeds;
      };
      std::vector<double> d;
      for (size_t s = 0; s < 3; ++s) {
        double cell[2] = {0.0, 0.0};
        for (int regime = 0; regime < 2; ++regime) {
          const auto runs_of = [&](size_t t) -> const std::vector<SeedScores>& {
            return regime == 0 ? tasks[t].sizes[s].english : tasks[t].sizes[s].multilingual;
          };
          const bool one_draw = regime == 0 || shared;
          std::vector<size_t> seeds;
          if (one_draw) seeds = seed_draw(runs_of(0).size());
          for (size_t t = 0; t < 2; ++t) {
            const std::vector<SeedScores>& runs = runs_of(t);
            if (!one_draw) seeds = seed_draw(runs.size());
            double over_languages = 0.0;
            for (size_t j = 0; j < languages[t].size(); ++j) {
              const std::string& language = tasks[t].languages[languages[t][j]];
              double over_seeds = 0.0;
              for (size_t k : seeds) {
                double over_examples = 0.0;
                for (size_t i : examples[t][j])
                  over_examples += runs[k].examples.at(language).scores[i];
                over_seeds += over_examples / static_cast<double>(examples[t][j].size());
              }
              over_languages += over_seeds / static_cast<double>(seeds.size());
            }
            cell[regime] += over_languages / static_cast<double>(languages[t].size()) / 2.0;
          }
        }
        d.push_back(cell[1] - cell[0]);
      }
      interactions.push_back(d.back() - d.front());
      slopes.push_back(slope_over_log_parameters(a, d));
    }
    const double scale = std::max(max_score(a), max_score(b));
    const Interval interaction = percentile_interval(interactions, options);
    const Interval slope = percentile_interval(slopes, options);
    ASSERT_TRUE(result.interaction.ci && result.slope.ci);
    EXPECT_TRUE(within_rounding({result.interaction.ci->low, result.interaction.ci->high},
                                {interaction.low, interaction.high}, kUlps, DBL_EPSILON, scale));
    EXPECT_TRUE(within_rounding({result.slope.ci->low, result.slope.ci->high},
                                {slope.low, slope.high}, kUlps, DBL_EPSILON, scale));
  }
}

TEST(PooledInteraction, Refusals) {
  Design design;
  design.examples = {3, 4};
  design.english_seeds = design.multilingual_seeds = 2;
  const InteractionInput a = simulate(design, 41);
  InteractionInput b = a;
  b.task = "pawsx";
  auto refusal = [](const std::vector<InteractionInput>& inputs) {
    return error_of([&] { estimate_pooled_interaction(inputs, "g", bootstrap(10)); });
  };
  EXPECT_EQ(refusal({a, b}), "(no error)");
  EXPECT_THAT(refusal({}), HasSubstr("pooled interaction (group g): no tasks"));
  EXPECT_THAT(refusal({a, a}), HasSubstr("task xnli given twice"));
  InteractionInput other = b;
  other.sizes.pop_back();
  EXPECT_THAT(refusal({a, other}),
              HasSubstr("task pawsx has the sizes size-0, size-1 (small size-0, large size-1), "
                        "task xnli size-0, size-1, size-2"));
  other = b;
  other.sizes[1].parameters *= 1.5;
  EXPECT_THAT(refusal({a, other}), HasSubstr("pooling needs the same sizes and parameter counts"));
  other = b;
  other.large_model = "size-1";
  EXPECT_THAT(refusal({a, other}), HasSubstr("large size-1"));
  // Each task is checked as estimate_interaction checks it.
  other = b;
  other.languages.clear();
  EXPECT_THAT(refusal({a, other}), HasSubstr("interaction (task pawsx, group simulated): no "
                                             "languages"));
}

}  // namespace
}  // namespace stilts::experiments
