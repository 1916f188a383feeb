// stilts-bench-cuda: the GPU training-step benchmark of `stilts bench --device cuda` for the
// minimal build (CUDA toolkit and a C++ compiler only: no Boost, no MPI), one process on GPU 0.
//
//   stilts-bench-cuda MODEL [BATCH INPUT_LEN TARGET_LEN STEPS] [--fp32-residual] [--recompute]
//
// prints the same lines as stilts bench (model_bench.h), after 3 warm-up steps.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "launch/model_bench.h"

namespace {

constexpr const char* kUsage =
    "usage: stilts-bench-cuda MODEL [BATCH INPUT_LEN TARGET_LEN STEPS] [--fp32-residual] "
    "[--recompute]\n"
    "  MODEL: a preset (mt5-small, mt5-base, mt5-large, ...); defaults 8 64 16 10\n"
    "  --fp32-residual: the residual stream in f32; --recompute: activations recomputed\n";

int64_t positive(const std::string& text, const char* what) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value <= 0)
    throw std::invalid_argument(std::string(what) + ": '" + text + "' is not a positive integer");
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  stilts::launch::ModelBenchOptions options;
  std::vector<std::string> sizes;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fp32-residual")
      options.fp32_residual = true;
    else if (arg == "--recompute")
      options.recompute_activations = true;
    else
      sizes.push_back(arg);
  }
  if (argc < 2 || (!sizes.empty() && sizes.size() != 4)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    options.config = stilts::model_preset(argv[1]);
    if (!sizes.empty()) {
      options.batch = positive(sizes[0], "BATCH");
      options.input_len = positive(sizes[1], "INPUT_LEN");
      options.target_len = positive(sizes[2], "TARGET_LEN");
      options.steps = positive(sizes[3], "STEPS");
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "stilts-bench-cuda: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (!stilts::device::cuda_available()) {
    std::fprintf(stderr, "stilts-bench-cuda: %s\n",
                 stilts::device::cuda_unavailable_reason().c_str());
    return 2;
  }
  options.device = stilts::Device::cuda;
  try {
    const stilts::launch::ModelBenchResult result =
        stilts::launch::run_model_bench(options, stilts::TrainingGroups::single());
    std::printf(
        "model %s, batch %lld, input %lld, target %lld, on %s%s%s\n", options.config.name.c_str(),
        static_cast<long long>(options.batch), static_cast<long long>(options.input_len),
        static_cast<long long>(options.target_len), stilts::device::cuda_device_name().c_str(),
        options.recompute_activations ? ", recomputed activations" : "",
        options.fp32_residual ? ", f32 residual stream" : "");
    stilts::launch::print_model_bench(options, result, 1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stilts-bench-cuda: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
