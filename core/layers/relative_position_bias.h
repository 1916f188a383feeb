// T5's relative position bias: a learned table [buckets, heads] that maps the bucket of each
// query-key distance to one bias per head, computed once per stack and added by every layer's
// self-attention (Hugging Face keeps the table in the first block's self-attention).
//
// Tensor parallel: the table is split by columns (heads) over the TP group like attention's
// heads, so a rank computes the bias of its own heads and communicates nothing.
#pragma once

#include <string>
#include <vector>

#include "core/layers/param_ref.h"

namespace stilts {

class RelativePositionBias {
 public:
  static void declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& config);

  // bidirectional: the encoder's buckets tell earlier from later keys; the decoder's (causal)
  // see only earlier ones.
  RelativePositionBias(Parameters& params, const std::string& name, bool bidirectional);

  int64_t num_heads() const { return table_.value.dim(1); }  // this rank's
  // [H/tp, q_len, k_len]: the bias of queries at positions q_offset, q_offset + 1, … against
  // keys at 0 … k_len - 1.
  const Tensor& forward(int64_t q_len, int64_t k_len, int64_t q_offset);
  // Accumulates into the table's gradient the bias gradient dbias f32 [H/tp, q_len, k_len] of
  // the last forward's positions.
  void backward(const Tensor& dbias);

 private:
  ParamRef table_;
  bool bidirectional_;
  int num_buckets_, max_distance_;
  int64_t q_offset_ = -1;
  Tensor buckets_, bias_;
};

}  // namespace stilts
