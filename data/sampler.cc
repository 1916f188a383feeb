#include "data/sampler.h"

#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "data/stable_hash.h"

namespace stilts::data {
namespace {

// splitmix64's finalizer: a bijection whose outputs pass BigCrush for consecutive inputs, so
// hashing (seed, draw) needs no generator state to carry or restore.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

double uniform_at(uint64_t seed, uint64_t draw) {
  const uint64_t bits = mix64(mix64(seed ^ 0x6A09E667F3BCC909ull) + draw * 0x9E3779B97F4A7C15ull);
  return static_cast<double>(bits >> 11) * 0x1p-53;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("MixtureSampler: " + message);
}

// An unbiased integer in [0, bound): values at or above the largest multiple of bound would
// favour the small residues, so they are drawn again.
uint64_t uniform_below(uint64_t bound, std::mt19937_64& gen) {
  const uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % bound;
  uint64_t x;
  do x = gen();
  while (x >= limit);
  return x % bound;
}

}  // namespace

std::vector<double> mixture_probabilities(const std::vector<uint64_t>& sizes, double alpha) {
  require(!sizes.empty(), "no sources");
  require(alpha >= 0, "alpha " + std::to_string(alpha) + " is negative");
  std::vector<double> p;
  double total = 0;
  for (uint64_t size : sizes) {
    require(size > 0, "a source is empty");
    p.push_back(std::pow(static_cast<double>(size), alpha));
    total += p.back();
  }
  for (double& x : p) x /= total;
  return p;
}

std::vector<uint64_t> epoch_permutation(uint64_t size, uint64_t seed, uint64_t source,
                                        uint64_t epoch) {
  // std::seed_seq's mixing is specified by the standard, unlike the distributions.
  std::seed_seq seq{static_cast<uint32_t>(seed),   static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(source), static_cast<uint32_t>(source >> 32),
                    static_cast<uint32_t>(epoch),  static_cast<uint32_t>(epoch >> 32)};
  std::mt19937_64 gen(seq);
  std::vector<uint64_t> perm(size);
  for (uint64_t i = 0; i < size; ++i) perm[i] = i;
  for (uint64_t i = size; i > 1; --i) std::swap(perm[i - 1], perm[uniform_below(i, gen)]);
  return perm;
}

bool in_source_subset(std::string_view id, double fraction, uint64_t seed) {
  if (fraction >= 1) return true;
  return uniform_at(seed, stable_hash(id)) < fraction;
}

std::map<std::string, double> parse_task_weights(const std::string& text) {
  std::map<std::string, double> weights;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    const size_t equals = item.find('=');
    size_t used = 0;
    double weight = -1;
    if (equals != std::string::npos && equals > 0) {
      try {
        weight = std::stod(item.substr(equals + 1), &used);
        used += equals + 1;
      } catch (const std::exception&) {
        used = 0;
      }
    }
    if (used != item.size() || !std::isfinite(weight) || weight < 0)
      throw std::invalid_argument("'" + item +
                                  "' is not task=weight with a non-negative weight "
                                  "(\"mnli=1,squad=1\")");
    const std::string task = item.substr(0, equals);
    if (!weights.emplace(task, weight).second)
      throw std::invalid_argument("task '" + task + "' is given twice");
  }
  if (weights.empty() || text.back() == ',')
    throw std::invalid_argument("'" + text + "' is not a list of task=weight items");
  return weights;
}

std::vector<double> task_weighted(const std::vector<std::string>& source_tasks,
                                  const std::vector<uint64_t>& sizes,
                                  const std::map<std::string, double>& task_weights) {
  require(source_tasks.size() == sizes.size(), std::to_string(source_tasks.size()) + " tasks for " +
                                                   std::to_string(sizes.size()) + " sources");
  std::map<std::string, uint64_t> task_sizes;
  for (size_t s = 0; s < sizes.size(); ++s) {
    if (!task_weights.count(source_tasks[s]))
      throw std::invalid_argument("task weights: source " + std::to_string(s) + " is of task '" +
                                  source_tasks[s] + "', which has no weight");
    task_sizes[source_tasks[s]] += sizes[s];
  }
  double total = 0;
  for (const auto& [task, weight] : task_weights) {
    if (!task_sizes.count(task))
      throw std::invalid_argument("task weights: '" + task + "' has a weight but no source");
    require(std::isfinite(weight) && weight >= 0,
            "task weights: '" + task + "' has weight " + std::to_string(weight) + ", not >= 0");
    total += weight;
  }
  require(total > 0, "task weights: the weights sum to 0");
  std::vector<double> weights;
  for (size_t s = 0; s < sizes.size(); ++s) {
    const uint64_t task_size = task_sizes[source_tasks[s]];
    weights.push_back(task_size == 0
                          ? 0.0
                          : task_weights.at(source_tasks[s]) / total *
                                static_cast<double>(sizes[s]) / static_cast<double>(task_size));
  }
  return weights;
}

