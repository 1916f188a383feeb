// Elementwise ops and reductions on the GPU. Sums follow a fixed two-pass scheme: a grid whose
// size depends only on the element count writes one f64 partial per block, then one block adds
// the partials in order, so a sum has the same bits on every run.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/device.h"
#include "kernels/philox.h"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;
// Blocks of the first pass of a sum: enough to fill an H100 several times over, few enough
// that the second pass is one short block.
constexpr long long kMaxSumBlocks = 1024;
constexpr float kTwoPi = 2.0f * std::numbers::pi_v<float>;

template <class T>
__global__ void fill_kernel(T* x, long long n, float value) {
  const long long i = global_thread_index();
  if (i < n) store(x, i, value);
}

template <class From, class To>
__global__ void cast_kernel(const From* src, To* dst, long long n) {
  const long long i = global_thread_index();
  if (i < n) store(dst, i, load(src, i));
}

// Every thread that sees a NaN or an infinity writes the same 1, so the race is harmless.
template <class T>
__global__ void find_non_finite_kernel(const T* x, long long n, int* found) {
  const long long i = global_thread_index();
  if (i < n && !isfinite(load(x, i))) *found = 1;
}

// Rounded multiply and add, not a fused multiply-add, so f32 results equal the CPU's.
template <class Acc, class X>
__global__ void add_inplace_kernel(Acc* acc, const X* x, long long n, float alpha) {
  const long long i = global_thread_index();
  if (i < n) store(acc, i, __fadd_rn(load(acc, i), __fmul_rn(alpha, load(x, i))));
}

template <class T>
__global__ void scale_kernel(T* x, long long n, float alpha) {
  const long long i = global_thread_index();
  if (i < n) store(x, i, alpha * load(x, i));
}

// Element e of the draw takes the uniforms 2e and 2e + 1: both from Philox block e / 2.
// The formula is kernels/cpu/elementwise.cc's; logf and cosf may differ from glibc's by an ulp.
template <class T>
__global__ void fill_normal_kernel(T* x, long long n, float mean, float std, RngKey key,
                                   unsigned long long first) {
  const long long i = global_thread_index();
  if (i >= n) return;
  const unsigned long long e = first + static_cast<unsigned long long>(i);
  const Uniform4 r = philox_uniform4(key, e >> 1);
  const bool odd = (e & 1) != 0;
  const float u1 = odd ? r.v[2] : r.v[0], u2 = odd ? r.v[3] : r.v[1];
  const float z = sqrtf(-2.0f * logf(1.0f - u1)) * cosf(kTwoPi * u2);
  store(x, i, __fadd_rn(mean, __fmul_rn(std, z)));
}

template <bool kSquares, class T>
__global__ void partial_sums_kernel(const T* x, long long n, double* partial) {
  __shared__ double scratch[32];
  double acc = 0.0;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = global_thread_index(); i < n; i += stride) {
    const double v = load(x, i);
    acc += kSquares ? v * v : v;
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void add_partials_kernel(const double* partial, long long count, double* total) {
  __shared__ double scratch[32];
  double acc = 0.0;
  for (long long b = threadIdx.x; b < count; b += blockDim.x) acc += partial[b];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) *total = acc;
}

// The row's first maximum: each thread scans a strided subset, then a tree keeps, of two
// candidates, the larger value or on a tie the smaller column.
template <class T>
__global__ void argmax_rows_kernel(const T* x, long long cols, int* out) {
  __shared__ float best_value[kThreads];
  __shared__ long long best_column[kThreads];
  const T* row = x + static_cast<long long>(blockIdx.x) * cols;
  float best = 0.0f;
  long long column = -1;
  for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
    const float v = load(row, j);
    if (column < 0 || v > best) {
      best = v;
      column = j;
    }
  }
  best_value[threadIdx.x] = best;
  best_column[threadIdx.x] = column;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const float v = best_value[threadIdx.x + half];
      const long long j = best_column[threadIdx.x + half];
      const long long mine = best_column[threadIdx.x];
      if (j >= 0 &&
          (mine < 0 || v > best_value[threadIdx.x] || (v == best_value[threadIdx.x] && j < mine))) {
        best_value[threadIdx.x] = v;
        best_column[threadIdx.x] = j;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<int>(best_column[0]);
}

template <class T>
__global__ void gather_rows_kernel(const T* x, const int* index, long long rows, long long cols,
                                   float* out) {
  const long long i = global_thread_index();
  if (i >= rows) return;
  const int j = index[i];
  out[i] = j >= 0 && j < cols ? load(x, i * cols + j) : 0.0f;
}

