#include "core/generate.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "parallel/vocab_parallel_cross_entropy.h"

namespace stilts {
namespace {

// Pads the inputs into one [B, T] array with pad ids.
std::vector<int32_t> padded_inputs(const std::vector<std::vector<int32_t>>& inputs, int32_t pad_id,
                                   int64_t& length) {
  length = 1;
  for (const auto& input : inputs) length = std::max<int64_t>(length, input.size());
  std::vector<int32_t> ids(inputs.size() * length, pad_id);
  for (size_t i = 0; i < inputs.size(); ++i)
    std::copy(inputs[i].begin(), inputs[i].end(), ids.begin() + i * length);
  return ids;
}

// The next token of every example after `prefixes` (one per example, all of the same length),
// by running the whole model on the prefixes.
std::vector<int32_t> recompute_next(Mt5Model& model,
                                    const std::vector<std::vector<int32_t>>& inputs,
                                    const std::vector<std::vector<int32_t>>& prefixes) {
  const ModelConfig& c = model.params().config();
  // The decoder sees the start token and the prefix; the label after the prefix is a
  // placeholder whose loss nobody reads.
  std::vector<std::vector<int32_t>> labels = prefixes;
  for (auto& label : labels) label.push_back(c.pad_token_id);
  const Batch batch = make_batch(inputs, labels, c.pad_token_id);
  model.forward(batch, {});
  Tensor predicted({batch.batch_size * batch.target_len}, DType::i32, model.params().device());
  model.predicted_tokens(predicted);
  const Tensor host = predicted.to(Device::cpu);
  std::vector<int32_t> next;
  const int64_t last = static_cast<int64_t>(prefixes.front().size());
  for (int64_t i = 0; i < batch.batch_size; ++i)
    next.push_back(host.data<int32_t>()[i * batch.target_len + last]);
  return next;
}

}  // namespace

std::vector<std::vector<int32_t>> greedy_decode(Mt5Model& model,
                                                const std::vector<std::vector<int32_t>>& inputs,
                                                const GreedyOptions& options) {
  if (inputs.empty()) return {};
  if (options.max_length < 1) throw std::invalid_argument("greedy_decode: max_length must be >= 1");
  const ModelConfig& c = model.params().config();
  const auto b = static_cast<int64_t>(inputs.size());
  std::vector<std::vector<int32_t>> generated(b);
  std::vector<bool> done(b, false);

  std::optional<DecoderCache> cache;
  if (options.use_cache) {
    int64_t length = 0;
    const std::vector<int32_t> ids = padded_inputs(inputs, c.pad_token_id, length);
    model.encode(ids, b, length);
    cache = model.start_decoding();
  }
  // Finished examples keep decoding pad tokens (their outputs are dropped), so every example
  // stays at the same position and the batch shape never changes.
  std::vector<std::vector<int32_t>> prefixes(b);
  std::vector<int32_t> tokens(b, c.decoder_start_token_id);
  for (int64_t position = 0; position < options.max_length; ++position) {
    std::vector<int32_t> next;
    if (cache) {
      model.decode_step(tokens, *cache);
      Tensor predicted({b}, DType::i32, model.params().device());
      model.predicted_tokens(predicted);
      const Tensor host = predicted.to(Device::cpu);
      next.assign(host.data<int32_t>(), host.data<int32_t>() + b);
    } else {
      next = recompute_next(model, inputs, prefixes);
    }
    bool all_done = true;
    for (int64_t i = 0; i < b; ++i) {
      const int32_t token = done[i] ? c.pad_token_id : next[i];
      if (!done[i]) {
        if (token == c.eos_token_id)
          done[i] = true;
        else
          generated[i].push_back(token);
      }
      prefixes[i].push_back(token);
      tokens[i] = token;
      all_done = all_done && done[i];
    }
    if (all_done) break;
  }
  return generated;
}

std::vector<RankedCandidates> rank_classify(
    Mt5Model& model, const std::vector<std::vector<int32_t>>& inputs,
    const std::vector<std::vector<std::vector<int32_t>>>& candidates, int64_t batch_pairs) {
  if (inputs.size() != candidates.size())
    throw std::invalid_argument("rank_classify: " + std::to_string(inputs.size()) +
                                " inputs but candidates for " + std::to_string(candidates.size()));
  if (batch_pairs < 1) throw std::invalid_argument("rank_classify: batch_pairs must be >= 1");
  const ModelConfig& c = model.params().config();
  std::vector<RankedCandidates> results(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (candidates[i].empty())
      throw std::invalid_argument("rank_classify: example " + std::to_string(i) +
                                  " has no candidate");
    results[i].log_likelihoods.assign(candidates[i].size(), 0.0);
  }
  VocabParallelCrossEntropy loss(model.tp(), c.vocab_size, kIgnoreIndex);
  // Examples in groups of at most batch_pairs candidates (at least one example): each group's
  // inputs are encoded once, and incremental decoding scores every candidate against its
  // example's encoding (the cross-attention keys and values computed once per example), one
  // target position per step (teacher forcing).
  for (size_t first = 0; first < inputs.size();) {
    size_t last = first, pairs = 0;
    while (last < inputs.size() &&
           (last == first || pairs + candidates[last].size() <= static_cast<size_t>(batch_pairs)))
      pairs += candidates[last++].size();
    int64_t length = 0;
    const std::vector<std::vector<int32_t>> group(inputs.begin() + first, inputs.begin() + last);
    const std::vector<int32_t> ids = padded_inputs(group, c.pad_token_id, length);
    model.encode(ids, static_cast<int64_t>(group.size()), length);
    struct Row {
      size_t example, candidate;
    };
    std::vector<Row> pair_rows;
    std::vector<int64_t> encoding_of_row;
    size_t target_length = 0;
    for (size_t e = first; e < last; ++e)
      for (size_t k = 0; k < candidates[e].size(); ++k) {
        pair_rows.push_back({e, k});
        encoding_of_row.push_back(static_cast<int64_t>(e - first));
        target_length = std::max(target_length, candidates[e][k].size());
      }
    DecoderCache cache = model.start_decoding(encoding_of_row);
    const auto rows = static_cast<int64_t>(pairs);
    std::vector<int32_t> tokens(rows);
    Tensor targets({rows}, DType::i32);
    for (size_t position = 0; position < target_length; ++position) {
      for (size_t r = 0; r < pair_rows.size(); ++r) {
        const std::vector<int32_t>& label =
            candidates[pair_rows[r].example][pair_rows[r].candidate];
        tokens[r] = position == 0                 ? c.decoder_start_token_id
                    : position - 1 < label.size() ? label[position - 1]
                                                  : c.pad_token_id;
        targets.data<int32_t>()[r] = position < label.size() ? label[position] : kIgnoreIndex;
      }
      const Tensor& logits = model.decode_step(tokens, cache);
      Tensor nll({rows}, DType::f32, logits.device());
      loss.forward(logits, targets.to(logits.device()), 0.0f, nll);
      const Tensor host = nll.to(Device::cpu);
      for (size_t r = 0; r < pair_rows.size(); ++r)
        results[pair_rows[r].example].log_likelihoods[pair_rows[r].candidate] -=
            host.data<float>()[r];
    }
    first = last;
  }
  for (RankedCandidates& r : results)
    r.best = static_cast<int>(std::max_element(r.log_likelihoods.begin(), r.log_likelihoods.end()) -
                              r.log_likelihoods.begin());
  return results;
}

namespace {

// The tag set as a trie of token ids: node 0 is the root (a word's start); a node's children in
// tag-set order, and the tag that ends at it (-1: none).
struct TagTrie {
  struct Node {
    std::vector<std::pair<int32_t, int>> children;
    int tag = -1;
  };
  std::vector<Node> nodes{1};