MixtureSampler::MixtureSampler(std::vector<uint64_t> sizes, SamplerOptions options)
    : sizes_(std::move(sizes)), options_(std::move(options)) {
  require(options_.world >= 1 && options_.rank >= 0 && options_.rank < options_.world,
          "rank " + std::to_string(options_.rank) + " is outside world " +
              std::to_string(options_.world));
  require(options_.task_weights.empty(),
          "task weights reach the sampler unresolved (task_weighted turns them into weights)");
  if (options_.weights.empty()) {
    probabilities_ = mixture_probabilities(sizes_, options_.alpha);
  } else {
    require(options_.weights.size() == sizes_.size(),
            std::to_string(options_.weights.size()) + " weights for " +
                std::to_string(sizes_.size()) + " sources");
    double total = 0;
    for (double w : options_.weights) {
      require(std::isfinite(w) && w >= 0, "weight " + std::to_string(w) + " is not >= 0");
      total += w;
    }
    require(total > 0, "the weights sum to 0");
    for (double w : options_.weights) probabilities_.push_back(w / total);
  }
  const auto world = static_cast<uint64_t>(options_.world);
  double sum = 0;
  for (size_t s = 0; s < sizes_.size(); ++s) {
    require(sizes_[s] >= world, "source " + std::to_string(s) + " has " +
                                    std::to_string(sizes_[s]) + " examples, fewer than the " +
                                    std::to_string(world) + " data-parallel ranks");
    sum += probabilities_[s];
    cumulative_.push_back(sum);
  }
  // Rounding must not leave a sliver above the last source.
  cumulative_.back() = 1.0;
  cursors_.resize(sizes_.size());
  for (size_t s = 0; s < sizes_.size(); ++s) cursors_[s].share = epoch_share(s, 0);
}

uint64_t MixtureSampler::share_size(size_t source) const {
  const auto world = static_cast<uint64_t>(options_.world);
  const auto rank = static_cast<uint64_t>(options_.rank);
  return sizes_.at(source) / world + (rank < sizes_.at(source) % world ? 1 : 0);
}

std::vector<uint64_t> MixtureSampler::epoch_share(size_t source, uint64_t epoch) const {
  const std::vector<uint64_t> perm =
      epoch_permutation(sizes_.at(source), options_.seed, source, epoch);
  std::vector<uint64_t> share;
  share.reserve(share_size(source));
  for (uint64_t p = static_cast<uint64_t>(options_.rank); p < perm.size();
       p += static_cast<uint64_t>(options_.world))
    share.push_back(perm[p]);
  return share;
}

SampleRef MixtureSampler::next() {
  const double u = uniform_at(options_.seed, draw_++);
  size_t s = 0;
  while (u >= cumulative_[s]) ++s;
  Cursor& c = cursors_[s];
  if (c.position == c.share.size()) {
    ++c.epoch;
    c.position = 0;
    c.share = epoch_share(s, c.epoch);
  }
  return {s, c.share[c.position++]};
}

nlohmann::json MixtureSampler::state() const {
  nlohmann::json sources = nlohmann::json::array();
  for (const Cursor& c : cursors_)
    sources.push_back({{"epoch", c.epoch}, {"position", c.position}});
  return {{"draw", draw_},         {"sources", sources},    {"sizes", sizes_},
          {"seed", options_.seed}, {"rank", options_.rank}, {"world", options_.world}};
}

void MixtureSampler::restore(const nlohmann::json& state) {
  require(state.at("sizes").get<std::vector<uint64_t>>() == sizes_ &&
              state.at("seed").get<uint64_t>() == options_.seed &&
              state.at("rank").get<int64_t>() == options_.rank &&
              state.at("world").get<int64_t>() == options_.world,
          "the saved state belongs to other sources, seed or ranks: " + state.dump());
  const nlohmann::json& sources = state.at("sources");
  require(sources.size() == sizes_.size(), "the saved state has another number of sources");
  std::vector<Cursor> cursors(sizes_.size());
  for (size_t s = 0; s < sizes_.size(); ++s) {
    cursors[s].epoch = sources[s].at("epoch").get<uint64_t>();
    cursors[s].position = sources[s].at("position").get<uint64_t>();
    require(cursors[s].position <= share_size(s), "a saved position is beyond its share");
    cursors[s].share = epoch_share(s, cursors[s].epoch);
  }
  cursors_ = std::move(cursors);
  draw_ = state.at("draw").get<uint64_t>();
}

}  // namespace stilts::data
