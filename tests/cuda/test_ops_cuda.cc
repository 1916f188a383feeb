// Every op of kernels/op_list.h on each device against the CPU, in f32 and, on the GPU, in bf16.
// The CPU is the reference (tests/unit/kernels checks it against the definitions); here each op
// runs on the device under test and on the CPU from the same host values and the results are
// compared. Each test is an OP_TEST, instantiated for every device and naming the ops it covers:
// EveryOpOfTheListHasADeviceTest fails for an op of the list that no OP_TEST covers, in every
// build, GPU or not. On the CPU the comparison is with itself, which checks that the test runs
// and that the CPU repeats its own results.
//
// The comparisons, their tolerances and bf16's treatment are tests/cuda/device_compare.h's; the
// runs of several ops (attention, the vocab-parallel pieces, Adafactor's stages) are
// tests/cuda/op_runs.h's, which cuda_large runs again at mT5's sizes.
//
// The GPU's instances skip with the reason when the process sees no usable GPU (CI).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/bf16.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "kernels/philox.h"
#include "tests/cuda/device_compare.h"
#include "tests/cuda/gpu_required.h"
#include "tests/cuda/op_runs.h"
#include "tests/unit/error_of.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {

// Test listings name the device ("GetParam() = cuda"), not its bytes.
void PrintTo(Device device, std::ostream* out) {
  *out << device_name(device);
}

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
using test::put;
using test::put_exact;
using test::rounded;
using test::Side;
using test::values_of;
using test::zeros;

// ---- the ops of kernels/op_list.h and the tests that cover them ----------------------------

enum class Op {
#define STILTS_KERNEL(op) op,
#include "kernels/op_list.h"
#undef STILTS_KERNEL
};

constexpr const char* kOpNames[] = {
#define STILTS_KERNEL(op) #op,
#include "kernels/op_list.h"
#undef STILTS_KERNEL
};

// The OP_TESTs that cover each op, by the op's place in the list.
std::array<std::vector<std::string>, std::size(kOpNames)>& coverage() {
  static std::array<std::vector<std::string>, std::size(kOpNames)> tests;
  return tests;
}

bool cover(const char* test, std::initializer_list<Op> ops) {
  for (Op op : ops) coverage()[static_cast<size_t>(op)].push_back(test);
  return true;
}

// The CPU instance of a test of bf16 operands: the CPU backend computes in f32 only
// (kernels/ops.h) and refuses a bf16 tensor by name rather than computing on it.
void expect_cpu_refuses_bf16(const char* op, const std::function<void()>& call) {
  try {
    call();
    ADD_FAILURE() << op << " took a bf16 tensor on the CPU";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(std::string(op) + ": the CPU backend computes in f32"),
              std::string::npos)
        << message;
  }
}

// Each test runs once per device; the GPU's instance skips where no GPU is usable.
class DeviceOps : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override {
    if (device() == Device::cuda) STILTS_NEED_CUDA();
  }
  Device device() const { return GetParam(); }
  Side side(DType dtype) const { return {device(), dtype}; }
  // The floating dtypes the device's kernels take: the CPU backend computes in f32 only.
  std::vector<DType> dtypes() const {
    if (device() == Device::cpu) return {DType::f32};
    return {std::begin(kFloatingDtypes), std::end(kFloatingDtypes)};
  }
};

INSTANTIATE_TEST_SUITE_P(Devices, DeviceOps, ::testing::Values(Device::cpu, Device::cuda),
                         [](const ::testing::TestParamInfo<Device>& info) {
                           return std::string(device_name(info.param));
                         });

// OP_TEST(Name, op, ...): the test Name of DeviceOps, covering the named ops of
// kernels/op_list.h (spelled as there).
#define OP_TEST(name, ...)                         \
  [[maybe_unused]] const bool name##_covers = [] { \
    using enum Op;                                 \
    return cover(#name, {__VA_ARGS__});            \
  }();                                             \
  TEST_P(DeviceOps, name)

TEST(DeviceOpsCoverage, EveryOpOfTheListHasADeviceTest) {
  for (size_t i = 0; i < std::size(kOpNames); ++i)
    EXPECT_FALSE(coverage()[i].empty())
        << kOpNames[i] << " of kernels/op_list.h has no OP_TEST in tests/cuda/test_ops_cuda.cc "
        << "running it on each device against the CPU";
}

// ---- dense algebra ---------------------------------------------------------------------

