// The caching allocator of kernels/cuda/allocator.h: the policy of kernels/block_pool.h on
// segments from cudaMalloc. Once the segments cover the sizes a training step asks for, no
// request calls cudaMalloc or cudaFree, however the batches' shapes vary.
//
// Why a released block may be handed out again at once, without waiting for the GPU: every
// kernel, copy and memset of the backend runs on the one compute stream. When the host
// releases a block, all work that used it has already been enqueued on that stream; whoever
// gets the block (or a piece of it, or a block merged with it) next enqueues its work after
// that, so the stream runs it after the old users are done. Work on another stream (the
// gradient all-reduce) must keep its tensors alive until the compute stream has waited on its
// event, which the communicator does.
#include <mutex>

#include "kernels/block_pool.h"
#include "kernels/cuda/allocator.h"
#include "kernels/cuda/context.h"

namespace stilts::cuda {
namespace {

class CudaSegments final : public SegmentBackend {
 public:
  void* allocate_segment(size_t bytes) override {
    void* segment = nullptr;
    const cudaError_t status = cudaMalloc(&segment, bytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky, but a later check_launch would report it
      return nullptr;
    }
    check(status, "cudaMalloc");
    return segment;
  }

  void free_segment(void* segment) override {
    check(cudaFree(segment), "emptying the CUDA memory cache");
  }

  // Kernels still queued may use free blocks (released after their launch), so the stream
  // drains before their segments go back to CUDA.
  void synchronize() override { wait_on_host(compute_stream(), "emptying the CUDA memory cache"); }

  DeviceMemory device_memory() override {
    DeviceMemory memory;
    cudaMemGetInfo(&memory.free, &memory.total);
    return memory;
  }
};

class Cache {
 public:
  void* allocate(size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    return pool_.allocate(nbytes);
  }

  void release(void* block) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    pool_.release(block);
  }

  device::MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return pool_.stats();
  }

 private:
  std::mutex mutex_;
  CudaSegments segments_;
  BlockPool pool_{segments_, "CUDA"};
};

// Never destroyed: tensors with static storage duration may be released after the CUDA
// runtime has shut down, and the driver reclaims the segments at exit anyway.
Cache& cache() {
  static Cache* const instance = new Cache;
  return *instance;
}

}  // namespace

void* cached_allocate(size_t nbytes) {
  return cache().allocate(nbytes);
}

void cached_release(void* block) noexcept {
  cache().release(block);
}

device::MemoryStats cached_memory_stats() {
  return cache().stats();
}

}  // namespace stilts::cuda
