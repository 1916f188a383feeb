// One rank of NcclRanks.EveryVisibleGpuJoinsOneGroup (tests/cuda/test_nccl_cuda.cc), in a
// process of its own, since NCCL takes one GPU per rank:
//   cuda_nccl_worker RANK SIZE UNIQUE_ID_HEX
// uses GPU RANK, joins the group and runs check_nccl_collectives; exit 0 when every check held,
// 1 with the failure on stderr otherwise.
#include <cuda_runtime.h>

#include <exception>
#include <iostream>
#include <string>

#include "tests/cuda/nccl_checks.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cuda_nccl_worker RANK SIZE UNIQUE_ID_HEX\n";
    return 2;
  }
  try {
    const int rank = std::stoi(argv[1]), size = std::stoi(argv[2]);
    if (cudaSetDevice(rank) != cudaSuccess) {
      std::cerr << "rank " << rank << ": cudaSetDevice(" << rank << ") failed\n";
      return 1;
    }
    stilts::NcclCommunicator world(stilts::test::unique_id_from_hex(argv[3]), rank, size);
    const std::string failure = stilts::test::check_nccl_collectives(world);
    if (!failure.empty()) {
      std::cerr << "rank " << rank << ": " << failure << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cuda_nccl_worker: " << e.what() << "\n";
    return 1;
  }
}
