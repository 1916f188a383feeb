// The NCCL world of an MPI job: rank 0's unique id goes to every rank over MPI, and each joins
// with its MPI rank.
#pragma once

#include <memory>

#include "parallel/mpi_communicator.h"
#include "parallel/nccl_communicator.h"

namespace stilts {

// Collective over `bootstrap`'s group, on the current CUDA device (parallel/gpu_binding.h).
std::unique_ptr<NcclCommunicator> nccl_over_mpi(const MpiCommunicator& bootstrap);

}  // namespace stilts
