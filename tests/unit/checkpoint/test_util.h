// Helpers shared by the checkpoint format tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "core/params.h"
#include "tests/unit/temp_dir.h"

namespace stilts::testing {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Full-precision values in [-1, 1) from an LCG, so every mantissa bit is used and rounding to
// 16 bits is visible.
inline void fill_values(Parameters& params, uint64_t seed) {
  float* v = params.flat_values().data<float>();
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < params.numel(); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v[i] = static_cast<float>(static_cast<int32_t>(state >> 32)) * 0x1p-31f;
  }
}

inline bool same_values(Parameters& a, Parameters& b) {
  return a.numel() == b.numel() &&
         std::memcmp(a.flat_values().raw(), b.flat_values().raw(), a.flat_values().nbytes()) == 0;
}

// The message of the E that f throws (a test failure when it throws nothing).
template <class E = std::runtime_error, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

}  // namespace stilts::testing

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in message: " << (text)
