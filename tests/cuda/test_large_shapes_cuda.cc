// The CUDA ops at mT5's real sizes against the CPU, where the kernels take code paths that
// cuda_ops's small shapes never reach: more columns per thread than one (the online rescaling
// of the cross-entropy), many blocks of a reduction (RMSNorm's weight gradient, Adafactor's
// column sums), cuBLASLt's tiled and split algorithms at 512 positions, and tensors of more than
// 2^31 elements (int32 index arithmetic would wrap there). Each test says which path its shape
// reaches and why.
//
// Comparisons as in cuda_ops (tests/cuda/device_compare.h): the CPU runs in f32 on the values
// the GPU holds (bf16 inputs rounded on the host), outputs that an op overwrites are poisoned
// with NaN first, so an unwritten element fails. GPU memory stays under 10 GiB (the logits test).
//
// Time on an H100 machine (16 cores; the CPU reference with the portable GEMM of the minimal
// build, which is the slow case), estimated, not measured: cross-entropy 1 s, vocab-parallel
// pieces 2 s, argmax and gather 1 s, RMSNorm 1 s, Adafactor 15 s (a 1 GiB parameter, three
// steps on each device, every value drawn on the host), attention 5 s, the 2^31-element logits
// 15 s (a 0.5 GiB weight copied to the host and three [8, 250112] GEMMs on the CPU): about 40 s.
//
// Every test skips with the reason when the process sees no usable GPU (and fails instead under
// STILTS_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bf16.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "kernels/philox.h"
#include "tests/cuda/device_compare.h"
#include "tests/cuda/gpu_required.h"
#include "tests/cuda/op_runs.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

using test::AdafactorState;
using test::AttentionCase;
using test::AttentionInputs;
using test::draw;
using test::expect_bit_equal;
using test::expect_close;
using test::floating_tolerance;
using test::get;
using test::kBf16;
using test::kCpu;
using test::kF32;
using test::kF32Gemm;
using test::kFloatingDtypes;
using test::kIgnoreIndex;
using test::poisoned;
using test::put;
using test::put_exact;
using test::rounded;
using test::Side;
using test::values_of;

constexpr int64_t kVocab = 250112;  // mT5's vocabulary, every preset
constexpr int64_t kLargeModel = 1024;
constexpr float kZLoss = 1e-4f;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

class LargeShapes : public ::testing::Test {
 protected:
  void SetUp() override { STILTS_NEED_CUDA(); }
};

Side gpu(DType dtype) {
  return {Device::cuda, dtype};
}

// Rows `rows` of a tensor [N, C] on any device, on the host in f32 [rows.size(), C].
Tensor rows_of(const Tensor& t, const std::vector<int64_t>& rows) {
  const int64_t cols = t.dim(-1);
  Tensor out({static_cast<int64_t>(rows.size()), cols});
  for (size_t i = 0; i < rows.size(); ++i) {
    const Tensor row = get(t.rows(rows[i], rows[i] + 1));
    std::copy_n(row.data<float>(), cols, out.data<float>() + static_cast<int64_t>(i) * cols);
  }
  return out;
}

// Elements `rows` of a host vector, as a host tensor of the same dtype.
Tensor elements_of(const Tensor& host, const std::vector<int64_t>& rows) {
  Tensor out({static_cast<int64_t>(rows.size())}, host.dtype());
  const size_t size = dtype_size(host.dtype());
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(static_cast<const char*>(host.raw()) + rows[i] * static_cast<int64_t>(size), size,
                static_cast<char*>(out.raw()) + i * size);
  return out;
}

// The transpose of a host f32 matrix.
Tensor transposed(const Tensor& m) {
  const int64_t rows = m.dim(0), cols = m.dim(1);
  Tensor t({cols, rows});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      t.data<float>()[j * rows + i] = m.data<float>()[i * cols + j];
  return t;
}

// ---- cross-entropy over the whole vocabulary ----------------------------------------------

// Rows whose logits exercise the forward kernel's branches, in [rows, kVocab] host f32 (before
// rounding): uniform logits in [-4, 4), a row rising from its first column to its last (each
// thread's next logit is its new maximum, so it rescales its sum at every step), a row whose
// first 4096 columns are -inf (each of the 1024 threads starts with four masked logits: the
// branch that skips them before any maximum exists), and a row in [-32, 32) (a larger
// logsumexp, so the z-loss term weighs more).
Tensor vocabulary_logits(int64_t rows, uint32_t seed) {
  Tensor x = test::random_tensor({rows, kVocab}, seed, 4.0f);
  float* p = x.data<float>();
  for (int64_t j = 0; j < kVocab; ++j)
    p[3 * kVocab + j] = -8.0f + 16.0f * static_cast<float>(j) / static_cast<float>(kVocab);
  std::fill(p + 4 * kVocab, p + 4 * kVocab + 4096, -kInfinity);
  for (int64_t j = 0; j < kVocab; ++j) p[5 * kVocab + j] *= 8.0f;
  return x;
}