OP_TEST(MatmulEveryTransposeAndDtype, matmul) {
  struct Size {
    int64_t m, k, n;
  };
  // Odd sizes (no tile divides them) and one large enough for cuBLASLt's tiled kernels.
  for (const Size z : {Size{37, 53, 29}, Size{256, 384, 192}})
    for (DType dt : dtypes())
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          SCOPED_TRACE(std::string(dtype_name(dt)) + " m " + std::to_string(z.m) +
                       (ta ? " a transposed" : "") + (tb ? " b transposed" : ""));
          const Tensor a = draw(ta ? Shape{z.k, z.m} : Shape{z.m, z.k}, 1, dt);
          const Tensor b = draw(tb ? Shape{z.n, z.k} : Shape{z.k, z.n}, 2, dt);
          const Tensor c0 = draw({z.m, z.n}, 3, dt);
          auto run = [&](Side s) {
            Tensor c = put(c0, s);
            ops::matmul(put(a, s), ta, put(b, s), tb, c, 0.75f, 0.5f);
            return get(c);
          };
          expect_close("c", run(kCpu), run(side(dt)), floating_tolerance(dt, kF32Gemm));
        }
}

// The weight gradient of a bf16 linear layer: bf16 a and b, accumulated (beta 1) into f32 c.
OP_TEST(MatmulAccumulatesBf16ProductsIntoF32, matmul) {
  const int64_t m = 96, k = 131, n = 40;
  if (device() == Device::cpu) {
    Tensor c({m, n});
    expect_cpu_refuses_bf16("matmul", [&] {
      ops::matmul(Tensor({m, k}, DType::bf16), false, Tensor({k, n}, DType::bf16), false, c);
    });
    return;
  }
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string(ta ? "a transposed " : "") + (tb ? "b transposed" : ""));
      const Tensor a = draw(ta ? Shape{k, m} : Shape{m, k}, 4, DType::bf16);
      const Tensor b = draw(tb ? Shape{n, k} : Shape{k, n}, 5, DType::bf16);
      const Tensor c0 = draw({m, n}, 6, DType::f32);
      auto run = [&](Side s) {
        Tensor c = put_exact(c0, s);
        ops::matmul(put(a, s), ta, put(b, s), tb, c, 1.0f, 1.0f);
        return get(c);
      };
      // Products of bf16 values are exact in f32: only the order of the sums differs.
      expect_close("c", run(kCpu), run(side(DType::bf16)), kF32Gemm);
    }
}

// ---- elementwise and reductions ----------------------------------------------------------

OP_TEST(Fill, fill) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor x = zeros({1001}, side(dt));
    ops::fill(x, -0.1f);
    const float expected = dt == DType::bf16 ? bf16_to_float(float_to_bf16(-0.1f)) : -0.1f;
    const Tensor host = get(x);
    for (int64_t i = 0; i < host.numel(); ++i)
      ASSERT_EQ(host.data<float>()[i], expected) << "element " << i;
  }
}

OP_TEST(CastRoundTripMatchesTheHostBitForBit, cast) {
  Tensor host = test::random_tensor({4099}, 7, 100.0f);
  float* h = host.data<float>();
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            1e-40f,  // subnormal
                            std::numeric_limits<float>::max(),
                            std::bit_cast<float>(0x3f808000u),  // halfway, rounds down to even
                            std::bit_cast<float>(0x3f818000u),  // halfway, rounds up to even
                            std::bit_cast<float>(0x3f808001u)};
  std::copy(std::begin(specials), std::end(specials), h);
  Tensor narrow_host(host.shape(), DType::bf16);
  ops::cast(host, narrow_host);
  Tensor narrow_device(host.shape(), DType::bf16, device());
  ops::cast(host.to(device()), narrow_device);
  const Tensor narrow_back = narrow_device.to(Device::cpu);
  const uint16_t* expected = narrow_host.data<uint16_t>();
  const uint16_t* actual = narrow_back.data<uint16_t>();
  for (int64_t i = 0; i < host.numel(); ++i) {
    // NaN payloads may differ (the GPU gives its canonical NaN); NaN must stay NaN.
    if (std::isnan(h[i]))
      EXPECT_TRUE(std::isnan(bf16_to_float(actual[i]))) << "element " << i;
    else
      ASSERT_EQ(expected[i], actual[i]) << "element " << i << " = " << h[i];
  }
  Tensor wide_device(host.shape(), DType::f32, device());
  ops::cast(narrow_device, wide_device);
  Tensor wide_host(host.shape());
  ops::cast(narrow_host, wide_host);
  const Tensor wide_back = wide_device.to(Device::cpu);
  for (int64_t i = 0; i < host.numel(); ++i) {
    const float e = wide_host.data<float>()[i], a = wide_back.data<float>()[i];
    if (std::isnan(e))
      EXPECT_TRUE(std::isnan(a)) << "element " << i;
    else
      ASSERT_EQ(std::bit_cast<uint32_t>(e), std::bit_cast<uint32_t>(a)) << "element " << i;
  }
  // Equal dtypes copy.
  for (DType dt : kFloatingDtypes) {
    const Tensor src = put(rounded(test::random_tensor({333}, 8), dt), side(dt));
    Tensor dst = zeros({333}, side(dt));
    ops::cast(src, dst);
    expect_bit_equal(std::string("cast ") + dtype_name(dt), get(src), get(dst));
  }
}

