// Real size: the mt5-small preset (300M parameters) takes a full training step on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/model.h"
#include "core/optim/optimizer.h"
#include "kernels/ops.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

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
