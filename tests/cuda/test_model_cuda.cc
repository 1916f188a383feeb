// The model on the GPU (bf16 compute copy, f32 master weights and gradients) against the CPU
// (f32) from the same parameters: one training step (also with the f32 residual stream), ten
// steps, greedy decoding; and the GPU's own reproducibility (run to run, activation
// recomputation on and off). All on test-tiny but one training step of mt5-small, the real
// model (its tolerances are stated there).
//
// Tolerances: the GPU runs every activation in bf16 (8 significant bits), so one step's loss
// may differ from the f32 CPU's by a few tenths of a percent per layer; 2e-2 relative on the
// loss and 5e-2 on the global gradient norm leave room for that over test-tiny's layers and
// still catch a wrong kernel (which moves the loss by O(1) or the norm by far more).
//
// Every test skips with the reason when the process sees no usable GPU (CI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/generate.h"
#include "core/training_step.h"
#include "kernels/device.h"
#include "kernels/ops.h"
#include "tests/cuda/gpu_required.h"
#include "tests/unit/core/random_batch.h"
#include "tests/unit/kernels/test_util.h"

namespace stilts {
namespace {

constexpr uint64_t kSeed = 11;
constexpr float kLearningRate = 1e-2f;

class CudaModel : public ::testing::Test {
 protected:
  void SetUp() override {
    STILTS_NEED_CUDA();
    cpu.initialize(kSeed);
  }
  // test-tiny: inner width != d_model, two blocks per stack, three heads.
  ModelConfig config = model_preset("test-tiny");
  Parameters cpu{config, Device::cpu};
  Batch batch = random_batch(config, 4, 12, 9, 3);
};

// The trainer's step with dropout on (the masks come from the same Philox keys on every
// device), z-loss and Adafactor.
TrainingStepOptions step_options(bool recompute = false, bool fp32_residual = false) {
  TrainingStepOptions o;
  o.z_loss = 1e-4f;
  o.seed = 5;
  o.recompute_activations = recompute;
  o.fp32_residual = fp32_residual;
  return o;
}

Tensor host_f32(const Tensor& t) {
  Tensor host = t.to(Device::cpu);
  if (host.dtype() == DType::f32) return host;
  Tensor wide(host.shape());
  ops::cast(host, wide);
  return wide;
}

// The parameters of `from` (master values) on the GPU, with their compute copy.
std::unique_ptr<Parameters> on_gpu(Parameters& from) {
  auto params = std::make_unique<Parameters>(from.config(), Device::cuda);
  ops::copy(from.flat_values(), params->flat_values());
  params->refresh_compute_copy();
  return params;
}

double relative(double actual, double expected) {
  return std::abs(actual - expected) / std::abs(expected);
}

double norm(const Tensor& host) {
  return std::sqrt(ops::sum_squares(host));
}

// Per parameter i, |actual[i] - expected[i]| / |expected[i]| (relative L2), expected on the CPU
// and actual on any device, named after the parameter and sorted from the smallest.
using Errors = std::vector<std::pair<double, std::string>>;
Errors relative_errors(const Parameters& cpu, const std::vector<Tensor>& expected,
                       const std::vector<Tensor>& actual) {
  Errors errors;
  for (size_t i = 0; i < expected.size(); ++i) {
    Tensor difference = host_f32(actual[i]);
    ops::add_inplace(difference, expected[i], -1.0f);
    errors.emplace_back(norm(difference) / std::max(norm(expected[i]), 1e-30), cpu.specs()[i].name);
  }
  std::sort(errors.begin(), errors.end());
  return errors;
}

// The median and the `largest` largest errors, on stdout; `what` names the tensors compared.
void print_errors(const char* what, const Errors& errors, size_t largest) {
  std::cout << "per-parameter " << what << " error (relative L2), median "
            << errors[errors.size() / 2].first << "; largest:\n";
  for (size_t i = errors.size() - std::min(largest, errors.size()); i < errors.size(); ++i)
    std::cout << "  " << errors[i].first << "  " << errors[i].second << '\n';
}

std::vector<Tensor> grads_of(Parameters& params) {
  std::vector<Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) grads.push_back(params.grad(i));
  return grads;
}

// One step's gradients on each device against each other: the token count equal, the loss within
// 2e-2 and the global gradient norm within 5e-2 (relative), and the per-parameter errors, whose
// median and `largest` largest are printed, within `median_bound` and `worst_bound`.
void expect_step_close(Parameters& cpu, Parameters& gpu, const StepGradients& expected,
                       const StepGradients& actual, double median_bound, double worst_bound,
                       size_t largest) {
  std::cout << "loss: cpu " << expected.loss << ", gpu " << actual.loss << "; gradient norm: cpu "
            << expected.grad_norm << ", gpu " << actual.grad_norm << '\n';
  EXPECT_EQ(actual.tokens, expected.tokens);
  EXPECT_LT(relative(actual.loss, expected.loss), 2e-2)
      << "cpu " << expected.loss << ", gpu " << actual.loss;
  EXPECT_LT(relative(actual.grad_norm, expected.grad_norm), 5e-2)
      << "cpu " << expected.grad_norm << ", gpu " << actual.grad_norm;
  const Errors errors = relative_errors(cpu, grads_of(cpu), grads_of(gpu));
  print_errors("gradient", errors, largest);
  EXPECT_LT(errors[errors.size() / 2].first, median_bound);
  EXPECT_LT(errors.back().first, worst_bound) << errors.back().second;
}

TEST_F(CudaModel, OneTrainingStepMatchesTheCpu) {
  auto gpu = on_gpu(cpu);
  TrainingStep cpu_step(cpu, step_options()), gpu_step(*gpu, step_options());
  const StepGradients expected = cpu_step.compute_gradients(batch, 1, true);
  const StepGradients actual = gpu_step.compute_gradients(batch, 1, true);
  // Per parameter, |g_gpu - g_cpu| / |g_cpu| is bounded loosely, since a parameter whose
  // gradient nearly cancels (a small norm) carries a large relative error.
  expect_step_close(cpu, *gpu, expected, actual, 5e-2, 0.25, 5);

  // The optimizer updates the f32 master weights and refreshes the bf16 copy from them.
  gpu_step.update(kLearningRate);
  const Tensor master = host_f32(gpu->flat_values());
  Tensor compute(master.shape(), gpu->activation_dtype());
  ops::cast(master, compute);
  EXPECT_TRUE(test::bitwise_equal(host_f32(compute), host_f32(gpu->flat_compute_values())))
      << "the compute copy is not the master weights cast after the optimizer step";
}

// The f32 residual stream (ModelNumerics::fp32_residual): one step against the CPU within the
// same tolerances, and no further from it than the bf16 stream's step, up to a margin (both
// errors printed; test-tiny's two blocks per stack round the stream only a few times, so the
// gain is small here and grows with depth). The hidden states between the blocks are f32 on the
// device, while the stack's output, which the cross-attention and the head read, stays bf16.
TEST_F(CudaModel, Fp32ResidualStepIsNoFurtherFromTheCpu) {
  TrainingStep cpu_step(cpu, step_options());
  const StepGradients expected = cpu_step.compute_gradients(batch, 1, true);
  const Tensor& reference = cpu.flat_grads();
  struct Error {
    double loss, grad_norm, gradients;
  };
  auto error_of = [&](bool fp32_residual) {
    auto gpu = on_gpu(cpu);
    TrainingStep gpu_step(*gpu, step_options(false, fp32_residual));
    const StepGradients actual = gpu_step.compute_gradients(batch, 1, true);
    const Mt5Model& model = gpu_step.model();
    const DType stream = fp32_residual ? DType::f32 : DType::bf16;
    EXPECT_EQ(model.residual_dtype(), stream);
    for (int64_t i = 0; i < model.encoder_layers(); ++i) {
      EXPECT_EQ(model.encoder_hidden_state(i).dtype(), stream) << "hidden state " << i;
      EXPECT_EQ(model.encoder_hidden_state(i).device(), Device::cuda) << "hidden state " << i;
    }
    EXPECT_EQ(model.encoder_output().dtype(), DType::bf16);
    Tensor difference = host_f32(gpu->flat_grads());
    ops::add_inplace(difference, reference, -1.0f);
    return Error{relative(actual.loss, expected.loss),
                 relative(actual.grad_norm, expected.grad_norm),
                 norm(difference) / norm(reference)};
  };
  const Error bf16 = error_of(false), f32 = error_of(true);
  std::cout << "relative error against the CPU, bf16 / f32 residual stream: loss " << bf16.loss
            << " / " << f32.loss << ", gradient norm " << bf16.grad_norm << " / " << f32.grad_norm
            << ", gradients (L2) " << bf16.gradients << " / " << f32.gradients << '\n';
  EXPECT_LT(f32.loss, 2e-2);
  EXPECT_LT(f32.grad_norm, 5e-2);
  // A tenth of each tolerance, or a quarter of the bf16 stream's gradient error, covers rounding
  // that happens to fall the bf16 stream's way; a tensor read or written in the wrong dtype
  // costs far more.
  EXPECT_LE(f32.loss, bf16.loss + 2e-3);
  EXPECT_LE(f32.grad_norm, bf16.grad_norm + 5e-3);
  EXPECT_LE(f32.gradients, 1.25 * bf16.gradients);
}

TEST_F(CudaModel, TenStepsOnAFixedBatchLowerTheLossAsOnTheCpu) {
  auto gpu = on_gpu(cpu);
  TrainingStep cpu_step(cpu, step_options()), gpu_step(*gpu, step_options());
  // A small rate keeps the trajectory smooth (test-tiny falls from about 27 to 4 in ten steps
  // on the CPU), so the two devices end close enough to compare.
  const float rate = 1e-3f;
  std::vector<double> cpu_losses, gpu_losses;
  for (int64_t step = 1; step <= 10; ++step) {
    cpu_losses.push_back(cpu_step.compute_gradients(batch, step, false).loss);
    cpu_step.update(rate);
    gpu_losses.push_back(gpu_step.compute_gradients(batch, step, false).loss);
    gpu_step.update(rate);
  }
  for (size_t i = 0; i < gpu_losses.size(); ++i)
    std::cout << "step " << i + 1 << ": cpu " << cpu_losses[i] << ", gpu " << gpu_losses[i] << '\n';
  EXPECT_LT(gpu_losses.back(), 0.9 * gpu_losses.front());
  // Ten steps compound the bf16 differences of each; the trajectories stay together.
  EXPECT_LT(relative(gpu_losses.back(), cpu_losses.back()), 5e-2);
}

// Decoding on a model trained on the CPU to copy a fixed toy batch: its choices have wide
// margins, so bf16's 0.4% on the logits leaves the argmax alone. A near-tie may still flip a
// token and the continuation diverge from there (a legitimate difference of precision), so
// every example's first token must agree and most examples entirely.
TEST_F(CudaModel, GreedyDecodingMatchesTheCpu) {
  const auto inputs = random_sequences(config, 8, 6);
  const Batch copy_task = make_batch(inputs, inputs, config.pad_token_id);
  TrainingStep cpu_step(cpu, step_options());
  for (int64_t step = 1; step <= 40; ++step) {
    cpu_step.compute_gradients(copy_task, step, false);
    cpu_step.update(kLearningRate);
  }
  auto gpu = on_gpu(cpu);
  const auto expected = greedy_decode(cpu_step.model(), inputs, {16, true});
  // With either residual stream: the f32 one enters the first block from the bf16 embeddings.
  for (bool fp32_residual : {false, true}) {
    SCOPED_TRACE(fp32_residual ? "f32 residual stream" : "bf16 residual stream");
    Mt5Model gpu_model(*gpu, single_rank_group(), {.fp32_residual = fp32_residual});
    const auto actual = greedy_decode(gpu_model, inputs, {16, true});
    ASSERT_EQ(actual.size(), expected.size());
    size_t equal = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_FALSE(expected[i].empty()) << "example " << i;
      ASSERT_FALSE(actual[i].empty()) << "example " << i;
      EXPECT_EQ(actual[i][0], expected[i][0]) << "example " << i;
      if (actual[i] == expected[i]) ++equal;
    }
    EXPECT_GE(equal, expected.size() * 3 / 4)
        << equal << " of " << expected.size() << " sequences equal the CPU's";
  }
}

