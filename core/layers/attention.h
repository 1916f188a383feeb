// T5 multi-head attention (self or cross): q, k, v, o projections without biases and without
// 1/sqrt(d_kv) scaling; the relative position bias (self-attention only) arrives from the
// stack, which owns the shared table.
#pragma once

#include "core/layers/linear.h"
#include "kernels/ops.h"

namespace stilts {

class Attention {
 public:
  // prefix: e.g. "decoder.block.3.layer.1.EncDecAttention".
  Attention(Parameters& params, const std::string& prefix);

  // x [B, Lq, d] gives the queries, kv [B, Lk, d] the keys and values (x itself for
  // self-attention). bias [H, Lq, Lk] or undefined; key_mask f32 [B, Lk] or undefined.
  // Both inputs are kept by reference until backward.
  const Tensor& forward(const Tensor& x, const Tensor& kv, const Tensor& bias,
                        const Tensor& key_mask, const ops::AttentionShape& shape);
  // Accumulates dx, dkv (the same tensor for self-attention) and dbias when defined.
  void backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias);

 private:
  Linear q_, k_, v_, o_;
  int64_t num_heads_;
  ops::AttentionShape shape_{};
  Tensor x_, kv_, q_out_, k_out_, v_out_, probs_, context_, out_;
  Tensor dq_, dk_, dv_, dcontext_;
};

}  // namespace stilts
