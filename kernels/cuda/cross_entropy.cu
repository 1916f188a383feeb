// Cross-entropy over the whole vocabulary on the GPU: one block per row of logits, f32 online
// maximum and sum of exponentials in one pass over the row (250k columns for mT5), the
// gradient in one more. A target outside [0, V) is recorded for the host to throw at the next
// synchronization (kernels/cuda/context.h), and its row is treated as ignored.
#include <cmath>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/cuda/reduce.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 1024;

// Whether row's target is one to skip: the ignore_index, or (recorded as an error) a value
// outside [0, vocab). The same answer for every thread of the block.
__device__ bool skip_row(DeviceErrorRecord* errors, int64_t row, int target, int ignore_index,
                         int64_t vocab) {
  if (target == ignore_index) return true;
  if (target >= 0 && target < vocab) return false;
  if (threadIdx.x == 0)
    report_device_error(errors, DeviceErrorKind::target_out_of_range, row, target);
  return true;
}

template <class T>
__global__ void forward_kernel(const T* logits, const int32_t* targets, int64_t vocab,
                               int ignore_index, float z_loss, DeviceErrorRecord* errors,
                               float* losses, float* logsumexp) {
  const int64_t row = blockIdx.x;
  const int target = targets[row];
  if (skip_row(errors, row, target, ignore_index, vocab)) {
    if (threadIdx.x == 0) losses[row] = logsumexp[row] = 0.0f;
    return;
  }
  const T* x = logits + row * vocab;
  // This thread's running maximum and its sum of exp(x - max), rescaled when the maximum
  // grows. A -inf logit adds nothing (and would give exp(-inf - -inf) = NaN).
  float max = -INFINITY, sum = 0.0f;
  for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    const float v = load(x, j);
    if (v > max) {
      sum = sum * expf(max - v) + 1.0f;
      max = v;
    } else if (v != -INFINITY) {
      sum += expf(v - max);
    }
  }
  __shared__ float max_scratch[32];
  __shared__ double sum_scratch[32];
  const float row_max = block_max(max, max_scratch);
  const double total = block_sum(
      max == -INFINITY ? 0.0 : static_cast<double>(sum * expf(max - row_max)), sum_scratch);
  if (threadIdx.x != 0) return;
  const double lse = row_max + log(total);
  logsumexp[row] = static_cast<float>(lse);
  losses[row] = static_cast<float>(lse - load(x, target) + z_loss * lse * lse);
}

// d losses[i] / d logits[i, j] = softmax_j (1 + 2 z lse_i) - [j == target], as the CPU twin.
template <class T, class TD>
__global__ void backward_kernel(const T* logits, const int32_t* targets, const float* logsumexp,
                                int64_t vocab, int ignore_index, float z_loss, float grad_scale,
                                DeviceErrorRecord* errors, TD* dlogits) {
  const int64_t row = blockIdx.x;
  const int target = targets[row];
  const T* x = logits + row * vocab;
  TD* d = dlogits + row * vocab;
  if (skip_row(errors, row, target, ignore_index, vocab)) {
    for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) store(d, j, 0.0f);
    return;
  }
  const float lse = logsumexp[row];
  const float softmax_scale = grad_scale * (1.0f + 2.0f * z_loss * lse);
  for (int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    float g = softmax_scale * expf(load(x, j) - lse);
    if (j == target) g -= grad_scale;
    store(d, j, g);
  }
}

}  // namespace

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int ignore_index,
                           float z_loss, Tensor& losses, Tensor& logsumexp) {
  const int64_t rows = flat_rows(logits), vocab = logits.dim(-1);
  if (rows == 0) return;
  with_floating(logits, "cross_entropy_forward", [&](auto tag) {
    using T = decltype(tag);
    forward_kernel<<<row_blocks(rows, "cross_entropy_forward"), kThreads, 0, compute_stream()>>>(
        device_data<T>(logits), targets.data<int32_t>(), vocab, ignore_index, z_loss,
        device_error_record(), losses.data<float>(), logsumexp.data<float>());
  });
  check_launch("cross_entropy_forward");
}

// Every combination of logits and dlogits dtypes (bf16 logits with an f32 gradient included).
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& logsumexp,
                            int ignore_index, float z_loss, float grad_scale, Tensor& dlogits) {
  const int64_t rows = flat_rows(logits), vocab = logits.dim(-1);
  if (rows == 0) return;
  const char* op = "cross_entropy_backward";
  with_floating(logits, op, [&](auto tag) {
    using T = decltype(tag);
    with_floating(dlogits, op, [&](auto dtag) {
      using TD = decltype(dtag);
      backward_kernel<<<row_blocks(rows, op), kThreads, 0, compute_stream()>>>(
          device_data<T>(logits), targets.data<int32_t>(), logsumexp.data<float>(), vocab,
          ignore_index, z_loss, grad_scale, device_error_record(), device_data<TD>(dlogits));
    });
  });
  check_launch(op);
}

}  // namespace stilts::cuda
