// kernels/device.h for the CUDA build: device discovery, the peak rates for MFU, memory from the
// caching allocator, transfers and synchronization on the compute stream.
#include <atomic>
#include <cstring>
#include <string>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/gemm_plan.h"
#include "kernels/device.h"

namespace stilts::device {
namespace {

std::atomic<bool> synchronous_launches{false};

struct Availability {
  bool available = false;
  std::string reason;
};

const Availability& availability() {
  static const Availability answer = [] {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      cudaGetLastError();
      return Availability{false, std::string("no CUDA device: cudaGetDeviceCount says ") +
                                     cudaGetErrorName(status) + ": " + cudaGetErrorString(status)};
    }
    if (count == 0) return Availability{false, "no CUDA device: cudaGetDeviceCount found none"};
    return Availability{true, ""};
  }();
  return answer;
}

// For a copy with at least one side on the device.
cudaMemcpyKind copy_kind(Device dst, Device src) {
  if (src == Device::cpu) return cudaMemcpyHostToDevice;
  return dst == Device::cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost;
}

}  // namespace

bool cuda_available() {
  return availability().available;
}

std::string cuda_unavailable_reason() {
  return availability().reason;
}

std::string cuda_device_name() {
  int device = 0;
  cuda::check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp properties{};
  cuda::check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
  return properties.name;
}

// Dense (not 2:4 sparse) bf16 tensor-core peaks from NVIDIA's datasheets, whose tables give the
// sparse figure: half of it. H100 SXM 1979 sparse, H100 PCIe 1513, H100 NVL 1671 (per GPU),
// H200 SXM 1979, A100 (SXM and PCIe) 624, B200 4500. GH200 matches "H200" and GB200 matches
// "B200", whose GPUs run at least those rates. Names as cudaGetDeviceProperties gives them,
// e.g. "NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA A100-SXM4-80GB".
double cuda_peak_bf16_flops() {
  const std::string name = cuda_device_name();
  auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
  if (has("H100")) {
    if (has("PCIe")) return 756e12;
    if (has("NVL")) return 835e12;
    return 989e12;
  }
  if (has("H200")) return has("NVL") ? 835e12 : 989e12;
  if (has("A100")) return 312e12;
  if (has("B200")) return 2250e12;
  return 0.0;
}

void* allocate(size_t nbytes, int fill) {
  void* block = cuda::cached_allocate(nbytes);
  if (fill >= 0)
    cuda::check(cudaMemsetAsync(block, fill, nbytes, cuda::compute_stream()),
                "filling a new tensor");
  return block;
}

void release(void* data, size_t) {
  cuda::cached_release(data);
}

MemoryStats memory_stats() {
  return cuda::cached_memory_stats();
}

size_t cublaslt_plans() {
  return cuda::plans_made();
}

// Data-dependent kernel errors (an id outside the vocabulary) surface here: every result the
// host reads passes through this copy, after its stream has drained. A copy between two device
// buffers touches no host memory: every later use runs after it on the compute stream, so it
// returns at once.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  cudaStream_t stream = cuda::compute_stream();
  if (nbytes > 0)
    cuda::check(cudaMemcpyAsync(dst, src, nbytes, copy_kind(dst_device, src_device), stream),
                "copy_bytes");
  if (dst_device == Device::cuda && src_device == Device::cuda) return;
  cuda::wait_on_host(stream, "copy_bytes");
  cuda::throw_recorded_device_error();
}

void synchronize() {
  cuda::wait_on_host(cuda::compute_stream(), "synchronize");
  cuda::throw_recorded_device_error();
}

void set_synchronous(bool on) {
  synchronous_launches.store(on);
}

bool synchronous() {
  return synchronous_launches.load();
}

}  // namespace stilts::device