OP_TEST(AddAndScaleInplace, add_inplace, scale_inplace) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor acc0 = draw({5003}, 1, dt), x = draw({5003}, 2, dt);
    auto run = [&](Side s) {
      Tensor acc = put(acc0, s);
      ops::add_inplace(acc, put(x, s), -0.625f);
      Tensor scaled = put(x, s);
      ops::scale_inplace(scaled, 1.375f);
      return std::vector<Tensor>{get(acc), get(scaled)};
    };
    const auto expected = run(kCpu), actual = run(side(dt));
    expect_close("add_inplace", expected[0], actual[0], floating_tolerance(dt, kF32));
    expect_close("scale_inplace", expected[1], actual[1], floating_tolerance(dt, kF32));
  }
}

OP_TEST(FillNormalDrawsTheHostNumbers, fill_normal) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    auto run = [&](Side s) {
      Tensor x = zeros({4099}, s);
      ops::fill_normal(x, 0.5f, 2.0f, RngKey{7, 3}, 11);
      return get(x);
    };
    // Only the Box-Muller transcendentals (logf, sincosf) may differ in their last bits.
    expect_close("fill_normal", run(kCpu), run(side(dt)), floating_tolerance(dt, 1e-6));
  }
}

OP_TEST(SumAndSumSquares, sum, sum_squares) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = draw({100003}, 9, dt);
    const Tensor on_device = put(x, side(dt));
    double magnitude = 0.0;
    for (int64_t i = 0; i < x.numel(); ++i) magnitude += std::abs(x.data<float>()[i]);
    // Both accumulate the same values in f64: only the order differs.
    EXPECT_NEAR(ops::sum(on_device), ops::sum(x), 1e-9 * magnitude);
    const double squares = ops::sum_squares(x);
    EXPECT_NEAR(ops::sum_squares(on_device), squares, 1e-9 * squares);
  }
}

OP_TEST(ArgmaxRowsTakesTheFirstMaximum, argmax_rows) {
  const int64_t rows = 67, cols = 1000;
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor x = draw({rows, cols}, 10, dt);
    float* p = x.data<float>();
    p[3 * cols + 10] = p[3 * cols + 500] = 5.0f;  // a tie far apart
    std::fill(p + 4 * cols, p + 5 * cols, 0.5f);  // all equal: column 0
    p[5 * cols + cols - 1] = 7.0f;                // the last column
    auto run = [&](Side s) {
      Tensor out({rows}, DType::i32, s.device);
      ops::argmax_rows(put(x, s), out);
      return values_of(out);
    };
    const std::vector<int32_t> expected = run(kCpu);
    EXPECT_EQ(expected[3], 10);
    EXPECT_EQ(expected[4], 0);
    EXPECT_EQ(run(side(dt)), expected);
  }
}

OP_TEST(GatherRowsGivesZeroOutsideTheRow, gather_rows) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = draw({9, 300}, 11, dt);
    const Tensor index = test::int_tensor({9}, {0, 299, 150, -100, 300, 7, 7, -1, 42});
    auto run = [&](Side s) {
      Tensor out({9}, DType::f32, s.device);
      ops::gather_rows(put(x, s), put_exact(index, s), out);
      return get(out);
    };
    expect_bit_equal("gather_rows", run(kCpu), run(side(dt)));
  }
}

// ---- embedding ---------------------------------------------------------------------------

OP_TEST(EmbeddingOfAVocabShard, embedding_forward, embedding_backward) {
  const int64_t vocab = 100, d = 24, n = 64;
  struct Shard {
    int64_t start, rows;
  };
  std::vector<int32_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 37) % vocab);
  ids[5] = ids[6] = ids[7] = 42;  // repeated ids sum their gradients
  const Tensor id_tensor = test::int_tensor({n}, ids);
  // The whole table, and rows [30, 70) of the vocabulary (ids outside give zero rows).
  for (const Shard shard : {Shard{0, vocab}, Shard{30, 40}})
    for (DType dt : dtypes()) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " shard at " + std::to_string(shard.start));
      const Tensor table = draw({shard.rows, d}, 12, dt);
      const Tensor dout = draw({n, d}, 13, dt);
      const Tensor dtable0 = draw({shard.rows, d}, 14, DType::f32);
      auto run = [&](Side s) {
        const Tensor ids_s = put_exact(id_tensor, s);
        Tensor out = zeros({n, d}, s);
        ops::embedding_forward(ids_s, put(table, s), out, shard.start, vocab);
        Tensor dtable = put_exact(dtable0, s);
        ops::embedding_backward(ids_s, put(dout, s), dtable, shard.start, vocab);
        return std::vector<Tensor>{get(out), get(dtable)};
      };
      const auto expected = run(kCpu), actual = run(side(dt));
      expect_bit_equal("out", expected[0], actual[0]);
      expect_close("dtable", expected[1], actual[1], kF32);
    }
}

