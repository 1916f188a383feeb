// The pool of kernels/block_pool.h.
#include "kernels/block_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <utility>

namespace stilts {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kRound = 512;
constexpr size_t kSmallLimit = kMiB;
constexpr size_t kSmallSegment = 2 * kMiB;
constexpr size_t kLargeSegment = 20 * kMiB;
constexpr size_t kOwnSegmentFrom = 10 * kMiB;
constexpr size_t kLargeRound = 2 * kMiB;

size_t round_up(size_t n, size_t step) {
  return (n + step - 1) / step * step;
}

size_t rounded_request(size_t nbytes) {
  return nbytes == 0 ? kRound : round_up(nbytes, kRound);
}

size_t segment_size(size_t bytes) {
  if (bytes <= kSmallLimit) return kSmallSegment;
  if (bytes < kOwnSegmentFrom) return kLargeSegment;
  return round_up(bytes, kLargeRound);
}

bool worth_splitting(size_t rest, bool small) {
  return small ? rest >= kRound : rest > kSmallLimit;
}

std::string mebibytes(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(bytes) / kMiB);
  return text;
}

}  // namespace

// A free block sits in its pool's set. A block handed out holds the set node it will go back
// in, so that release, called from destructors, never allocates.
struct BlockPool::Block {
  char* address = nullptr;
  size_t size = 0;
  bool small = false;
  // The blocks beside it in its segment; none on either side means it is the whole segment.
  Block* prev = nullptr;
  Block* next = nullptr;
  FreeBlocks::node_type node;

  bool is_free() const { return node.empty(); }
};

bool BlockPool::BySizeThenAddress::operator()(const Block* a, const Block* b) const {
  if (a->size != b->size) return a->size < b->size;
  return a->address < b->address;
}

BlockPool::BlockPool(SegmentBackend& backend, std::string device)
    : backend_(backend), device_(std::move(device)) {}

BlockPool::~BlockPool() {
  for (FreeBlocks* pool : {&small_free_, &large_free_})
    for (Block* block : *pool) delete block;
  for (auto& [address, block] : handed_out_) delete block;
}

void* BlockPool::allocate(size_t nbytes) {
  const size_t bytes = rounded_request(nbytes);
  const bool small = bytes <= kSmallLimit;
  FreeBlocks& pool = pool_of(small);
  Block key;
  key.size = bytes;
  auto fit = pool.lower_bound(&key);
  Block* block = fit != pool.end() ? *fit : new_segment(bytes, small, nbytes);

  // Everything that may throw comes before the pool changes, so a throw leaves it as it was.
  std::unique_ptr<Block> rest;
  FreeBlocks::node_type rest_node;
  if (worth_splitting(block->size - bytes, small)) {
    rest = std::make_unique<Block>();
    rest->address = block->address + bytes;
    rest->size = block->size - bytes;
    rest->small = small;
    FreeBlocks scratch;
    scratch.insert(rest.get());
    rest_node = scratch.extract(scratch.begin());
  }
  handed_out_.emplace(block->address, block);

  block->node = pool.extract(block);
  if (rest) {
    block->size = bytes;
    rest->prev = block;
    rest->next = block->next;
    if (rest->next) rest->next->prev = rest.get();
    block->next = rest.release();
    pool.insert(std::move(rest_node));
  }
  stats_.cached -= block->size;
  stats_.in_use += block->size;
  stats_.peak_in_use = std::max(stats_.peak_in_use, stats_.in_use);
  return block->address;
}

void BlockPool::release(void* address) noexcept {
  const auto it = handed_out_.find(address);
  if (it == handed_out_.end()) {
    std::fprintf(stderr, "stilts: %s memory released that the cache did not hand out\n",
                 device_.c_str());
    std::abort();
  }
  Block* block = it->second;
  handed_out_.erase(it);
  stats_.in_use -= block->size;
  stats_.cached += block->size;

  FreeBlocks& pool = pool_of(block->small);
  if (Block* prev = block->prev; prev && prev->is_free()) {
    pool.erase(prev);
    block->address = prev->address;
    block->size += prev->size;
    block->prev = prev->prev;
    if (block->prev) block->prev->next = block;
    delete prev;
  }
  if (Block* next = block->next; next && next->is_free()) {
    pool.erase(next);
    block->size += next->size;
    block->next = next->next;
    if (block->next) block->next->prev = block;
    delete next;
  }
  FreeBlocks::node_type node = std::move(block->node);
  pool.insert(std::move(node));
}

device::MemoryStats BlockPool::stats() const {
  device::MemoryStats stats = stats_;
  // Each pool is ordered by size: its largest free block is its last.
  for (const FreeBlocks* pool : {&small_free_, &large_free_})
    if (!pool->empty())
      stats.largest_free_block = std::max(stats.largest_free_block, (*pool->rbegin())->size);
  return stats;
}

BlockPool::Block* BlockPool::new_segment(size_t bytes, bool small, size_t asked) {
  auto block = std::make_unique<Block>();
  block->size = segment_size(bytes);
  block->small = small;
  FreeBlocks scratch;
  scratch.insert(block.get());
  FreeBlocks::node_type node = scratch.extract(scratch.begin());

  void* segment = backend_.allocate_segment(block->size);
  ++stats_.segment_allocations;
  if (segment == nullptr) {
    const size_t cached = stats_.cached;
    backend_.synchronize();
    ++stats_.flushes;
    const size_t returned = release_free_segments();
    segment = backend_.allocate_segment(block->size);
    ++stats_.segment_allocations;
    if (segment == nullptr) {
      const SegmentBackend::DeviceMemory memory = backend_.device_memory();
      throw std::runtime_error(
          device_ + " out of memory: asked for " + mebibytes(asked) + " MiB, " +
          mebibytes(stats_.in_use) + " MiB in use, " + mebibytes(cached) + " MiB cached (" +
          mebibytes(returned) + " MiB of it in free segments, freed to retry); " +
          mebibytes(memory.free) + " MiB of the device's " + mebibytes(memory.total) + " MiB free");
    }
  }
  block->address = static_cast<char*>(segment);
  stats_.cached += block->size;
  pool_of(small).insert(std::move(node));
  return block.release();
}

size_t BlockPool::release_free_segments() {
  size_t returned = 0;
  for (FreeBlocks* pool : {&small_free_, &large_free_}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* block = *it;
      if (block->prev || block->next) {
        ++it;
        continue;
      }
      backend_.free_segment(block->address);
      ++stats_.segment_frees;
      it = pool->erase(it);
      stats_.cached -= block->size;
      returned += block->size;
      delete block;
    }
  }
  return returned;
}

}  // namespace stilts