  int child(int node, int32_t token) const {
    for (const auto& [t, next] : nodes[static_cast<size_t>(node)].children)
      if (t == token) return next;
    return -1;
  }
};

TagTrie build_trie(const std::vector<std::vector<int32_t>>& tags, int32_t eos_token) {
  if (tags.empty()) throw std::invalid_argument("decode_tags: the tag set is empty");
  TagTrie trie;
  for (size_t k = 0; k < tags.size(); ++k) {
    if (tags[k].empty())
      throw std::invalid_argument("decode_tags: tag " + std::to_string(k) + " has no tokens");
    int node = 0;
    for (int32_t token : tags[k]) {
      if (token == eos_token)
        throw std::invalid_argument("decode_tags: tag " + std::to_string(k) + " contains eos");
      int next = trie.child(node, token);
      if (next < 0) {
        next = static_cast<int>(trie.nodes.size());
        trie.nodes[static_cast<size_t>(node)].children.emplace_back(token, next);
        trie.nodes.emplace_back();
      }
      node = next;
    }
    int& tag = trie.nodes[static_cast<size_t>(node)].tag;
    if (tag >= 0)
      throw std::invalid_argument("decode_tags: tags " + std::to_string(tag) + " and " +
                                  std::to_string(k) + " have the same tokens");
    tag = static_cast<int>(k);
  }
  return trie;
}

}  // namespace

std::vector<std::vector<int>> constrained_tag_search(const std::vector<int64_t>& words,
                                                     const std::vector<std::vector<int32_t>>& tags,
                                                     int32_t start_token, int32_t eos_token,
                                                     int32_t pad_token,
                                                     const NextTokenScorer& score) {
  const TagTrie trie = build_trie(tags, eos_token);
  const size_t rows = words.size();
  std::vector<std::vector<int>> out(rows);
  std::vector<int> node(rows, 0);
  std::vector<bool> done(rows, false);
  std::vector<int32_t> fed(rows, start_token);
  for (size_t r = 0; r < rows; ++r)
    if (words[r] < 0) throw std::invalid_argument("decode_tags: a negative word count");
  while (true) {
    // Each row's allowed tokens: the continuations of its current tag; after a complete tag
    // (or at the start), the first tokens of every tag while words remain, else eos.
    std::vector<std::vector<int32_t>> allowed(rows);
    bool any = false;
    for (size_t r = 0; r < rows; ++r) {
      if (done[r]) continue;
      any = true;
      const TagTrie::Node& n = trie.nodes[static_cast<size_t>(node[r])];
      for (const auto& [token, next] : n.children) allowed[r].push_back(token);
      const bool at_word_end = node[r] == 0 || n.tag >= 0;
      if (!at_word_end) continue;
      const int64_t finished = static_cast<int64_t>(out[r].size()) + (node[r] == 0 ? 0 : 1);
      if (node[r] != 0 && finished < words[r]) {
        for (const auto& [token, next] : trie.nodes[0].children)
          if (trie.child(node[r], token) < 0) allowed[r].push_back(token);
      } else if (finished >= words[r]) {
        if (node[r] == 0) allowed[r].clear();  // no words: eos alone
        allowed[r].push_back(eos_token);
      }
    }
    if (!any) break;
    const std::vector<std::vector<double>> scores = score(fed, allowed);
    if (scores.size() != rows)
      throw std::logic_error("decode_tags: the scorer returned " + std::to_string(scores.size()) +
                             " rows for " + std::to_string(rows));
    for (size_t r = 0; r < rows; ++r) {
      if (done[r]) {
        fed[r] = pad_token;
        continue;
      }
      if (scores[r].size() != allowed[r].size())
        throw std::logic_error("decode_tags: the scorer returned a wrong number of scores");
      size_t best = 0;
      for (size_t j = 1; j < allowed[r].size(); ++j)
        if (scores[r][j] > scores[r][best]) best = j;
      const int32_t token = allowed[r][best];
      fed[r] = token;
      if (const int next = trie.child(node[r], token); next >= 0) {
        node[r] = next;
        continue;
      }
      // The current tag is complete: it ends here, and the token starts the next one or ends.
      if (node[r] != 0) out[r].push_back(trie.nodes[static_cast<size_t>(node[r])].tag);
      if (token == eos_token) {
        done[r] = true;
        node[r] = 0;
      } else {
        node[r] = trie.child(0, token);
      }
    }
  }
  return out;
}

std::vector<std::vector<int>> decode_tags(Mt5Model& model,
                                          const std::vector<std::vector<int32_t>>& inputs,
                                          const std::vector<int64_t>& words,
                                          const std::vector<std::vector<int32_t>>& tags) {
  if (inputs.size() != words.size())
    throw std::invalid_argument("decode_tags: " + std::to_string(inputs.size()) +
                                " inputs but word counts for " + std::to_string(words.size()));
  const ModelConfig& c = model.params().config();
  build_trie(tags, c.eos_token_id);  // refuses a bad tag set before the model runs
  if (inputs.empty()) return {};
  const auto b = static_cast<int64_t>(inputs.size());
  int64_t length = 0;
  const std::vector<int32_t> ids = padded_inputs(inputs, c.pad_token_id, length);
  model.encode(ids, b, length);
  DecoderCache cache = model.start_decoding();
  VocabParallelCrossEntropy loss(model.tp(), c.vocab_size, kIgnoreIndex);
  // log p of an allowed token is minus its cross-entropy as the target, which the vocab-parallel
  // loss computes without gathering the logits: one pass per allowed slot.
  const NextTokenScorer score = [&](const std::vector<int32_t>& fed,
                                    const std::vector<std::vector<int32_t>>& allowed) {
    const Tensor& logits = model.decode_step(fed, cache);
    size_t slots = 0;
    for (const auto& a : allowed) slots = std::max(slots, a.size());
    std::vector<std::vector<double>> scores(allowed.size());
    Tensor targets({b}, DType::i32);
    Tensor nll({b}, DType::f32, logits.device());
    for (size_t s = 0; s < slots; ++s) {
      for (int64_t r = 0; r < b; ++r) {
        const auto& a = allowed[static_cast<size_t>(r)];
        targets.data<int32_t>()[r] = s < a.size() ? a[s] : kIgnoreIndex;
      }
      loss.forward(logits, targets.to(logits.device()), 0.0f, nll);
      const Tensor host = nll.to(Device::cpu);
      for (int64_t r = 0; r < b; ++r)
        if (s < allowed[static_cast<size_t>(r)].size())
          scores[static_cast<size_t>(r)].push_back(-static_cast<double>(host.data<float>()[r]));
    }
    return scores;
  };
  return constrained_tag_search(words, tags, c.decoder_start_token_id, c.eos_token_id,
                                c.pad_token_id, score);
}

}  // namespace stilts
