// The multilingual mixture sampler: which example of which corpus comes next, on one DP rank.
//
// Sources (corpora) are mixed with probabilities from explicit weights, from per-task weights
// (task_weighted: what the study's regimes share, see experiments/scaling/README.md) or
// proportional to size^alpha (mT5's alpha = 0.3 boosts small languages). Draw d picks its source
// from a counter-based hash of (seed, d), so every rank that shares the seed draws the same source
// sequence without communicating; the TP ranks of a DP group pass the same rank and therefore
// draw identical streams.
//
// Each source is shuffled per epoch by a Fisher-Yates over std::mt19937_64 seeded from
// (seed, source, epoch), with explicit integer arithmetic, so every standard library gives the
// same permutation. DP rank r of w takes the positions r, r + w, r + 2w, ... of that
// permutation: with n = q * w + m examples, ranks below m take q + 1 and the others q. The
// shares are disjoint and together cover the epoch exactly once; a source needs at least w
// examples so that no share is empty. A rank that exhausts its share of a source starts that
// source's next epoch (a new permutation), independently of the other sources and ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace stilts::data {

struct SamplerOptions {
  std::vector<double> weights;  // one per source, normalized here; empty = size^alpha
  // Per task (a corpus's `task` attribute); CorpusBatcher turns them into `weights` with
  // task_weighted. The sampler itself knows no tasks and refuses them unresolved.
  std::map<std::string, double> task_weights;
  double alpha = 0.3;
  uint64_t seed = 0;
  int64_t rank = 0;   // dp_rank
  int64_t world = 1;  // dp_size
};

// Example `index` of source `source`.
struct SampleRef {
  size_t source = 0;
  uint64_t index = 0;
  bool operator==(const SampleRef&) const = default;
};

// Probabilities proportional to size^alpha. Throws std::invalid_argument for no sources, an
// empty source or a negative alpha.
std::vector<double> mixture_probabilities(const std::vector<uint64_t>& sizes, double alpha);

// "mnli=1,squad=1" (items trimmed of spaces): one non-negative weight per task, as stilts train
// --task-weights and the grids' task_weights key write them. Throws std::invalid_argument naming
// the item that is not task=weight, a task given twice, or an empty list.
std::map<std::string, double> parse_task_weights(const std::string& text);

// Per-source weights from per-task weights: a task's weight is shared among its sources in
// proportion to their sizes, so a task weighs the same whether it comes as one English corpus
// or as the English corpus and its translations, and within a task every example is equally
// likely (an English example and each of its translations alike). Throws std::invalid_argument
// naming the task for a source whose task has no weight, a weight for a task no source has, or
// a weight that is negative, not finite, or all zero.
std::vector<double> task_weighted(const std::vector<std::string>& source_tasks,
                                  const std::vector<uint64_t>& sizes,
                                  const std::map<std::string, double>& task_weights);

// Whether the example with this id is in the seeded subset of about `fraction` of a task's
// examples: a hash of (seed, id) below fraction. It depends on the id alone, so corpora whose
// ids name the same source example (a task's English file and its line-aligned translations)
// keep the same source examples in every language. fraction 1 keeps all.
bool in_source_subset(std::string_view id, double fraction, uint64_t seed);

// The permutation of [0, size) that source `source` follows in `epoch`.
std::vector<uint64_t> epoch_permutation(uint64_t size, uint64_t seed, uint64_t source,
                                        uint64_t epoch);

class MixtureSampler {
 public:
  // Throws std::invalid_argument on inconsistent options (weights count or sign, rank outside
  // [0, world), a source smaller than world).
  MixtureSampler(std::vector<uint64_t> sizes, SamplerOptions options);

  SampleRef next();

  const std::vector<double>& probabilities() const { return probabilities_; }
  // How many examples of `source` this rank takes per epoch.
  uint64_t share_size(size_t source) const;
  // This rank's examples of `source` in `epoch`, in the order next() yields them.
  std::vector<uint64_t> epoch_share(size_t source, uint64_t epoch) const;

  // {"draw", "sources": [{"epoch", "position"}...], "sizes", "seed", "rank", "world"}; the
  // last four only guard restore against a different configuration.
  nlohmann::json state() const;
  // Throws std::invalid_argument when `state` was saved for other sources, seed or rank.
  void restore(const nlohmann::json& state);

 private:
  struct Cursor {
    uint64_t epoch = 0;
    uint64_t position = 0;  // within this rank's share
    std::vector<uint64_t> share;
  };

  std::vector<uint64_t> sizes_;
  SamplerOptions options_;
  std::vector<double> probabilities_;
  std::vector<double> cumulative_;
  uint64_t draw_ = 0;
  std::vector<Cursor> cursors_;
};

}  // namespace stilts::data