// Targets at the edges of the vocabulary and of the slices of tensor parallelism over 2 and 4
// ranks (62528 = 250112 / 4, 125056 = 250112 / 2), ignored rows among them.
const std::vector<int32_t> kVocabularyTargets{
    0,      kIgnoreIndex, 250111, 62527,        62528,  125055, 125056,       187583,
    187584, 4000,         17,     kIgnoreIndex, 200000, 99999,  kIgnoreIndex, 31};

// cuda_ops's cross-entropy has 1000 columns, fewer than the kernel's 1024 threads, so each
// thread reads at most one logit and the online rescaling of a non-empty sum (sum * exp(old
// max - new max)) never runs. At 250,112 columns each thread reads 244 or 245 logits and
// rescales whenever its maximum grows (at every step in the rising row).
TEST_F(LargeShapes, CrossEntropyOverTheWholeVocabulary) {
  const int64_t rows = static_cast<int64_t>(kVocabularyTargets.size());
  const Tensor targets = test::int_tensor({rows}, kVocabularyTargets);
  const Tensor raw_logits = vocabulary_logits(rows, 200);
  for (DType dt : kFloatingDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor logits = rounded(raw_logits, dt);
    auto forward = [&](Side s) {
      const Side f32{s.device, DType::f32};
      Tensor losses = poisoned({rows}, f32), logsumexp = poisoned({rows}, f32);
      ops::cross_entropy_forward(put(logits, s), put_exact(targets, s), kIgnoreIndex, kZLoss,
                                 losses, logsumexp);
      return std::vector<Tensor>{get(losses), get(logsumexp)};
    };
    const auto expected = forward(kCpu), actual = forward(gpu(dt));
    expect_close("losses", expected[0], actual[0], kF32);
    expect_close("logsumexp", expected[1], actual[1], kF32);

    for (DType dlogits_dtype : {dt, DType::f32}) {
      SCOPED_TRACE(std::string("dlogits ") + dtype_name(dlogits_dtype));
      auto backward = [&](Side s, DType gradient_dtype) {
        Tensor dlogits = poisoned({rows, kVocab}, {s.device, gradient_dtype});
        ops::cross_entropy_backward(put(logits, s), put_exact(targets, s),
                                    put_exact(expected[1], s), kIgnoreIndex, kZLoss, 0.25f,
                                    dlogits);
        return get(dlogits);
      };
      const Tensor grads = backward(gpu(dt), dlogits_dtype);
      expect_close("dlogits", backward(kCpu, DType::f32), grads,
                   floating_tolerance(dlogits_dtype, kF32));
      for (int64_t row = 0; row < rows; ++row) {
        if (kVocabularyTargets[static_cast<size_t>(row)] != kIgnoreIndex) continue;
        for (int64_t j = 0; j < kVocab; ++j)
          ASSERT_EQ(grads.data<float>()[row * kVocab + j], 0.0f) << "ignored row " << row;
      }
    }
  }
}

// The head under --tp 2 and --tp 4: each rank's slice of 125,056 or 62,528 columns (122 or 61
// per thread) with vocab_start up to 187,584, so target - vocab_start is negative on every
// rank but the owner's, and the targets sit on both sides of each slice boundary. The
// gradient is written in place over each slice's logits, as the head does.
TEST_F(LargeShapes, VocabParallelPiecesOverSlicesOfTheVocabulary) {
  const int64_t rows = static_cast<int64_t>(kVocabularyTargets.size());
  const Tensor targets = test::int_tensor({rows}, kVocabularyTargets);
  const Tensor raw_logits = vocabulary_logits(rows, 201);
  const std::vector<std::vector<int64_t>> layouts{
      {0, kVocab / 2, kVocab},
      {0, kVocab / 4, kVocab / 2, 3 * kVocab / 4, kVocab},
  };
  for (DType dt : kFloatingDtypes)
    for (const auto& bounds : layouts) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + ", " + std::to_string(bounds.size() - 1) +
                   " slices");
      const Tensor logits = rounded(raw_logits, dt);
      const auto expected = test::vocab_parallel(logits, targets, bounds, kZLoss, 0.5f, kCpu);
      const auto actual = test::vocab_parallel(logits, targets, bounds, kZLoss, 0.5f, gpu(dt));
      // A maximum and a single logit of the same values are exact.
      expect_bit_equal("row_max", expected.row_max, actual.row_max);
      expect_bit_equal("target_logit", expected.target_logit, actual.target_logit);
      expect_close("sum_exp", expected.sum_exp, actual.sum_exp, kF32);
      expect_close("losses", expected.losses, actual.losses, kF32);
      expect_close("dlogits", expected.dlogits, actual.dlogits, floating_tolerance(dt, kF32));

      // The slices together are the loss of the whole vocabulary.
      Tensor whole({rows}), logsumexp({rows});
      ops::cross_entropy_forward(logits, targets, kIgnoreIndex, kZLoss, whole, logsumexp);
      expect_close("losses against the whole vocabulary's", whole, actual.losses, kF32);
    }
}

