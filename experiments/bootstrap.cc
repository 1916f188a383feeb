#include "experiments/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "data/stable_hash.h"

namespace stilts::experiments {

namespace {

double resampled_mean(const std::vector<double>& values, IndexDraw& draw) {
  double sum = 0.0;
  for (size_t i = 0; i < values.size(); ++i) sum += values[draw(values.size())];
  return sum / static_cast<double>(values.size());
}

}  // namespace

IndexDraw::IndexDraw(const BootstrapOptions& options, const std::string& key) {
  const uint64_t h = data::stable_hash(key);
  std::seed_seq seq{static_cast<uint32_t>(options.seed), static_cast<uint32_t>(options.seed >> 32),
                    static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32)};
  engine_.seed(seq);
}

size_t IndexDraw::operator()(size_t n) {
  const uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % n;
  uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return static_cast<size_t>(x % n);
}

void check_bootstrap_options(const BootstrapOptions& options) {
  if (options.resamples < 1)
    throw std::invalid_argument("bootstrap resamples must be at least 1, got " +
                                std::to_string(options.resamples));
  if (!(options.confidence > 0.0 && options.confidence < 1.0))
    throw std::invalid_argument("confidence must lie strictly between 0 and 1, got " +
                                std::to_string(options.confidence));
}

double mean_of(const std::vector<double>& values) {
  if (values.empty()) throw std::invalid_argument("mean of no values");
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

std::optional<double> sample_sd(const std::vector<double>& values) {
  if (values.size() < 2) return std::nullopt;
  const double m = mean_of(values);
  double squares = 0.0;
  for (double v : values) squares += (v - m) * (v - m);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double quantile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("quantile of no values");
  const double position = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  if (below + 1 >= sorted.size()) return sorted.back();
  const double fraction = position - static_cast<double>(below);
  // Equal neighbours give exactly their value, so identical seeds give a collapsed interval.
  if (sorted[below] == sorted[below + 1]) return sorted[below];
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

Interval percentile_interval(std::vector<double> statistics, const BootstrapOptions& options) {
  if (statistics.empty()) throw std::invalid_argument("percentile interval of no resamples");
  std::sort(statistics.begin(), statistics.end());
  const double tail = (1.0 - options.confidence) / 2.0;
  return {quantile_of_sorted(statistics, tail), quantile_of_sorted(statistics, 1.0 - tail)};
}

std::optional<Interval> bootstrap_mean_interval(const std::vector<double>& values,
                                                const BootstrapOptions& options,
                                                const std::string& key) {
  check_bootstrap_options(options);
  if (values.size() < 2) return std::nullopt;
  IndexDraw draw(options, key);
  std::vector<double> means(static_cast<size_t>(options.resamples));
  for (double& m : means) m = resampled_mean(values, draw);
  return percentile_interval(std::move(means), options);
}

std::optional<Interval> bootstrap_difference_interval(const std::vector<double>& a,
                                                      const std::vector<double>& b,
                                                      const BootstrapOptions& options,
                                                      const std::string& key) {
  check_bootstrap_options(options);
  if (a.size() < 2 || b.size() < 2) return std::nullopt;
  IndexDraw draw(options, key);
  std::vector<double> differences(static_cast<size_t>(options.resamples));
  for (double& d : differences) {
    const double mean_a = resampled_mean(a, draw);
    d = mean_a - resampled_mean(b, draw);
  }
  return percentile_interval(std::move(differences), options);
}

}  // namespace stilts::experiments