// On the CPU the op itself throws; the GPU reports at the next synchronization.
OP_TEST(OutOfRangeIdThrowsAtTheNextSynchronize, embedding_forward) {
  const auto synchronize = [&] {
    if (device() == Device::cuda) device::synchronize();
  };
  const Tensor table = put(test::random_tensor({10, 8}, 15), side(DType::f32));
  Tensor out = zeros({4, 8}, side(DType::f32));
  const Tensor bad = test::int_tensor({4}, {1, 2, 13, 4}).to(device());
  const std::string message = testing::error_of([&] {
    ops::embedding_forward(bad, table, out);
    synchronize();
  });
  EXPECT_NE(message.find("embedding"), std::string::npos) << message;
  EXPECT_NE(message.find("13"), std::string::npos) << message;
  // The report is consumed: the device keeps working.
  EXPECT_NO_THROW(synchronize());
  const Tensor good = test::int_tensor({4}, {1, 2, 3, 4}).to(device());
  EXPECT_NO_THROW({
    ops::embedding_forward(good, table, out);
    synchronize();
  });
}

// ---- RMSNorm -----------------------------------------------------------------------------

OP_TEST(RmsNormForwardAndBackward, rmsnorm_forward, rmsnorm_backward) {
  // 129 rows: three blocks of the weight gradient's column sums (kernels/reduction_order.h),
  // the last one partial.
  const Shape shape{3, 43, 200};
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = draw(shape, 16, dt, 2.0f), weight = draw({200}, 17, dt);
    auto forward = [&](Side s) {
      Tensor out = zeros(shape, s), rstd({129}, DType::f32, s.device);
      ops::rmsnorm_forward(put(x, s), put(weight, s), 1e-6f, out, rstd);
      return std::vector<Tensor>{get(out), get(rstd)};
    };
    const auto expected = forward(kCpu), actual = forward(side(dt));
    expect_close("out", expected[0], actual[0], floating_tolerance(dt, kF32));
    expect_close("rstd", expected[1], actual[1], kF32);

    const Tensor dout = draw(shape, 18, dt), dx0 = draw(shape, 19, dt);
    const Tensor dweight0 = draw({200}, 20, DType::f32);
    auto backward = [&](Side s) {
      Tensor dx = put(dx0, s), dweight = put_exact(dweight0, s);
      ops::rmsnorm_backward(put(dout, s), put(x, s), put(weight, s), put_exact(expected[1], s), dx,
                            dweight);
      return std::vector<Tensor>{get(dx), get(dweight)};
    };
    const auto expected_grads = backward(kCpu), grads = backward(side(dt));
    expect_close("dx", expected_grads[0], grads[0], floating_tolerance(dt, kF32));
    // Both backends sum the same f64 products in the order of kernels/reduction_order.h, and
    // bf16 inputs widen exactly: the same bits.
    expect_bit_equal("dweight", expected_grads[1], grads[1]);
  }
}

// ---- relative position bias ------------------------------------------------------------------

OP_TEST(PositionBiasForwardAndBackward, position_bias_forward, position_bias_backward) {
  const int heads = 4;
  struct Layout {
    int64_t q_len, k_len, q_offset;
    bool bidirectional;
  };
  // The encoder's table, and a decoder step with a cache offset.
  for (const Layout l : {Layout{7, 9, 0, true}, Layout{3, 12, 9, false}})
    for (DType dt : dtypes()) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + (l.bidirectional ? " encoder" : " decoder"));
      const Tensor buckets =
          ops::relative_position_buckets(l.q_len, l.k_len, l.q_offset, l.bidirectional, 32, 128);
      const Tensor table = draw({32, heads}, 21, dt);
      const Tensor dbias = draw({heads, l.q_len, l.k_len}, 22, dt);
      const Tensor dtable0 = draw({32, heads}, 23, DType::f32);
      auto run = [&](Side s) {
        const Tensor b = put_exact(buckets, s);
        Tensor bias = zeros({heads, l.q_len, l.k_len}, s);
        ops::position_bias_forward(b, put(table, s), bias);
        Tensor dtable = put_exact(dtable0, s);
        ops::position_bias_backward(b, put(dbias, s), dtable);
        return std::vector<Tensor>{get(bias), get(dtable)};
      };
      const auto expected = run(kCpu), actual = run(side(dt));
      expect_bit_equal("bias", expected[0], actual[0]);
      expect_close("dtable", expected[1], actual[1], kF32);
    }
}

// ---- attention -----------------------------------------------------------------------------

