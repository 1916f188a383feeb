#include "parallel/vocab_parallel_cross_entropy.h"

#include <stdexcept>
#include <string>

#include "kernels/ops.h"

namespace stilts {

VocabParallelCrossEntropy::VocabParallelCrossEntropy(Communicator& tp, int64_t vocab_size,
                                                     int ignore_index)
    : tp_(tp),
      vocab_size_(vocab_size),
      slice_size_(vocab_size / tp.size()),
      vocab_start_(tp.rank() * slice_size_),
      ignore_index_(ignore_index) {
  if (vocab_size < 1 || vocab_size % tp.size() != 0)
    throw std::invalid_argument("VocabParallelCrossEntropy: a vocabulary of " +
                                std::to_string(vocab_size) + " does not split evenly over " +
                                tp.name() + " (size " + std::to_string(tp.size()) + ")");
}

void VocabParallelCrossEntropy::forward(const Tensor& logits, const Tensor& targets, float z_loss,
                                        Tensor& losses) {
  z_loss_ = z_loss;
  if (logits.rank() < 1 || logits.dim(-1) != slice_size_)
    throw std::invalid_argument("VocabParallelCrossEntropy forward: logits must have " +
                                std::to_string(slice_size_) + " columns (vocabulary " +
                                std::to_string(vocab_size_) + " over " +
                                std::to_string(tp_.size()) + " ranks), got " + logits.describe());
  const int64_t n = targets.numel();
  row_max_ = Tensor({n}, DType::f32, logits.device());
  sum_exp_ = Tensor({n}, DType::f32, logits.device());
  Tensor target_logit({n}, DType::f32, logits.device());
  ops::cross_entropy_partial_forward(logits, targets, vocab_start_, vocab_size_, ignore_index_,
                                     row_max_, target_logit);
  tp_.all_reduce(row_max_, ReduceOp::max);
  // Only the owner of a target contributes a non-zero logit, so the sum is that logit.
  tp_.all_reduce(target_logit, ReduceOp::sum);
  ops::cross_entropy_sum_exp(logits, targets, ignore_index_, row_max_, sum_exp_);
  tp_.all_reduce(sum_exp_, ReduceOp::sum);
  ops::cross_entropy_combine_losses(targets, ignore_index_, row_max_, sum_exp_, target_logit,
                                    z_loss_, losses);
}

void VocabParallelCrossEntropy::backward(const Tensor& logits, const Tensor& targets,
                                         float grad_scale, Tensor& dlogits) const {
  if (!row_max_.defined())
    throw std::logic_error("VocabParallelCrossEntropy backward: no forward to differentiate");
  ops::cross_entropy_partial_backward(logits, targets, vocab_start_, ignore_index_, row_max_,
                                      sum_exp_, z_loss_, grad_scale, dlogits);
}

}  // namespace stilts
