#include "core/generate.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

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

}  // namespace stilts