// Greedy decoding's argmax over 250,112 columns: each of the 256 threads scans 977 of them, then
// a tree picks the first maximum. bf16 logits tie by themselves (uniform values near the top
// are 2^-8 apart, so a few hundred columns share the maximum), and ties are planted in one
// thread's columns and across threads. gather_rows at the same width, its index reaching the
// last column.
TEST_F(LargeShapes, ArgmaxAndGatherRowsAtTheVocabularyWidth) {
  const int64_t rows = 8;
  Tensor raw = test::random_tensor({rows, kVocab}, 202);
  float* p = raw.data<float>();
  p[0] = 5.0f;                                                         // the first column
  p[kVocab + kVocab - 1] = 5.0f;                                       // the last column
  p[2 * kVocab + 3] = p[2 * kVocab + 250000] = 5.0f;                   // threads 3 and 144
  p[3 * kVocab + 249999] = p[3 * kVocab + kVocab - 1] = 5.0f;          // threads 143 and 255
  std::fill(p + 4 * kVocab, p + 5 * kVocab, 0.5f);                     // all equal: column 0
  p[5 * kVocab + 256 * 5 + 7] = p[5 * kVocab + 256 * 900 + 7] = 5.0f;  // one thread's columns
  const Tensor index =
      test::int_tensor({rows}, {static_cast<int32_t>(kVocab - 1), 0, kIgnoreIndex, 125056,
                                static_cast<int32_t>(kVocab), -1, 250000, 77777});
  for (DType dt : kFloatingDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = rounded(raw, dt);
    auto run = [&](Side s) {
      Tensor argmax = test::int_tensor({rows}, std::vector<int32_t>(static_cast<size_t>(rows), -7))
                          .to(s.device);
      const Tensor on_side = put(x, s);
      ops::argmax_rows(on_side, argmax);
      Tensor gathered = poisoned({rows}, {s.device, DType::f32});
      ops::gather_rows(on_side, put_exact(index, s), gathered);
      return std::make_pair(values_of(argmax), get(gathered));
    };
    const auto expected = run(kCpu), actual = run(gpu(dt));
    EXPECT_EQ(expected.first[0], 0);
    EXPECT_EQ(expected.first[1], kVocab - 1);
    EXPECT_EQ(expected.first[2], 3);
    EXPECT_EQ(expected.first[3], 249999);
    EXPECT_EQ(expected.first[4], 0);
    EXPECT_EQ(expected.first[5], 256 * 5 + 7);
    EXPECT_EQ(actual.first, expected.first);
    expect_bit_equal("gather_rows", expected.second, actual.second);
  }
}

// ---- RMSNorm ------------------------------------------------------------------------------------

