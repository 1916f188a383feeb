
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm.h"

namespace stilts::cpu {
namespace {

// One (batch, head) pair's view of the [B, L, H*Dh] activations: a matrix with leading
// dimension `width`, so GEMMs read the head's columns in place.
struct Layout {
  int64_t batch, heads, q_len, k_len, head_dim, width;
  Layout(const Tensor& q, const Tensor& k, int64_t num_heads)
      : batch(q.dim(0)),
        heads(num_heads),
        q_len(q.dim(1)),
        k_len(k.dim(1)),
        head_dim(q.dim(2) / num_heads),
        width(q.dim(2)) {}
  int64_t q_offset(int64_t bh) const {
    return (bh / heads) * q_len * width + (bh % heads) * head_dim;
  }
  int64_t k_offset(int64_t bh) const {
    return (bh / heads) * k_len * width + (bh % heads) * head_dim;
  }
  int64_t cells() const { return q_len * k_len; }
};

// Turns one row of scores (bias not yet added) into probabilities. Keys j >= visible fail the
// causal test; key_mask (or null) holds the batch's 0/1 key mask. Masked keys get exactly 0;
// a row without any visible key is uniform, as the additive finfo.min mask of Hugging Face
// makes it.
void softmax_row(float* s, const float* bias, const float* key_mask, int64_t visible,
                 int64_t k_len) {
  constexpr float kMasked = -std::numeric_limits<float>::infinity();  // exp gives exactly 0
  if (bias != nullptr)
    for (int64_t j = 0; j < visible; ++j) s[j] += bias[j];
  if (key_mask != nullptr)
    for (int64_t j = 0; j < visible; ++j) s[j] = key_mask[j] != 0.0f ? s[j] : kMasked;
  const float max = visible > 0 ? lane_max(s, visible) : kMasked;
  if (max == kMasked) {
    std::fill(s, s + k_len, 1.0f / static_cast<float>(k_len));
    return;
  }
  for (int64_t j = 0; j < visible; ++j) s[j] = std::exp(s[j] - max);
  std::fill(s + visible, s + k_len, 0.0f);
  const auto inv = static_cast<float>(
      1.0 / lane_sum(0, visible, [&](int64_t j) { return static_cast<double>(s[j]); }));
  for (int64_t j = 0; j < visible; ++j) s[j] *= inv;
}

}  // namespace

// Parallel over (batch, head) pairs; each runs single-threaded GEMMs (OpenBLAS does so inside
// a parallel region), so a pair's result does not depend on the thread count.
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                       const Tensor& key_mask, const AttentionShape& shape, Tensor& probs,
                       Tensor& out) {
  const Layout l(q, k, shape.num_heads);
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pbias = bias.defined() ? bias.data<float>() : nullptr;
  const float* pmask = key_mask.defined() ? key_mask.data<float>() : nullptr;
  float* pp = probs.data<float>();
  float* po = out.data<float>();
  const bool dropout = shape.dropout_rate > 0.0f;
  const int64_t pairs = l.batch * l.heads;
#pragma omp parallel
  {
    auto dropped = scratch(dropout ? l.cells() : 0);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < pairs; ++bh) {
      const int64_t b = bh / l.heads, h = bh % l.heads;
      float* p = pp + bh * l.cells();
      gemm(false, true, l.q_len, l.k_len, l.head_dim, 1.0f, pq + l.q_offset(bh), l.width,
           pk + l.k_offset(bh), l.width, 0.0f, p, l.k_len);
      for (int64_t i = 0; i < l.q_len; ++i) {
        const int64_t visible =
            shape.causal ? std::clamp<int64_t>(i + l.k_len - l.q_len + 1, 0, l.k_len) : l.k_len;
        softmax_row(p + i * l.k_len, pbias ? pbias + (h * l.q_len + i) * l.k_len : nullptr,
                    pmask ? pmask + b * l.k_len : nullptr, visible, l.k_len);
      }
      const float* weights = p;
      if (dropout) {
        dropout_factors(shape.dropout_key, static_cast<uint64_t>(bh * l.cells()), l.cells(),
                        shape.dropout_rate, dropped.get());
        for (int64_t t = 0; t < l.cells(); ++t) dropped[t] *= p[t];
        weights = dropped.get();
      }
      gemm(false, false, l.q_len, l.head_dim, l.k_len, 1.0f, weights, l.k_len, pv + l.k_offset(bh),
           l.width, 0.0f, po + l.q_offset(bh), l.width);
    }
  }
}

