// Token embedding lookup in the shared [V, d] table (used by both stacks; mT5 does not scale
// embeddings by sqrt(d)).
//
// Vocab-parallel (Megatron's VocabParallelEmbedding): this rank holds rows
// [rank * V/tp, (rank + 1) * V/tp) of the table and looks up only the ids in its range (zero
// rows for the others), so the output is all-reduced over the TP group; each rank's gradient
// stays in its own rows (reduce_from's backward is the identity).
#pragma once

#include "core/layers/param_ref.h"
#include "kernels/ops.h"
#include "parallel/communicator.h"
#include "parallel/tensor_parallel.h"

namespace stilts {

class Embedding {
 public:
  Embedding(Parameters& params, const std::string& name, Communicator& tp)
      : tp_(tp),
        table_(ParamRef::bind(params, name)),
        vocab_size_(params.config().vocab_size),
        vocab_start_(table_.value.dim(0) * params.shard().rank) {}

  // ids i32 [B, L] -> out [B, L, d]. ids is kept by reference until backward.
  const Tensor& forward(const Tensor& ids) {
    ids_ = ids;
    Shape shape = ids.shape();
    shape.push_back(table_.value.dim(1));
    ops::embedding_forward(ids, table_.value, ensure_shape(out_, shape), vocab_start_, vocab_size_);
    reduce_from_tp_forward(tp_, out_);
    return out_;
  }
  void backward(const Tensor& dout) {
    Tensor replicated = dout;
    reduce_from_tp_backward(tp_, replicated);
    ops::embedding_backward(ids_, replicated, table_.grad, vocab_start_, vocab_size_);
  }

 private:
  Communicator& tp_;
  ParamRef table_;
  int64_t vocab_size_, vocab_start_;
  Tensor ids_, out_;
};

}  // namespace stilts
