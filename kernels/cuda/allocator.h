// The caching allocator behind device::allocate and device::release: device memory for
// tensors, carved from cached segments (kernels/block_pool.h) so that a training step loop,
// once warm, never calls cudaMalloc or cudaFree (each of which can synchronize the whole
// device), even as the batches' shapes change.
#pragma once

#include <cstddef>

#include "kernels/device.h"

namespace stilts::cuda {

// A block of at least nbytes (not zeroed), from a cached segment when one has room. Throws
// std::runtime_error "CUDA out of memory: ..." when even returning the wholly free segments
// leaves too little room.
void* cached_allocate(size_t nbytes);
// Gives a block of cached_allocate back to the cache. Never throws: tensors' destructors call
// it.
void cached_release(void* block) noexcept;
device::MemoryStats cached_memory_stats();

}  // namespace stilts::cuda
