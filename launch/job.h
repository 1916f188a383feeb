// What the commands that run as the ranks of an mpirun job (train, eval, bench) share: the MPI
// session with the failure rules of parallel/failure.h, and the process grid of --tp.
#pragma once

#include <functional>

#include "core/config.h"
#include "parallel/communicator.h"
#include "parallel/grid.h"

namespace stilts::launch {

// Starts MPI (a world of one without mpirun), installs the failure handlers and returns
// command(world). A UsageError, which every rank raises alike from the same options, is
// rethrown on rank 0 (main prints it) while the other ranks exit 2 quietly; any other error
// ends the whole job with abort_job, or, in a world of one, reaches main as usual.
int run_as_job_rank(const std::function<int(Communicator& world)>& command);

// The TP x DP grid of --tp over world for a model of config; a world size or a model that --tp
// does not divide is a UsageError saying which values would work.
ProcessGrid job_grid(const Communicator& world, int tp, const ModelConfig& config);

}  // namespace stilts::launch
