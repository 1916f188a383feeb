#include "experiments/metrics/bucc.h"

#include <algorithm>
#include <map>
#include <set>

namespace stilts::experiments::metrics {
namespace {

// read_candidate2score: the maximum score per pair, in first-seen order.
std::vector<BuccCandidate> deduplicate(const std::vector<BuccCandidate>& candidates) {
  std::vector<BuccCandidate> unique;
  std::map<BuccPair, std::size_t> position;
  for (const BuccCandidate& candidate : candidates) {
    auto [it, inserted] =
        position.emplace(BuccPair{candidate.source, candidate.target}, unique.size());
    if (inserted) {
      unique.push_back(candidate);
    } else {
      unique[it->second].score = std::max(unique[it->second].score, candidate.score);
    }
  }
  return unique;
}

}  // namespace

BuccScores bucc_f1(const std::vector<BuccPair>& gold, const std::vector<BuccPair>& predicted) {
  const std::set<BuccPair> gold_set(gold.begin(), gold.end());
  const std::set<BuccPair> predicted_set(predicted.begin(), predicted.end());
  BuccScores scores;
  scores.gold = gold_set.size();
  scores.predicted = predicted_set.size();
  for (const BuccPair& pair : predicted_set) {
    scores.correct += gold_set.count(pair);
  }
  if (scores.correct > 0) {
    const double correct = static_cast<double>(scores.correct);
    const double precision = correct / static_cast<double>(scores.predicted);
    const double recall = correct / static_cast<double>(scores.gold);
    const double f1 = 2 * precision * recall / (precision + recall);
    scores.precision = precision * 100;
    scores.recall = recall * 100;
    scores.f1 = f1 * 100;
  }
  return scores;
}

double bucc_optimize_threshold(const std::vector<BuccCandidate>& candidates,
                               const std::vector<BuccPair>& gold) {
  std::vector<BuccCandidate> items = deduplicate(candidates);
  std::stable_sort(items.begin(), items.end(), [](const BuccCandidate& a, const BuccCandidate& b) {
    return a.score > b.score;
  });
  const std::set<BuccPair> gold_set(gold.begin(), gold.end());
  const double ngold = static_cast<double>(gold_set.size());
  double nextract = 0;
  double ncorrect = 0;
  double threshold = 0;
  double best_f1 = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    nextract += 1;
    if (gold_set.count(BuccPair{items[i].source, items[i].target}) != 0) {
      ncorrect += 1;
    }
    if (ncorrect > 0) {
      const double precision = ncorrect / nextract;
      const double recall = ncorrect / ngold;
      const double f1 = 2 * precision * recall / (precision + recall);
      if (f1 > best_f1) {
        best_f1 = f1;
        threshold =
            i + 1 < items.size() ? (items[i].score + items[i + 1].score) / 2 : items[i].score;
      }
    }
  }
  return threshold;
}

std::vector<BuccPair> bucc_extract(const std::vector<BuccCandidate>& candidates, double threshold) {
  std::vector<BuccPair> pairs;
  for (const BuccCandidate& candidate : deduplicate(candidates)) {
    if (candidate.score >= threshold) {
      pairs.emplace_back(candidate.source, candidate.target);
    }
  }
  return pairs;
}

BuccScores bucc_evaluate(const std::vector<BuccCandidate>& dev_candidates,
                         const std::vector<BuccPair>& dev_gold,
                         const std::vector<BuccCandidate>& test_candidates,
                         const std::vector<BuccPair>& test_gold) {
  const double threshold = bucc_optimize_threshold(dev_candidates, dev_gold);
  BuccScores scores = bucc_f1(test_gold, bucc_extract(test_candidates, threshold));
  scores.threshold = threshold;
  return scores;
}

}  // namespace stilts::experiments::metrics
