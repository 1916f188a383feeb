#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/ops.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

// One row of the bucket tables (transformers' T5Attention._relative_position_bucket evaluated in
// float32, 32 buckets, max distance 128): relative positions lo..hi map to `bucket`.
struct Range {
  int64_t lo, hi;
  int bucket;
};
constexpr int64_t kFar = std::numeric_limits<int32_t>::max();

// Encoder (bidirectional), 32 buckets, max_distance 128; rows 0..-7 and +1..+7 are exact.
const std::vector<Range> kEncoderTable = {
    {-11, -8, 8},   {-15, -12, 9},  {-22, -16, 10}, {-31, -23, 11},
    {-45, -32, 12}, {-63, -46, 13}, {-90, -64, 14}, {-kFar, -91, 15},
    {8, 11, 24},    {12, 15, 25},   {16, 22, 26},   {23, 31, 27},
    {32, 45, 28},   {46, 63, 29},   {64, 90, 30},   {91, kFar, 31}};

// Decoder (causal); rows 0..-15 are exact and every rel > 0 is bucket 0.
const std::vector<Range> kDecoderTable = {
    {-18, -16, 16}, {-20, -19, 17}, {-23, -21, 18},  {-26, -24, 19},
    {-30, -27, 20}, {-34, -31, 21}, {-39, -35, 22},  {-45, -40, 23},
    {-51, -46, 24}, {-58, -52, 25}, {-66, -59, 26},  {-76, -67, 27},
    {-86, -77, 28}, {-98, -87, 29}, {-112, -99, 30}, {-kFar, -113, 31}};

int table_bucket(const std::vector<Range>& table, int64_t rel) {
  for (const Range& r : table)
    if (rel >= r.lo && rel <= r.hi) return r.bucket;
  ADD_FAILURE() << "no table row for " << rel;
  return -1;
}

int expected_encoder(int64_t rel) {
  if (rel >= -7 && rel <= 0) return static_cast<int>(-rel);
  if (rel >= 1 && rel <= 7) return static_cast<int>(16 + rel);
  return table_bucket(kEncoderTable, rel);
}

int expected_decoder(int64_t rel) {
  if (rel > 0) return 0;
  if (rel >= -15) return static_cast<int>(-rel);
  return table_bucket(kDecoderTable, rel);
}

std::vector<int64_t> probes() {
  std::vector<int64_t> rels = {-10000, -1000000, -200, 10000, 1000000, 200};
  for (int64_t rel = -300; rel <= 300; ++rel) rels.push_back(rel);
  return rels;
}

TEST(RelativePositionBucket, EncoderTableOfMt5Reference) {
  for (int64_t rel : probes())
    EXPECT_EQ(ops::relative_position_bucket(rel, true, 32, 128), expected_encoder(rel))
        << "rel " << rel;
  // Every row's endpoints, spelled out.
  for (const Range& r : kEncoderTable) {
    if (r.lo != -kFar) {
      EXPECT_EQ(ops::relative_position_bucket(r.lo, true, 32, 128), r.bucket);
    }
    if (r.hi != kFar) {
      EXPECT_EQ(ops::relative_position_bucket(r.hi, true, 32, 128), r.bucket);
    }
  }
}

TEST(RelativePositionBucket, DecoderTableOfMt5Reference) {
  for (int64_t rel : probes())
    EXPECT_EQ(ops::relative_position_bucket(rel, false, 32, 128), expected_decoder(rel))
        << "rel " << rel;
  for (const Range& r : kDecoderTable) {
    if (r.lo != -kFar) {
      EXPECT_EQ(ops::relative_position_bucket(r.lo, false, 32, 128), r.bucket);
    }
    EXPECT_EQ(ops::relative_position_bucket(r.hi, false, 32, 128), r.bucket);
  }
}

TEST(RelativePositionBucket, TableUsesKeyMinusQueryWithOffset) {
  const Tensor t = ops::relative_position_buckets(3, 300, 5, false, 32, 128);
  ASSERT_EQ(t.shape(), (Shape{3, 300}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 300; ++j)
      EXPECT_EQ(t.data<int32_t>()[i * 300 + j], expected_decoder(j - (5 + i))) << i << "," << j;
  const Tensor e = ops::relative_position_buckets(4, 4, 0, true, 32, 128);
  EXPECT_EQ(e.data<int32_t>()[0 * 4 + 3], 19);  // rel +3
  EXPECT_EQ(e.data<int32_t>()[3 * 4 + 0], 3);   // rel -3
}

TEST(RelativePositionBucket, RejectsLayoutsWithoutLogBuckets) {
  EXPECT_THROW(ops::relative_position_bucket(5, true, 2, 128), std::invalid_argument);
  EXPECT_THROW(ops::relative_position_bucket(5, false, 32, 16), std::invalid_argument);
  EXPECT_THROW(ops::relative_position_buckets(-1, 2, 0, true, 32, 128), std::invalid_argument);
}

TEST(PositionBias, ForwardLooksUpTheTable) {
  const Tensor buckets = ops::relative_position_buckets(5, 7, 0, true, 8, 16);
  const Tensor table = random_tensor({8, 3}, 1);
  Tensor bias({3, 5, 7});
  ops::position_bias_forward(buckets, table, bias);
  for (int64_t h = 0; h < 3; ++h)
    for (int64_t t = 0; t < 35; ++t)
      EXPECT_EQ(bias.data<float>()[h * 35 + t],
                table.data<float>()[buckets.data<int32_t>()[t] * 3 + h]);
}

TEST(PositionBias, BackwardAccumulatesTheGradient) {
  const Tensor buckets = ops::relative_position_buckets(9, 12, 2, false, 8, 16);
  Tensor table = random_tensor({8, 3}, 2);
  const Tensor w = random_tensor({3, 9, 12}, 3);
  const Tensor dtable0 = random_tensor({8, 3}, 4);
  Tensor dtable = dtable0.clone();
  ops::position_bias_backward(buckets, w, dtable);
  Tensor bias({3, 9, 12});
  test::expect_gradient(
      "dtable", table,
      [&] {
        ops::position_bias_forward(buckets, table, bias);
        return test::weighted_sum(bias, w);
      },
      test::difference(dtable, dtable0));
}

TEST(PositionBias, BackwardIsBitIdenticalAcrossThreadCounts) {
  const Tensor buckets = ops::relative_position_buckets(64, 64, 0, true, 32, 128);
  const Tensor dbias = random_tensor({6, 64, 64}, 5);
  Tensor first({32, 6});
  ops::position_bias_backward(buckets, dbias, first);
  for (int threads : {1, 4}) {
    test::ThreadCount scope(threads);
    Tensor again({32, 6});
    ops::position_bias_backward(buckets, dbias, again);
    EXPECT_TRUE(test::bitwise_equal(first, again)) << threads << " threads";
  }
}

TEST(PositionBias, BucketOutsideTheTableIsAnError) {
  const Tensor buckets = test::int_tensor({1, 2}, {0, 8});
  const Tensor table({8, 2});
  Tensor bias({2, 1, 2});
  EXPECT_THROW(ops::position_bias_forward(buckets, table, bias), std::out_of_range);
  Tensor wrong_bias({2, 2, 1});
  const Tensor ok = test::int_tensor({1, 2}, {0, 7});
  EXPECT_THROW(ops::position_bias_forward(ok, table, wrong_bias), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
