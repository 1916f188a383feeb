#include "parallel/gpu_binding.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace stilts {

namespace {

int environment_number(const char* openmpi, const char* mpich, int otherwise) {
  for (const char* name : {openmpi, mpich})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return otherwise;
}

}  // namespace

int gpu_of_rank(const GpuPlacement& p) {
  if (p.visible_gpus < 1)
    throw std::invalid_argument("gpu_of_rank: no visible GPU (check cuda_available first)");
  if (p.local_rank < 0 || p.local_rank >= p.local_size)
    throw std::invalid_argument("gpu_of_rank: node-local rank " + std::to_string(p.local_rank) +
                                " is not among the node's " + std::to_string(p.local_size));
  if (p.visible_gpus >= p.local_size) return p.local_rank;
  if (p.launcher_assigned && p.visible_gpus == 1) return 0;
  throw std::runtime_error(
      "--device cuda: node-local rank " + std::to_string(p.local_rank) + " of " +
      std::to_string(p.local_size) + " has no GPU of its own: it sees " +
      std::to_string(p.visible_gpus) + " GPU(s)" +
      (p.launcher_assigned ? " through CUDA_VISIBLE_DEVICES" : "") +
      "; start at most one rank per GPU of the node, or give each rank one GPU of its own "
      "through CUDA_VISIBLE_DEVICES");
}

GpuPlacement gpu_placement_from_environment(int visible_gpus) {
  GpuPlacement p;
  p.local_rank = environment_number("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", 0);
  p.local_size = environment_number("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", 1);
  p.visible_gpus = visible_gpus;
  p.launcher_assigned = std::getenv("CUDA_VISIBLE_DEVICES") != nullptr;
  return p;
}

}  // namespace stilts