const AttentionCase kAttentionCases[] = {
    // Batch 1's keys are all masked: uniform rows.
    {"self-attention with bias and a fully masked batch", 2, 3, 6, 6, 16, true, true, false, 0.0f},
    {"causal", 2, 3, 6, 6, 16, true, false, true, 0.0f},
    {"causal with fewer queries than keys", 2, 3, 2, 7, 16, true, true, true, 0.0f},
    {"cross-attention with dropout", 2, 3, 5, 7, 16, false, true, false, 0.1f},
    {"long rows with dropout", 2, 4, 64, 160, 32, true, true, false, 0.1f},
};

OP_TEST(AttentionForwardAndBackward, attention_forward, attention_backward) {
  for (const AttentionCase& c : kAttentionCases)
    for (DType dt : dtypes()) {
      SCOPED_TRACE(std::string(c.name) + ", " + dtype_name(dt));
      const AttentionInputs in(c, dt, 30);
      const auto expected = in.forward(c, kCpu), actual = in.forward(c, side(dt));
      expect_close("probs", expected[0], actual[0], floating_tolerance(dt, kF32));
      expect_close("out", expected[1], actual[1], floating_tolerance(dt, kF32Gemm));

      // Both sides differentiate from the CPU's probabilities, as the GPU holds them.
      const Tensor probs = rounded(expected[0], dt);
      const Tensor dout = draw(in.q.shape(), 40, dt);
      const std::vector<Tensor> start{draw(in.q.shape(), 41, dt), draw(in.k.shape(), 42, dt),
                                      draw(in.v.shape(), 43, dt),
                                      draw({c.heads, c.q_len, c.k_len}, 44, dt)};
      const auto expected_grads = in.backward(c, kCpu, probs, dout, start);
      const auto grads = in.backward(c, side(dt), probs, dout, start);
      const char* names[] = {"dq", "dk", "dv", "dbias"};
      for (size_t i = 0; i < grads.size(); ++i)
        expect_close(names[i], expected_grads[i], grads[i], floating_tolerance(dt, kF32Gemm));
    }
}

// Each distinct product gets its cuBLASLt plan once (kernels/cuda/gemm_plan.h): the attention's
// per-head products and matmul alike, so a second step of the same shapes asks the heuristic
// nothing.
TEST(CublasLtPlans, EachProductIsPlannedOnce) {
  STILTS_NEED_CUDA();
  const AttentionCase& c = kAttentionCases[4];
  const Side gpu{Device::cuda, DType::bf16};
  const AttentionInputs in(c, DType::bf16, 31);
  const Tensor dout = draw(in.q.shape(), 45, DType::bf16);
  auto step = [&] {
    const std::vector<Tensor> forward = in.forward(c, gpu);
    const std::vector<Tensor> start{
        draw(in.q.shape(), 46, DType::bf16), draw(in.k.shape(), 47, DType::bf16),
        draw(in.v.shape(), 48, DType::bf16), draw({c.heads, c.q_len, c.k_len}, 49, DType::bf16)};
    in.backward(c, gpu, forward[0], dout, start);
    Tensor product = zeros({in.q.dim(1), in.k.dim(1)}, gpu);
    ops::matmul(put(in.q.rows(0, 1).reshape({in.q.dim(1), in.q.dim(2)}), gpu), false,
                put(in.k.rows(0, 1).reshape({in.k.dim(1), in.k.dim(2)}), gpu), true, product);
  };
  step();
  const size_t planned = device::cublaslt_plans();
  EXPECT_GE(planned, 6u) << "two forward and four backward products, one matmul";
  step();
  step();
  EXPECT_EQ(device::cublaslt_plans(), planned) << "the same shapes again made new plans";
}

// ---- gated GELU ----------------------------------------------------------------------------

OP_TEST(GatedGeluForwardAndBackward, gated_gelu_forward, gated_gelu_backward) {
  const Shape shape{5, 77};
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor gate = draw(shape, 50, dt, 3.0f), linear = draw(shape, 51, dt);
    const Tensor dout = draw(shape, 52, dt), dgate0 = draw(shape, 53, dt),
                 dlinear0 = draw(shape, 54, dt);
    auto run = [&](Side s) {
      const Tensor g = put(gate, s), l = put(linear, s);
      Tensor out = zeros(shape, s);
      ops::gated_gelu_forward(g, l, out);
      Tensor dgate = put(dgate0, s), dlinear = put(dlinear0, s);
      ops::gated_gelu_backward(put(dout, s), g, l, dgate, dlinear);
      return std::vector<Tensor>{get(out), get(dgate), get(dlinear)};
    };
    const auto expected = run(kCpu), actual = run(side(dt));
    const char* names[] = {"out", "dgate", "dlinear"};
    for (size_t i = 0; i < 3; ++i)
      expect_close(names[i], expected[i], actual[i], floating_tolerance(dt, kF32));
  }
}

// ---- dropout -------------------------------------------------------------------------------

