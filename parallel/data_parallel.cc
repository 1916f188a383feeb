#include "parallel/data_parallel.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"

namespace stilts {

GradientSync::GradientSync(Communicator& dp, int64_t bucket_bytes)
    : dp_(dp), bucket_elements_(std::max<int64_t>(1, bucket_bytes / 4)) {
  if (bucket_bytes < 4)
    throw std::invalid_argument("GradientSync: bucket of " + std::to_string(bucket_bytes) +
                                " bytes cannot hold one f32");
}

void GradientSync::all_reduce_gradients(Tensor& flat_grads) {
  if (dp_.size() == 1) return;
  for (int64_t end = flat_grads.numel(); end > 0;) {
    const int64_t begin = std::max<int64_t>(0, end - bucket_elements_);
    Tensor bucket = flat_grads.slice(begin, {end - begin});
    dp_.all_reduce(bucket, ReduceOp::sum);
    end = begin;
  }
}

Tensor GradientSync::partitions(const Tensor& flat, const char* what) const {
  const int64_t n = flat.numel(), ranks = dp_.size();
  if (flat.rank() != 1 || n % ranks != 0)
    throw std::invalid_argument(std::string("GradientSync ") + what + ": " + flat.describe() +
                                " is not " + std::to_string(ranks) +
                                " equal partitions (build the parameters with " +
                                std::to_string(ranks) + " ZeRO partitions)");
  return flat.reshape({ranks, n / ranks});
}

void GradientSync::reduce_scatter_gradients(Tensor& flat_grads) {
  if (dp_.size() == 1) return;
  const Tensor all = partitions(flat_grads, "reduce_scatter_gradients");
  const int64_t size = all.dim(1);
  if (!staging_.defined() || staging_.numel() != size) staging_ = Tensor({1, size});
  dp_.reduce_scatter(all, staging_, ReduceOp::sum);
  Tensor own = all.rows(dp_.rank(), dp_.rank() + 1);
  ops::copy(staging_, own);
}

void GradientSync::all_gather_values(Tensor& flat_values) {
  if (dp_.size() == 1) return;
  Tensor all = partitions(flat_values, "all_gather_values");
  const int64_t size = all.dim(1);
  if (!staging_.defined() || staging_.numel() != size) staging_ = Tensor({1, size});
  ops::copy(all.rows(dp_.rank(), dp_.rank() + 1), staging_);
  dp_.all_gather(staging_, all);
}

}  // namespace stilts
