// Deterministic reductions shared by the row-wise kernels (softmax, cross-entropy) and the
// optimizers, beside block_sum of kernels/cuda/numeric.cuh: the block maximum, and the
// whole-tensor sum that reduces a fixed grid of block partials in a fixed order. No floating-point
// atomics, so a launch configuration that depends only on the shapes gives bit-identical results
// run to run.
#pragma once

#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/tensor.h"

namespace stilts::cuda {

// The maximum of v over the threads of the block, returned to every thread, in the manner of
// block_sum (kernels/cuda/numeric.cuh); scratch is __shared__ room for 32 values.
__device__ inline float block_max(float v, float* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
  const unsigned warps = blockDim.x / 32;
  __syncthreads();  // every thread has read the scratch of a previous call
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float result = scratch[0];
  for (unsigned w = 1; w < warps; ++w) result = fmaxf(result, scratch[w]);
  return result;
}

// The grid of a kernel that gives each of `rows` rows one block.
inline unsigned row_blocks(int64_t rows, const char* op) {
  if (rows > INT_MAX)
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(rows) +
                                " rows exceed the grid of one block per row");
  return static_cast<unsigned>(rows);
}

// The whole-tensor sum: kSumBlocks blocks of kSumThreads threads each add term(t) in double
// over a grid-stride loop, then one block adds the partials in order.
inline constexpr unsigned kSumBlocks = 512;
inline constexpr unsigned kSumThreads = 256;

template <class Term>
__global__ void partial_sums_kernel(int64_t n, Term term, double* partial) {
  double acc = 0.0;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride)
    acc += term(t);
  __shared__ double scratch[32];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// A template (of the partials' type) so that every file including this header may define it.
template <class Partial>
__global__ void finish_sum_kernel(const Partial* partial, unsigned count, float* out) {
  Partial acc = 0.0;
  for (unsigned b = threadIdx.x; b < count; b += blockDim.x) acc += partial[b];
  __shared__ Partial scratch[32];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) *out = static_cast<float>(acc);
}

// *out (a device f32) = sum over t in [0, n) of term(t), accumulated in double; term is a
// trivially copyable functor with a __device__ double operator()(int64_t).
template <class Term>
void sum_to_device(int64_t n, Term term, float* out, const char* op) {
  const Tensor partial({static_cast<int64_t>(kSumBlocks)}, DType::f64, Device::cuda);
  double* partial_data = partial.data<double>();
  partial_sums_kernel<<<kSumBlocks, kSumThreads, 0, compute_stream()>>>(n, term, partial_data);
  check_launch(op);
  finish_sum_kernel<<<1, kSumThreads, 0, compute_stream()>>>(partial_data, kSumBlocks, out);
  check_launch(op);
}

}  // namespace stilts::cuda
