#include "launch/job.h"

#include <exception>
#include <memory>
#include <stdexcept>

#include "launch/options.h"
#include "parallel/failure.h"
#include "parallel/mpi_communicator.h"

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
