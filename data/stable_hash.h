// FNV-1a, 64-bit: a hash that is the same on every platform and standard library (std::hash is
// not), for what must be reproducible anywhere: the tokenizer's fingerprint, the sampler's
// choice of a source subset, the report's bootstrap keys.
#pragma once

#include <cstdint>
#include <string_view>

namespace stilts::data {

inline uint64_t stable_hash(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace stilts::data