// Three steps with dropout, twice from the same start: the same bits.
TEST_F(CudaModel, TrainingIsBitIdenticalRunToRun) {
  auto run = [&] {
    auto gpu = on_gpu(cpu);
    TrainingStep step(*gpu, step_options());
    std::vector<double> losses;
    for (int64_t s = 1; s <= 3; ++s) {
      losses.push_back(step.compute_gradients(batch, s, true).loss);
      step.update(kLearningRate);
    }
    return std::make_pair(losses, gpu->flat_values().to(Device::cpu));
  };
  const auto first = run(), second = run();
  EXPECT_EQ(first.first, second.first);
  EXPECT_TRUE(test::bitwise_equal(first.second, second.second));
}

// Recomputing each block's activations in backward gives the stored ones' gradients bit for
// bit (dropout masks are regenerated from their keys), with either residual stream.
TEST_F(CudaModel, RecomputationIsBitIdentical) {
  for (bool fp32_residual : {false, true}) {
    SCOPED_TRACE(fp32_residual ? "f32 residual stream" : "bf16 residual stream");
    auto run = [&](bool recompute) {
      auto gpu = on_gpu(cpu);
      TrainingStep step(*gpu, step_options(recompute, fp32_residual));
      const double loss = step.compute_gradients(batch, 1, false).loss;
      return std::make_pair(loss, gpu->flat_grads().to(Device::cpu));
    };
    const auto stored = run(false), recomputed = run(true);
    EXPECT_EQ(stored.first, recomputed.first);
    EXPECT_TRUE(test::bitwise_equal(stored.second, recomputed.second));
  }
}

