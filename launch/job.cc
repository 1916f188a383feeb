#include "launch/job.h"

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/device.h"
#include "launch/options.h"
#include "parallel/failure.h"
#include "parallel/gpu_binding.h"
#include "parallel/mpi_communicator.h"
#include "parallel/self_communicator.h"

#if STILTS_HAS_CUDA
#include <cuda_runtime.h>

#include "parallel/device_routing_communicator.h"
#include "parallel/nccl_over_mpi.h"
#endif

namespace stilts::launch {

int run_as_job_rank(const std::function<int(Communicator& world)>& command) {
  MpiSession mpi;
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::world();
  install_failure_handlers(world->rank(), world->size());
  try {
    return command(*world);
  } catch (const UsageError&) {
    if (world->size() == 1 || world->rank() == 0) throw;
    return 2;
  } catch (const std::exception& e) {
    if (world->size() == 1) throw;
    abort_job(world->rank(), world->size(), e.what());
  }
}

#if STILTS_HAS_CUDA
namespace {

// Before anything touches the GPU: the first CUDA call on a thread creates a context on the
// current device, which must already be this rank's.
void bind_local_gpu() {
  int gpus = 0;
  // No device at all: cuda_available() says why.
  if (cudaGetDeviceCount(&gpus) != cudaSuccess || gpus == 0) return;
  // Not a UsageError: only some ranks may raise it, and abort_job ends the others.
  const int gpu = gpu_of_rank(gpu_placement_from_environment(gpus));
  const cudaError_t status = cudaSetDevice(gpu);
  if (status != cudaSuccess)
    throw std::runtime_error("cudaSetDevice(" + std::to_string(gpu) +
                             ") failed: " + cudaGetErrorString(status));
}

}  // namespace
#endif

Device select_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name != "cuda") throw UsageError("--device: expected cpu or cuda, got '" + name + "'");
#if STILTS_HAS_CUDA
  bind_local_gpu();
#endif
  if (!device::cuda_available())
    throw UsageError("--device cuda: " + device::cuda_unavailable_reason());
  return Device::cuda;
}

std::unique_ptr<Communicator> job_world(Communicator& world, Device device) {
  if (device == Device::cpu) return world.split(0, world.rank());
  if (world.size() == 1) return std::make_unique<SelfCommunicator>();
#if STILTS_HAS_CUDA
  const auto& mpi = dynamic_cast<const MpiCommunicator&>(world);
  std::unique_ptr<Communicator> host = world.split(0, world.rank());
  return std::make_unique<DeviceRoutingCommunicator>(std::move(host), nccl_over_mpi(mpi));
#else
  throw std::logic_error("job_world: a device other than the CPU in a build without CUDA");
#endif
}

ProcessGrid job_grid(const Communicator& world, int tp, const ModelConfig& config) {
  const ProcessGrid grid = [&] {
    try {
      return ProcessGrid(world.size(), world.rank(), tp);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }();
  try {
    grid.validate_model(config.num_heads, config.d_ff, config.vocab_size);
  } catch (const std::invalid_argument& e) {
    throw UsageError(config.name + ": " + e.what());
  }
  return grid;
}

}  // namespace stilts::launch