OP_TEST(DropoutMasksEqualTheHostsBitForBit, dropout_forward, dropout_backward) {
  const float rate = 0.1f;
  const RngKey key{5, dropout_stream(3, 2, 1, 0)};
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = draw({4099}, 60, dt);
    // Each kept element is one f32 product, rounded once to dt on the GPU: bit-equal to the
    // CPU's product rounded to dt.
    auto forward = [&](Side s, float r) {
      Tensor out = zeros(x.shape(), s);
      ops::dropout_forward(put(x, s), r, key, out);
      return get(out);
    };
    const Tensor expected = rounded(forward(kCpu, rate), dt);
    expect_bit_equal("dropout_forward", expected, forward(side(dt), rate));
    expect_bit_equal("rate 0", x, forward(side(dt), 0.0f));
    Tensor in_place = put(x, side(dt));
    ops::dropout_forward(in_place, rate, key, in_place);
    expect_bit_equal("in place", expected, get(in_place));
    // Backward onto zeros is the same product added to +0, which makes a dropped negative
    // element's -0 a +0; onto a gradient it accumulates.
    auto backward = [&](Side s, const Tensor& dx0) {
      Tensor dx = put(dx0, s);
      ops::dropout_backward(put(x, s), rate, key, dx);
      return get(dx);
    };
    Tensor onto_zeros = expected.clone();
    for (int64_t i = 0; i < onto_zeros.numel(); ++i)
      onto_zeros.data<float>()[i] = 0.0f + onto_zeros.data<float>()[i];
    expect_bit_equal("dropout_backward", onto_zeros, backward(side(dt), Tensor(x.shape())));
    const Tensor dx0 = draw(x.shape(), 61, dt);
    expect_close("dropout_backward accumulating", backward(kCpu, dx0), backward(side(dt), dx0),
                 floating_tolerance(dt, kF32));
  }
}

// ---- mixed dtypes: an f32 residual stream ------------------------------------------------------

// With ModelNumerics::fp32_residual (core/model.h) the residual stream is f32 and the sublayers
// bf16, so these ops meet both dtypes in one call (core/layers/block.cc, stack.cc): RMSNorm reads
// the f32 stream and writes bf16 for the matmuls, and its backward adds the bf16 gradient of its
// output into the f32 stream's; dropout widens a bf16 sublayer output into the f32 stream and
// narrows the stream's gradient into the sublayer's bf16 one; decoding adds the bf16 embeddings
// into the f32 stream. Each against the CPU on the same values (the bf16 ones rounded on the
// host), with the tolerance of the output's dtype.
OP_TEST(MixedDtypesOfAnF32ResidualStream, rmsnorm_forward, rmsnorm_backward, dropout_forward,
        dropout_backward, add_inplace) {
  const Shape shape{3, 43, 200};
  if (device() == Device::cpu) {
    Tensor out(shape, DType::bf16), rstd({129}), h(shape), acc(shape);
    expect_cpu_refuses_bf16("rmsnorm_forward",
                            [&] { ops::rmsnorm_forward(h, Tensor({200}), 1e-6f, out, rstd); });
    expect_cpu_refuses_bf16("add_inplace", [&] { ops::add_inplace(acc, out); });
    return;
  }
  const Side f32 = side(DType::f32), bf16 = side(DType::bf16);
  const Tensor h = draw(shape, 70, DType::f32, 2.0f), weight = draw({200}, 71, DType::bf16);

  Tensor expected_out(shape), expected_rstd({129});
  ops::rmsnorm_forward(h, weight, 1e-6f, expected_out, expected_rstd);
  Tensor out = zeros(shape, bf16), rstd({129}, DType::f32, device());
  ops::rmsnorm_forward(put(h, f32), put(weight, bf16), 1e-6f, out, rstd);
  expect_close("rmsnorm_forward f32 to bf16", expected_out, get(out), kBf16);
  expect_close("rmsnorm_forward rstd", expected_rstd, get(rstd), kF32);

  const Tensor dout = draw(shape, 72, DType::bf16), dh0 = draw(shape, 73, DType::f32);
  Tensor expected_dh = dh0.clone(), expected_dweight({200});
  ops::rmsnorm_backward(dout, h, weight, expected_rstd, expected_dh, expected_dweight);
  Tensor dh = put(dh0, f32), dweight({200}, DType::f32, device());
  ops::rmsnorm_backward(put(dout, bf16), put(h, f32), put(weight, bf16),
                        put_exact(expected_rstd, f32), dh, dweight);
  expect_close("rmsnorm_backward bf16 into f32", expected_dh, get(dh), kF32);
  expect_bit_equal("rmsnorm_backward dweight", expected_dweight, get(dweight));

  // A kept element is one f32 product: bit-equal to the CPU's when stored in f32.
  const float rate = 0.1f;
  const RngKey key{7, dropout_stream(4, 1, 5, 0)};
  const Tensor sublayer = draw(shape, 74, DType::bf16);
  Tensor expected_widened(shape);
  ops::dropout_forward(sublayer, rate, key, expected_widened);
  Tensor widened = zeros(shape, f32);
  ops::dropout_forward(put(sublayer, bf16), rate, key, widened);
  expect_bit_equal("dropout_forward bf16 to f32", expected_widened, get(widened));
  const Tensor dsublayer0 = draw(shape, 75, DType::bf16);
  Tensor expected_narrowed = dsublayer0.clone();
  ops::dropout_backward(dh0, rate, key, expected_narrowed);
  Tensor narrowed = put(dsublayer0, bf16);
  ops::dropout_backward(put(dh0, f32), rate, key, narrowed);
  expect_close("dropout_backward f32 into bf16", expected_narrowed, get(narrowed), kBf16);

  Tensor expected_sum = h.clone();
  ops::add_inplace(expected_sum, sublayer);
  Tensor sum = put(h, f32);
  ops::add_inplace(sum, put(sublayer, bf16));
  expect_close("add_inplace bf16 into f32", expected_sum, get(sum), kF32);
}

