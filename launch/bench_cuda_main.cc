// stilts-bench-cuda: the GPU training-step benchmark of `stilts bench --device cuda` for the
// minimal build (CUDA toolkit and a C++ compiler only: no Boost, no MPI), one process on GPU 0.
//
//   stilts-bench-cuda MODEL [BATCH INPUT_LEN TARGET_LEN STEPS]
//
// prints the same lines as stilts bench (model_bench.h), after 3 warm-up steps.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "kernels/device.h"
#include "launch/model_bench.h"

namespace {

constexpr const char* kUsage =
    "usage: stilts-bench-cuda MODEL [BATCH INPUT_LEN TARGET_LEN STEPS]\n"
    "  MODEL: a preset (mt5-small, mt5-base, mt5-large, ...); defaults 8 64 16 10\n";

int64_t positive(const char* text, const char* what) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || text[used] != '\0' || value <= 0)
    throw std::invalid_argument(std::string(what) + ": '" + text + "' is not a positive integer");
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 6) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  stilts::launch::ModelBenchOptions options;
  try {
    options.config = stilts::model_preset(argv[1]);
    if (argc == 6) {
      options.batch = positive(argv[2], "BATCH");
      options.input_len = positive(argv[3], "INPUT_LEN");
      options.target_len = positive(argv[4], "TARGET_LEN");
      options.steps = positive(argv[5], "STEPS");
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
        "model %s, batch %lld, input %lld, target %lld, on %s\n", options.config.name.c_str(),
        static_cast<long long>(options.batch), static_cast<long long>(options.input_len),
        static_cast<long long>(options.target_len), stilts::device::cuda_device_name().c_str());
    stilts::launch::print_model_bench(options, result, 1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stilts-bench-cuda: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