// mt5-small, the real model: 8 + 8 blocks of 512 with 6 heads, the 250,112-row embedding and
// head, initialized as Hugging Face does, for one step of the trainer (dropout, z-loss, the
// gradient norm, Adafactor) on 2 sequences of 32 input and 8 target tokens. About 300M
// parameters: 1.2 GB of f32 values, as much of gradients, on each device.
//
// Tolerances. The head's weights have std 1 at initialization, so the logits have std
// sqrt(512) = 23 and rows reach about 100, where bf16 values are 0.5 apart: each bf16 logit is
// off by up to 0.25, and the bf16 activations of 16 blocks move the head's input by about a
// percent, which moves each logit by a few tenths more. The loss (logsumexp minus the target's
// logit, about 100 per token) moves by that much per token: 2e-2 relative is ten times that.
// The softmax of such rows is peaked, and where the two largest logits are within a few units
// the error of their gap changes the gradient of that row by a few percent; the error has no
// sign in common with the gradient, so the global norm moves by far less (5e-2). Per
// parameter, the head's gradient and everything below it inherits those few percent: the median
// within 0.1, the largest (a parameter whose gradient nearly cancels) within 0.5, where a wrong
// kernel (a sign, a term or a row missing) gives 1 or more. The Adafactor update of step 1 is
// the gradient normalized by its factored RMS (per row and column) and clipped to RMS 1, so a
// row's scale error cancels: the whole update within 5e-2 of the CPU's in norm, and its
// relative error within 0.5 (a missing, doubled or reversed update gives 1 or more).
TEST(CudaMt5Small, OneTrainingStepMatchesTheCpu) {
  STILTS_NEED_CUDA();
  const ModelConfig config = model_preset("mt5-small");
  Parameters cpu(config, Device::cpu);
  cpu.initialize(kSeed);
  auto gpu = on_gpu(cpu);
  const Batch batch = random_batch(config, 2, 32, 8, 3);
  TrainingStep cpu_step(cpu, step_options()), gpu_step(*gpu, step_options());
  const StepGradients expected = cpu_step.compute_gradients(batch, 1, true);
  const StepGradients actual = gpu_step.compute_gradients(batch, 1, true);
  expect_step_close(cpu, *gpu, expected, actual, 0.1, 0.5, 8);

  // Adafactor's step on each device (the GPU's values start as the CPU's).
  std::vector<Tensor> before;
  for (size_t i = 0; i < cpu.size(); ++i) before.push_back(cpu.value(i).clone());
  const float rate = 1e-3f;
  cpu_step.update(rate);
  gpu_step.update(rate);
  std::vector<Tensor> expected_update, actual_update;
  double expected_squares = 0.0, actual_squares = 0.0, error_squares = 0.0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    Tensor e = cpu.value(i).clone(), a = host_f32(gpu->value(i));
    ops::add_inplace(e, before[i], -1.0f);
    ops::add_inplace(a, before[i], -1.0f);
    expected_squares += ops::sum_squares(e);
    actual_squares += ops::sum_squares(a);
    Tensor difference = a.clone();
    ops::add_inplace(difference, e, -1.0f);
    error_squares += ops::sum_squares(difference);
    expected_update.push_back(std::move(e));
    actual_update.push_back(std::move(a));
  }
  print_errors("update", relative_errors(cpu, expected_update, actual_update), 5);
  const double update_norm = std::sqrt(expected_squares);
  std::cout << "update norm: cpu " << update_norm << ", gpu " << std::sqrt(actual_squares)
            << "; relative error of the whole update " << std::sqrt(error_squares) / update_norm
            << '\n';
  EXPECT_LT(relative(std::sqrt(actual_squares), update_norm), 5e-2);
  EXPECT_LT(std::sqrt(error_squares) / update_norm, 0.5);
}

}  // namespace
}  // namespace stilts
