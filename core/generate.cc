#include "core/generate.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"
#include "parallel/tensor_parallel.h"
#include "parallel/vocab_parallel_argmax.h"
#include "parallel/vocab_parallel_cross_entropy.h"

namespace stilts {
namespace {

// x [B, ...] -> [rows.size(), ...]: row r is a copy of x's row rows[r]. A lookup of whole rows
// by index is what the embedding op does, in one call on any device.
Tensor select_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t n = static_cast<int64_t>(rows.size()), row_size = x.numel() / x.dim(0);
  Tensor ids({n}, DType::i32);
  std::transform(rows.begin(), rows.end(), ids.data<int32_t>(),
                 [](int64_t row) { return static_cast<int32_t>(row); });
  Shape shape = x.shape();
  shape[0] = n;
  Tensor out(shape, x.dtype(), x.device());
  Tensor table_rows = out.reshape({n, row_size});
  ops::embedding_forward(ids.to(x.device()), x.reshape({x.dim(0), row_size}), table_rows);
  return out;
}

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

// y = x · Wᵀ for x [N, in] and W [out, in] into a fresh [N, out] like x.
Tensor project(const Tensor& x, const Tensor& weight) {
  Tensor y({x.dim(0), weight.dim(0)}, x.dtype(), x.device());
  ops::matmul(x, false, weight, true, y);
  return y;
}

// The decoder run one position at a time. Self-attention keys and values of the positions
// so far are kept per layer; the cross-attention ones are computed once from the encoder
// output. Each step's math is the training decoder's on one query position, on the
// parameters' device with their compute copy. With `rows`, decoder row r reads the encoding of
// example rows[r] (several rows may share one: rank classification's candidates), else row r
// reads example r.
class CachedDecoder {
 public:
  CachedDecoder(Mt5Model& model, const Tensor& encoder_out, const Tensor& encoder_mask,
                const std::vector<int64_t>& rows = {})
      : params_(model.params()),
        tp_(model.tp()),
        c_(params_.config()),
        heads_(c_.num_heads / params_.shard().size),
        encoder_mask_(rows.empty() ? encoder_mask : select_rows(encoder_mask, rows)) {
    const int64_t b = encoder_out.dim(0), t = encoder_out.dim(1);
    const Tensor flat = encoder_out.reshape({b * t, c_.d_model});
    for (int64_t i = 0; i < c_.num_decoder_layers; ++i) {
      const std::string cross = layer(i) + ".layer.1.EncDecAttention.";
      const int64_t inner = weight(cross + "k.weight").dim(0);
      Tensor k = project(flat, weight(cross + "k.weight")).reshape({b, t, inner});
      Tensor v = project(flat, weight(cross + "v.weight")).reshape({b, t, inner});
      cross_k_.push_back(rows.empty() ? k : select_rows(k, rows));
      cross_v_.push_back(rows.empty() ? v : select_rows(v, rows));
      self_k_.emplace_back();
      self_v_.emplace_back();
    }
  }

  // tokens i32 [B] on the host at position `position` (0 = the start token) -> this rank's
  // logits [B, V/tp] of the next token, on the parameters' device.
  Tensor step(const Tensor& tokens, int64_t position) {
    const int64_t b = tokens.numel(), d = c_.d_model;
    const Device device = params_.device();
    Tensor x({b, d}, params_.activation_dtype(), device);
    const Tensor& table = weight("shared.weight");
    ops::embedding_forward(tokens.to(device), table, x, table.dim(0) * params_.shard().rank,
                           c_.vocab_size);
    reduce_from_tp_forward(tp_, x);

    const Tensor buckets = ops::relative_position_buckets(
        1, position + 1, position, false, static_cast<int>(c_.relative_attention_num_buckets),
        static_cast<int>(c_.relative_attention_max_distance));
    Tensor bias({heads_, 1, position + 1}, params_.activation_dtype(), device);
    ops::position_bias_forward(
        buckets.to(device),
        weight("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"), bias);

    for (int64_t i = 0; i < c_.num_decoder_layers; ++i) {
      const std::string self = layer(i) + ".layer.0.SelfAttention.";
      Tensor normed = norm(x, layer(i) + ".layer.0.layer_norm.weight");
      append(self_k_[i], project(normed, weight(self + "k.weight")));
      append(self_v_[i], project(normed, weight(self + "v.weight")));
      residual(x, attend(project(normed, weight(self + "q.weight")), self_k_[i], self_v_[i], bias,
                         Tensor(), weight(self + "o.weight")));

      const std::string cross = layer(i) + ".layer.1.EncDecAttention.";
      normed = norm(x, layer(i) + ".layer.1.layer_norm.weight");
      residual(x, attend(project(normed, weight(cross + "q.weight")), cross_k_[i], cross_v_[i],
                         Tensor(), encoder_mask_, weight(cross + "o.weight")));

      const std::string ff = layer(i) + ".layer.2.DenseReluDense.";
      normed = norm(x, layer(i) + ".layer.2.layer_norm.weight");
      const Tensor gate = project(normed, weight(ff + "wi_0.weight"));
      const Tensor linear = project(normed, weight(ff + "wi_1.weight"));
      Tensor hidden(gate.shape(), gate.dtype(), gate.device());
      ops::gated_gelu_forward(gate, linear, hidden);
      Tensor out = project(hidden, weight(ff + "wo.weight"));
      reduce_from_tp_forward(tp_, out);
      residual(x, out);
    }
    return project(norm(x, "decoder.final_layer_norm.weight"), weight("lm_head.weight"));
  }

