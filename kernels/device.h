// Device memory and transfers, the part of the CUDA backend that Tensor itself needs. A build
// without CUDA implements these too (kernels/no_cuda.cc): cuda_available() is false with the
// reason, and touching device memory throws that reason.
#pragma once

#include <cstddef>
#include <string>

#include "kernels/tensor.h"

namespace stilts::device {

// True when this build has the CUDA backend and the process sees a usable GPU.
bool cuda_available();
// Why cuda_available() is false ("this build of stilts has no CUDA backend", "no CUDA
// device: cudaGetDeviceCount says ..."); empty when it is true.
std::string cuda_unavailable_reason();
// The GPU's name and its peak dense bf16 rate in FLOP/s (0 for a GPU stilts has no figure
// for), for MFU.
std::string cuda_device_name();
double cuda_peak_bf16_flops();

// Device memory from the caching allocator, every byte set to `fill` (0 to 255), or left as it
// was when `fill` is negative; release gives it back to the cache.
void* allocate(size_t nbytes, int fill);
void release(void* data, size_t nbytes);
// Bytes held by live tensors and by the cache, the most ever held by live tensors, and what the
// cache asked of the device: segments allocated (cudaMalloc calls, failed ones included) and
// freed, flushes (a cudaMalloc that failed made the cache return its free segments), and the
// largest free block, so 1 - largest_free_block / cached is how fragmented the cache is.
struct MemoryStats {
  size_t in_use = 0, cached = 0, peak_in_use = 0;
  size_t segment_allocations = 0, segment_frees = 0, flushes = 0, largest_free_block = 0;
};
MemoryStats memory_stats();
// How many cuBLASLt plans the process has made (kernels/cuda/gemm_plan.h): one per distinct
// product, so a training loop over a fixed set of shapes stops adding any.
size_t cublaslt_plans();

// Copies nbytes between any two devices, ordered after the work already queued on the compute
// stream. When host memory is involved it returns once the data is in place (the host buffer
// is then safe to reuse or read) and reports any data-dependent error a kernel recorded; a
// device-to-device copy is only queued, since later work on the stream is ordered after it.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);
// Waits for every kernel queued on the compute stream.
void synchronize();

// Debug mode (stilts train --debug): every op synchronizes after its launch and checks the
// launch's error, so a fault is reported by the op that caused it.
void set_synchronous(bool on);
bool synchronous();

}  // namespace stilts::device