template <bool kSquares>
double reduce(const Tensor& x, const char* op) {
  const long long n = x.numel();
  const long long blocks = std::min(kMaxSumBlocks, std::max(1LL, (n + kThreads - 1) / kThreads));
  // The f64 partials, then the total.
  const Tensor scratch({blocks + 1}, DType::f64, Device::cuda, Contents::unwritten);
  double* partial = scratch.data<double>();
  with_floating(x, op, [&](auto tag) {
    using T = decltype(tag);
    partial_sums_kernel<kSquares><<<static_cast<unsigned>(blocks), kThreads, 0, compute_stream()>>>(
        device_data<const T>(x), n, partial);
  });
  check_launch(op);
  add_partials_kernel<<<1, kThreads, 0, compute_stream()>>>(partial, blocks, partial + blocks);
  check_launch(op);
  double total = 0.0;
  device::copy_bytes(&total, Device::cpu, partial + blocks, Device::cuda, sizeof(total));
  return total;
}

}  // namespace

void fill(Tensor& x, float value) {
  with_floating(x, "fill", [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<<<blocks_for(x.numel(), kThreads), kThreads, 0, compute_stream()>>>(
        device_data<T>(x), x.numel(), value);
  });
  check_launch("fill");
}

void cast(const Tensor& src, Tensor& dst) {
  if (src.dtype() == dst.dtype()) {
    check(cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(), cudaMemcpyDeviceToDevice,
                          compute_stream()),
          "cast");
    return;
  }
  with_floating_types(
      "cast",
      [&](auto from, auto to) {
        using From = decltype(from);
        using To = decltype(to);
        cast_kernel<<<blocks_for(src.numel(), kThreads), kThreads, 0, compute_stream()>>>(
            device_data<const From>(src), device_data<To>(dst), src.numel());
      },
      src, dst);
  check_launch("cast");
}

bool all_finite(const Tensor& x) {
  Tensor found({1}, DType::i32, Device::cuda);
  with_floating(x, "all_finite", [&](auto tag) {
    using T = decltype(tag);
    find_non_finite_kernel<<<blocks_for(x.numel(), kThreads), kThreads, 0, compute_stream()>>>(
        device_data<const T>(x), x.numel(), found.data<int32_t>());
  });
  check_launch("all_finite");
  int32_t host = 0;
  device::copy_bytes(&host, Device::cpu, found.raw(), Device::cuda, sizeof(host));
  return host == 0;
}

// Every pairing of f32 and bf16: the model adds bf16 activations' gradients into f32
// accumulators and f32 into bf16 residual streams alike.
void add_inplace(Tensor& acc, const Tensor& x, float alpha) {
  with_floating_types(
      "add_inplace",
      [&](auto acc_tag, auto x_tag) {
        using Acc = decltype(acc_tag);
        using X = decltype(x_tag);
        add_inplace_kernel<<<blocks_for(acc.numel(), kThreads), kThreads, 0, compute_stream()>>>(
            device_data<Acc>(acc), device_data<const X>(x), acc.numel(), alpha);
      },
      acc, x);
  check_launch("add_inplace");
}

void scale_inplace(Tensor& x, float alpha) {
  with_floating(x, "scale_inplace", [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<<<blocks_for(x.numel(), kThreads), kThreads, 0, compute_stream()>>>(
        device_data<T>(x), x.numel(), alpha);
  });
  check_launch("scale_inplace");
}

void fill_normal(Tensor& x, float mean, float std, RngKey key, int64_t first) {
  with_floating(x, "fill_normal", [&](auto tag) {
    using T = decltype(tag);
    fill_normal_kernel<<<blocks_for(x.numel(), kThreads), kThreads, 0, compute_stream()>>>(
        device_data<T>(x), x.numel(), mean, std, key, static_cast<unsigned long long>(first));
  });
  check_launch("fill_normal");
}

double sum(const Tensor& x) {
  return reduce<false>(x, "sum");
}

double sum_squares(const Tensor& x) {
  return reduce<true>(x, "sum_squares");
}

void argmax_rows(const Tensor& x, Tensor& out) {
  const int64_t rows = flat_rows(x);
  if (rows == 0) return;
  with_floating(x, "argmax_rows", [&](auto tag) {
    using T = decltype(tag);
    argmax_rows_kernel<<<blocks_for(rows, 1), kThreads, 0, compute_stream()>>>(
        device_data<const T>(x), x.dim(-1), out.data<int32_t>());
  });
  check_launch("argmax_rows");
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  const int64_t rows = flat_rows(x);
  with_floating(x, "gather_rows", [&](auto tag) {
    using T = decltype(tag);
    gather_rows_kernel<<<blocks_for(rows, kThreads), kThreads, 0, compute_stream()>>>(
        device_data<const T>(x), index.data<int32_t>(), rows, x.dim(-1), out.data<float>());
  });
  check_launch("gather_rows");
}

}  // namespace stilts::cuda
