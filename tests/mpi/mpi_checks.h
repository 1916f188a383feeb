// What the parallel/ MPI test programs share: a failed check throws, and run_checks turns the
// first failure on any rank into a message naming the rank and an abort of the whole job
// (the other ranks would otherwise wait in their next collective).
#pragma once

#include <mpi.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "parallel/mpi_communicator.h"

namespace stilts {

inline void expect(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

// Runs checks(world) on every rank; prints "<name>: all checks passed on N ranks" on rank 0.
template <class Checks>
int run_checks(int argc, char** argv, const char* name, Checks&& checks) {
  MpiSession session(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  try {
    auto world = MpiCommunicator::world();
    checks(*world);
    world->barrier();
    if (rank == 0) std::printf("%s: all checks passed on %d ranks\n", name, world->size());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, error.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}

}  // namespace stilts