// mt5-large's width over 1036 rows: 17 blocks of the weight gradient's column sums
// (kernels/reduction_order.h: 64 rows each, the last one of 12), 4 column tiles of 256 threads
// each (cuda_ops's 129 rows of 200 columns take 3 blocks and one partial tile). The CPU sums
// the same f64 products in the same order, so dweight is equal bit for bit.
TEST_F(LargeShapes, RmsNormAtMt5LargeWidth) {
  const Shape shape{4, 259, kLargeModel};
  const int64_t rows = 4 * 259;
  for (DType dt : kFloatingDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = draw(shape, 210, dt, 2.0f), weight = draw({kLargeModel}, 211, dt);
    auto forward = [&](Side s) {
      Tensor out = poisoned(shape, s), rstd = poisoned({rows}, {s.device, DType::f32});
      ops::rmsnorm_forward(put(x, s), put(weight, s), 1e-6f, out, rstd);
      return std::vector<Tensor>{get(out), get(rstd)};
    };
    const auto expected = forward(kCpu), actual = forward(gpu(dt));
    expect_close("out", expected[0], actual[0], floating_tolerance(dt, kF32));
    expect_close("rstd", expected[1], actual[1], kF32);

    const Tensor dout = draw(shape, 212, dt), dx0 = draw(shape, 213, dt);
    const Tensor dweight0 = draw({kLargeModel}, 214, DType::f32);
    auto backward = [&](Side s) {
      Tensor dx = put(dx0, s), dweight = put_exact(dweight0, s);
      ops::rmsnorm_backward(put(dout, s), put(x, s), put(weight, s), put_exact(expected[1], s), dx,
                            dweight);
      return std::vector<Tensor>{get(dx), get(dweight)};
    };
    const auto expected_grads = backward(kCpu), grads = backward(gpu(dt));
    expect_close("dx", expected_grads[0], grads[0], floating_tolerance(dt, kF32));
    expect_bit_equal("dweight", expected_grads[1], grads[1]);
  }
}

// ---- Adafactor ------------------------------------------------------------------------------

// The GPU's factored sums: row sums one block per row; column sums over chunks of 256 rows and
// blocks of 256 columns (kernels/cuda/adafactor.cu), then the chunks added in order; the
// whole-tensor sums (param^2, update^2) over a fixed grid of 512 x 256 threads, each looping over
// n / 131072 elements. cuda_ops's 37 x 50 matrix is one chunk and one column block, and every sum
// there is one pass of the grid. Here:
// - [250112, 1024] (mt5-large's embedding and head; 1 GiB): 977 chunks x 4 column blocks, and
//   1954 elements per thread of the grid;
// - [62528, 1024] (the head's shard under --tp 4): 245 chunks, the last of 64 rows;
// - [2816, 1024] (mt5-large's wi): 11 chunks;
// - [1024, 704] (wo's shard under --tp 4): 3 column blocks, the last of 192 columns;
// - unfactored [1024] (a layer norm) and [3000017] (23 elements per thread of the grid).
// Three steps each, with the trainer's options; the smaller ones also with momentum, weight
// decay and scale_parameter.
TEST_F(LargeShapes, AdafactorAtMt5LargeShapes) {
  const ops::AdafactorStep plain{.lr = 1e-2f, .step = 1};
  const ops::AdafactorStep everything{
      .lr = 1e-2f, .step = 1, .beta1 = 0.9f, .weight_decay = 0.01f, .scale_parameter = true};
  struct Case {
    const char* name;
    Shape shape;
    bool everything;
  };
  const Case cases[] = {
      {"embedding [250112, 1024]", {kVocab, kLargeModel}, false},
      {"head shard [62528, 1024]", {kVocab / 4, kLargeModel}, false},
      {"wi [2816, 1024]", {2816, kLargeModel}, true},
      {"wo shard [1024, 704]", {kLargeModel, 704}, true},
      {"layer norm [1024]", {kLargeModel}, true},
      {"unfactored [3000017]", {3000017}, true},
  };
  uint64_t seed = 220;
  for (const Case& c : cases)
    for (bool with_everything : {false, true}) {
      if (with_everything && !c.everything) continue;
      const ops::AdafactorStep& options = with_everything ? everything : plain;
      SCOPED_TRACE(std::string(c.name) + (with_everything ? ", momentum, decay, scaled" : ""));
      ++seed;
      test::expect_adafactor_close(test::adafactor_steps(c.shape, 3, options, Device::cpu, seed),
                                   test::adafactor_steps(c.shape, 3, options, Device::cuda, seed),
                                   options);
    }
}

// ---- attention --------------------------------------------------------------------------------

