#include "kernels/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace stilts {
namespace {

constexpr size_t kKiB = size_t{1} << 10;
constexpr size_t kMiB = size_t{1} << 20;

// A device of `capacity` bytes that hands out addresses without memory behind them, with gaps
// between segments so that no two are adjacent by chance, and records what the pool did.
class FakeDevice final : public SegmentBackend {
 public:
  explicit FakeDevice(size_t capacity = size_t{1} << 40) : capacity_(capacity) {}

  void* allocate_segment(size_t bytes) override {
    ++attempts;
    if (live_bytes() + bytes > capacity_) return nullptr;
    const uintptr_t address = next_address_;
    next_address_ += bytes + kMiB;
    segments[address] = bytes;
    ++segments_allocated;
    return reinterpret_cast<void*>(address);
  }

  void free_segment(void* segment) override {
    const auto it = segments.find(reinterpret_cast<uintptr_t>(segment));
    ASSERT_NE(it, segments.end()) << "freed a segment it never got";
    EXPECT_GT(synchronizations, 0) << "freed a segment without synchronizing first";
    segments.erase(it);
    ++segments_freed;
  }

  void synchronize() override { ++synchronizations; }

  DeviceMemory device_memory() override { return {capacity_ - live_bytes(), capacity_}; }

  size_t live_bytes() const {
    size_t total = 0;
    for (const auto& [address, bytes] : segments) total += bytes;
    return total;
  }

  std::map<uintptr_t, size_t> segments;
  int attempts = 0, segments_allocated = 0, segments_freed = 0, synchronizations = 0;

