// The relative position bias on the GPU: a gather from the [num_buckets, H] table, and its
// gradient as one f64 block sum per table entry (no atomics, fixed order).
#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;

// bias[h, t] = table[buckets[t], h] over the flat cells t of [Lq, Lk].
template <class Table, class Bias>
__global__ void position_bias_forward_kernel(const int* buckets, const Table* table, Bias* bias,
                                             long long cells, long long heads, int num_buckets,
                                             DeviceErrorRecord* error) {
  const long long i = global_thread_index();
  if (i >= heads * cells) return;
  const long long h = i / cells, t = i - h * cells;
  const int b = buckets[t];
  if (b < 0 || b >= num_buckets) {
    if (h == 0) report_device_error(error, DeviceErrorKind::position_bucket_out_of_range, t, b);
    store(bias, i, 0.0f);
    return;
  }
  store(bias, i, load(table, b * heads + h));
}

// Block (h, b) sums dbias[h, t] over the cells t of bucket b. Every block reads the whole
// bucket table and dbias[h], which stay in L2: num_buckets (32) reads of a few MiB, cheaper
// than the bookkeeping of a one-pass scheme.
template <class Dbias>
__global__ void position_bias_backward_kernel(const int* buckets, const Dbias* dbias, float* dtable,
                                              long long cells, long long heads, int num_buckets,
                                              DeviceErrorRecord* error) {
  __shared__ double scratch[32];
  const long long h = blockIdx.x / num_buckets;
  const int b = static_cast<int>(blockIdx.x % num_buckets);
  const Dbias* dh = dbias + h * cells;
  double acc = 0.0;
  for (long long t = threadIdx.x; t < cells; t += blockDim.x) {
    const int bucket = buckets[t];
    if (bucket == b) acc += load(dh, t);
    if (blockIdx.x == 0 && (bucket < 0 || bucket >= num_buckets))
      report_device_error(error, DeviceErrorKind::position_bucket_out_of_range, t, bucket);
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) dtable[b * heads + h] += static_cast<float>(acc);
}

}  // namespace

void position_bias_forward(const Tensor& buckets, const Tensor& table, Tensor& bias) {
  const int64_t cells = buckets.numel(), num_buckets = table.dim(0), heads = table.dim(1);
  with_floating_types(
      "position_bias_forward",
      [&](auto table_tag, auto bias_tag) {
        using Table = decltype(table_tag);
        using Bias = decltype(bias_tag);
        position_bias_forward_kernel<<<blocks_for(heads * cells, kThreads), kThreads, 0,
                                       compute_stream()>>>(
            buckets.data<int32_t>(), device_data<const Table>(table), device_data<Bias>(bias),
            cells, heads, static_cast<int>(num_buckets), device_error_record());
      },
      table, bias);
  check_launch("position_bias_forward");
}

void position_bias_backward(const Tensor& buckets, const Tensor& dbias, Tensor& dtable) {
  const int64_t cells = buckets.numel(), num_buckets = dtable.dim(0), heads = dtable.dim(1);
  if (num_buckets == 0 || heads == 0) return;
  with_floating(dbias, "position_bias_backward", [&](auto tag) {
    using Dbias = decltype(tag);
    position_bias_backward_kernel<<<blocks_for(heads * num_buckets, 1), kThreads, 0,
                                    compute_stream()>>>(
        buckets.data<int32_t>(), device_data<const Dbias>(dbias), dtable.data<float>(), cells,
        heads, static_cast<int>(num_buckets), device_error_record());
  });
  check_launch("position_bias_backward");
}

}  // namespace stilts::cuda
