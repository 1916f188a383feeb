// BUCC 2018 bitext mining F1, as XTREME scores it:
//
//   bucc_f1 (evaluate.py bucc_f1): predicted and gold are SETS of (source id, target id) pairs;
//     correct = |gold ∩ predicted|, precision = correct / |predicted|, recall = correct / |gold|,
//     F1 = 2PR / (P + R); all three 0 when nothing is correct. Percent.
//
//   threshold selection (xtreme/third_party/utils_retrieve.py bucc_optimize, bucc_extract,
//   read_candidate2score):
//     * candidates: each (source id, target id) keeps the maximum of its scores (first-seen order);
//     * sorted by descending score, ties in first-seen order (Python's stable sorted);
//     * walking down that list, after each candidate: with ncorrect > 0, P = ncorrect / nextract,
//       R = ncorrect / |gold|, F1 = 2PR / (P + R); when F1 is strictly above the best so far, the
//       threshold becomes the midpoint of this candidate's score and the next one's;
//     * threshold 0 when no candidate is correct;
//     * extraction keeps every candidate whose score is >= the threshold.
//   The script would raise IndexError when the best F1 is reached at the last candidate (there is
//   no next score); here the threshold is then that last score, which extracts every candidate.
//
//   evaluate_retrieval.py passes its --threshold (default -1) to bucc_eval, which ignores it as
//   soon as a gold file exists and re-optimizes on the gold of the same split, so the official
//   code never carries a dev threshold over to test by itself. bucc_evaluate() does what XTREME
//   describes and this project needs: optimize on dev, extract test with that threshold, score
//   test with bucc_f1.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace stilts::experiments::metrics {

using BuccPair = std::pair<std::string, std::string>;  // (source id, target id)

struct BuccCandidate {
  std::string source;
  std::string target;
  double score = 0.0;
};

struct BuccScores {
  double precision = 0.0;  // percent
  double recall = 0.0;     // percent
  double f1 = 0.0;         // percent
  std::size_t correct = 0;
  std::size_t predicted = 0;  // distinct predicted pairs
  std::size_t gold = 0;       // distinct gold pairs
  double threshold = 0.0;     // the threshold used for extraction (bucc_evaluate only)
};

BuccScores bucc_f1(const std::vector<BuccPair>& gold, const std::vector<BuccPair>& predicted);

double bucc_optimize_threshold(const std::vector<BuccCandidate>& candidates,
                               const std::vector<BuccPair>& gold);

// Distinct pairs whose (maximum) score is >= threshold, in first-seen order.
std::vector<BuccPair> bucc_extract(const std::vector<BuccCandidate>& candidates, double threshold);

BuccScores bucc_evaluate(const std::vector<BuccCandidate>& dev_candidates,
                         const std::vector<BuccPair>& dev_gold,
                         const std::vector<BuccCandidate>& test_candidates,
                         const std::vector<BuccPair>& test_gold);

}  // namespace stilts::experiments::metrics
