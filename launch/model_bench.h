// Timing of whole training steps (TrainingStep: forward, backward, gradient sync, optimizer) on
// random ids, shared by `stilts bench` and the minimal build's stilts-bench-cuda, so both
// measure and print alike. Needs neither Boost nor MPI.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/config.h"
#include "core/training_step.h"
#include "kernels/device.h"

namespace stilts::launch {

struct ModelBenchOptions {
  ModelConfig config;
  int64_t batch = 8;  // examples per DP rank and step
  int64_t input_len = 64;
  int64_t target_len = 16;
  int64_t steps = 10;  // timed
  int64_t warmup = 3;  // untimed, first
  std::string optimizer = "adafactor";
  uint64_t seed = 0;
  Device device = Device::cpu;
  bool recompute_activations = false;
  bool fp32_residual = false;  // ModelNumerics::fp32_residual
};

struct ModelBenchResult {
  double seconds = 0;               // the timed steps together
  double step_seconds = 0;          // per step
  double tokens_per_s = 0;          // padded input + target tokens of the global batch
  double model_flops_per_step = 0;  // of the global batch (core/flops.h)
  size_t peak_device_bytes = 0;     // device::memory_stats().peak_in_use; 0 on the CPU
  device::MemoryStats memory;       // the device memory cache after the timed steps (GPU)
  size_t cublaslt_plans = 0;        // device::cublaslt_plans() after the timed steps (GPU)
};

// Throws std::invalid_argument for a non-positive size (warmup may be 0). after_warmup runs
// between the untimed and the timed steps (the bench resets its collective counters there).
// The parameters are sharded over groups.tp (and, with groups.zero, partitioned over dp).
ModelBenchResult run_model_bench(const ModelBenchOptions& options, const TrainingGroups& groups,
                                 const std::function<void()>& after_warmup = {});

// The lines both bench programs print after their own: "step ms:", "tokens/s:" and, on the
// GPU, the peak device memory, the model FLOPs per step, the achieved TFLOP/s per GPU and
// the MFU against the GPU's bf16 peak. `gpus` is the job's world size.
void print_model_bench(const ModelBenchOptions& options, const ModelBenchResult& result, int gpus);

}  // namespace stilts::launch
