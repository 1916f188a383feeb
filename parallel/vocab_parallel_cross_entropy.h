// Megatron's vocab-parallel cross-entropy (tensor_parallel/cross_entropy.py): the LM head is
// ColumnParallel over the vocabulary, so each TP rank holds logits [N, V/tp] for its slice
// [vocab_start, vocab_start + V/tp) and the full [N, V] logits (1 MB per token for mT5) are
// never gathered. The forward combines the slices with exactly 3 all-reduces of N floats (MAX
// of the row maxima, SUM of the target logit that only the owner contributes, SUM of the
// shifted exponentials); the backward needs no communication. The results equal
// ops::cross_entropy_forward/backward on the full logits up to f32 rounding.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

class VocabParallelCrossEntropy {
 public:
  // `tp` is the tensor-parallel group, whose rank r holds vocabulary slice r; it must outlive
  // this object. Throws std::invalid_argument unless tp.size() divides vocab_size.
  VocabParallelCrossEntropy(Communicator& tp, int64_t vocab_size, int ignore_index);

  int64_t vocab_start() const { return vocab_start_; }

  // logits [N, V/tp] floating (bf16 on the GPU), targets i32 [N] over the full vocabulary; WRITES
  // losses [N] (nll + z_loss * logsumexp^2, 0 for ignored rows), as cross_entropy_forward.
  // Collective over tp. Keeps the combined row statistics for backward.
  void forward(const Tensor& logits, const Tensor& targets, float z_loss, Tensor& losses);
  // WRITES this rank's dlogits [N, V/tp] = grad_scale * d(losses)/d(logits) for the logits and
  // targets of the last forward. Local: no collective.
  void backward(const Tensor& logits, const Tensor& targets, float grad_scale,
                Tensor& dlogits) const;

 private:
  Communicator& tp_;
  int64_t vocab_size_;
  int64_t slice_size_;
  int64_t vocab_start_;
  int ignore_index_;
  float z_loss_ = 0.0f;  // of the last forward
  Tensor row_max_;       // [N], the maximum over every slice
  Tensor sum_exp_;       // [N], sum over every slice of exp(logit - row_max)
};

}  // namespace stilts
