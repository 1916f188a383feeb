#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "kernels/philox.h"
#include "tests/tolerance.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::random_tensor;

struct Case {
  const char* name;
  int64_t batch, heads, q_len, k_len, head_dim;
  bool bias, key_mask, causal;
  float dropout_rate;
  bool empty_batch = false;  // every key of batch 1 masked
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

struct Inputs {
  Tensor q, k, v, bias, key_mask;
  ops::AttentionShape shape;
  Inputs(const Case& c, uint32_t seed)
      : q(random_tensor({c.batch, c.q_len, c.heads * c.head_dim}, seed)),
        k(random_tensor({c.batch, c.k_len, c.heads * c.head_dim}, seed + 1)),
        v(random_tensor({c.batch, c.k_len, c.heads * c.head_dim}, seed + 2)),
        shape{c.heads, c.causal, c.dropout_rate, RngKey{seed, 99}} {
    if (c.bias) bias = random_tensor({c.heads, c.q_len, c.k_len}, seed + 3);
    if (c.key_mask) {
      key_mask = Tensor({c.batch, c.k_len});
      float* m = key_mask.data<float>();
      // Pads at the end of batch 0, a hole in batch 1, the rest kept.
      for (int64_t b = 0; b < c.batch; ++b)
        for (int64_t j = 0; j < c.k_len; ++j)
          m[b * c.k_len + j] =
              (b == 0 && j >= c.k_len - 2) || (b == 1 && j == 1) || (b == 1 && c.empty_batch)
                  ? 0.0f
                  : 1.0f;
    }
  }
};

// Direct evaluation of ops.h's definition in double.
void naive_attention(const Case& c, const Inputs& in, std::vector<double>& probs,
                     std::vector<double>& out) {
  const int64_t width = c.heads * c.head_dim;
  probs.assign(c.batch * c.heads * c.q_len * c.k_len, 0.0);
  out.assign(c.batch * c.q_len * width, 0.0);
  const float* q = in.q.data<float>();
  const float* k = in.k.data<float>();
  const float* v = in.v.data<float>();
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.q_len; ++i) {
        std::vector<double> s(c.k_len);
        std::vector<bool> kept(c.k_len);
        bool any = false;
        for (int64_t j = 0; j < c.k_len; ++j) {
          for (int64_t d = 0; d < c.head_dim; ++d)
            s[j] += static_cast<double>(q[(b * c.q_len + i) * width + h * c.head_dim + d]) *
                    k[(b * c.k_len + j) * width + h * c.head_dim + d];
          if (c.bias) s[j] += in.bias.data<float>()[(h * c.q_len + i) * c.k_len + j];
          kept[j] = (!c.key_mask || in.key_mask.data<float>()[b * c.k_len + j] != 0.0f) &&
                    (!c.causal || j <= i + c.k_len - c.q_len);
          any = any || kept[j];
        }
        double max = -std::numeric_limits<double>::infinity(), total = 0.0;
        for (int64_t j = 0; j < c.k_len; ++j)
          if (kept[j]) max = std::max(max, s[j]);
        for (int64_t j = 0; j < c.k_len; ++j) total += kept[j] ? std::exp(s[j] - max) : 0.0;
        const int64_t row = ((b * c.heads + h) * c.q_len + i) * c.k_len;
        for (int64_t j = 0; j < c.k_len; ++j) {
          const double p = any ? (kept[j] ? std::exp(s[j] - max) / total : 0.0) : 1.0 / c.k_len;
          probs[row + j] = p;
          double factor = 1.0;
          if (c.dropout_rate > 0.0f)
            factor = philox_uniform(in.shape.dropout_key, row + j) >= c.dropout_rate
                         ? 1.0 / (1.0 - c.dropout_rate)
                         : 0.0;
          for (int64_t d = 0; d < c.head_dim; ++d)
            out[(b * c.q_len + i) * width + h * c.head_dim + d] +=
                p * factor * v[(b * c.k_len + j) * width + h * c.head_dim + d];
        }
      }
}

const Case kCases[] = {
    {"EncoderBiasAndKeyMask", 2, 2, 5, 5, 3, true, true, false, 0.0f},
    {"CausalWithShorterQuery", 2, 3, 3, 6, 2, true, false, true, 0.0f},
    {"DropoutCausalMasked", 2, 2, 4, 4, 3, true, true, true, 0.3f},
    {"CrossAttentionNoBias", 2, 2, 3, 5, 3, false, true, false, 0.0f},
    {"CrossAttentionDropout", 1, 3, 4, 3, 2, false, false, false, 0.5f},
};

class AttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionTest, ForwardMatchesNaiveReference) {
  const Case& c = GetParam();
  const Inputs in(c, 10);
  Tensor probs({c.batch, c.heads, c.q_len, c.k_len}), out(in.q.shape());
  ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
  std::vector<double> ref_probs, ref_out;
  naive_attention(c, in, ref_probs, ref_out);
  // Probabilities are at most 1; the outputs are sums of probabilities times v.
  EXPECT_TRUE(test::within_rounding(test::values_of(probs), ref_probs, 16)) << "probs";
  for (size_t t = 0; t < ref_probs.size(); ++t)
    if (ref_probs[t] == 0.0) {
      EXPECT_EQ(probs.data<float>()[t], 0.0f) << "masked " << t;
    }
  EXPECT_TRUE(test::within_rounding(test::values_of(out), ref_out, 64)) << "out";
}

