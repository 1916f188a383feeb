#include "parallel/vocab_parallel_argmax.h"

#include <stdexcept>

#include "kernels/ops.h"

namespace stilts {

void vocab_parallel_argmax(Communicator& tp, const Tensor& logits, int64_t vocab_start,
                           Tensor& out) {
  if (logits.rank() != 2 || out.numel() != logits.dim(0) || out.dtype() != DType::i32)
    throw std::invalid_argument("vocab_parallel_argmax: logits " + logits.describe() +
                                " must be [N, V/tp] with out i32 [N], got out " + out.describe());
  const int64_t n = logits.dim(0);
  ops::argmax_rows(logits, out);
  Tensor best({n}, DType::f32, logits.device());
  ops::gather_rows(logits, out, best);
  // The comparison below is on the host: two [N] vectors cross from the device, and the
  // reductions of these host tensors go over the host transport of a GPU job's group.
  Tensor local_best = best.to(Device::cpu);
  Tensor global_best = local_best.clone();
  tp.all_reduce(global_best, ReduceOp::max);
  // Among the ranks holding the maximum the smallest index wins: maximize its negation.
  // Vocabulary indices are exact in f32 (below 2^24).
  const Tensor local_index = out.to(Device::cpu);
  Tensor candidate({n});
  const int32_t* index = local_index.data<int32_t>();
  for (int64_t i = 0; i < n; ++i)
    candidate.data<float>()[i] = local_best.data<float>()[i] == global_best.data<float>()[i]
                                     ? -static_cast<float>(index[i] + vocab_start)
                                     : -16777216.0f;
  tp.all_reduce(candidate, ReduceOp::max);
  Tensor winner({n}, DType::i32);
  for (int64_t i = 0; i < n; ++i)
    winner.data<int32_t>()[i] = static_cast<int32_t>(-candidate.data<float>()[i]);
  ops::copy(winner, out);
}

}  // namespace stilts
