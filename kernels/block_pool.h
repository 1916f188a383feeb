// The policy of the device memory cache, apart from the device: which segment serves a request,
// how blocks are split and merged, what happens when the device is full. kernels/cuda/allocator.h
// runs it on cudaMalloc and cudaFree; the unit tests run it on the CPU with a fake backend.
//
// The token-budget batcher changes tensor shapes every step, so a cache keyed by exact size
// would take a new segment for each new shape until the device is full. Instead, as PyTorch's
// CUDACachingAllocator does, blocks are carved out of larger segments and a request takes the
// smallest free block that holds it, splitting off the rest; a released block merges with its
// free neighbours, so a segment whose tensors are all gone serves any size again.
//
// - Requests are rounded up to 512 B (a zero-byte request too, so that every tensor has a
//   distinct address).
// - Small requests (up to 1 MiB) share 2 MiB segments; large ones (above 1 MiB) come from
//   their own pool: 20 MiB segments for requests under 10 MiB, the request rounded up to 2 MiB
//   above that. The pools never mix, so small blocks do not pin down large segments.
// - A block is split when the rest is worth keeping: 512 B in the small pool, more than 1 MiB
//   in the large one (a smaller rest would only fragment it).
// - When the device has no room for a new segment, the backend synchronizes, every wholly free
//   segment goes back to the device, and the segment is asked for once more.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <unordered_map>

#include "kernels/device.h"

namespace stilts {

// Where a BlockPool gets its segments from.
class SegmentBackend {
 public:
  virtual ~SegmentBackend() = default;
  // A segment of `bytes`, or nullptr when the device has no room for it; other failures throw.
  virtual void* allocate_segment(size_t bytes) = 0;
  virtual void free_segment(void* segment) = 0;
  // Returns once no work still queued on the device can use a block the pool holds as free,
  // so that its segment may go back to the device.
  virtual void synchronize() = 0;
  // The device's free and total bytes, for the out-of-memory error.
  struct DeviceMemory {
    size_t free = 0, total = 0;
  };
  virtual DeviceMemory device_memory() = 0;
};

// Not thread-safe: the caller serializes the calls.
class BlockPool {
 public:
  // `device` begins the out-of-memory error ("CUDA out of memory: ...").
  BlockPool(SegmentBackend& backend, std::string device);
  // Forgets the segments without returning them: the backend may be gone (CUDA at exit).
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // A block of at least nbytes. Throws std::runtime_error "<device> out of memory: asked for
  // ... MiB, ... MiB in use, ... MiB cached ..." when the device has no room even after the
  // wholly free segments went back to it.
  void* allocate(size_t nbytes);
  // Gives a block of allocate back to the pool. Never throws and never allocates host memory,
  // since tensors' destructors call it.
  void release(void* block) noexcept;
  // in_use: the bytes of the blocks handed out (rounded, with an unsplit rest); cached: the
  // free bytes of the segments; together, every byte the segments hold.
  device::MemoryStats stats() const;

 private:
  struct Block;
  // Best fit: the first block not smaller than the request, the lowest address among equals.
  struct BySizeThenAddress {
    bool operator()(const Block* a, const Block* b) const;
  };
  using FreeBlocks = std::set<Block*, BySizeThenAddress>;

  FreeBlocks& pool_of(bool small) { return small ? small_free_ : large_free_; }
  // Adds a whole segment for `bytes` (a rounded request) to its pool's free blocks.
  Block* new_segment(size_t bytes, bool small, size_t asked);
  // Returns every segment that is one free block to the backend; the bytes returned.
  size_t release_free_segments();

  SegmentBackend& backend_;
  std::string device_;
  FreeBlocks small_free_, large_free_;
  std::unordered_map<void*, Block*> handed_out_;
  device::MemoryStats stats_;
};

}  // namespace stilts
