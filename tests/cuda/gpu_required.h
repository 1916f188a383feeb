// How a GPU test meets a machine without a usable GPU: it skips with the reason (CI, the
// development machines), unless STILTS_REQUIRE_GPU=1, which the GPU session script sets
// (tests/gpu/session.sh): there a GPU was promised, and a test that skips would let the
// session pass without having checked anything, so it fails instead.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "kernels/device.h"

namespace stilts {

inline bool gpu_required() {
  const char* value = std::getenv("STILTS_REQUIRE_GPU");
  return value && std::strcmp(value, "1") == 0;
}

}  // namespace stilts

// In SetUp or a test body: returns from it (skipped or failed) when no GPU is usable.
#define STILTS_NEED_CUDA()                                           \
  do {                                                               \
    if (!::stilts::device::cuda_available()) {                       \
      if (::stilts::gpu_required())                                  \
        GTEST_FAIL() << "STILTS_REQUIRE_GPU=1 but "                  \
                     << ::stilts::device::cuda_unavailable_reason(); \
      GTEST_SKIP() << ::stilts::device::cuda_unavailable_reason();   \
    }                                                                \
  } while (false)
