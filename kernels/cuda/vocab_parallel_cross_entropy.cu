// The cross-entropy pieces of a vocabulary slice on the GPU (kernels/ops.h), one block per row
// of logits, with the numerics of the CPU twin: sums of f32 exponentials in double, the
// logsumexp in double and rounded to f32 before the gradient uses it.
#include <cmath>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/cuda/reduce.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 1024;

// The logsumexp of a row from the combined statistics, as the CPU twin computes it.
__device__ double logsumexp_of(float row_max, float sum_exp) {
  return static_cast<double>(row_max) + log(static_cast<double>(sum_exp));
}

// A target outside [0, vocab_size) is recorded for the host to throw, and its row is treated
// as ignored.
template <class T>
__global__ void partial_forward_kernel(const T* logits, const int32_t* targets, int64_t slice,
                                       int64_t vocab_start, int64_t vocab_size, int ignore_index,
                                       DeviceErrorRecord* errors, float* row_max,
                                       float* target_logit) {
  const int64_t row = blockIdx.x;
  const int target = targets[row];
  if (target == ignore_index || target < 0 || target >= vocab_size) {
    if (threadIdx.x != 0) return;
    if (target != ignore_index)
      report_device_error(errors, DeviceErrorKind::target_out_of_range, row, target);
    row_max[row] = target_logit[row] = 0.0f;
    return;
  }
  const T* x = logits + row * slice;
  float max = -INFINITY;
  for (int64_t j = threadIdx.x; j < slice; j += blockDim.x) max = fmaxf(max, load(x, j));
  __shared__ float scratch[32];
  max = block_max(max, scratch);
  if (threadIdx.x != 0) return;
  row_max[row] = max;
  const int64_t local = target - vocab_start;
  target_logit[row] = local >= 0 && local < slice ? load(x, local) : 0.0f;
}

template <class T>
__global__ void sum_exp_kernel(const T* logits, const int32_t* targets, int64_t slice,
                               int ignore_index, const float* row_max, float* sum_exp) {
  const int64_t row = blockIdx.x;
  if (targets[row] == ignore_index) {
    if (threadIdx.x == 0) sum_exp[row] = 0.0f;
    return;
  }
  const T* x = logits + row * slice;
  const float max = row_max[row];
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < slice; j += blockDim.x) acc += expf(load(x, j) - max);
  __shared__ double scratch[32];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) sum_exp[row] = static_cast<float>(acc);
}

__global__ void combine_losses_kernel(int64_t rows, const int32_t* targets, int ignore_index,
                                      const float* row_max, const float* sum_exp,
                                      const float* target_logit, float z_loss, float* losses) {
  const int64_t i = global_thread_index();
  if (i >= rows) return;
  if (targets[i] == ignore_index) {
    losses[i] = 0.0f;
    return;
  }
  const double lse = logsumexp_of(row_max[i], sum_exp[i]);
  losses[i] = static_cast<float>(lse - target_logit[i] + z_loss * lse * lse);
}

// dlogits may be logits itself: each thread reads its element before writing it, and no
// other thread touches it.
template <class T, class TD>
__global__ void partial_backward_kernel(const T* logits, const int32_t* targets, int64_t slice,
                                        int64_t vocab_start, int ignore_index, const float* row_max,
                                        const float* sum_exp, float z_loss, float grad_scale,
                                        TD* dlogits) {
  const int64_t row = blockIdx.x;
  const int target = targets[row];
  const T* x = logits + row * slice;
  TD* d = dlogits + row * slice;
  if (target == ignore_index) {
    for (int64_t j = threadIdx.x; j < slice; j += blockDim.x) store(d, j, 0.0f);
    return;
  }
  const auto lse = static_cast<float>(logsumexp_of(row_max[row], sum_exp[row]));
  const float softmax_scale = grad_scale * (1.0f + 2.0f * z_loss * lse);
  const int64_t local = target - vocab_start;
  for (int64_t j = threadIdx.x; j < slice; j += blockDim.x) {
    float g = softmax_scale * expf(load(x, j) - lse);
    if (j == local) g -= grad_scale;
    store(d, j, g);
  }
}

}  // namespace

void cross_entropy_partial_forward(const Tensor& logits, const Tensor& targets, int64_t vocab_start,
                                   int64_t vocab_size, int ignore_index, Tensor& row_max,
                                   Tensor& target_logit) {
  const char* op = "cross_entropy_partial_forward";
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  if (rows == 0) return;
  with_floating(logits, op, [&](auto tag) {
    using T = decltype(tag);
    partial_forward_kernel<<<row_blocks(rows, op), kThreads, 0, compute_stream()>>>(
        device_data<T>(logits), targets.data<int32_t>(), slice, vocab_start, vocab_size,
        ignore_index, device_error_record(), row_max.data<float>(), target_logit.data<float>());
  });
  check_launch(op);
}

void cross_entropy_sum_exp(const Tensor& logits, const Tensor& targets, int ignore_index,
                           const Tensor& row_max, Tensor& sum_exp) {
  const char* op = "cross_entropy_sum_exp";
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  if (rows == 0) return;
  with_floating(logits, op, [&](auto tag) {
    using T = decltype(tag);
    sum_exp_kernel<<<row_blocks(rows, op), kThreads, 0, compute_stream()>>>(
        device_data<T>(logits), targets.data<int32_t>(), slice, ignore_index, row_max.data<float>(),
        sum_exp.data<float>());
  });
  check_launch(op);
}

void cross_entropy_combine_losses(const Tensor& targets, int ignore_index, const Tensor& row_max,
                                  const Tensor& sum_exp, const Tensor& target_logit, float z_loss,
                                  Tensor& losses) {
  const int64_t rows = targets.numel();
  if (rows == 0) return;
  constexpr unsigned kCombineThreads = 256;
  combine_losses_kernel<<<blocks_for(rows, kCombineThreads), kCombineThreads, 0,
                          compute_stream()>>>(
      rows, targets.data<int32_t>(), ignore_index, row_max.data<float>(), sum_exp.data<float>(),
      target_logit.data<float>(), z_loss, losses.data<float>());
  check_launch("cross_entropy_combine_losses");
}

// Every combination of logits and dlogits dtypes; when dlogits is logits, the two share one.
void cross_entropy_partial_backward(const Tensor& logits, const Tensor& targets,
                                    int64_t vocab_start, int ignore_index, const Tensor& row_max,
                                    const Tensor& sum_exp, float z_loss, float grad_scale,
                                    Tensor& dlogits) {
  const char* op = "cross_entropy_partial_backward";
  const int64_t rows = flat_rows(logits), slice = logits.dim(-1);
  if (rows == 0) return;
  with_floating(logits, op, [&](auto tag) {
    using T = decltype(tag);
    with_floating(dlogits, op, [&](auto dtag) {
      using TD = decltype(dtag);
      partial_backward_kernel<<<row_blocks(rows, op), kThreads, 0, compute_stream()>>>(
          device_data<T>(logits), targets.data<int32_t>(), slice, vocab_start, ignore_index,
          row_max.data<float>(), sum_exp.data<float>(), z_loss, grad_scale,
          device_data<TD>(dlogits));
    });
  });
  check_launch(op);
}

}  // namespace stilts::cuda
