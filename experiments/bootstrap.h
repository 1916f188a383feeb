// The statistics of `stilts report`: mean and spread over seeds, and percentile bootstrap
// confidence intervals over seeds, deterministic for a given seed and key.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace stilts::experiments {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

struct BootstrapOptions {
  int64_t resamples = 1000;  // B
  double confidence = 0.95;  // the interval holds this central share of the resampled statistic
  uint64_t seed = 0;
};

// Draws indices in [0, n) by rejection from the 64-bit Mersenne Twister, whose output sequence
// the standard fixes (std::uniform_int_distribution's algorithm is left to the library), seeded
// by (options.seed, key) through FNV-1a (std::hash differs between standard libraries). So a
// statistic named `key` gets the same resamples on every platform, whatever else is computed and
// in whatever order. Every interval of the report and of interaction.h draws through this.
class IndexDraw {
 public:
  IndexDraw(const BootstrapOptions& options, const std::string& key);
  // n >= 1.
  size_t operator()(size_t n);

 private:
  std::mt19937_64 engine_;
};

// Throws std::invalid_argument for resamples < 1 or a confidence outside (0, 1).
void check_bootstrap_options(const BootstrapOptions& options);

// The arithmetic mean, summed in order; throws std::invalid_argument for no values.
double mean_of(const std::vector<double>& values);

// The sample standard deviation (divisor n - 1); nullopt for fewer than two values.
std::optional<double> sample_sd(const std::vector<double>& values);

// The q-quantile of sorted values by linear interpolation between order statistics (R's type 7,
// numpy's default): position q * (n - 1).
double quantile_of_sorted(const std::vector<double>& sorted, double q);

// The percentile interval of resampled statistics: their (1 - confidence) / 2 and
// (1 + confidence) / 2 quantiles (quantile_of_sorted). Throws std::invalid_argument for none.
Interval percentile_interval(std::vector<double> statistics, const BootstrapOptions& options);

// Percentile bootstrap interval of the mean: B resamples of the values with replacement, the
// mean of each, and the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of those means.
// nullopt for fewer than two values (one seed gives no spread to resample). `key` names the
// statistic: the generator is seeded by (options.seed, key), so each interval is the same
// whatever else a report computes and in whatever order.
std::optional<Interval> bootstrap_mean_interval(const std::vector<double>& values,
                                                const BootstrapOptions& options,
                                                const std::string& key);

// The same for mean(a) - mean(b), each resampled independently with replacement (the seeds of
// two regimes are separate runs, not pairs). nullopt unless both have two values or more, since
// an interval that varied only one side would understate the spread.
std::optional<Interval> bootstrap_difference_interval(const std::vector<double>& a,
                                                      const std::vector<double>& b,
                                                      const BootstrapOptions& options,
                                                      const std::string& key);

}  // namespace stilts::experiments