TEST_P(AttentionTest, BackwardAccumulatesTheGradients) {
  const Case& c = GetParam();
  Inputs in(c, 20);
  Tensor probs({c.batch, c.heads, c.q_len, c.k_len}), out(in.q.shape());
  const Tensor w = random_tensor(in.q.shape(), 30);
  ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
  const Tensor dq0 = random_tensor(in.q.shape(), 31), dk0 = random_tensor(in.k.shape(), 32),
               dv0 = random_tensor(in.v.shape(), 33);
  Tensor dq = dq0.clone(), dk = dk0.clone(), dv = dv0.clone();
  Tensor dbias0, dbias;
  if (c.bias) {
    dbias0 = random_tensor(in.bias.shape(), 34);
    dbias = dbias0.clone();
  }
  ops::attention_backward(w, in.q, in.k, in.v, probs, in.shape, dq, dk, dv, dbias);
  auto objective = [&] {
    ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
    return test::weighted_sum(out, w);
  };
  test::expect_gradient("dq", in.q, objective, test::difference(dq, dq0));
  test::expect_gradient("dk", in.k, objective, test::difference(dk, dk0));
  test::expect_gradient("dv", in.v, objective, test::difference(dv, dv0));
  if (c.bias) test::expect_gradient("dbias", in.bias, objective, test::difference(dbias, dbias0));
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Attention, RowWithEveryKeyMaskedIsUniform) {
  const Case c{"EmptyBatch", 2, 2, 3, 4, 2, true, true, false, 0.0f, true};
  Inputs in(c, 40);
  Tensor probs({2, 2, 3, 4}), out(in.q.shape());
  ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
  std::vector<double> ref_probs, ref_out;
  naive_attention(c, in, ref_probs, ref_out);
  for (int64_t t = 2 * 3 * 4; t < 4 * 3 * 4; ++t) EXPECT_EQ(probs.data<float>()[t], 0.25f);
  EXPECT_TRUE(test::within_rounding(test::values_of(out), ref_out, 64)) << "out";
  // The output stays linear in v, so dv is exact there too.
  const Tensor w = random_tensor(in.q.shape(), 41);
  Tensor dq(in.q.shape()), dk(in.k.shape()), dv(in.v.shape()), dbias(in.bias.shape());
  ops::attention_backward(w, in.q, in.k, in.v, probs, in.shape, dq, dk, dv, dbias);
  test::expect_gradient(
      "dv", in.v,
      [&] {
        ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
        return test::weighted_sum(out, w);
      },
      test::to_double(dv));
}

TEST(Attention, ProbabilityRowsSumToOne) {
  const Case c{"Rows", 2, 2, 6, 6, 4, true, true, true, 0.0f};
  const Inputs in(c, 50);
  Tensor probs({2, 2, 6, 6}), out(in.q.shape());
  ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, probs, out);
  for (int64_t row = 0; row < 2 * 2 * 6; ++row) {
    double total = 0.0;
    for (int64_t j = 0; j < 6; ++j) total += probs.data<float>()[row * 6 + j];
    EXPECT_NEAR(total, 1.0, 1e-6) << row;
  }
}

TEST(Attention, BitIdenticalAcrossRunsAndThreadCounts) {
  const Case c{"Determinism", 2, 3, 33, 33, 8, true, true, true, 0.1f};
  const Inputs in(c, 60);
  const Tensor dout = random_tensor(in.q.shape(), 61);
  struct Result {
    Tensor probs, out, dq, dk, dv, dbias;
  };
  auto run = [&] {
    Result r{Tensor({2, 3, 33, 33}), Tensor(in.q.shape()), Tensor(in.q.shape()),
             Tensor(in.k.shape()),   Tensor(in.v.shape()), Tensor({3, 33, 33})};
    ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, r.probs, r.out);
    ops::attention_backward(dout, in.q, in.k, in.v, r.probs, in.shape, r.dq, r.dk, r.dv, r.dbias);
    return r;
  };
  const Result first = run();
  for (int threads : {2, 1, 3}) {
    test::ThreadCount scope(threads);
    const Result again = run();
    EXPECT_TRUE(test::bitwise_equal(first.probs, again.probs)) << threads;
    EXPECT_TRUE(test::bitwise_equal(first.out, again.out)) << threads;
    EXPECT_TRUE(test::bitwise_equal(first.dq, again.dq)) << threads;
    EXPECT_TRUE(test::bitwise_equal(first.dk, again.dk)) << threads;
    EXPECT_TRUE(test::bitwise_equal(first.dv, again.dv)) << threads;
    EXPECT_TRUE(test::bitwise_equal(first.dbias, again.dbias)) << threads;
  }
}

TEST(Attention, RejectsMismatchedShapes) {
  const Case c{"Shapes", 2, 2, 3, 4, 2, true, true, false, 0.0f};
  const Inputs in(c, 70);
  Tensor probs({2, 2, 3, 4}), out(in.q.shape());
  ops::AttentionShape three_heads = in.shape;
  three_heads.num_heads = 3;
  EXPECT_THROW(
      ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, three_heads, probs, out),
      std::invalid_argument);
  const Tensor wrong_mask({2, 3});
  EXPECT_THROW(ops::attention_forward(in.q, in.k, in.v, in.bias, wrong_mask, in.shape, probs, out),
               std::invalid_argument);
  Tensor wrong_probs({2, 2, 4, 3});
  EXPECT_THROW(
      ops::attention_forward(in.q, in.k, in.v, in.bias, in.key_mask, in.shape, wrong_probs, out),
      std::invalid_argument);
}

}  // namespace
}  // namespace stilts
