// T5 multi-head attention (self or cross): q, k, v, o projections without biases and without
// 1/sqrt(d_kv) scaling; the relative position bias (self-attention only) arrives from the
// stack, which owns the shared table.
//
// Tensor parallel (Megatron): q, k, v are column-parallel (this rank's heads), o is
// row-parallel, so the output is all-reduced over the TP group (reduce_from) and the input
// gradients are partial sums over the group (copy_to's backward), which the caller all-reduces
// once: the block for its normed input, the model for the encoder output that every decoder
// layer's cross-attention reads.
#pragma once

#include "core/layers/linear.h"
#include "kernels/ops.h"
#include "parallel/communicator.h"

namespace stilts {

class Attention {
 public:
  // prefix: e.g. "decoder.block.3.layer.1.EncDecAttention".
  Attention(Parameters& params, const std::string& prefix, Communicator& tp);

  // x [B, Lq, d] gives the queries, kv [B, Lk, d] the keys and values (x itself for
  // self-attention). bias [H/tp, Lq, Lk] (this rank's heads) or undefined; key_mask f32 [B, Lk]
  // or undefined. Both inputs are kept by reference until backward.
  const Tensor& forward(const Tensor& x, const Tensor& kv, const Tensor& bias,
                        const Tensor& key_mask, const ops::AttentionShape& shape);
  // Accumulates this rank's partial dx and dkv (the same tensor for self-attention) and its
  // heads' dbias when defined.
  void backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias);
  // Drops every saved activation and gradient buffer (recomputed activations).
  void release_activations();

 private:
  Communicator& tp_;
  Linear q_, k_, v_, o_;
  int64_t num_heads_;  // this rank's
  ops::AttentionShape shape_{};
  Tensor x_, kv_, q_out_, k_out_, v_out_, probs_, context_, out_;
  Tensor dq_, dk_, dv_, dcontext_;
};

}  // namespace stilts
