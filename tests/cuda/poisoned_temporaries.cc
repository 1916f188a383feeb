// Linked into every GPU test: the kernels' temporaries that skip the zero fill
// (Contents::unwritten, kernels/tensor.h) are poisoned with NaN for the whole run, so a kernel
// that reads one before writing it fails its comparison with the CPU instead of reading
// whatever an earlier test left there.
#include <gtest/gtest.h>

#include "kernels/tensor.h"

namespace {

class PoisonedTemporaries : public ::testing::Environment {
 public:
  void SetUp() override { stilts::poison_unwritten_tensors(true); }
};

// gtest takes ownership; registered before main runs, as its documentation allows.
[[maybe_unused]] ::testing::Environment* const kPoison =
    ::testing::AddGlobalTestEnvironment(new PoisonedTemporaries);

}  // namespace
