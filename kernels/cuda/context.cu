// The process-wide CUDA state of kernels/cuda/context.h: the compute stream, the cuBLASLt
// handle and workspace, the error checks and the device-side error record. Each piece is made
// on first use by a function-local static, which C++ initializes once even under threads.
#include <stdexcept>
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/device.h"

namespace stilts::cuda {
namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

const char* device_error_text(int kind) {
  switch (static_cast<DeviceErrorKind>(kind)) {
    case DeviceErrorKind::embedding_id_out_of_range:
      return "embedding id out of range";
    case DeviceErrorKind::target_out_of_range:
      return "target out of range";
    case DeviceErrorKind::position_bucket_out_of_range:
      return "position bucket out of range";
    case DeviceErrorKind::none:
      break;
  }
  return "unknown device error";
}

const char* device_error_op(int kind) {
  switch (static_cast<DeviceErrorKind>(kind)) {
    case DeviceErrorKind::embedding_id_out_of_range:
      return "embedding";
    case DeviceErrorKind::target_out_of_range:
      return "cross_entropy";
    case DeviceErrorKind::position_bucket_out_of_range:
      return "position_bias";
    case DeviceErrorKind::none:
      break;
  }
  return "a CUDA kernel";
}

}  // namespace

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(status) + ": " +
                             cudaGetErrorString(status));
}

namespace {
HostWaiter host_waiter = nullptr;
void* host_waiter_state = nullptr;
}  // namespace

void wait_on_host(cudaStream_t stream, const char* what) {
  if (host_waiter)
    host_waiter(host_waiter_state, stream, what);
  else
    check(cudaStreamSynchronize(stream), what);
}

void set_host_waiter(HostWaiter waiter, void* state) {
  host_waiter = waiter;
  host_waiter_state = state;
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasLtGetStatusName(status) + ": " +
                             cublasLtGetStatusString(status));
}

cudaStream_t compute_stream() {
  // Non-blocking: the legacy default stream, which libraries may use behind our back, never
  // serializes against it.
  static const cudaStream_t stream = [] {
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "creating the compute stream");
    return s;
  }();
  return stream;
}

cublasLtHandle_t cublaslt() {
  static const cublasLtHandle_t handle = [] {
    cublasLtHandle_t h = nullptr;
    check(cublasLtCreate(&h), "cublasLtCreate");
    return h;
  }();
  return handle;
}

// Outside the caching allocator: it lives as long as the process and is not a tensor, so it
// would only blur the allocator's statistics.
void* cublaslt_workspace() {
  static void* const workspace = [] {
    void* p = nullptr;
    check(cudaMalloc(&p, kWorkspaceBytes), "allocating the cuBLASLt workspace");
    return p;
  }();
  return workspace;
}

size_t cublaslt_workspace_bytes() {
  return kWorkspaceBytes;
}

void check_launch(const char* op) {
  check(cudaGetLastError(), op);
  if (!device::synchronous()) return;
  wait_on_host(compute_stream(), op);
  throw_recorded_device_error();
}

unsigned blocks_for(int64_t n, unsigned threads) {
  const int64_t blocks = n <= 0 ? 1 : (n + threads - 1) / threads;
  // The grid's x dimension holds at most 2^31 - 1 blocks.
  if (blocks > 0x7fffffff)
    throw std::length_error(std::to_string(n) + " elements need more than 2^31 - 1 blocks of " +
                            std::to_string(threads) + " threads");
  return static_cast<unsigned>(blocks);
}

// Zeroed on the compute stream, so every kernel that reports into it runs after the clearing.
DeviceErrorRecord* device_error_record() {
  static DeviceErrorRecord* const record = [] {
    void* p = nullptr;
    check(cudaMalloc(&p, sizeof(DeviceErrorRecord)), "allocating the device error record");
    check(cudaMemsetAsync(p, 0, sizeof(DeviceErrorRecord), compute_stream()),
          "clearing the device error record");
    return static_cast<DeviceErrorRecord*>(p);
  }();
  return record;
}

void throw_recorded_device_error() {
  DeviceErrorRecord* record = device_error_record();
  DeviceErrorRecord host{};
  check(cudaMemcpyAsync(&host, record, sizeof(host), cudaMemcpyDeviceToHost, compute_stream()),
        "reading the device error record");
  wait_on_host(compute_stream(), "reading the device error record");
  if (host.kind == static_cast<int>(DeviceErrorKind::none)) return;
  check(cudaMemsetAsync(record, 0, sizeof(DeviceErrorRecord), compute_stream()),
        "clearing the device error record");
  throw std::runtime_error(std::string(device_error_op(host.kind)) + ": row " +
                           std::to_string(host.row) + " has " + device_error_text(host.kind) + " " +
                           std::to_string(host.value));
}

}  // namespace stilts::cuda