// ---- cross-entropy ---------------------------------------------------------------------------

const std::vector<int32_t> kTargets{5, -100, 999, 0, 17, -100, 500, 3, 250};
constexpr int64_t kRows = 9, kVocab = 1000;
constexpr float kZLoss = 1e-4f;

OP_TEST(CrossEntropyWithIgnoredRowsAndZLoss, cross_entropy_forward, cross_entropy_backward) {
  const Tensor targets = test::int_tensor({kRows}, kTargets);
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor logits = draw({kRows, kVocab}, 70, dt, 4.0f);
    auto forward = [&](Side s) {
      Tensor losses({kRows}, DType::f32, s.device), logsumexp({kRows}, DType::f32, s.device);
      ops::cross_entropy_forward(put(logits, s), put_exact(targets, s), -100, kZLoss, losses,
                                 logsumexp);
      return std::vector<Tensor>{get(losses), get(logsumexp)};
    };
    const auto expected = forward(kCpu), actual = forward(side(dt));
    // f32 statistics of the same values.
    expect_close("losses", expected[0], actual[0], kF32);
    expect_close("logsumexp", expected[1], actual[1], kF32);

    // dlogits in the logits' dtype (the head), and in f32.
    for (DType dlogits_dtype : {dt, DType::f32}) {
      SCOPED_TRACE(std::string("dlogits ") + dtype_name(dlogits_dtype));
      auto backward = [&](Side s, DType gradient_dtype) {
        Tensor dlogits({kRows, kVocab}, gradient_dtype, s.device);
        ops::fill(dlogits, 3.0f);  // written, not accumulated
        ops::cross_entropy_backward(put(logits, s), put_exact(targets, s),
                                    put_exact(expected[1], s), -100, kZLoss, 0.25f, dlogits);
        return get(dlogits);
      };
      const Tensor grads = backward(side(dt), dlogits_dtype);
      expect_close("dlogits", backward(kCpu, DType::f32), grads,
                   floating_tolerance(dlogits_dtype, kF32));
      for (int64_t j = 0; j < kVocab; ++j) ASSERT_EQ(grads.data<float>()[kVocab + j], 0.0f);
    }
  }
}

OP_TEST(VocabParallelCrossEntropyPieces, cross_entropy_partial_forward, cross_entropy_sum_exp,
        cross_entropy_combine_losses, cross_entropy_partial_backward) {
  const Tensor targets = test::int_tensor({kRows}, kTargets);
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor logits = draw({kRows, kVocab}, 71, dt, 4.0f);
    // Two uneven slices.
    const std::vector<int64_t> bounds{0, 400, kVocab};
    const auto expected = test::vocab_parallel(logits, targets, bounds, kZLoss, 0.5f, kCpu);
    const auto actual = test::vocab_parallel(logits, targets, bounds, kZLoss, 0.5f, side(dt));
    // A maximum and a single logit of the same values are exact.
    expect_bit_equal("row_max", expected.row_max, actual.row_max);
    expect_bit_equal("target_logit", expected.target_logit, actual.target_logit);
    expect_close("sum_exp", expected.sum_exp, actual.sum_exp, kF32);
    expect_close("losses", expected.losses, actual.losses, kF32);
    expect_close("dlogits", expected.dlogits, actual.dlogits, floating_tolerance(dt, kF32));
  }
}

// ---- optimizers -----------------------------------------------------------------------------