 private:
  static std::string layer(int64_t i) { return "decoder.block." + std::to_string(i); }

  Tensor& weight(const std::string& name) { return params_.compute_value(name); }

  Tensor norm(const Tensor& x, const std::string& weight_name) {
    Tensor out(x.shape(), x.dtype(), x.device()), rstd({x.dim(0)}, DType::f32, x.device());
    ops::rmsnorm_forward(x, weight(weight_name), static_cast<float>(c_.layer_norm_epsilon), out,
                         rstd);
    return out;
  }

  static void residual(Tensor& x, const Tensor& sublayer) { ops::add_inplace(x, sublayer); }

  // The cache [B, L, inner] grown by one position from row [B, inner].
  static void append(Tensor& cache, const Tensor& row) {
    const int64_t b = row.dim(0), inner = row.dim(1);
    const int64_t length = cache.defined() ? cache.dim(1) : 0;
    Tensor grown({b, length + 1, inner}, row.dtype(), row.device());
    for (int64_t i = 0; i < b; ++i) {
      Tensor old_part = grown.slice(i * (length + 1) * inner, {length * inner});
      if (length > 0) ops::copy(cache.slice(i * length * inner, {length * inner}), old_part);
      Tensor new_part = grown.slice((i * (length + 1) + length) * inner, {inner});
      ops::copy(row.slice(i * inner, {inner}), new_part);
    }
    cache = grown;
  }

  // One query position per example against keys/values [B, L, inner]; the row-parallel
  // output projection's partial sums all-reduced.
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                const Tensor& key_mask, const Tensor& output_weight) {
    const int64_t b = q.dim(0), inner = q.dim(1), length = k.dim(1);
    Tensor probs({b, heads_, 1, length}, q.dtype(), q.device());
    Tensor context({b, 1, inner}, q.dtype(), q.device());
    ops::attention_forward(q.reshape({b, 1, inner}), k, v, bias, key_mask,
                           {heads_, false, 0.0f, RngKey{}}, probs, context);
    Tensor out = project(context.reshape({b, inner}), output_weight);
    reduce_from_tp_forward(tp_, out);
    return out;
  }

  Parameters& params_;
  Communicator& tp_;
  const ModelConfig& c_;
  int64_t heads_;
  Tensor encoder_mask_;
  std::vector<Tensor> self_k_, self_v_, cross_k_, cross_v_;
};

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

  std::unique_ptr<CachedDecoder> decoder;
  if (options.use_cache) {
    int64_t length = 0;
    const std::vector<int32_t> ids = padded_inputs(inputs, c.pad_token_id, length);
    model.encode(ids, b, length);
    decoder = std::make_unique<CachedDecoder>(model, model.encoder_output(), model.encoder_mask());
  }
  // Finished examples keep decoding pad tokens (their outputs are dropped), so every example
  // stays at the same position and the batch shape never changes.
  std::vector<std::vector<int32_t>> prefixes(b);
  Tensor tokens({b}, DType::i32);
  for (int64_t i = 0; i < b; ++i) tokens.data<int32_t>()[i] = c.decoder_start_token_id;
  for (int64_t position = 0; position < options.max_length; ++position) {
    std::vector<int32_t> next;
    if (decoder) {
      const Tensor logits = decoder->step(tokens, position);
      Tensor predicted({b}, DType::i32, logits.device());
      vocab_parallel_argmax(model.tp(), logits, logits.dim(1) * model.params().shard().rank,
                            predicted);
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
      tokens.data<int32_t>()[i] = token;
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
  // inputs are encoded once, and the cached decoder scores every candidate against its example's
  // encoding (the cross-attention keys and values computed once per example), one target position
  // per step (teacher forcing).
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
    CachedDecoder decoder(model, model.encoder_output(), model.encoder_mask(), encoding_of_row);
    const auto rows = static_cast<int64_t>(pairs);
    Tensor tokens({rows}, DType::i32), targets({rows}, DType::i32);
    for (size_t position = 0; position < target_length; ++position) {
      for (size_t r = 0; r < pair_rows.size(); ++r) {
        const std::vector<int32_t>& label =
            candidates[pair_rows[r].example][pair_rows[r].candidate];
        tokens.data<int32_t>()[r] = position == 0                 ? c.decoder_start_token_id
                                    : position - 1 < label.size() ? label[position - 1]
                                                                  : c.pad_token_id;
        targets.data<int32_t>()[r] = position < label.size() ? label[position] : kIgnoreIndex;
      }
      const Tensor logits = decoder.step(tokens, static_cast<int64_t>(position));
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
