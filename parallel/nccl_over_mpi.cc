#include "parallel/nccl_over_mpi.h"

#include <stdexcept>

namespace stilts {

std::unique_ptr<NcclCommunicator> nccl_over_mpi(const MpiCommunicator& bootstrap) {
  ncclUniqueId id{};
  if (bootstrap.rank() == 0) id = NcclCommunicator::unique_id();
  if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, bootstrap.comm()) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Bcast of the NCCL unique id failed on " + bootstrap.name());
  return std::make_unique<NcclCommunicator>(id, bootstrap.rank(), bootstrap.size());
}

}  // namespace stilts
