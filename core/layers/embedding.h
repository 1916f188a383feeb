// Token embedding lookup in the shared [V, d] table (used by both stacks; mT5 does not scale
// embeddings by sqrt(d)).
#pragma once

#include "core/layers/param_ref.h"
#include "kernels/ops.h"

namespace stilts {

class Embedding {
 public:
  Embedding(Parameters& params, const std::string& name) : table_(ParamRef::bind(params, name)) {}

  // ids i32 [B, L] -> out [B, L, d]. ids is kept by reference until backward.
  const Tensor& forward(const Tensor& ids) {
    ids_ = ids;
    Shape shape = ids.shape();
    shape.push_back(table_.value.dim(1));
    ops::embedding_forward(ids, table_.value, ensure_shape(out_, shape));
    return out_;
  }
  void backward(const Tensor& dout) { ops::embedding_backward(ids_, dout, table_.grad); }

 private:
  ParamRef table_;
  Tensor ids_, out_;
};

}  // namespace stilts
