// mAP@20 of the XTREME-R retrieval tasks. The two tasks use different official definitions:
//
// LAReQA (xtreme/third_party/utils_lareqa.py, average_precision_at_k and mean_avg_prec_at_k,
// called with k=20 by evaluate_retrieval.py):
//   AP@k of one question = sum over the top-k ranked candidates that are correct (a candidate
//   repeated in the ranking counts once, at its first position) of hits_so_far / rank, divided
//   by min(number of correct candidates, k) (by the number of correct candidates when k is 0).
//   A correct candidate ranked below k adds nothing to the sum but still counts in the divisor,
//   so with 11 gold answers and only 10 in the top 20 the AP cannot exceed 10/11.
//   The score is the plain mean over ALL questions of all languages pooled (one number for the
//   task, not a mean of per-language numbers); the script prints it as a fraction, here percent.
//   The ranking is numpy's argsort of the dot products, reversed; rank_by_score() reproduces it
//   except among exactly tied scores (numpy's quicksort is not stable).
//
// Mewsli-X (xtreme/third_party/utils_mewslix.py evaluate(k=20), reported by evaluate.py as
// "map@20" = 100 * the value): with a single gold entity per mention this is the mean reciprocal
// rank over the top k: 1 / (1-based position of the first prediction equal to the gold id) within
// the first k predictions, 0 when the gold is not among them; the mean runs over every gold
// example (in gold-file order), a mention missing from the predictions scoring 0. The gold id is
// labels[0].strip() of the gold file's singleton list; predictions are compared unstripped. No
// gold examples gives 0 (the script's `return 0.0`); a gold entry with an empty list throws
// std::invalid_argument (the script raises IndexError), and so does an example id that appears
// twice in the gold (a JSON object cannot hold it twice).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace stilts::experiments::metrics {

// ---- LAReQA

// One question: the indices of its correct candidates (duplicates ignored; the official targets
// come from np.where, so they are unique) and the candidate indices ranked best first.
struct RankedQuery {
  std::vector<std::int64_t> targets;
  std::vector<std::int64_t> ranked;
};

// AP@k as a fraction in [0, 1]; k = 0 means no cut-off. No targets throws std::invalid_argument
// (the script divides by zero).
double average_precision_at_k(const std::vector<std::int64_t>& targets,
                              const std::vector<std::int64_t>& ranked, std::size_t k);

// The mean of AP@k over the queries, in percent (throws when there are none).
double mean_average_precision_at_k(const std::vector<RankedQuery>& queries, std::size_t k);

// The top-k candidate indices by descending score (k = 0: all); among equal scores the higher
// index comes first (a stable ascending sort, reversed).
std::vector<std::int64_t> rank_by_score(const std::vector<float>& scores, std::size_t k);

// ---- Mewsli-X

struct MewslixGold {
  std::string example_id;
  std::vector<std::string> labels;  // the gold file's singleton list
};

struct MewslixScores {
  double map_at_k = 0.0;        // percent, i.e. evaluate.py's "map@20"
  std::size_t unpredicted = 0;  // gold examples missing from the predictions
  std::size_t unexpected = 0;   // predicted examples missing from the gold
};

// 1 / rank of the first prediction equal to gold among the first k (0 if absent); k = 0 means no
// cut-off.
double reciprocal_rank_at_k(const std::string& gold, const std::vector<std::string>& predictions,
                            std::size_t k);

MewslixScores mewslix_evaluate(
    const std::vector<MewslixGold>& gold,
    const std::unordered_map<std::string, std::vector<std::string>>& predictions,
    std::size_t k = 20);

}  // namespace stilts::experiments::metrics
