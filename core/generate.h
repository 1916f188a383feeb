// Inference for evaluation: batched greedy decoding with a key/value cache (the model's
// incremental decoding, through the training decoder's layers), and rank classification (each
// candidate scored by its log-likelihood). Both run under tensor parallelism exactly like
// training: every rank of the model's TP group passes the same examples, the layers issue
// their all-reduces, and the vocabulary stays split (the argmax and the log-likelihoods are
// vocab-parallel), so every rank returns the same result.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model.h"

namespace stilts {

struct GreedyOptions {
  int64_t max_length = 64;  // generated tokens per example, eos included
  // false: every step runs the whole model on the prefix so far (the reference the cache is
  // tested against, and the benchmark's baseline).
  bool use_cache = true;
};

// Token ids (each sequence ends with eos, as prepared corpora do) -> the generated ids of each
// example, without the final eos; an example that reaches max_length without eos keeps all it
// generated. Dropout is off.
std::vector<std::vector<int32_t>> greedy_decode(Mt5Model& model,
                                                const std::vector<std::vector<int32_t>>& inputs,
                                                const GreedyOptions& options = {});

struct RankedCandidates {
  int best = 0;                         // the candidate with the highest log-likelihood
  std::vector<double> log_likelihoods;  // per candidate: sum over its tokens of log p
};

// candidates[i]: example i's label strings as token ids (each ending with eos); every example
// needs at least one. Each input is encoded once and all its candidates are scored against that
// encoding by incremental decoding, in groups of examples of at most batch_pairs candidates (one
// example alone when it has more).
std::vector<RankedCandidates> rank_classify(
    Mt5Model& model, const std::vector<std::vector<int32_t>>& inputs,
    const std::vector<std::vector<std::vector<int32_t>>>& candidates, int64_t batch_pairs = 64);

}  // namespace stilts