// mt5-large's attention over 512 positions: 16 heads of 64 (so the cuBLASLt products loop over
// the batch and batch the heads, 16 per call, where cuda_ops has 3 or 4), products of
// 512 x 512 x 64 that cuBLASLt tiles (and may split along the 512 keys in backward), 512-key
// rows over the softmax kernels' 128 threads (4 keys each), and dropout indices up to 2^23 into
// probs. The encoder's self-attention with padded keys, the decoder's causal self-attention,
// and cross-attention from 128 target positions.
TEST_F(LargeShapes, AttentionAtSixteenHeadsAnd512Positions) {
  struct Case {
    AttentionCase shape;
    std::vector<int64_t> key_lengths;
  };
  const Case cases[] = {
      {{"encoder: bias, padded keys, dropout", 2, 16, 512, 512, 64, true, true, false, 0.1f},
       {400, 512}},
      {{"decoder: causal, bias, padded keys, dropout", 2, 16, 512, 512, 64, true, true, true, 0.1f},
       {512, 300}},
      {{"cross-attention: 128 queries, padded keys", 2, 16, 128, 512, 64, false, true, false, 0.1f},
       {512, 333}},
  };
  for (const Case& test_case : cases)
    for (DType dt : kFloatingDtypes) {
      const AttentionCase& c = test_case.shape;
      SCOPED_TRACE(std::string(c.name) + ", " + dtype_name(dt));
      const AttentionInputs in(c, dt, 230, test_case.key_lengths);
      const auto expected = in.forward(c, kCpu), actual = in.forward(c, gpu(dt));
      expect_close("probs", expected[0], actual[0], floating_tolerance(dt, kF32));
      expect_close("out", expected[1], actual[1], floating_tolerance(dt, kF32Gemm));

      // Both sides differentiate from the CPU's probabilities, as the GPU holds them.
      const Tensor probs = rounded(expected[0], dt);
      const Tensor dout = draw(in.q.shape(), 240, dt);
      const std::vector<Tensor> start{draw(in.q.shape(), 241, dt), draw(in.k.shape(), 242, dt),
                                      draw(in.v.shape(), 243, dt),
                                      draw({c.heads, c.q_len, c.k_len}, 244, dt)};
      const auto expected_grads = in.backward(c, kCpu, probs, dout, start);
      const auto grads = in.backward(c, gpu(dt), probs, dout, start);
      const char* names[] = {"dq", "dk", "dv", "dbias"};
      for (size_t i = 0; i < grads.size(); ++i)
        expect_close(names[i], expected_grads[i], grads[i], floating_tolerance(dt, kF32Gemm));
    }
}

// ---- logits of more than 2^31 elements ----------------------------------------------------------

// mt5-large's head over 8704 target tokens (17 sequences of 512): bf16 logits [8704, 250112] of
// 2,176,974,848 elements, past 2^31 elements (an int32 element index wraps) and 2^32 bytes
// (4.35 GB). Element 2^31 is column 22016 of row 8586; element 2^30 (byte 2^31) is column 11008
// of row 4293.
constexpr int64_t kTokens = 8704;
constexpr int64_t kLogits = kTokens * kVocab;
constexpr int64_t kElement2To31 = int64_t{1} << 31;
constexpr int64_t kRowAt2To31 = kElement2To31 / kVocab, kColumnAt2To31 = kElement2To31 % kVocab;
constexpr int64_t kRowAt2To30 = (kElement2To31 / 2) / kVocab;
constexpr int64_t kColumnAt2To30 = (kElement2To31 / 2) % kVocab;
static_assert(kLogits > kElement2To31 && kLogits * 2 > (int64_t{1} << 32));
static_assert(kRowAt2To31 == 8586 && kColumnAt2To31 == 22016);
static_assert(kRowAt2To30 == 4293 && kColumnAt2To30 == 11008);

// The rows checked against the CPU, and their targets: the first rows, the row holding byte
// 2^31, the rows around element 2^31 (whose target is element 2^31 itself), and the last rows
// (whose last target is the last element). Every other row has a random target or (one in
// eight) none.
const std::vector<int64_t> kSampledRows{
    0, 1, kRowAt2To30, kRowAt2To31 - 1, kRowAt2To31, kRowAt2To31 + 1, kTokens - 2, kTokens - 1};
const std::vector<int32_t> kSampledTargets{0,
                                           kIgnoreIndex,
                                           static_cast<int32_t>(kColumnAt2To30),
                                           static_cast<int32_t>(kVocab - 1),
                                           static_cast<int32_t>(kColumnAt2To31),
                                           kIgnoreIndex,
                                           123456,
                                           static_cast<int32_t>(kVocab - 1)};

// Sets element `index` of a bf16 device tensor.
void set_bf16(Tensor& t, int64_t index, float value) {
  const uint16_t bits = float_to_bf16(value);
  device::copy_bytes(static_cast<uint16_t*>(t.raw()) + index, Device::cuda, &bits, Device::cpu,
                     sizeof(bits));
}

uint16_t bf16_at(const Tensor& t, int64_t index) {
  uint16_t bits = 0;
  device::copy_bytes(&bits, Device::cpu, static_cast<const uint16_t*>(t.raw()) + index,
                     Device::cuda, sizeof(bits));
  return bits;
}

