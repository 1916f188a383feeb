#include "core/sentence_embedding.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"

namespace stilts {
namespace {

// Rows scaled to unit L2 norm (a zero row stays zero).
Tensor unit_rows(const Tensor& x) {
  Tensor out = x.clone();
  const int64_t n = x.dim(0), d = x.dim(1);
  for (int64_t i = 0; i < n; ++i) {
    Tensor row = out.slice(i * d, {d});
    const double norm = std::sqrt(ops::sum_squares(row));
    if (norm > 0) ops::scale_inplace(row, static_cast<float>(1.0 / norm));
  }
  return out;
}

// t as f32 on the host: cast on its device (the encoder's hidden states are bf16 on the GPU),
// then copied; a host f32 tensor is itself.
Tensor host_f32(const Tensor& t) {
  if (t.device() == Device::cpu && t.dtype() == DType::f32) return t;
  Tensor f32(t.shape(), DType::f32, t.device());
  ops::cast(t, f32);
  return f32.to(Device::cpu);
}

}  // namespace

Tensor sentence_embeddings(Mt5Model& model, const std::vector<std::vector<int32_t>>& inputs,
                           int64_t layer, int64_t batch_size) {
  const ModelConfig& c = model.params().config();
  if (layer < 0 || layer > c.num_layers)
    throw std::invalid_argument("sentence_embeddings: layer " + std::to_string(layer) +
                                " is not in 0.." + std::to_string(c.num_layers));
  if (batch_size < 1) throw std::invalid_argument("sentence_embeddings: batch_size must be >= 1");
  const auto n = static_cast<int64_t>(inputs.size());
  Tensor out({n, c.d_model});
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t b = std::min(batch_size, n - first);
    int64_t length = 1;
    for (int64_t i = first; i < first + b; ++i)
      length = std::max<int64_t>(length, inputs[i].size());
    std::vector<int32_t> ids(b * length, c.pad_token_id);
    for (int64_t i = 0; i < b; ++i)
      std::copy(inputs[first + i].begin(), inputs[first + i].end(), ids.begin() + i * length);
    model.encode(ids, b, length);
    const Tensor hidden = host_f32(model.encoder_hidden_state(layer));
    const Tensor host_mask = host_f32(model.encoder_mask());
    const float* mask = host_mask.data<float>();
    for (int64_t i = 0; i < b; ++i) {
      Tensor pooled = out.slice((first + i) * c.d_model, {c.d_model});
      const double tokens = std::accumulate(mask + i * length, mask + (i + 1) * length, 0.0);
      for (int64_t t = 0; t < length; ++t)
        if (mask[i * length + t] != 0.0f)
          ops::add_inplace(pooled, hidden.slice((i * length + t) * c.d_model, {c.d_model}));
      if (tokens > 0) ops::scale_inplace(pooled, static_cast<float>(1.0 / tokens));
    }
  }
  return out;
}

Neighbors nearest_by_cosine(const Tensor& queries, const Tensor& candidates, int64_t k) {
  if (queries.rank() != 2 || candidates.rank() != 2 || queries.dim(1) != candidates.dim(1))
    throw std::invalid_argument("nearest_by_cosine: queries " + queries.describe() +
                                " and candidates " + candidates.describe() +
                                " must be matrices of the same width");
  if (k < 1) throw std::invalid_argument("nearest_by_cosine: k must be >= 1");
  const int64_t nq = queries.dim(0), nc = candidates.dim(0);
  k = std::min(k, nc);
  Tensor similarity({nq, nc});
  ops::matmul(unit_rows(queries), false, unit_rows(candidates), true, similarity);
  Neighbors result;
  std::vector<int64_t> order(nc);
  for (int64_t q = 0; q < nq; ++q) {
    const float* row = similarity.data<float>() + q * nc;
    std::iota(order.begin(), order.end(), int64_t{0});
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
      return row[a] > row[b] || (row[a] == row[b] && a < b);
    });
    result.indices.emplace_back(order.begin(), order.begin() + k);
    std::vector<float> scores;
    for (int64_t j = 0; j < k; ++j) scores.push_back(row[order[j]]);
    result.similarities.push_back(std::move(scores));
  }
  return result;
}

}  // namespace stilts
