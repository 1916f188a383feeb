// What every CUDA kernel file shares: the compute stream, the cuBLASLt handle and workspace,
// error checks, and the device-side error report for data-dependent errors. Only .cu files
// and CUDA-aware code (the NCCL communicator) include it.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace stilts::cuda {

// The one stream every kernel, copy and cuBLASLt call of the backend runs on, created on the
// first use on the current device. Other streams (gradient all-reduce) order themselves
// against it with events.
cudaStream_t compute_stream();
cublasLtHandle_t cublaslt();
// A workspace for cuBLASLt's faster algorithms, allocated once.
void* cublaslt_workspace();
size_t cublaslt_workspace_bytes();

// Throw std::runtime_error "<what>: <CUDA's name and text of the error>" on failure.
void check(cudaError_t status, const char* what);

// Waits on the host until `stream` has run the work queued on it (cudaStreamSynchronize), or
// through the waiter a communicator installed. The compute stream may be waiting on a collective
// (an event of the NCCL stream), and a collective whose peer is gone never completes: a plain
// synchronize would block forever instead of failing after STILTS_NCCL_TIMEOUT. So every host
// wait of the backend (device::synchronize, a copy to the host, a debug-mode launch check) goes
// through here, and the NCCL communicators install a waiter that polls the stream and their own
// state with that deadline (parallel/nccl_communicator.h). Throws "<what>: ..." on failure.
void wait_on_host(cudaStream_t stream, const char* what);
// Installs the waiter, called with `state` (a null waiter puts cudaStreamSynchronize back). Not
// synchronized: the communicators are created and destroyed by the main thread, outside any
// wait.
using HostWaiter = void (*)(void* state, cudaStream_t stream, const char* what);
void set_host_waiter(HostWaiter waiter, void* state);
void check(cublasStatus_t status, const char* what);
// After each launch: reports a failed launch naming the op; in synchronous (debug) mode it
// also waits for the kernel, so a fault inside it is reported by this op.
void check_launch(const char* op);

// Blocks of `threads` covering n elements (at least one).
unsigned blocks_for(int64_t n, unsigned threads);

// Data-dependent errors that the CPU kernels throw at once (an id outside the vocabulary, a
// target outside [0, V)) cannot be thrown from device code. The kernel records the first one
// with report_device_error; the host reads the record at the next synchronization
// (device::synchronize, a copy to the host) and throws "<op>: row <row> has <what> <value>".
enum class DeviceErrorKind : int {
  none = 0,
  embedding_id_out_of_range = 1,
  target_out_of_range = 2,
  position_bucket_out_of_range = 3,
};
// The record, in device memory; the first kernel to report wins.
struct DeviceErrorRecord {
  int kind;
  long long row;
  long long value;
};
DeviceErrorRecord* device_error_record();
// Throws when a kernel has recorded an error since the last check, and clears the record.
// Callers synchronize the compute stream first.
void throw_recorded_device_error();

#ifdef __CUDACC__
__device__ inline void report_device_error(DeviceErrorRecord* record, DeviceErrorKind kind,
                                           long long row, long long value) {
  if (atomicCAS(&record->kind, 0, static_cast<int>(kind)) == 0) {
    record->row = row;
    record->value = value;
  }
}
#endif

}  // namespace stilts::cuda