// Every op that touches the logits, on the whole [8704, 250112] tensor as mt5-large's head does
// on one GPU: the projection (cuBLASLt), all_finite (the debug checks), the whole-row
// cross-entropy and its gradient, argmax_rows and gather_rows, the vocab-parallel pieces over
// the one slice with the gradient in place, and the two GEMMs of the head's backward. The CPU
// reference computes only the sampled rows (and sampled vocabulary rows of the weight gradient);
// every row of the [N] outputs is checked written, and every element of the [N, V] ones (NaN
// poison, or for the in-place gradient a bound on its sum of squares that a logit left
// unwritten would exceed). GPU memory: 4.35 GB of logits, 4.35 GB of a second gradient (freed
// before the weight gradient), 0.5 GB of weight, 1 GB of its f32 gradient: under 10 GiB.
TEST_F(LargeShapes, LogitsOfMoreThan2To31Elements) {
  const Side bf16 = gpu(DType::bf16), f32 = gpu(DType::f32);
  // The head's input (the final RMSNorm's output, RMS 1) and weight; logits have std 3.
  Tensor x({kTokens, kLargeModel}, DType::bf16, Device::cuda);
  ops::fill_normal(x, 0.0f, 1.0f, RngKey{250, 1});
  Tensor weight({kVocab, kLargeModel}, DType::bf16, Device::cuda);
  ops::fill_normal(weight, 0.0f, 3.0f / 32.0f, RngKey{250, 2});

  std::vector<int32_t> target_values(static_cast<size_t>(kTokens));
  std::mt19937 gen(251);
  for (auto& t : target_values)
    t = gen() % 8 == 0 ? kIgnoreIndex : static_cast<int32_t>(gen() % kVocab);
  for (size_t i = 0; i < kSampledRows.size(); ++i)
    target_values[static_cast<size_t>(kSampledRows[i])] = kSampledTargets[i];
  const int64_t kept = std::count_if(target_values.begin(), target_values.end(),
                                     [](int32_t t) { return t != kIgnoreIndex; });
  const float grad_scale = 1.0f / static_cast<float>(kept);  // the token mean's
  const Tensor host_targets = test::int_tensor({kTokens}, target_values);
  const Tensor targets = host_targets.to(Device::cuda);
  const Tensor sampled_targets =
      test::int_tensor({static_cast<int64_t>(kSampledRows.size())}, kSampledTargets);
  const auto rows = static_cast<int64_t>(kSampledRows.size());

  // ---- the projection
  Tensor logits = poisoned({kTokens, kVocab}, bf16);
  ops::matmul(x, false, weight, true, logits);
  EXPECT_TRUE(ops::all_finite(logits)) << "the projection left poisoned logits";
  const Tensor host_x = get(x), host_weight = get(weight);
  const Tensor sampled_logits = rows_of(logits, kSampledRows);
  {
    // The CPU's [rows, V] as [V, rows] = weight · x_rowsᵀ, so the GEMM splits the vocabulary.
    Tensor expected({kVocab, rows});
    ops::matmul(host_weight, false, rows_of(host_x, kSampledRows), true, expected);
    expect_close("sampled logits", transposed(expected), sampled_logits, kBf16);
  }
  // all_finite reads past element 2^31 and to the last element.
  for (int64_t index : {kElement2To31, kLogits - 1}) {
    const uint16_t saved = bf16_at(logits, index);
    set_bf16(logits, index, std::numeric_limits<float>::quiet_NaN());
    EXPECT_FALSE(ops::all_finite(logits)) << "a NaN at element " << index;
    device::copy_bytes(static_cast<uint16_t*>(logits.raw()) + index, Device::cuda, &saved,
                       Device::cpu, sizeof(saved));
  }
  ASSERT_TRUE(ops::all_finite(logits));

  // ---- the whole-row cross-entropy, argmax_rows and gather_rows
  Tensor losses = poisoned({kTokens}, f32), logsumexp = poisoned({kTokens}, f32);
  ops::cross_entropy_forward(logits, targets, kIgnoreIndex, kZLoss, losses, logsumexp);
  Tensor argmax =
      test::int_tensor({kTokens}, std::vector<int32_t>(static_cast<size_t>(kTokens), -7))
          .to(Device::cuda);
  ops::argmax_rows(logits, argmax);
  Tensor target_logits = poisoned({kTokens}, f32);
  ops::gather_rows(logits, targets, target_logits);
  const Tensor host_losses = get(losses), host_logsumexp = get(logsumexp);
  const Tensor host_target_logits = get(target_logits);
  const std::vector<int32_t> host_argmax = values_of(argmax);
  for (int64_t i = 0; i < kTokens; ++i) {
    const bool ignored = target_values[static_cast<size_t>(i)] == kIgnoreIndex;
    const float loss = host_losses.data<float>()[i];
    ASSERT_TRUE(ignored ? loss == 0.0f : std::isfinite(loss) && loss > 0.0f)
        << "row " << i << ": loss " << loss;
    ASSERT_TRUE(std::isfinite(host_logsumexp.data<float>()[i])) << "row " << i;
    ASSERT_TRUE(std::isfinite(host_target_logits.data<float>()[i])) << "row " << i;
    ASSERT_TRUE(host_argmax[static_cast<size_t>(i)] >= 0 &&
                host_argmax[static_cast<size_t>(i)] < kVocab)
        << "row " << i << ": argmax " << host_argmax[static_cast<size_t>(i)];
  }
  {
    Tensor expected_losses({rows}), expected_logsumexp({rows});
    ops::cross_entropy_forward(sampled_logits, sampled_targets, kIgnoreIndex, kZLoss,
                               expected_losses, expected_logsumexp);
    expect_close("sampled losses", expected_losses, elements_of(host_losses, kSampledRows), kF32);
    expect_close("sampled logsumexp", expected_logsumexp, elements_of(host_logsumexp, kSampledRows),
                 kF32);
    Tensor expected_argmax({rows}, DType::i32), expected_target_logits({rows});
    ops::argmax_rows(sampled_logits, expected_argmax);
    ops::gather_rows(sampled_logits, sampled_targets, expected_target_logits);
    std::vector<int32_t> sampled_argmax;
    for (int64_t row : kSampledRows)
      sampled_argmax.push_back(host_argmax[static_cast<size_t>(row)]);
    EXPECT_EQ(values_of(expected_argmax), sampled_argmax);
    expect_bit_equal("sampled target logits", expected_target_logits,
                     elements_of(host_target_logits, kSampledRows));
  }

  // ---- the whole-row gradient, into a buffer of its own
  {
    Tensor dlogits = poisoned({kTokens, kVocab}, bf16);
    ops::cross_entropy_backward(logits, targets, logsumexp, kIgnoreIndex, kZLoss, grad_scale,
                                dlogits);
    EXPECT_TRUE(ops::all_finite(dlogits)) << "cross_entropy_backward left poisoned elements";
    Tensor expected({rows, kVocab});
    ops::cross_entropy_backward(sampled_logits, sampled_targets,
                                elements_of(host_logsumexp, kSampledRows), kIgnoreIndex, kZLoss,
                                grad_scale, expected);
    expect_close("sampled dlogits", expected, rows_of(dlogits, kSampledRows), kBf16);
  }

  // ---- the vocab-parallel pieces over the one slice (the head on one GPU), gradient in place
  Tensor row_max = poisoned({kTokens}, f32), target_logit = poisoned({kTokens}, f32);
  ops::cross_entropy_partial_forward(logits, targets, 0, kVocab, kIgnoreIndex, row_max,
                                     target_logit);
  Tensor sum_exp = poisoned({kTokens}, f32);
  ops::cross_entropy_sum_exp(logits, targets, kIgnoreIndex, row_max, sum_exp);
  Tensor piece_losses = poisoned({kTokens}, f32);
  ops::cross_entropy_combine_losses(targets, kIgnoreIndex, row_max, sum_exp, target_logit, kZLoss,
                                    piece_losses);
  expect_close("the pieces' losses against the whole rows'", host_losses, get(piece_losses), kF32);
  const Tensor host_row_max = get(row_max), host_sum_exp = get(sum_exp);
  const Tensor host_target_logit = get(target_logit);
  double largest_logsumexp = 0.0;
  for (int64_t i = 0; i < kTokens; ++i) {
    ASSERT_TRUE(std::isfinite(host_row_max.data<float>()[i])) << "row " << i;
    ASSERT_TRUE(std::isfinite(host_target_logit.data<float>()[i])) << "row " << i;
    ASSERT_TRUE(std::isfinite(host_sum_exp.data<float>()[i])) << "row " << i;
    if (target_values[static_cast<size_t>(i)] == kIgnoreIndex) continue;
    largest_logsumexp =
        std::max(largest_logsumexp, std::abs(double{host_row_max.data<float>()[i]} +
                                             std::log(double{host_sum_exp.data<float>()[i]})));
  }
  Tensor expected_row_max({rows}), expected_target_logit({rows}), expected_sum_exp({rows});
  ops::cross_entropy_partial_forward(sampled_logits, sampled_targets, 0, kVocab, kIgnoreIndex,
                                     expected_row_max, expected_target_logit);
  ops::cross_entropy_sum_exp(sampled_logits, sampled_targets, kIgnoreIndex, expected_row_max,
                             expected_sum_exp);
  expect_bit_equal("sampled row_max", expected_row_max, elements_of(host_row_max, kSampledRows));
  expect_bit_equal("sampled target_logit", expected_target_logit,
                   elements_of(host_target_logit, kSampledRows));
  expect_close("sampled sum_exp", expected_sum_exp, elements_of(host_sum_exp, kSampledRows), kF32);

  ops::cross_entropy_partial_backward(logits, targets, 0, kIgnoreIndex, row_max, sum_exp, kZLoss,
                                      grad_scale, logits);
  Tensor& dlogits = logits;  // from here on
  {
    Tensor expected({rows, kVocab});
    ops::cross_entropy_partial_backward(sampled_logits, sampled_targets, 0, kIgnoreIndex,
                                        expected_row_max, expected_sum_exp, kZLoss, grad_scale,
                                        expected);
    expect_close("sampled dlogits in place", expected, rows_of(dlogits, kSampledRows), kBf16);
  }
  // A kept row's gradient is s p_j - g [j == target] with s = g (1 + 2 z lse) and sum_j p_j = 1,
  // so its squares sum to at most s^2 + g^2 (bf16 rounding adds at most 2^-8 per element);
  // an ignored row's is 0. One logit of std 3 left in place would exceed the bound by itself.
  const double s = grad_scale * (1.0 + 2.0 * kZLoss * largest_logsumexp);
  const double bound =
      static_cast<double>(kept) * (s * s + double{grad_scale} * grad_scale) * (1.0 + 0x1p-7);
  EXPECT_LE(ops::sum_squares(dlogits), bound) << "logits left in place of their gradient";

  // ---- the head's backward GEMMs (ColumnParallelLinear::backward), accumulating
  Tensor dx({kTokens, kLargeModel}, DType::bf16, Device::cuda);
  ops::matmul(dlogits, false, weight, false, dx, 1.0f, 1.0f);
  Tensor dweight({kVocab, kLargeModel}, DType::f32, Device::cuda);
  ops::matmul(dlogits, true, x, false, dweight, 1.0f, 1.0f);
  const Tensor sampled_dlogits = rows_of(dlogits, kSampledRows);
  {
    // dx rows = dlogits rows · weight, as [d, rows] = weightᵀ · dlogits rowsᵀ so the CPU's GEMM
    // splits its 1024 rows over the threads.
    Tensor expected({kLargeModel, rows});
    ops::matmul(host_weight, true, sampled_dlogits, true, expected);
    expect_close("sampled dx", transposed(expected), rows_of(dx, kSampledRows), kBf16);
  }
  // Vocabulary rows of the weight gradient: a column of dlogits (gathered on the GPU) times x,
  // summed over the 8704 tokens in f64. bf16 products are exact in f32; only the order of the
  // GPU's f32 sums differs.
  for (int64_t v :
       {int64_t{0}, int64_t{1}, kColumnAt2To30, kColumnAt2To31, int64_t{123456}, kVocab - 1}) {
    SCOPED_TRACE("weight gradient row " + std::to_string(v));
    Tensor column = poisoned({kTokens}, f32);
    ops::gather_rows(dlogits,
                     test::int_tensor({kTokens}, std::vector<int32_t>(static_cast<size_t>(kTokens),
                                                                      static_cast<int32_t>(v)))
                         .to(Device::cuda),
                     column);
    const Tensor host_column = get(column);
    std::vector<double> sums(kLargeModel, 0.0);
    for (int64_t i = 0; i < kTokens; ++i) {
      const double g = host_column.data<float>()[i];
      const float* xi = host_x.data<float>() + i * kLargeModel;
      for (int64_t c = 0; c < kLargeModel; ++c) sums[static_cast<size_t>(c)] += g * xi[c];
    }
    Tensor expected({1, kLargeModel});
    for (int64_t c = 0; c < kLargeModel; ++c)
      expected.data<float>()[c] = static_cast<float>(sums[static_cast<size_t>(c)]);
    expect_close("dweight", expected, get(dweight.rows(v, v + 1)), kF32Gemm);
  }
}

}  // namespace
}  // namespace stilts
