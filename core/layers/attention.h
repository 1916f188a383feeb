// T5 multi-head attention (self or cross): q, k, v, o projections without biases and without
// 1/sqrt(d_kv) scaling; the relative position bias (self-attention only) arrives from the
// stack (core/layers/relative_position_bias.h).
//
// Tensor parallel (Megatron): q, k and v are column-parallel (this rank's heads), o is
// row-parallel, so the output is summed over the TP group by o and the input gradient by the
// column-parallel projections. Self-attention's q, k and v read one input and form one
// column-parallel layer; cross-attention's q reads the decoder and k, v the encoder output,
// whose gradient the layer leaves partial: every decoder layer adds to it and the model sums
// it over the group once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/layers/column_parallel_linear.h"
#include "core/layers/row_parallel_linear.h"
#include "kernels/ops.h"

namespace stilts {

// The keys and values of an attention layer kept across the steps of incremental decoding
// (core/generate.h), [B, L, inner/tp] each (this rank's heads): self-attention appends each
// step's positions, cross-attention's are the encoder output's, projected once
// (Attention::project_memory).
struct KeyValueCache {
  Tensor keys, values;
};

class Attention {
 public:
  enum class Kind { self, cross };

  // Registers q, k, v and o under prefix (e.g. "decoder.block.3.layer.1.EncDecAttention").
  static void declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                      const ModelConfig& config);

  Attention(Parameters& params, const std::string& prefix, Kind kind, Communicator& tp);

  int64_t num_heads() const { return num_heads_; }  // this rank's

  // x [B, Lq, d] gives the queries, kv [B, Lk, d] the keys and values (x itself for
  // self-attention). bias [H/tp, Lq, Lk] (this rank's heads) or undefined; key_mask f32 [B, Lk]
  // or undefined. Both inputs are kept by reference until backward. dropout_key draws this
  // rank's heads' probabilities.
  //
  // With a cache (incremental decoding, no backward): self-attention appends the keys and
  // values of x to it and attends over all of them; cross-attention attends over the cached
  // ones and ignores kv.
  const Tensor& forward(const Tensor& x, const Tensor& kv, const Tensor& bias,
                        const Tensor& key_mask, bool causal, float dropout_rate, RngKey dropout_key,
                        KeyValueCache* cache = nullptr);
  // Cross-attention: the keys and values of memory [B, Lk, d] (the encoder output) into cache.
  void project_memory(const Tensor& memory, KeyValueCache& cache);
  // dx += the input gradient summed over the TP group; for cross-attention dkv += this rank's
  // partial gradient of the keys' and values' input (self-attention: dkv is dx and is not
  // touched apart). Accumulates this rank's heads' dbias when defined.
  void backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias);
  // Drops every saved activation and gradient buffer (recomputed activations).
  void release_activations();

 private:
  // k_out_ and v_out_ from kv.
  void project_keys_values(const Tensor& kv);

  // Self-attention: q, k and v of x. Cross-attention: q of x, and k, v of kv in
  // memory_projection_.
  ColumnParallelLinear input_projection_;
  std::optional<ColumnParallelLinear> memory_projection_;
  RowParallelLinear o_;
  int64_t num_heads_;
  ops::AttentionShape shape_{};
  Tensor x_, kv_, q_out_, k_out_, v_out_, probs_, context_, out_;
  Tensor dq_, dk_, dv_, dcontext_;
};

}  // namespace stilts
