// The failure-handling pattern of the stilts program, small: install_failure_handlers after
// MPI_Init, a loop of steps that each call maybe_inject_fault and then all-reduce through
// MpiCommunicator, and a try/catch that hands any exception to abort_job. Run it under mpirun
// with STILTS_INJECT_FAULT set (tests/mpi/failure/run_failure_test.sh): the other ranks sit in
// the all-reduce when one fails, and the job must still end with a message naming the rank.
//
// Each step also all-reduces an inexact f32 tensor over the TP group and then the DP group of a
// TP x DP grid and rank 0 prints the sum of the result in hex ("step 3 sum 0x1.8p+3"), so two
// runs (one host, two nodes: tests/mpi/two_node) can be compared bit for bit.
//
// Usage: mpi_failing_ranks [STEPS [TP]]   (STEPS default 20, 0 runs until a fault or a signal
// ends it; TP default 1)
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "parallel/failure.h"
#include "parallel/fault_injection.h"
#include "parallel/grid.h"
#include "parallel/mpi_communicator.h"

int main(int argc, char** argv) {
  using namespace stilts;
  MpiSession session(&argc, &argv);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  install_failure_handlers(rank, size);
  try {
    int64_t steps = argc > 1 ? std::stoll(argv[1]) : 20;
    int tp = argc > 2 ? std::stoi(argv[2]) : 1;
    auto world = MpiCommunicator::world();
    ProcessGrid grid(size, rank, tp);
    ProcessGrid::Groups groups = grid.make_communicators(*world);
    for (int64_t step = 1; steps == 0 || step <= steps; ++step) {
      maybe_inject_fault(rank, step);
      // Pace the steps, so a fault injected from outside (kill) lands mid-run.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      Tensor tensor({4});
      for (int64_t i = 0; i < 4; ++i) tensor.data<float>()[i] = static_cast<float>(rank + i);
      world->all_reduce(tensor);
      float expected = static_cast<float>(size * (size - 1) / 2);
      if (tensor.data<float>()[0] != expected)
        throw std::runtime_error("step " + std::to_string(step) + ": all_reduce gave " +
                                 std::to_string(tensor.data<float>()[0]));
      const int64_t n = 1000;
      Tensor values({n});
      for (int64_t i = 0; i < n; ++i)
        values.data<float>()[i] = 0.1f * static_cast<float>(rank + step) / (1.0f + i);
      groups.tp->all_reduce(values);
      groups.dp->all_reduce(values);
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += values.data<float>()[i];
      if (rank == 0) {
        std::printf("step %lld sum %a\n", static_cast<long long>(step), sum);
        std::fflush(stdout);
      }
    }
    world->barrier();
    if (rank == 0)
      std::printf("failing_ranks: %lld steps on %d ranks, no fault\n",
                  static_cast<long long>(steps), size);
  } catch (const std::exception& error) {
    abort_job(rank, size, error.what());
  }
  return 0;
}
