// kernels/device.h for a build without the CUDA backend: no device is ever available, and
// asking for device memory is an error that says so.
#include <stdexcept>

#include "kernels/device.h"

namespace stilts::device {
namespace {

constexpr const char* kReason =
    "this build of stilts has no CUDA backend (configure with the CUDA toolkit and "
    "-DSTILTS_CUDA=ON)";

[[noreturn]] void unavailable() {
  throw std::runtime_error(kReason);
}

}  // namespace

bool cuda_available() {
  return false;
}

std::string cuda_unavailable_reason() {
  return kReason;
}

std::string cuda_device_name() {
  unavailable();
}

double cuda_peak_bf16_flops() {
  unavailable();
}

void* allocate(size_t, int) {
  unavailable();
}

void release(void*, size_t) {}

MemoryStats memory_stats() {
  return {};
}

size_t cublaslt_plans() {
  return 0;
}

void copy_bytes(void*, Device, const void*, Device, size_t) {
  unavailable();
}

void synchronize() {}

void set_synchronous(bool) {}

bool synchronous() {
  return false;
}

}  // namespace stilts::device
