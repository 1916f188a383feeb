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
  begin_overlapped(flat_grads);
  finish_overlapped();
}

void GradientSync::begin_overlapped(Tensor& flat_grads) {
  if (overlapped_.defined())
    throw std::logic_error("GradientSync::begin_overlapped: the last reduction was not finished");
  overlapped_ = flat_grads;
  unstarted_end_ = flat_grads.numel();
}

void GradientSync::gradients_final_from(int64_t offset) {
  if (!overlapped_.defined())
    throw std::logic_error("GradientSync::gradients_final_from: no begin_overlapped");
  if (dp_.size() == 1) return;
  while (unstarted_end_ > 0) {
    const int64_t begin = std::max<int64_t>(0, unstarted_end_ - bucket_elements_);
    if (begin < offset) return;
    Tensor bucket = overlapped_.slice(begin, {unstarted_end_ - begin});
    dp_.start_all_reduce(bucket, ReduceOp::sum);
    unstarted_end_ = begin;
  }
}

void GradientSync::finish_overlapped() {
  gradients_final_from(0);
  overlapped_ = Tensor();
  if (dp_.size() > 1) dp_.finish_started_all_reduces();
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

Tensor& GradientSync::staging_for(const Tensor& partitions) {
  const Tensor row = partitions.rows(0, 1);
  if (!staging_.defined() || staging_.shape() != row.shape() || staging_.device() != row.device())
    staging_ = Tensor(row.shape(), row.dtype(), row.device());
  return staging_;
}

void GradientSync::reduce_scatter_gradients(Tensor& flat_grads) {
  if (dp_.size() == 1) return;
  const Tensor all = partitions(flat_grads, "reduce_scatter_gradients");
  Tensor& staging = staging_for(all);
  dp_.reduce_scatter(all, staging, ReduceOp::sum);
  Tensor own = all.rows(dp_.rank(), dp_.rank() + 1);
  ops::copy(staging, own);
}

void GradientSync::all_gather_values(Tensor& flat_values) {
  if (dp_.size() == 1) return;
  Tensor all = partitions(flat_values, "all_gather_values");
  Tensor& staging = staging_for(all);
  ops::copy(all.rows(dp_.rank(), dp_.rank() + 1), staging);
  dp_.all_gather(staging, all);
}

}  // namespace stilts
