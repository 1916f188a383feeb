// Token embedding lookup in the shared [V, d] table (used by both stacks; mT5 does not scale
// embeddings by sqrt(d)).
//
// Vocab-parallel (Megatron's VocabParallelEmbedding): this rank holds rows
// [rank * V/tp, (rank + 1) * V/tp) of the table and looks up only the ids in its range (zero
// rows for the others), so the output is all-reduced over the TP group (reduce-from-TP); the
// output's gradient is whole on every rank, and each rank's table gradient stays in its own
// rows.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/layers/layer_scope.h"
#include "core/layers/param_ref.h"
#include "kernels/ops.h"
#include "parallel/communicator.h"
#include "parallel/tensor_parallel.h"

namespace stilts {

class Embedding {
 public:
  // Registers the table `name` [V, d], split by rows (vocabulary), initialized from N(0, 1).
  static void declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& c) {
    specs.push_back({name, {c.vocab_size, c.d_model}, SplitAxis::rows, 1.0f});
  }

  // name: the table's parameter; scope: the debug scope of this lookup ("encoder.embed_tokens",
  // as Hugging Face calls the two stacks' uses of the shared table).
  Embedding(Parameters& params, const std::string& name, std::string scope, Communicator& tp)
      : tp_(tp),
        scope_(std::move(scope)),
        table_(ParamRef::bind(params, name)),
        vocab_size_(params.config().vocab_size),
        vocab_start_(table_.value.dim(0) * params.shard().rank) {}

  // ids i32 [B, L] -> out [B, L, d]. ids is kept by reference until backward.
  const Tensor& forward(const Tensor& ids) {
    LayerScope scope(scope_);
    ids_ = ids;
    Shape shape = ids.shape();
    shape.push_back(table_.value.dim(1));
    ops::embedding_forward(ids, table_.value, ensure_like(out_, shape, table_.value), vocab_start_,
                           vocab_size_);
    reduce_from_tp_forward(tp_, out_);
    return out_;
  }
  void backward(const Tensor& dout) {
    LayerScope scope(scope_);
    ops::embedding_backward(ids_, dout, table_.grad, vocab_start_, vocab_size_);
  }

 private:
  Communicator& tp_;
  std::string scope_;
  ParamRef table_;
  int64_t vocab_size_, vocab_start_;
  Tensor ids_, out_;
};

}  // namespace stilts
