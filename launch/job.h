// What the commands that run as the ranks of an mpirun job (train, eval, bench) share: the MPI
// session with the failure rules of parallel/failure.h, the device of --device with the
// collectives it needs, and the process grid of --tp.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "parallel/communicator.h"
#include "parallel/grid.h"

namespace stilts::launch {

// Starts MPI (a world of one without mpirun), installs the failure handlers and returns
// command(world). A UsageError, which every rank raises alike from the same options, is
// rethrown on rank 0 (main prints it) while the other ranks exit 2 quietly; any other error
// ends the whole job with abort_job, or, in a world of one, reaches main as usual.
int run_as_job_rank(const std::function<int(Communicator& world)>& command);

// --device: cpu, or cuda where this build has the CUDA backend and the machine a GPU (else a
// UsageError saying why). With cuda this process is bound to its GPU before anything allocates
// device memory, one rank per GPU: the one of its node-local rank, or the one GPU a launcher
// gave it through CUDA_VISIBLE_DEVICES (parallel/gpu_binding.h).
Device select_device(const std::string& name);

// The job's world for collectives on `device` (collective over world): on the CPU a copy of
// world; on the GPU of several ranks a group that sends device tensors over NCCL and host
// tensors over world's MPI (parallel/device_routing_communicator.h); a lone GPU rank needs no
// transport. Split it for the TP and DP groups.
std::unique_ptr<Communicator> job_world(Communicator& world, Device device);

// The TP x DP grid of --tp over world for a model of config; a world size or a model that --tp
// does not divide is a UsageError saying which values would work.
ProcessGrid job_grid(const Communicator& world, int tp, const ModelConfig& config);

}  // namespace stilts::launch
