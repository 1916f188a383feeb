// Data-parallel gradient synchronization over the DP group (the ranks holding the same
// tensor shard), on the flat gradient and value buffers of the parameter registry.
//
// The trainer scales each rank's loss by 1 / (the tokens of the global batch), so the sum of
// the ranks' gradients is the gradient of the global token mean, whatever each rank's share
// of the tokens: a sum, not an average, is reduced.
//
// - Plain data parallelism: all_reduce_gradients sums the whole buffer in buckets of about
//   bucket_bytes (Megatron and DDP use 25-40 MB), so no single message needs a staging copy
//   the size of the model, and, on the GPU, a bucket can be reduced on a second stream while
//   backward still produces the next one.
// - ZeRO-1: the buffers are laid out as dp equal partitions (Parameters' partitions); each
//   rank reduce-scatters the gradients to get the sum of its own partition, updates only that
//   partition (the optimizer holds state for it alone), and all-gathers the updated values.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

class GradientSync {
 public:
  // dp must outlive this object.
  explicit GradientSync(Communicator& dp, int64_t bucket_bytes = 32 << 20);

  // In place: flat_grads becomes the sum over the DP group. Buckets are reduced from the end
  // of the buffer, the order in which backward finishes the parameters (head first).
  void all_reduce_gradients(Tensor& flat_grads);

  // all_reduce_gradients overlapped with backward: begin_overlapped(flat_grads) before
  // backward; gradients_final_from(offset) whenever every element of flat_grads at or after
  // `offset` holds its final gradient (offsets only decrease), which starts each bucket lying
  // entirely in [offset, end); finish_overlapped() after backward starts the rest and waits
  // for all. The buckets and their order are all_reduce_gradients', so the sums are
  // bit-identical to it. The reductions run asynchronously where the communicator can
  // (NCCL, Communicator::start_all_reduce); over MPI each bucket blocks as it starts.
  void begin_overlapped(Tensor& flat_grads);
  void gradients_final_from(int64_t offset);
  void finish_overlapped();
  // ZeRO-1. flat_grads holds dp partitions of equal size; partition dp.rank() becomes the sum
  // over the group (the others are left stale).
  void reduce_scatter_gradients(Tensor& flat_grads);
  // ZeRO-1. Every rank's partition dp.rank() of flat_values goes to every rank.
  void all_gather_values(Tensor& flat_values);

 private:
  // The [dp, n / dp] view of a flat buffer, with this rank's row.
  Tensor partitions(const Tensor& flat, const char* what) const;
  // A buffer shaped like one row of `partitions`, on its device.
  Tensor& staging_for(const Tensor& partitions);

  Communicator& dp_;
  int64_t bucket_elements_;
  Tensor overlapped_;          // the flat gradients of the reduction in flight
  int64_t unstarted_end_ = 0;  // its buckets below this element have not been started
  Tensor staging_;  // one partition, since a collective's input and output must not overlap
};

}  // namespace stilts
