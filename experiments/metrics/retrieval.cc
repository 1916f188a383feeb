#include "experiments/metrics/retrieval.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

#include "experiments/metrics/python_text.h"

namespace stilts::experiments::metrics {

double average_precision_at_k(const std::vector<std::int64_t>& targets,
                              const std::vector<std::int64_t>& ranked, std::size_t k) {
  const std::unordered_set<std::int64_t> correct(targets.begin(), targets.end());
  if (correct.empty()) {
    throw std::invalid_argument("average_precision_at_k: a question has no correct candidates");
  }
  const std::size_t cut = k == 0 ? ranked.size() : std::min(k, ranked.size());
  std::unordered_set<std::int64_t> seen;
  double score = 0.0;
  double hits = 0.0;
  for (std::size_t i = 0; i < cut; ++i) {
    const bool first_time = seen.insert(ranked[i]).second;
    if (first_time && correct.count(ranked[i]) != 0) {
      hits += 1.0;
      score += hits / (static_cast<double>(i) + 1.0);
    }
  }
  const std::size_t divisor = k == 0 ? correct.size() : std::min(correct.size(), k);
  return score / static_cast<double>(divisor);
}

double mean_average_precision_at_k(const std::vector<RankedQuery>& queries, std::size_t k) {
  if (queries.empty()) {
    throw std::invalid_argument("mean_average_precision_at_k: no questions to score");
  }
  double sum = 0.0;
  for (const RankedQuery& query : queries) {
    sum += average_precision_at_k(query.targets, query.ranked, k);
  }
  return sum / static_cast<double>(queries.size()) * 100;
}

std::vector<std::int64_t> rank_by_score(const std::vector<float>& scores, std::size_t k) {
  std::vector<std::int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return scores[a] < scores[b]; });
  std::reverse(order.begin(), order.end());
  if (k != 0 && order.size() > k) {
    order.resize(k);
  }
  return order;
}

double reciprocal_rank_at_k(const std::string& gold, const std::vector<std::string>& predictions,
                            std::size_t k) {
  const std::size_t cut = k == 0 ? predictions.size() : std::min(k, predictions.size());
  for (std::size_t i = 0; i < cut; ++i) {
    if (predictions[i] == gold) {
      return 1.0 / static_cast<double>(i + 1);
    }
  }
  return 0.0;
}

MewslixScores mewslix_evaluate(
    const std::vector<MewslixGold>& gold,
    const std::unordered_map<std::string, std::vector<std::string>>& predictions, std::size_t k) {
  MewslixScores scores;
  std::unordered_set<std::string> gold_ids;
  double sum = 0.0;
  static const std::vector<std::string> kNone;
  for (const MewslixGold& example : gold) {
    if (example.labels.empty()) {
      throw std::invalid_argument("Mewsli-X evaluation: example " + example.example_id +
                                  " has an empty gold list");
    }
    if (!gold_ids.insert(example.example_id).second) {
      throw std::invalid_argument("Mewsli-X evaluation: example " + example.example_id +
                                  " appears twice in the gold");
    }
    const std::string gold_id = python_text::strip(example.labels.front());
    auto it = predictions.find(example.example_id);
    if (it == predictions.end()) {
      ++scores.unpredicted;
    }
    sum += reciprocal_rank_at_k(gold_id, it == predictions.end() ? kNone : it->second, k);
  }
  for (const auto& [example_id, unused] : predictions) {
    scores.unexpected += gold_ids.count(example_id) == 0;
  }
  scores.map_at_k = gold.empty() ? 0.0 : sum / static_cast<double>(gold.size()) * 100;
  return scores;
}

}  // namespace stilts::experiments::metrics
