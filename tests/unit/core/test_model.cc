// Whole-model checks that need no reference implementation: the hand-written backward agrees
// with finite differences (with dropout on, since masks are fixed by their key), dropout is
// reproducible, and the mt5-small preset takes a real training step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/model.h"
#include "core/optim/optimizer.h"
#include "kernels/ops.h"

namespace stilts {
namespace {

Batch random_batch(const ModelConfig& c, int64_t batch, int64_t input_len, int64_t target_len,
                   uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<std::vector<int32_t>> inputs, labels;
  for (int64_t b = 0; b < batch; ++b) {
    // Ragged lengths so padding masks and ignored labels are exercised.
    std::vector<int32_t> in(input_len - b % 3), out(target_len - b % 2);
    for (auto& t : in) t = 2 + static_cast<int32_t>(gen() % (c.vocab_size - 2));
    for (auto& t : out) t = 2 + static_cast<int32_t>(gen() % (c.vocab_size - 2));
    in.back() = c.eos_token_id;
    out.back() = c.eos_token_id;
    inputs.push_back(in);
    labels.push_back(out);
  }
  return make_batch(inputs, labels, c.pad_token_id);
}

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
  EXPECT_NEAR(alone, padded, 1e-5 * alone);
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

// Real size: one forward, backward and Adafactor step of mt5-small on two short sequences.
TEST(RealSize, Mt5SmallTakesATrainingStep) {
  ModelConfig c = model_preset("mt5-small");
  Parameters params(c, Device::cpu);
  params.initialize(0);
  Mt5Model model(params);
  auto optimizer = make_optimizer(OptimizerOptions{}, params);
  const Batch batch = random_batch(c, 2, 12, 6, 1);
  const ForwardOptions options{true, 0, 0, 1};

  ops::fill(params.flat_grads(), 0.0f);
  const double before = model.forward(batch, options).mean();
  model.backward();
  ASSERT_TRUE(std::isfinite(before));
  const double norm = clip_grad_norm(params, 0.0f);
  ASSERT_TRUE(std::isfinite(norm));
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_GT(ops::sum_squares(params.grad(i)), 0.0) << params.specs()[i].name;
  const Tensor q_before = params.value("decoder.block.7.layer.1.EncDecAttention.q.weight").clone();
  optimizer->step(params, 1e-3f);
  const Tensor& q_after = params.value("decoder.block.7.layer.1.EncDecAttention.q.weight");
  EXPECT_NE(0, std::memcmp(q_before.raw(), q_after.raw(), q_after.nbytes()));
  const double after = model.forward(batch, options).mean();
  EXPECT_LT(after, before);
}

}  // namespace
}  // namespace stilts
