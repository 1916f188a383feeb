// Recomputed activations and the gradient-ready watermark: neither may change a gradient. With
// recompute on, every block reruns its forward in backward, and the gradients must equal the
// stored-activation ones bit for bit (dropout on, so the rerun must redraw the same masks). The
// watermark must only decrease, end at 0, and never announce a gradient that later changes.
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "core/model.h"
#include "kernels/ops.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

ModelConfig tiny_with_dropout() {
  ModelConfig c = model_preset("test-tiny");
  c.dropout_rate = 0.1f;
  return c;
}

// The flat gradients of one forward and backward on a fresh model of the parameters.
Tensor gradients(Parameters& params, const Batch& batch, bool recompute) {
  Mt5Model model(params);
  ForwardOptions options{true, 1e-4f, 5, 2};
  options.recompute_activations = recompute;
  ops::fill(params.flat_grads(), 0.0f);
  model.forward(batch, options);
  model.backward();
  return params.flat_grads().clone();
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

TEST(Recompute, GradientsEqualStoredActivationsBitForBit) {
  const ModelConfig c = tiny_with_dropout();
  Parameters params(c, Device::cpu);
  params.initialize(7);
  const Batch batch = random_batch(c, 3, 9, 6, 13);
  const Tensor stored = gradients(params, batch, false);
  const Tensor recomputed = gradients(params, batch, true);
  ASSERT_GT(ops::sum_squares(stored), 0.0);
  EXPECT_TRUE(same_bits(stored, recomputed));
}

TEST(Recompute, TwoStepsOnOneModelMatch) {
  // The released buffers come back for the second step, and the stored path's reused buffers
  // give the same results as fresh ones.
  const ModelConfig c = tiny_with_dropout();
  Parameters params(c, Device::cpu);
  params.initialize(8);
  const Batch first = random_batch(c, 2, 7, 5, 1), second = random_batch(c, 3, 9, 6, 2);
  std::vector<Tensor> results[2];
  for (int recompute = 0; recompute < 2; ++recompute) {
    Mt5Model model(params);
    for (const Batch* batch : {&first, &second}) {
      ForwardOptions options{true, 0.0f, 3, 1};
      options.recompute_activations = recompute != 0;
      ops::fill(params.flat_grads(), 0.0f);
      model.forward(*batch, options);
      model.backward();
      results[recompute].push_back(params.flat_grads().clone());
    }
  }
  for (size_t step = 0; step < 2; ++step)
    EXPECT_TRUE(same_bits(results[0][step], results[1][step])) << "step " << step;
}

TEST(GradientsReady, WatermarkDecreasesToZeroAndAnnouncesOnlyFinalGradients) {
  const ModelConfig c = tiny_with_dropout();
  Parameters params(c, Device::cpu);
  params.initialize(9);
  const Batch batch = random_batch(c, 3, 9, 6, 17);
  for (bool recompute : {false, true}) {
    Mt5Model model(params);
    std::vector<std::pair<size_t, Tensor>> calls;
    model.set_gradients_ready_callback(
        [&](size_t k) { calls.emplace_back(k, params.flat_grads().clone()); });
    ForwardOptions options{true, 0.0f, 4, 3};
    options.recompute_activations = recompute;
    ops::fill(params.flat_grads(), 0.0f);
    model.forward(batch, options);
    model.backward();

    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.front().first, params.size() - 1);  // lm_head, the last parameter
    EXPECT_EQ(calls.back().first, 0u);
    // The head, each stack's final norm, blocks and bias table, and the shared embedding.
    EXPECT_EQ(calls.size(),
              static_cast<size_t>(1 + (1 + c.num_layers + 1) + (1 + c.num_decoder_layers + 1) + 1));
    const float* flat = params.flat_grads().data<float>();
    for (size_t n = 0; n < calls.size(); ++n) {
      const auto& [k, snapshot] = calls[n];
      if (n > 0) {
        EXPECT_LT(k, calls[n - 1].first) << "call " << n;
      }
      for (size_t i = k; i < params.size(); ++i) {
        const Tensor& g = params.grad(i);
        const Tensor early = snapshot.slice(g.data<float>() - flat, g.shape());
        EXPECT_TRUE(same_bits(early, g))
            << params.specs()[i].name << " announced final at call " << n << " (k " << k << ")";
      }
    }
    // The shared table's gradient still changed after the last call but one (the encoder's
    // lookup), so holding it back until k = 0 matters.
    const Tensor& shared = params.grad(0);
    const Tensor before_last =
        calls[calls.size() - 2].second.slice(shared.data<float>() - flat, shared.shape());
    EXPECT_FALSE(same_bits(before_last, shared));
  }
}

}  // namespace
}  // namespace stilts
