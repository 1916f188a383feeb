#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "kernels/ops.h"
#include "kernels/philox.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

TEST(Elementwise, FillCopyAddScale) {
  Tensor x({3, 5});
  ops::fill(x, 2.5f);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(x.data<float>()[i], 2.5f);

  const Tensor src = random_tensor({15}, 1);
  ops::copy(src, x);
  EXPECT_TRUE(test::bitwise_equal(src, x));

  const Tensor y = random_tensor({3, 5}, 2);
  ops::add_inplace(x, y, -0.5f);
  ops::scale_inplace(x, 3.0f);
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_FLOAT_EQ(x.data<float>()[i], 3.0f * (src.data<float>()[i] - 0.5f * y.data<float>()[i]));
}

TEST(Elementwise, CopyKeepsIntegers) {
  const Tensor src = test::int_tensor({4}, {7, -100, 0, 250111});
  Tensor dst({2, 2}, DType::i32);
  ops::copy(src, dst);
  EXPECT_TRUE(test::bitwise_equal(src, dst));
  Tensor wrong({4});
  EXPECT_THROW(ops::copy(src, wrong), std::invalid_argument);
}

TEST(Elementwise, SumsMatchDoubleReference) {
  // Several reduction blocks and a ragged last one.
  const Tensor x = random_tensor({3, 10001}, 3);
  double s = 0.0, ss = 0.0;
  for (double v : test::to_double(x)) {
    s += v;
    ss += v * v;
  }
  EXPECT_NEAR(ops::sum(x), s, 1e-9 * x.numel());
  EXPECT_NEAR(ops::sum_squares(x), ss, 1e-9 * ss);
}

TEST(Elementwise, SumSquaresIsBitIdenticalAcrossRunsAndThreadCounts) {
  const Tensor x = random_tensor({100003}, 4);
  const double first = ops::sum_squares(x);
  EXPECT_EQ(ops::sum_squares(x), first);
  for (int threads : {1, 2, 3}) {
    test::ThreadCount scope(threads);
    EXPECT_EQ(ops::sum_squares(x), first) << threads << " threads";
  }
}

TEST(Elementwise, ArgmaxTakesTheFirstMaximum) {
  Tensor x({3, 4});
  const float values[] = {1, 5, 5, 2, -3, -1, -2, -1, 0, 0, 0, 7};
  std::copy(values, values + 12, x.data<float>());
  Tensor out({3}, DType::i32);
  ops::argmax_rows(x, out);
  EXPECT_EQ(out.data<int32_t>()[0], 1);
  EXPECT_EQ(out.data<int32_t>()[1], 1);
  EXPECT_EQ(out.data<int32_t>()[2], 3);
}

TEST(Elementwise, GatherRowsGivesZeroOutsideTheRow) {
  const Tensor x = random_tensor({3, 4}, 5);
  const Tensor index = test::int_tensor({3}, {2, -100, 4});
  Tensor out({3});
  ops::gather_rows(x, index, out);
  EXPECT_EQ(out.data<float>()[0], x.data<float>()[2]);
  EXPECT_EQ(out.data<float>()[1], 0.0f);
  EXPECT_EQ(out.data<float>()[2], 0.0f);
}

TEST(Philox, UniformIsInUnitIntervalReproducibleAndConsistentInFours) {
  const RngKey key{42, dropout_stream(7, 3, 1, 0)};
  double mean = 0.0;
  constexpr int kDraws = 100000;
  for (uint64_t i = 0; i < kDraws; ++i) {
    const float u = philox_uniform(key, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ASSERT_EQ(u, philox_uniform(key, i));
    ASSERT_EQ(u, philox_uniform4(key, i >> 2).v[i & 3]);
    mean += u;
  }
  EXPECT_NEAR(mean / kDraws, 0.5, 0.01);
  EXPECT_NE(philox_uniform(key, 0), philox_uniform(RngKey{43, key.stream}, 0));
  EXPECT_NE(philox_uniform(key, 0), philox_uniform(RngKey{42, key.stream + 1}, 0));
}

TEST(FillNormal, HasTheMomentsAndIsReproducible) {
  Tensor x({200000}), again({200000}), other({200000});
  ops::fill_normal(x, 1.5f, 0.25f, RngKey{1, 2});
  ops::fill_normal(again, 1.5f, 0.25f, RngKey{1, 2});
  ops::fill_normal(other, 1.5f, 0.25f, RngKey{1, 3});
  EXPECT_TRUE(test::bitwise_equal(x, again));
  EXPECT_FALSE(test::bitwise_equal(x, other));
  double s = 0.0, ss = 0.0;
  for (double v : test::to_double(x)) {
    ASSERT_TRUE(std::isfinite(v));
    s += v;
    ss += v * v;
  }
  const double mean = s / x.numel(), var = ss / x.numel() - mean * mean;
  EXPECT_NEAR(mean, 1.5, 0.005);
  EXPECT_NEAR(std::sqrt(var), 0.25, 0.005);
}

TEST(FillNormal, ElementDependsOnlyOnKeyAndIndex) {
  Tensor whole({1000});
  ops::fill_normal(whole, 0.0f, 1.0f, RngKey{9, 9});
  Tensor part({10});
  ops::fill_normal(part, 0.0f, 1.0f, RngKey{9, 9});
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(part.data<float>()[i], whole.data<float>()[i]);
  // A slice drawn alone (what a tensor-parallel shard does) equals the same elements of the
  // whole draw.
  Tensor middle({300});
  ops::fill_normal(middle, 0.0f, 1.0f, RngKey{9, 9}, 501);
  for (int64_t i = 0; i < 300; ++i)
    ASSERT_EQ(middle.data<float>()[i], whole.data<float>()[501 + i]);
  // Element i from the uniforms (key, 2i) and (key, 2i + 1), by Box-Muller.
  const int64_t i = 777;
  const double u1 = philox_uniform(RngKey{9, 9}, 2 * i),
               u2 = philox_uniform(RngKey{9, 9}, 2 * i + 1);
  EXPECT_NEAR(whole.data<float>()[i],
              std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2), 1e-5);
}

TEST(Elementwise, RejectsWrongDtypes) {
  Tensor ids({4}, DType::i32);
  EXPECT_THROW(ops::fill(ids, 1.0f), std::invalid_argument);
  EXPECT_THROW(ops::sum(ids), std::invalid_argument);
  EXPECT_THROW(ops::set_cpu_threads(0), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
