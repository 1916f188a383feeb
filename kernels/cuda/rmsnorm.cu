// RMSNorm on the GPU: one block per row, statistics in f64 like the CPU's. The weight
// gradient is a column sum over rows in the order of kernels/reduction_order.h, the CPU's: f64
// partials over fixed blocks of kRowBlock rows, then the partials of each column added in block
// order, so both backends give it the same bits.
#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/reduction_order.h"

namespace stilts::cuda {
namespace {

using reduction_order::kRowBlock;

constexpr unsigned kThreads = 256;

template <class X, class W, class Out>
__global__ void rmsnorm_forward_kernel(const X* x, const W* weight, float eps, Out* out,
                                       float* rstd, long long d) {
  __shared__ double scratch[32];
  const long long row = blockIdx.x;
  const X* xi = x + row * d;
  double squares = 0.0;
  for (long long j = threadIdx.x; j < d; j += blockDim.x) {
    const double v = load(xi, j);
    squares += v * v;
  }
  squares = block_sum(squares, scratch);
  const auto mean_square = static_cast<float>(squares / static_cast<double>(d));
  const float r = 1.0f / sqrtf(mean_square + eps);
  if (threadIdx.x == 0) rstd[row] = r;
  for (long long j = threadIdx.x; j < d; j += blockDim.x)
    store(out, row * d + j, load(weight, j) * (load(xi, j) * r));
}

// dx_j += r w_j g_j - x_j r^3 / d * sum_k g_k w_k x_k, in the CPU's roundings (no fused
// multiply-adds).
template <class G, class X, class W, class Dx>
__global__ void rmsnorm_dx_kernel(const G* dout, const X* x, const W* weight, const float* rstd,
                                  Dx* dx, long long d) {
  __shared__ double scratch[32];
  const long long row = blockIdx.x;
  const G* gi = dout + row * d;
  const X* xi = x + row * d;
  double dot = 0.0;
  for (long long j = threadIdx.x; j < d; j += blockDim.x)
    dot = __dadd_rn(dot, __dmul_rn(__dmul_rn(load(gi, j), load(weight, j)), load(xi, j)));
  dot = block_sum(dot, scratch);
  const float r = rstd[row];
  const auto c = static_cast<float>(dot * r * r * r / static_cast<double>(d));
  for (long long j = threadIdx.x; j < d; j += blockDim.x) {
    const float term =
        __fsub_rn(__fmul_rn(__fmul_rn(r, load(weight, j)), load(gi, j)), __fmul_rn(load(xi, j), c));
    store(dx, row * d + j, __fadd_rn(load(dx, row * d + j), term));
  }
}

// partial[b, j] = sum over the rows of block b of g_ij x_ij r_i; blockIdx.x is b, and the
// threads of blockIdx.y cover a tile of columns.
template <class G, class X>
__global__ void rmsnorm_dweight_partial_kernel(const G* dout, const X* x, const float* rstd,
                                               long long rows, long long d, double* partial) {
  const long long j = static_cast<long long>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (j >= d) return;
  const long long begin = blockIdx.x * kRowBlock, end = min(rows, begin + kRowBlock);
  double acc = 0.0;
  for (long long i = begin; i < end; ++i)
    acc = __dadd_rn(acc, __dmul_rn(__dmul_rn(load(dout, i * d + j), load(x, i * d + j)),
                                   static_cast<double>(rstd[i])));
  partial[blockIdx.x * d + j] = acc;
}

__global__ void rmsnorm_dweight_kernel(const double* partial, long long blocks, long long d,
                                       float* dweight) {
  const long long j = global_thread_index();
  if (j >= d) return;
  double total = 0.0;
  for (long long b = 0; b < blocks; ++b) total += partial[b * d + j];
  dweight[j] += static_cast<float>(total);
}

}  // namespace

void rmsnorm_forward(const Tensor& x, const Tensor& weight, float eps, Tensor& out, Tensor& rstd) {
  const int64_t rows = flat_rows(x), d = x.dim(-1);
  if (rows == 0) return;
  with_floating_types(
      "rmsnorm_forward",
      [&](auto x_tag, auto weight_tag, auto out_tag) {
        using X = decltype(x_tag);
        using W = decltype(weight_tag);
        using Out = decltype(out_tag);
        rmsnorm_forward_kernel<<<blocks_for(rows, 1), kThreads, 0, compute_stream()>>>(
            device_data<const X>(x), device_data<const W>(weight), eps, device_data<Out>(out),
            rstd.data<float>(), d);
      },
      x, weight, out);
  check_launch("rmsnorm_forward");
}

void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                      Tensor& dx, Tensor& dweight) {
  const char* op = "rmsnorm_backward";
  const int64_t rows = flat_rows(x), d = x.dim(-1);
  if (rows == 0 || d == 0) return;
  with_floating_types(
      op,
      [&](auto g_tag, auto x_tag, auto weight_tag, auto dx_tag) {
        using G = decltype(g_tag);
        using X = decltype(x_tag);
        using W = decltype(weight_tag);
        using Dx = decltype(dx_tag);
        rmsnorm_dx_kernel<<<blocks_for(rows, 1), kThreads, 0, compute_stream()>>>(
            device_data<const G>(dout), device_data<const X>(x), device_data<const W>(weight),
            rstd.data<float>(), device_data<Dx>(dx), d);
      },
      dout, x, weight, dx);
  check_launch(op);

  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  const Tensor partial({blocks, d}, DType::f64, Device::cuda, Contents::unwritten);
  double* partial_data = partial.data<double>();
  with_floating_types(
      op,
      [&](auto g_tag, auto x_tag) {
        using G = decltype(g_tag);
        using X = decltype(x_tag);
        const dim3 grid(blocks_for(blocks, 1), blocks_for(d, kThreads));
        rmsnorm_dweight_partial_kernel<<<grid, kThreads, 0, compute_stream()>>>(
            device_data<const G>(dout), device_data<const X>(x), rstd.data<float>(), rows, d,
            partial_data);
      },
      dout, x);
  check_launch(op);
  rmsnorm_dweight_kernel<<<blocks_for(d, kThreads), kThreads, 0, compute_stream()>>>(
      partial_data, blocks, d, dweight.data<float>());
  check_launch(op);
}

}  // namespace stilts::cuda
