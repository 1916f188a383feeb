#include "launch/model_bench.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "core/flops.h"
#include "core/optim/schedule.h"
#include "kernels/device.h"

namespace stilts::launch {

ModelBenchResult run_model_bench(const ModelBenchOptions& o, const TrainingGroups& groups,
                                 const std::function<void()>& after_warmup) {
  if (o.batch <= 0 || o.input_len <= 0 || o.target_len <= 0 || o.steps <= 0 || o.warmup < 0)
    throw std::invalid_argument(
        "batch, input length, target length and steps must be positive, warm-up steps >= 0");
  Parameters params(o.config, o.device, {groups.tp.size(), groups.tp.rank()},
                    groups.zero ? groups.dp.size() : 1);
  params.initialize(o.seed);
  TrainingStepOptions step_options;
  step_options.optimizer.name = o.optimizer;
  step_options.seed = o.seed;
  step_options.recompute_activations = o.recompute_activations;
  step_options.fp32_residual = o.fp32_residual;
  TrainingStep step(params, step_options, groups);

  // Random ids without padding, like the PyTorch scripts: every position is a real token.
  // Each DP rank draws its own examples.
  std::mt19937 gen(static_cast<uint32_t>(o.seed) + static_cast<uint32_t>(groups.dp.rank()));
  auto token = [&] { return static_cast<int32_t>(2 + gen() % (o.config.vocab_size - 2)); };
  Batch b;
  b.batch_size = o.batch;
  b.input_len = o.input_len;
  b.target_len = o.target_len;
  for (int64_t i = 0; i < o.batch * o.input_len; ++i) b.input_ids.push_back(token());
  for (int64_t i = 0; i < o.batch * o.target_len; ++i) b.labels.push_back(token());

  const float lr = ScheduleOptions{}.lr;
  int64_t step_number = 0;
  const auto train = [&] {
    step.compute_gradients(b, ++step_number, false);
    step.update(lr);
  };
  // Kernels still queued belong to the steps before the clock reads.
  const auto drain = [&] {
    if (o.device == Device::cuda) device::synchronize();
  };
  for (int64_t i = 0; i < o.warmup; ++i) train();
  drain();
  if (after_warmup) after_warmup();
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (int64_t i = 0; i < o.steps; ++i) train();
  drain();
  ModelBenchResult r;
  r.seconds = std::chrono::duration<double>(clock::now() - start).count();
  r.step_seconds = r.seconds / static_cast<double>(o.steps);
  const int64_t global_batch = o.batch * groups.dp.size();
  r.tokens_per_s =
      static_cast<double>(global_batch * (o.input_len + o.target_len)) / r.step_seconds;
  r.model_flops_per_step =
      training_flops_per_step(o.config, global_batch, o.input_len, o.target_len);
  if (o.device == Device::cuda) {
    r.memory = device::memory_stats();
    r.peak_device_bytes = r.memory.peak_in_use;
    r.cublaslt_plans = device::cublaslt_plans();
  }
  return r;
}

void print_model_bench(const ModelBenchOptions& o, const ModelBenchResult& r, int gpus) {
  std::printf("step ms: %.2f\n", 1000.0 * r.step_seconds);
  std::printf("tokens/s: %.1f\n", r.tokens_per_s);
  if (o.device != Device::cuda) return;
  std::printf("peak GPU memory: %.1f MiB\n", static_cast<double>(r.peak_device_bytes) / 1048576.0);
  const device::MemoryStats& m = r.memory;
  std::printf(
      "memory cache: %.1f MiB cached, %zu cudaMalloc, %zu cudaFree, %zu flushes, largest free "
      "block %.0f%% of the cache\n",
      static_cast<double>(m.cached) / 1048576.0, m.segment_allocations, m.segment_frees, m.flushes,
      m.cached > 0
          ? 100.0 * static_cast<double>(m.largest_free_block) / static_cast<double>(m.cached)
          : 100.0);
  std::printf("cuBLASLt plans: %zu\n", r.cublaslt_plans);
  const double per_gpu = r.model_flops_per_step / r.step_seconds / gpus;
  std::printf("model TFLOP per step: %.3f\n", r.model_flops_per_step / 1e12);
  std::printf("TFLOP/s per GPU: %.1f\n", per_gpu / 1e12);
  const double peak = device::cuda_peak_bf16_flops();
  if (peak > 0)
    std::printf("MFU: %.1f%% of %s (bf16 dense peak %.0f TFLOP/s)\n", 100.0 * per_gpu / peak,
                device::cuda_device_name().c_str(), peak / 1e12);
  else
    std::printf("MFU: unknown, no bf16 peak figure for %s\n", device::cuda_device_name().c_str());
}

}  // namespace stilts::launch