OP_TEST(AdafactorStagesFactoredAndNot, adafactor_sums, adafactor_average, adafactor_average_squares,
        adafactor_update_sum_squares, adafactor_apply) {
  const ops::AdafactorStep plain{.lr = 1e-2f, .step = 1};
  const ops::AdafactorStep everything{
      .lr = 1e-2f, .step = 1, .beta1 = 0.9f, .weight_decay = 0.01f, .scale_parameter = true};
  for (bool factored : {true, false})
    for (const ops::AdafactorStep& options : {plain, everything}) {
      SCOPED_TRACE(std::string(factored ? "factored" : "unfactored") +
                   (options.beta1 > 0.0f ? ", momentum, decay, scaled" : ""));
      // Three steps of a 37 x 50 matrix or of as many elements unfactored.
      const Shape shape = factored ? Shape{37, 50} : Shape{37 * 50};
      test::expect_adafactor_close(test::adafactor_steps(shape, 3, options, Device::cpu, 80),
                                   test::adafactor_steps(shape, 3, options, device(), 80), options);
    }
}

OP_TEST(AdamW, adamw_update) {
  auto run = [](Device device) {
    Tensor param = test::random_tensor({3001}, 90).to(device);
    Tensor m({3001}, DType::f32, device), v({3001}, DType::f32, device);
    for (int64_t step = 1; step <= 3; ++step) {
      const ops::AdamWStep s{.lr = 1e-3f, .step = step, .weight_decay = 0.01f};
      ops::adamw_update(
          param, test::random_tensor({3001}, 90 + static_cast<uint32_t>(step)).to(device), m, v, s);
    }
    return std::vector<Tensor>{get(param), get(m), get(v)};
  };
  const auto expected = run(Device::cpu), actual = run(device());
  const char* names[] = {"param", "m", "v"};
  for (size_t i = 0; i < 3; ++i) expect_close(names[i], expected[i], actual[i], kF32);
}

// ---- checks and determinism ---------------------------------------------------------------

OP_TEST(AllFiniteFindsAPlantedNanOrInfinity, all_finite) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor host = draw({100003}, 95, dt);
    EXPECT_TRUE(ops::all_finite(put(host, side(dt))));
    host.data<float>()[77777] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(ops::all_finite(put(host, side(dt))));
    host.data<float>()[77777] = -std::numeric_limits<float>::infinity();
    EXPECT_FALSE(ops::all_finite(put(host, side(dt))));
  }
}

// The backward ops whose gradients sum over many rows (and, with atomics, would depend on the
// order of arrival): twice from the same inputs must give the same bits.
OP_TEST(BackwardReductionsAreBitIdenticalRunToRun, attention_backward, rmsnorm_backward,
        embedding_backward) {
  for (DType dt : dtypes()) {
    SCOPED_TRACE(dtype_name(dt));
    const Side s = side(dt);

    const AttentionCase c{"determinism", 4, 4, 64, 64, 32, true, true, false, 0.1f};
    const AttentionInputs in(c, dt, 100);
    const Tensor probs = in.forward(c, s)[0];
    const Tensor dout = draw(in.q.shape(), 101, dt);
    const std::vector<Tensor> start{Tensor(in.q.shape()), Tensor(in.k.shape()),
                                    Tensor(in.v.shape()), Tensor({c.heads, c.q_len, c.k_len})};
    const auto first = in.backward(c, s, probs, dout, start);
    const auto second = in.backward(c, s, probs, dout, start);
    for (size_t i = 0; i < first.size(); ++i)
      expect_bit_equal("attention gradient " + std::to_string(i), first[i], second[i]);

    const Shape shape{2048, 512};
    const Tensor x = draw(shape, 102, dt), weight = draw({512}, 103, dt), dy = draw(shape, 104, dt);
    Tensor out = zeros(shape, s), rstd({2048}, DType::f32, device());
    ops::rmsnorm_forward(put(x, s), put(weight, s), 1e-6f, out, rstd);
    auto rmsnorm = [&] {
      Tensor dx = zeros(shape, s), dweight({512}, DType::f32, device());
      ops::rmsnorm_backward(put(dy, s), put(x, s), put(weight, s), rstd, dx, dweight);
      return std::vector<Tensor>{get(dx), get(dweight)};
    };
    const auto norm_first = rmsnorm(), norm_second = rmsnorm();
    expect_bit_equal("rmsnorm dx", norm_first[0], norm_second[0]);
    expect_bit_equal("rmsnorm dweight", norm_first[1], norm_second[1]);

    // 4096 ids over 50 rows: every row gathers about 80 gradients.
    std::vector<int32_t> ids(4096);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>((i * 7919) % 50);
    const Tensor id_tensor = test::int_tensor({4096}, ids).to(device());
    const Tensor dembedded = put(draw({4096, 64}, 105, dt), s);
    auto embedding = [&] {
      Tensor dtable({50, 64}, DType::f32, device());
      ops::embedding_backward(id_tensor, dembedded, dtable);
      return get(dtable);
    };
    expect_bit_equal("embedding dtable", embedding(), embedding());
  }
}

}  // namespace
}  // namespace stilts
