// Inference for evaluation: batched greedy decoding with a key/value cache (the model's
// incremental decoding, through the training decoder's layers), and rank classification (each
// candidate scored by its log-likelihood). Both run under tensor parallelism exactly like
// training: every rank of the model's TP group passes the same examples, the layers issue
// their all-reduces, and the vocabulary stays split (the argmax and the log-likelihoods are
// vocab-parallel), so every rank returns the same result.
#pragma once

#include <cstdint>
#include <functional>
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

// Tagging (UD-POS, PAN-X): exactly words[i] tags for example i, each one of `tags`, by greedy
// decoding constrained to the tag set. tags[k] is tag k's token ids as the tag is tokenized
// inside a target (the tags joined by spaces: each tag's first piece carries the word boundary,
// so a tag's ids are the same alone and in a sentence; no eos). At each step the decoder may
// emit only a token that continues a tag of the set from what it has emitted of the current
// word; once a tag is complete, the next token must start the next word's tag, or be eos after
// the last word's. Among the allowed tokens the likeliest is taken. A token that would both
// continue the current tag and start the next one continues it. Returns each example's tag
// indices, one per word. Throws std::invalid_argument for an empty tag set, an empty tag, eos
// inside a tag, two tags with the same ids, or words.size() != inputs.size().
std::vector<std::vector<int>> decode_tags(Mt5Model& model,
                                          const std::vector<std::vector<int32_t>>& inputs,
                                          const std::vector<int64_t>& words,
                                          const std::vector<std::vector<int32_t>>& tags);

// The model behind decode_tags, for tests: fed[r] is row r's token at this step (the decoder
// start token first, pad once the row is done); returns, per row, the log-probability of the
// next token being each of allowed[r] (an empty allowed[r]: a finished row, scored as nothing).
using NextTokenScorer = std::function<std::vector<std::vector<double>>(
    const std::vector<int32_t>& fed, const std::vector<std::vector<int32_t>>& allowed)>;

// decode_tags' search alone, over `score`.
std::vector<std::vector<int>> constrained_tag_search(const std::vector<int64_t>& words,
                                                     const std::vector<std::vector<int32_t>>& tags,
                                                     int32_t start_token, int32_t eos_token,
                                                     int32_t pad_token,
                                                     const NextTokenScorer& score);

}  // namespace stilts