 private:
  size_t capacity_;
  uintptr_t next_address_ = uintptr_t{1} << 40;
};

uintptr_t address_of(void* block) {
  return reinterpret_cast<uintptr_t>(block);
}

// The size classes of the cache this pool replaced (one free list per rounded size).
size_t exact_size_class(size_t nbytes) {
  const size_t step = nbytes <= kMiB ? 512 : 2 * kMiB;
  return std::max<size_t>(512, (nbytes + step - 1) / step * step);
}

// mt5-large's shapes in bf16 on a token-budget batcher: each step has its own input and target
// lengths. Forward keeps every layer's activations (including the attention probabilities and
// the logits, 0.5 MB per target token), backward frees them in reverse while each gradient
// lives until the next one exists.
TEST(BlockPool, VaryingBatchShapesReachASteadyState) {
  constexpr size_t kModel = 1024, kFeedForward = 2816, kHeads = 16, kVocab = 250112;
  constexpr int kLayers = 6, kSteps = 500, kSteadyFrom = 250;
  FakeDevice device;
  BlockPool pool(device, "fake");
  std::mt19937 rng(20240607);
  std::set<size_t> exact_classes;
  int segments_before_steady = 0;
  for (int step = 0; step < kSteps; ++step) {
    if (step == kSteadyFrom) segments_before_steady = device.segments_allocated;
    const size_t inputs = 128 + rng() % 897, targets = 16 + rng() % 241;
    std::vector<size_t> sizes;
    for (int layer = 0; layer < kLayers; ++layer) {
      sizes.insert(sizes.end(), {inputs * 4, inputs * kModel * 2, kHeads * inputs * inputs * 2,
                                 inputs * kFeedForward * 2, inputs * kFeedForward * 2});
    }
    for (int layer = 0; layer < kLayers; ++layer) {
      sizes.insert(sizes.end(), {targets * 4, targets * kModel * 2, kHeads * targets * targets * 2,
                                 kHeads * targets * inputs * 2, targets * kFeedForward * 2});
    }
    sizes.push_back(targets * kVocab * 2);
    std::vector<void*> saved;
    for (size_t bytes : sizes) {
      saved.push_back(pool.allocate(bytes));
      exact_classes.insert(exact_size_class(bytes));
    }
    void* gradient = nullptr;
    for (size_t i = sizes.size(); i-- > 0;) {
      void* next = pool.allocate(sizes[i]);
      if (gradient) pool.release(gradient);
      pool.release(saved[i]);
      gradient = next;
    }
    pool.release(gradient);
    const device::MemoryStats stats = pool.stats();
    ASSERT_EQ(stats.in_use, 0u) << "step " << step;
    ASSERT_EQ(stats.cached, device.live_bytes()) << "step " << step;
  }
  // The old cache kept one list per exact size class, so it held at least one block per
  // class it ever saw: hundreds here, growing with every step until the device was full.
  EXPECT_GT(exact_classes.size(), 500u);
  // The pool: about 40 segments in the first 150 steps, then none; the cache stays within a
  // small multiple of the most the tensors ever held.
  EXPECT_LE(device.segments_allocated, 50);
  EXPECT_EQ(device.segments_allocated, segments_before_steady)
      << "the segments of the first steps did not cover the later shapes";
  EXPECT_LT(device.live_bytes(), 3 * pool.stats().peak_in_use);
  EXPECT_EQ(device.segments_freed, 0);
  // The counters that stilts bench prints say the same.
  const device::MemoryStats stats = pool.stats();
  EXPECT_EQ(stats.segment_allocations, static_cast<size_t>(device.attempts));
  EXPECT_EQ(stats.segment_allocations, static_cast<size_t>(device.segments_allocated));
  EXPECT_EQ(stats.segment_frees, 0u);
  EXPECT_EQ(stats.flushes, 0u);
  EXPECT_GT(stats.largest_free_block, 0u);
  EXPECT_LE(stats.largest_free_block, stats.cached);
}

TEST(BlockPool, MergedNeighboursServeTheirJoinedSize) {
  FakeDevice device;
  BlockPool pool(device, "fake");
  void* a = pool.allocate(512 * kKiB);
  void* b = pool.allocate(512 * kKiB);
  void* c = pool.allocate(kMiB);
  ASSERT_EQ(device.segments_allocated, 1);
  EXPECT_EQ(address_of(b), address_of(a) + 512 * kKiB);
  EXPECT_EQ(address_of(c), address_of(b) + 512 * kKiB);
  pool.release(b);
  pool.release(a);  // a takes in its free next neighbour
  void* joined = pool.allocate(kMiB);
  EXPECT_EQ(joined, a);
  EXPECT_EQ(device.segments_allocated, 1);

  pool.release(joined);
  a = pool.allocate(512 * kKiB);
  b = pool.allocate(512 * kKiB);
  ASSERT_EQ(address_of(b), address_of(a) + 512 * kKiB);
  pool.release(a);
  pool.release(b);  // b takes in its free previous neighbour
  joined = pool.allocate(kMiB);
  EXPECT_EQ(joined, a);
  EXPECT_EQ(device.segments_allocated, 1);
  pool.release(c);
  pool.release(joined);
  EXPECT_EQ(pool.stats().cached, 2 * kMiB);
  EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(BlockPool, BestFitTakesTheSmallestBlockThatHoldsTheRequest) {
  FakeDevice device;
  BlockPool pool(device, "fake");
  // Above 10 MiB every request has a segment of its own size: three free blocks.
  void* large = pool.allocate(30 * kMiB);
  void* smallest = pool.allocate(12 * kMiB);
  void* middle = pool.allocate(20 * kMiB);
  pool.release(large);
  pool.release(smallest);
  pool.release(middle);
  ASSERT_EQ(device.segments_allocated, 3);

  void* block = pool.allocate(11 * kMiB);
  EXPECT_EQ(block, smallest);
  // The rest (1 MiB) is not worth splitting off in the large pool.
  EXPECT_EQ(pool.stats().in_use, 12 * kMiB);
  void* next = pool.allocate(13 * kMiB);
  EXPECT_EQ(next, middle);
  // 7 MiB rest: split off and free.
  EXPECT_EQ(pool.stats().in_use, 12 * kMiB + 13 * kMiB);
  EXPECT_EQ(device.segments_allocated, 3);
  void* rest = pool.allocate(7 * kMiB);
  EXPECT_EQ(address_of(rest), address_of(middle) + 13 * kMiB);
  EXPECT_EQ(device.segments_allocated, 3);
}

TEST(BlockPool, SmallAndLargePoolsNeverMix) {
  FakeDevice device;
  BlockPool pool(device, "fake");
  // A 1.5 MiB request takes a 20 MiB segment of the large pool.
  void* large = pool.allocate(1536 * kKiB);
  ASSERT_EQ(device.segments.begin()->second, 20 * kMiB);
  pool.release(large);
  void* small = pool.allocate(4 * kKiB);
  EXPECT_EQ(device.segments_allocated, 2) << "a small request was carved from a large segment";
  EXPECT_EQ(std::prev(device.segments.end())->second, 2 * kMiB);
  pool.release(small);
  // Now a whole free 2 MiB small segment and a 20 MiB large one; a 1.5 MiB request fits in
  // either, but belongs to the large one.
  void* again = pool.allocate(1536 * kKiB);
  EXPECT_EQ(again, large);
  pool.release(again);
  void* big = pool.allocate(21 * kMiB);
  EXPECT_EQ(device.segments_allocated, 3);
  pool.release(big);
  void* tiny = pool.allocate(1);
  EXPECT_EQ(tiny, small);
  EXPECT_EQ(device.segments_allocated, 3);
}

TEST(BlockPool, FullDeviceGetsTheFreeSegmentsBackAndRetriesOnce) {
  FakeDevice device(48 * kMiB);
  BlockPool pool(device, "fake");
  void* a = pool.allocate(2 * kMiB);
  void* b = pool.allocate(19 * kMiB);  // 20 MiB segments, both
  ASSERT_EQ(device.live_bytes(), 40 * kMiB);
  pool.release(a);
  pool.release(b);
  // Neither free block holds 30 MiB, and there is no room for a new segment beside them.
  void* block = pool.allocate(30 * kMiB);
  EXPECT_NE(block, nullptr);
  EXPECT_EQ(device.synchronizations, 1);
  EXPECT_EQ(device.segments_freed, 2);
  EXPECT_EQ(device.attempts, 4);
  EXPECT_EQ(pool.stats().in_use, 30 * kMiB);
  EXPECT_EQ(pool.stats().cached, 0u);
  EXPECT_EQ(pool.stats().flushes, 1u);
  EXPECT_EQ(pool.stats().segment_frees, 2u);
  EXPECT_EQ(pool.stats().segment_allocations, 4u);
  EXPECT_EQ(pool.stats().largest_free_block, 0u);

  // A segment that is partly in use stays; the request fails after one retry.
  void* small = pool.allocate(kMiB);
  const int attempts = device.attempts;
  try {
    pool.allocate(20 * kMiB);
    FAIL() << "allocated beyond the device";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("fake out of memory: asked for 20.0 MiB"), std::string::npos) << message;
    EXPECT_NE(message.find("31.0 MiB in use, 1.0 MiB cached"), std::string::npos) << message;
    EXPECT_NE(message.find("16.0 MiB of the device's 48.0 MiB free"), std::string::npos) << message;
  }
  EXPECT_EQ(device.attempts, attempts + 2);
  EXPECT_EQ(device.segments_freed, 2);
  EXPECT_EQ(pool.stats().flushes, 2u);
  EXPECT_EQ(pool.stats().in_use + pool.stats().cached, device.live_bytes());
  pool.release(small);
  pool.release(block);
}

// Random requests of every kind on a small device, some of them failing: after each call the
// blocks handed out lie inside live segments without overlapping, and the statistics add up
// to the segments exactly.
TEST(BlockPool, StatsStayExactThroughAnySequence) {
  FakeDevice device(256 * kMiB);
  BlockPool pool(device, "fake");
  std::mt19937 rng(7);
  std::map<uintptr_t, size_t> live;  // address -> rounded request
  size_t peak = 0, failures = 0;
  for (int call = 0; call < 5000; ++call) {
    if (!live.empty() && rng() % 2 == 0) {
      auto it = std::next(live.begin(), static_cast<long>(rng() % live.size()));
      pool.release(reinterpret_cast<void*>(it->first));
      live.erase(it);
    } else {
      const size_t kinds[] = {rng() % (4 * kKiB), rng() % kMiB, kMiB + rng() % (9 * kMiB),
                              10 * kMiB + rng() % (40 * kMiB)};
      const size_t bytes = kinds[rng() % 4];
      try {
        live[address_of(pool.allocate(bytes))] = std::max<size_t>(512, (bytes + 511) / 512 * 512);
      } catch (const std::runtime_error&) {
        ++failures;
      }
    }
    const device::MemoryStats stats = pool.stats();
    ASSERT_EQ(stats.in_use + stats.cached, device.live_bytes()) << "call " << call;
    size_t requested = 0;
    uintptr_t end_of_previous = 0;
    for (const auto& [address, bytes] : live) {
      ASSERT_GE(address, end_of_previous) << "overlapping blocks, call " << call;
      end_of_previous = address + bytes;
      auto segment = device.segments.upper_bound(address);
      ASSERT_NE(segment, device.segments.begin());
      --segment;
      ASSERT_LE(address + bytes, segment->first + segment->second) << "call " << call;
      requested += bytes;
    }
    // A block handed out is its rounded request, plus a rest too small to split off.
    ASSERT_GE(stats.in_use, requested) << "call " << call;
    ASSERT_LE(stats.in_use, requested + live.size() * kMiB) << "call " << call;
    peak = std::max(peak, stats.in_use);
    ASSERT_EQ(stats.peak_in_use, peak) << "call " << call;
  }
  EXPECT_GT(failures, 0u);
  EXPECT_GT(device.segments_freed, 0);
  for (const auto& [address, bytes] : live) pool.release(reinterpret_cast<void*>(address));
  EXPECT_EQ(pool.stats().in_use, 0u);
  EXPECT_EQ(pool.stats().cached, device.live_bytes());
}

}  // namespace
}  // namespace stilts
