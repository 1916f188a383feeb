// The caching allocator of kernels/cuda/allocator.h.
//
// Sizes are rounded to a class (512 B steps up to 1 MiB, 2 MiB steps above), and a released
// block waits in its class's free list for the next request of the same class. A training
// step asks for the same sizes every step, so from the second step on every request is served
// from the lists.
//
// Why a released block may be handed out again at once, without waiting for the GPU: every
// kernel, copy and memset of the backend runs on the one compute stream. When the host
// releases a block, all work that used it has already been enqueued on that stream; whoever
// gets the block next enqueues its work after that, so the stream runs it after the old
// users are done. Work on another stream (the gradient all-reduce) must keep its tensors alive
// until the compute stream has waited on its event, which the communicator does.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/context.h"

namespace stilts::cuda {
namespace {

constexpr size_t kSmallStep = 512;
constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kLargeStep = size_t{2} << 20;

size_t round_up(size_t n, size_t step) {
  return (n + step - 1) / step * step;
}

// Zero-byte tensors get a real block too, so every Storage has a distinct device pointer.
size_t size_class(size_t nbytes) {
  if (nbytes <= kSmallLimit) return std::max(kSmallStep, round_up(nbytes, kSmallStep));
  return round_up(nbytes, kLargeStep);
}

std::string mebibytes(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(bytes) / (1 << 20));
  return text;
}

class Cache {
 public:
  void* allocate(size_t nbytes) {
    const size_t bytes = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* block = nullptr;
    auto it = free_.find(bytes);
    if (it != free_.end() && !it->second.empty()) {
      block = it->second.back();
      it->second.pop_back();
      stats_.cached -= bytes;
    } else {
      block = fresh_block(bytes, nbytes);
    }
    stats_.in_use += bytes;
    stats_.peak_in_use = std::max(stats_.peak_in_use, stats_.in_use);
    return block;
  }

  void release(void* block, size_t nbytes) noexcept {
    const size_t bytes = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use -= bytes;
    try {
      free_[bytes].push_back(block);
      stats_.cached += bytes;
    } catch (const std::bad_alloc&) {
      // The host is out of memory for the list itself: give the block back to CUDA instead.
      cudaFree(block);
    }
  }

  device::MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  // cudaMalloc, and when the device is full, once more after returning the whole cache to CUDA
  // (blocks of other classes may add up to what is asked).
  void* fresh_block(size_t bytes, size_t asked) {
    void* block = nullptr;
    cudaError_t status = cudaMalloc(&block, bytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky, but a later check_launch would report it
      const size_t cached_before = stats_.cached;
      empty_cache();
      status = cudaMalloc(&block, bytes);
      if (status == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_bytes = 0, total_bytes = 0;
        cudaMemGetInfo(&free_bytes, &total_bytes);
        throw std::runtime_error("CUDA out of memory: asked for " + mebibytes(asked) + " MiB, " +
                                 mebibytes(stats_.in_use) + " MiB in use, " +
                                 mebibytes(cached_before) + " MiB cached (freed to retry); " +
                                 mebibytes(free_bytes) + " MiB of the GPU's " +
                                 mebibytes(total_bytes) + " MiB free");
      }
    }
    check(status, "cudaMalloc");
    return block;
  }

  // Kernels still queued may use cached blocks (released after their launch), so the stream
  // drains before the blocks go back to CUDA.
  void empty_cache() {
    check(cudaStreamSynchronize(compute_stream()), "emptying the CUDA memory cache");
    for (auto& [bytes, blocks] : free_)
      for (void* block : blocks) check(cudaFree(block), "emptying the CUDA memory cache");
    free_.clear();
    stats_.cached = 0;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  device::MemoryStats stats_;
};

// Never destroyed: tensors with static storage duration may be released after the CUDA
// runtime has shut down, and the driver reclaims the blocks at exit anyway.
Cache& cache() {
  static Cache* const instance = new Cache;
  return *instance;
}

}  // namespace

void* cached_allocate(size_t nbytes) {
  return cache().allocate(nbytes);
}

void cached_release(void* block, size_t nbytes) noexcept {
  cache().release(block, nbytes);
}

device::MemoryStats cached_memory_stats() {
  return cache().stats();
}

}  // namespace stilts::cuda