// Per pair, with D the dropout factors (mask / (1 - rate)) and P the saved probabilities:
//   dv += (P∘D)ᵀ dout;  dP = (dout vᵀ)∘D;  dS = P∘(dP - rowsum(dP∘P));
//   dq += dS k;  dk += dSᵀ q;  dbias += sum over the batch of dS.
// A row whose keys were all masked passes its gradient as an ordinary softmax row would, as
// autograd does through Hugging Face's additive mask (backward has no mask to tell).
// dS of every pair is kept when dbias is wanted, and summed over the batch in batch order
// afterwards, so dbias does not depend on which thread ran which pair.
void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk,
                        Tensor& dv, Tensor& dbias) {
  const Layout l(q, k, shape.num_heads);
  const float* pg = dout.data<float>();
  const float* pq = q.data<float>();
  const float* pk = k.data<float>();
  const float* pv = v.data<float>();
  const float* pp = probs.data<float>();
  float* pdq = dq.data<float>();
  float* pdk = dk.data<float>();
  float* pdv = dv.data<float>();
  const bool dropout = shape.dropout_rate > 0.0f;
  const int64_t pairs = l.batch * l.heads;
  auto all_ds = scratch(dbias.defined() ? pairs * l.cells() : 0);
#pragma omp parallel
  {
    auto own_ds = scratch(dbias.defined() ? 0 : l.cells());
    auto factors = scratch(dropout ? l.cells() : 0);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < pairs; ++bh) {
      const float* p = pp + bh * l.cells();
      float* ds = dbias.defined() ? all_ds.get() + bh * l.cells() : own_ds.get();
      gemm(false, true, l.q_len, l.k_len, l.head_dim, 1.0f, pg + l.q_offset(bh), l.width,
           pv + l.k_offset(bh), l.width, 0.0f, ds, l.k_len);
      const float* weights = p;
      if (dropout) {
        dropout_factors(shape.dropout_key, static_cast<uint64_t>(bh * l.cells()), l.cells(),
                        shape.dropout_rate, factors.get());
        for (int64_t t = 0; t < l.cells(); ++t) {
          ds[t] *= factors[t];
          factors[t] *= p[t];
        }
        weights = factors.get();
      }
      gemm(true, false, l.k_len, l.head_dim, l.q_len, 1.0f, weights, l.k_len, pg + l.q_offset(bh),
           l.width, 1.0f, pdv + l.k_offset(bh), l.width);
      for (int64_t i = 0; i < l.q_len; ++i) {
        float* row = ds + i * l.k_len;
        const float* prow = p + i * l.k_len;
        const auto rowsum = static_cast<float>(
            lane_sum(0, l.k_len, [&](int64_t j) { return static_cast<double>(row[j]) * prow[j]; }));
        for (int64_t j = 0; j < l.k_len; ++j) row[j] = prow[j] * (row[j] - rowsum);
      }
      gemm(false, false, l.q_len, l.head_dim, l.k_len, 1.0f, ds, l.k_len, pk + l.k_offset(bh),
           l.width, 1.0f, pdq + l.q_offset(bh), l.width);
      gemm(true, false, l.k_len, l.head_dim, l.q_len, 1.0f, ds, l.k_len, pq + l.q_offset(bh),
           l.width, 1.0f, pdk + l.k_offset(bh), l.width);
    }
  }
  if (!dbias.defined()) return;
  float* pdb = dbias.data<float>();
  const int64_t bias_size = l.heads * l.cells();
  for_blocks(bias_size, kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      double acc = 0.0;
      for (int64_t b = 0; b < l.batch; ++b) acc += all_ds[b * bias_size + t];
      pdb[t] += static_cast<float>(acc);
    }
  });
}

}  // namespace stilts::cpu
