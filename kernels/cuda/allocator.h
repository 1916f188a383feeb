// The caching allocator behind device::allocate and device::release: device memory for
// tensors, recycled by size so that a training step loop, once warm, never calls cudaMalloc
// or cudaFree (each of which can synchronize the whole device).
#pragma once

#include <cstddef>

#include "kernels/device.h"

namespace stilts::cuda {

// A block of at least nbytes (not zeroed), from the cache when one of its size class is free.
// Throws std::runtime_error "CUDA out of memory: ..." when even an emptied cache leaves too
// little room.
void* cached_allocate(size_t nbytes);
// Gives the block of cached_allocate(nbytes) back to the cache. Never throws: tensors' destructors
// call it.
void cached_release(void* block, size_t nbytes) noexcept;
device::MemoryStats cached_memory_stats();

}  // namespace stilts::cuda
