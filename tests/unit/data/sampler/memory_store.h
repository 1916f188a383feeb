// An in-memory ExampleStore whose lengths and tokens follow from (source, index), so tests can
// check every row of a batch without HDF5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/batcher.h"

namespace stilts::data::testing {

// Lengths vary over [1, max_input] and [1, max_target]; tokens encode their position.
class MemoryStore : public ExampleStore {
 public:
  MemoryStore(std::vector<uint64_t> sizes, size_t max_input, size_t max_target)
      : sizes_(std::move(sizes)), max_input_(max_input), max_target_(max_target) {}

  std::vector<uint64_t> sizes() const override { return sizes_; }
  ExampleLengths lengths(SampleRef ref) const override {
    const uint64_t h = (ref.source * 1000003 + ref.index) * 2654435761u;
    return {1 + static_cast<size_t>(h % max_input_),
            1 + static_cast<size_t>((h >> 20) % max_target_)};
  }
  std::vector<int32_t> input(SampleRef ref) const override {
    return tokens(ref, lengths(ref).input, 3);
  }
  std::vector<int32_t> target(SampleRef ref) const override {
    return tokens(ref, lengths(ref).target, 5);
  }
  std::string id(SampleRef ref) const override {
    return std::to_string(ref.source) + "/" + std::to_string(ref.index);
  }

 private:
  static std::vector<int32_t> tokens(SampleRef ref, size_t n, int32_t salt) {
    std::vector<int32_t> out(n);
    for (size_t k = 0; k < n; ++k)
      out[k] = 2 + static_cast<int32_t>((ref.source * 7919 + ref.index * 31 + k * salt) % 997);
    return out;
  }

  std::vector<uint64_t> sizes_;
  size_t max_input_, max_target_;
};

}  // namespace stilts::data::testing
