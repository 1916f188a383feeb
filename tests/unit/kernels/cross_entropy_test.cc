#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

constexpr int kIgnore = -100;

TEST(CrossEntropy, ForwardMatchesDoubleReference) {
  constexpr int64_t kRows = 4, kVocab = 11;
  const float z_loss = 1e-2f;
  Tensor logits = random_tensor({2, 2, kVocab}, 1, 5.0f);
  logits.data<float>()[3 * kVocab + 2] = 1000.0f;  // a large logit must not overflow
  const Tensor targets = test::int_tensor({2, 2}, {3, kIgnore, 0, 2});
  Tensor losses({2, 2}), lse({2, 2});
  ops::cross_entropy_forward(logits, targets, kIgnore, z_loss, losses, lse);
  for (int64_t i = 0; i < kRows; ++i) {
    const int32_t target = targets.data<int32_t>()[i];
    if (target == kIgnore) {
      EXPECT_EQ(losses.data<float>()[i], 0.0f);
      continue;
    }
    const float* row = logits.data<float>() + i * kVocab;
    double max = row[0], total = 0.0;
    for (int64_t j = 0; j < kVocab; ++j) max = std::max<double>(max, row[j]);
    for (int64_t j = 0; j < kVocab; ++j) total += std::exp(row[j] - max);
    const double ref_lse = max + std::log(total);
    EXPECT_NEAR(lse.data<float>()[i], ref_lse, 1e-6 * std::abs(ref_lse) + 1e-6) << i;
    const double ref_loss = ref_lse - row[target] + z_loss * ref_lse * ref_lse;
    EXPECT_NEAR(losses.data<float>()[i], ref_loss, 1e-5 * std::abs(ref_loss) + 1e-6) << i;
  }
}

TEST(CrossEntropy, BackwardWritesScaledGradientAndZerosIgnoredRows) {
  constexpr int64_t kVocab = 9;
  const float z_loss = 0.05f, grad_scale = 0.37f;
  Tensor logits = random_tensor({5, kVocab}, 2, 3.0f);
  const Tensor targets = test::int_tensor({5}, {8, kIgnore, 0, 4, kIgnore});
  Tensor losses({5}), lse({5});
  ops::cross_entropy_forward(logits, targets, kIgnore, z_loss, losses, lse);
  Tensor dlogits({5, kVocab});
  ops::fill(dlogits, std::numeric_limits<float>::quiet_NaN());  // written, not accumulated
  ops::cross_entropy_backward(logits, targets, lse, kIgnore, z_loss, grad_scale, dlogits);
  for (int64_t i : {1, 4})
    for (int64_t j = 0; j < kVocab; ++j) EXPECT_EQ(dlogits.data<float>()[i * kVocab + j], 0.0f);
  // Each row's loss depends on its own logits only, so d(grad_scale * sum(losses)) is dlogits.
  test::expect_gradient(
      "dlogits", logits,
      [&] {
        ops::cross_entropy_forward(logits, targets, kIgnore, z_loss, losses, lse);
        return grad_scale * ops::sum(losses);
      },
      test::to_double(dlogits), 1e-3);
}

TEST(CrossEntropy, TargetOutOfRangeNamesRowAndValue) {
  const Tensor logits({3, 4});
  const Tensor targets = test::int_tensor({3}, {1, 2, 9});
  Tensor losses({3}), lse({3});
  try {
    ops::cross_entropy_forward(logits, targets, kIgnore, 0.0f, losses, lse);
    FAIL() << "no error for target 9";
  } catch (const std::out_of_range& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("target 9"), std::string::npos) << message;
    EXPECT_NE(message.find("row 2"), std::string::npos) << message;
  }
  Tensor wrong_losses({4});
  const Tensor ok = test::int_tensor({3}, {1, 2, 3});
  EXPECT_THROW(ops::cross_entropy_forward(logits, ok, kIgnore, 0.0f, wrong_losses, lse),
               std::invalid_argument);
}

}  // namespace
}  // namespace stilts
