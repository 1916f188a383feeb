// Device-side loads and stores for the "floating" tensors of kernels/ops.h: a kernel is
// written once over float arithmetic and instantiated for f32 and bf16 storage; values are
// widened on load and rounded (to nearest even) once on store.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/tensor.h"

namespace stilts::cuda {

__device__ __forceinline__ float load(const float* p, long long i) {
  return p[i];
}
__device__ __forceinline__ float load(const __nv_bfloat16* p, long long i) {
  return __bfloat162float(p[i]);
}
__device__ __forceinline__ void store(float* p, long long i, float v) {
  p[i] = v;
}
__device__ __forceinline__ void store(__nv_bfloat16* p, long long i, float v) {
  p[i] = __float2bfloat16_rn(v);
}

// This thread's index in a one-dimensional grid, in 64 bits: a grid of 256-thread blocks
// covers more than 2^31 elements (logits [N, 250k]).
__device__ __forceinline__ long long global_thread_index() {
  return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// The sum of v over the threads of the block, returned to every thread: shuffles within each
// warp, then the warps' sums added in warp order, so the bits depend only on the inputs and
// blockDim. blockDim.x must be a multiple of 32; scratch is __shared__ room for 32 values,
// reusable by consecutive calls.
template <class T>
__device__ T block_sum(T v, T* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const unsigned warps = blockDim.x / 32;
  __syncthreads();  // every thread has read the scratch of a previous call
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  T total = scratch[0];
  for (unsigned w = 1; w < warps; ++w) total += scratch[w];
  return total;
}

// The N of "[N, d]": the product of every dimension but the last.
inline int64_t flat_rows(const Tensor& t) {
  int64_t n = 1;
  for (int i = 0; i + 1 < t.rank(); ++i) n *= t.shape()[i];
  return n;
}

// The device pointer of a floating tensor as its storage type.
template <class T>
T* device_data(const Tensor& t) {
  return static_cast<T*>(t.raw());
}

// Calls body(T{}) with T = float or __nv_bfloat16 after the tensor's dtype, so one kernel
// template serves both storages.
template <class Body>
void with_floating(const Tensor& t, const char* op, Body body) {
  if (t.dtype() == DType::f32) return body(float{});
  if (t.dtype() == DType::bf16) return body(__nv_bfloat16{});
  throw std::invalid_argument(std::string(op) + ": no CUDA kernel for " + t.describe());
}

// Calls body(T1{}, T2{}, ...) with the storage type of each tensor in turn, so one kernel
// template serves every mix of f32 and bf16 among them (2^k instantiations for k tensors).
template <class Body>
void with_floating_types(const char* op, Body body) {
  body();
}
template <class Body, class... Rest>
void with_floating_types(const char* op, Body body, const Tensor& first, const Rest&... rest) {
  with_floating(first, op, [&](auto tag) {
    with_floating_types(
        op, [&](auto... tags) { body(tag, tags...); }, rest...);
  });
}

}  // namespace stilts::cuda
