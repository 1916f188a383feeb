#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

constexpr int kIgnore = -100;

// Columns [begin, begin + width) of a [rows, cols] matrix.
Tensor columns(const Tensor& x, int64_t begin, int64_t width) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  Tensor out({rows, width});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < width; ++j)
      out.data<float>()[i * width + j] = x.data<float>()[i * cols + begin + j];
  return out;
}

void expect_close(float actual, float expected, double rel, const char* what, int64_t i) {
  EXPECT_NEAR(actual, expected, rel * std::max(1.0, std::abs(static_cast<double>(expected))))
      << what << " element " << i;
}

// Runs the partial ops over `slices` equal vocabulary slices, combining their statistics by
// hand as the all-reduces would, and compares with the single-slice cross-entropy.
void check_slices(int64_t slices, float z_loss, float grad_scale) {
  constexpr int64_t kRows = 7, kVocab = 24;
  Tensor logits = random_tensor({kRows, kVocab}, 11, 6.0f);
  logits.data<float>()[2 * kVocab + 17] = 80.0f;  // a dominant logit in one slice only
  const Tensor targets = test::int_tensor({kRows}, {0, kIgnore, 17, 23, 5, kIgnore, 12});
  Tensor ref_losses({kRows}), ref_lse({kRows}), ref_dlogits({kRows, kVocab});
  ops::cross_entropy_forward(logits, targets, kIgnore, z_loss, ref_losses, ref_lse);
  ops::cross_entropy_backward(logits, targets, ref_lse, kIgnore, z_loss, grad_scale, ref_dlogits);

  const int64_t width = kVocab / slices;
  std::vector<Tensor> parts;
  Tensor row_max({kRows}), target_logit({kRows}), sum_exp({kRows});
  ops::fill(row_max, -std::numeric_limits<float>::infinity());
  ops::fill(target_logit, 0.0f);
  ops::fill(sum_exp, 0.0f);
  for (int64_t s = 0; s < slices; ++s) {
    parts.push_back(columns(logits, s * width, width));
    Tensor max_part({kRows}), target_part({kRows});
    ops::cross_entropy_partial_forward(parts.back(), targets, s * width, kVocab, kIgnore, max_part,
                                       target_part);
    for (int64_t i = 0; i < kRows; ++i)
      row_max.data<float>()[i] = std::max(row_max.data<float>()[i], max_part.data<float>()[i]);
    ops::add_inplace(target_logit, target_part);
  }
  for (int64_t s = 0; s < slices; ++s) {
    Tensor sum_part({kRows});
    ops::cross_entropy_sum_exp(parts[s], targets, kIgnore, row_max, sum_part);
    ops::add_inplace(sum_exp, sum_part);
  }
  Tensor losses({kRows});
  ops::cross_entropy_combine_losses(targets, kIgnore, row_max, sum_exp, target_logit, z_loss,
                                    losses);
  for (int64_t i = 0; i < kRows; ++i)
    expect_close(losses.data<float>()[i], ref_losses.data<float>()[i], 1e-6, "loss", i);
  EXPECT_EQ(losses.data<float>()[1], 0.0f);
  EXPECT_EQ(losses.data<float>()[5], 0.0f);

  for (int64_t s = 0; s < slices; ++s) {
    Tensor dlogits({kRows, width});
    ops::fill(dlogits, std::numeric_limits<float>::quiet_NaN());  // written, not accumulated
    ops::cross_entropy_partial_backward(parts[s], targets, s * width, kIgnore, row_max, sum_exp,
                                        z_loss, grad_scale, dlogits);
    const Tensor expected = columns(ref_dlogits, s * width, width);
    for (int64_t k = 0; k < dlogits.numel(); ++k)
      expect_close(dlogits.data<float>()[k], expected.data<float>()[k], 1e-6, "dlogits", k);
  }
}

TEST(VocabParallelCrossEntropy, OneSliceMatchesCrossEntropy) {
  check_slices(1, 0.0f, 1.0f);
  check_slices(1, 1e-2f, 0.37f);
}

TEST(VocabParallelCrossEntropy, TwoSlicesMatchCrossEntropy) {
  check_slices(2, 0.0f, 1.0f);
  check_slices(2, 1e-2f, 0.37f);
}

TEST(VocabParallelCrossEntropy, FourSlicesMatchCrossEntropy) {
  check_slices(4, 0.0f, 1.0f);
  check_slices(4, 1e-2f, 0.37f);
}

TEST(VocabParallelCrossEntropy, ChecksTargetsAgainstTheFullVocabulary) {
  const Tensor logits({2, 4});
  Tensor row_max({2}), target_logit({2});
  // Target 6 lies outside this slice [4, 8) of a vocabulary of 8 but is valid.
  EXPECT_NO_THROW(ops::cross_entropy_partial_forward(logits, test::int_tensor({2}, {6, 1}), 4, 8,
                                                     kIgnore, row_max, target_logit));
  EXPECT_THROW(ops::cross_entropy_partial_forward(logits, test::int_tensor({2}, {8, 1}), 4, 8,
                                                  kIgnore, row_max, target_logit),
               std::out_of_range);
  // The slice must lie inside the vocabulary.
  EXPECT_THROW(ops::cross_entropy_partial_forward(logits, test::int_tensor({2}, {0, 1}), 6, 8,
                                                  kIgnore, row_max, target_logit),
               std::invalid_argument);
}

}  // namespace
}  // namespace stilts
