// Whole-model checks that need no reference implementation: the hand-written backward agrees
// with finite differences (with dropout on, since masks are fixed by their key), dropout is
// reproducible, padding changes no example's loss, and the f32 residual stream is the CPU's own.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/generate.h"
#include "core/model.h"
#include "core/optim/optimizer.h"
#include "core/training_step.h"
#include "kernels/ops.h"
#include "tests/tolerance.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

class ModelGradient : public ::testing::TestWithParam<float> {};

TEST_P(ModelGradient, BackwardMatchesFiniteDifferences) {
  const float z_loss = GetParam();
  ModelConfig c = model_preset("test-tiny");
  c.dropout_rate = 0.1f;
  Parameters params(c, Device::cpu);
  params.initialize(3);
  // Smaller embeddings keep the loss in a range where f32 differences are informative.
  ops::scale_inplace(params.value("shared.weight"), 0.1f);
  ops::scale_inplace(params.value("lm_head.weight"), 0.1f);
  Mt5Model model(params);
  const Batch batch = random_batch(c, 3, 9, 6, 11);
  const ForwardOptions options{true, z_loss, 5, 2};

  ops::fill(params.flat_grads(), 0.0f);
  model.forward(batch, options);
  model.backward();

  int checked = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    // The coordinate with the largest gradient of each tensor: its finite difference is well
    // above f32 rounding of the loss.
    const Tensor& g = params.grad(i);
    int64_t best = 0;
    for (int64_t j = 1; j < g.numel(); ++j)
      if (std::fabs(g.data<float>()[j]) > std::fabs(g.data<float>()[best])) best = j;
    const double analytic = g.data<float>()[best];
    float* w = params.value(i).data<float>() + best;
    const float saved = *w;
    const float h = 1e-2f * std::max(1.0f, std::fabs(saved));
    *w = saved + h;
    const double plus = model.forward(batch, options).mean();
    *w = saved - h;
    const double minus = model.forward(batch, options).mean();
    *w = saved;
    const double numeric = (plus - minus) / (2.0 * h);
    EXPECT_NEAR(analytic, numeric, 2e-2 * std::fabs(numeric) + 2e-4)
        << params.specs()[i].name << "[" << best << "]";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(params.size()));
}

INSTANTIATE_TEST_SUITE_P(ZLoss, ModelGradient, ::testing::Values(0.0f, 1e-2f));

TEST(Model, DropoutIsReproducibleAndKeyedByStep) {
  ModelConfig c = model_preset("test-tiny");
  Parameters params(c, Device::cpu);
  params.initialize(1);
  Mt5Model model(params);
  const Batch batch = random_batch(c, 2, 8, 5, 4);
  const double eval = model.forward(batch, {false, 0, 9, 1}).mean();
  const double a = model.forward(batch, {true, 0, 9, 1}).mean();
  const double b = model.forward(batch, {true, 0, 9, 1}).mean();
  const double other_step = model.forward(batch, {true, 0, 9, 2}).mean();
  const double other_seed = model.forward(batch, {true, 0, 10, 1}).mean();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, eval);
  EXPECT_NE(a, other_step);
  EXPECT_NE(a, other_seed);
  EXPECT_EQ(eval, model.forward(batch, {false, 0, 123, 77}).mean());
}

TEST(Model, PaddingDoesNotChangeTheLossOfAnExample) {
  ModelConfig c = model_preset("test-tiny");
  Parameters params(c, Device::cpu);
  params.initialize(2);
  Mt5Model model(params);
  const std::vector<int32_t> in = {5, 6, 7, 8, 1}, out = {9, 10, 1};
  const double alone = model.forward(make_batch({in}, {out}, 0), {}).mean();
  // The same example next to a longer one is padded in both the encoder and the labels.
  const std::vector<int32_t> long_in(12, 4), long_out(7, 3);
  model.forward(make_batch({in, long_in}, {out, long_out}, 0), {});
  const double padded = ops::sum(model.token_losses().rows(0, 7)) / 3.0;
  // Padding changes the GEMMs' shapes, hence their rounding, never the value.
  EXPECT_TRUE(test::within_rounding(padded, alone, 64, alone));
}

TEST(Model, RefusesTokensOutsideTheVocabulary) {
  ModelConfig c = model_preset("test-tiny");
  Parameters params(c, Device::cpu);
  Mt5Model model(params);
  try {
    model.forward(make_batch({{5, 999, 1}}, {{3, 1}}, 0), {});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos);
  }
}

TEST(ModelNumerics, TheResidualStreamIsF32WhenAskedElseInTheComputeDtype) {
  EXPECT_EQ(ModelNumerics{}.residual_dtype(DType::bf16), DType::bf16);
  EXPECT_EQ(ModelNumerics{}.residual_dtype(DType::f32), DType::f32);
  EXPECT_EQ(ModelNumerics{.fp32_residual = true}.residual_dtype(DType::bf16), DType::f32);
  EXPECT_EQ(ModelNumerics{.fp32_residual = true}.residual_dtype(DType::f32), DType::f32);
}

// The CPU computes in f32 throughout, so the f32 residual stream is what it runs anyway: the
// option is accepted and changes no bit of a training step (dropout, z-loss, activations stored
// or recomputed), of the update or of greedy decoding. Its effect on the GPU is
// tests/cuda/test_model_cuda.cc's.
TEST(Model, Fp32ResidualChangesNothingOnTheCpu) {
  ModelConfig c = model_preset("test-tiny");
  c.dropout_rate = 0.1f;
  const Batch batch = random_batch(c, 3, 9, 6, 21);
  const auto inputs = random_sequences(c, 4, 22);
  struct Run {
    StepGradients step;
    Tensor grads, values;
    std::vector<std::vector<int32_t>> decoded;
  };
  auto run = [&](bool recompute, bool fp32_residual) {
    Parameters params(c, Device::cpu);
    params.initialize(4);
    TrainingStepOptions options;
    options.z_loss = 1e-4f;
    options.seed = 5;
    options.recompute_activations = recompute;
    options.fp32_residual = fp32_residual;
    TrainingStep step(params, options);
    EXPECT_EQ(step.model().residual_dtype(), DType::f32);
    Run r;
    r.step = step.compute_gradients(batch, 1, true);
    r.grads = params.flat_grads().clone();
    step.update(1e-2f);
    r.values = params.flat_values().clone();
    r.decoded = greedy_decode(step.model(), inputs, {8, true});
    return r;
  };
  auto same_bits = [](const Tensor& a, const Tensor& b) {
    return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
  };
  for (bool recompute : {false, true}) {
    SCOPED_TRACE(recompute ? "recomputed activations" : "stored activations");
    const Run off = run(recompute, false), on = run(recompute, true);
    EXPECT_EQ(on.step.loss, off.step.loss);
    EXPECT_EQ(on.step.grad_norm, off.step.grad_norm);
    EXPECT_TRUE(same_bits(on.grads, off.grads));
    EXPECT_TRUE(same_bits(on.values, off.values));
    EXPECT_EQ(on.decoded, off.decoded);
  }
}

}  // namespace
}  // namespace stilts
