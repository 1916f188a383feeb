// Which GPU a rank binds to (parallel/gpu_binding.h): the node's GPUs by node-local rank, or the
// one GPU a launcher gave the rank through CUDA_VISIBLE_DEVICES; never two ranks on one GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "parallel/gpu_binding.h"
#include "tests/unit/error_of.h"

namespace stilts {
namespace {

using stilts::testing::error_of;
using ::testing::HasSubstr;

GpuPlacement placement(int local_rank, int local_size, int visible_gpus, bool assigned) {
  return {local_rank, local_size, visible_gpus, assigned};
}

TEST(GpuBinding, RanksShareTheNodesGpusByLocalRank) {
  EXPECT_EQ(gpu_of_rank(placement(0, 1, 1, false)), 0);  // one process, one GPU
  EXPECT_EQ(gpu_of_rank(placement(3, 4, 8, false)), 3);  // mpirun on an 8-GPU node
  EXPECT_EQ(gpu_of_rank(placement(3, 4, 4, true)), 3);   // the four listed in CUDA_VISIBLE_DEVICES
}

TEST(GpuBinding, ALauncherThatGivesEachRankItsOwnGpuIsDeviceZero) {
  // Slurm --gpus-per-task=1, Kubernetes' device plugin: every rank sees one GPU, its own.
  for (int rank = 0; rank < 8; ++rank) EXPECT_EQ(gpu_of_rank(placement(rank, 8, 1, true)), 0);
}

TEST(GpuBinding, TwoRanksOnOneGpuAreRefusedWithWhatToDo) {
  EXPECT_THAT(error_of([] { gpu_of_rank(placement(1, 2, 1, false)); }),
              HasSubstr("node-local rank 1 of 2 has no GPU of its own: it sees 1 GPU(s); start at "
                        "most one rank per GPU of the node, or give each rank one GPU of its own "
                        "through CUDA_VISIBLE_DEVICES"));
  // The launcher listed two GPUs for four ranks: which rank's are they?
  EXPECT_THAT(error_of([] { gpu_of_rank(placement(2, 4, 2, true)); }),
              HasSubstr("it sees 2 GPU(s) through CUDA_VISIBLE_DEVICES"));
  EXPECT_THAT(error_of([] { gpu_of_rank(placement(0, 1, 0, false)); }),
              HasSubstr("no visible GPU"));
  EXPECT_THAT(error_of([] { gpu_of_rank(placement(4, 4, 8, false)); }),
              HasSubstr("rank 4 is not among the node's 4"));
}

TEST(GpuBinding, ThePlacementComesFromOpenMpiOrMpichAndCudaVisibleDevices) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
                           "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "CUDA_VISIBLE_DEVICES"})
    unsetenv(name);
  GpuPlacement p = gpu_placement_from_environment(2);
  EXPECT_EQ(p.local_rank, 0);
  EXPECT_EQ(p.local_size, 1);
  EXPECT_EQ(p.visible_gpus, 2);
  EXPECT_FALSE(p.launcher_assigned);
  setenv("MPI_LOCALRANKID", "1", 1);
  setenv("MPI_LOCALNRANKS", "2", 1);
  setenv("CUDA_VISIBLE_DEVICES", "5", 1);
  p = gpu_placement_from_environment(1);
  EXPECT_EQ(p.local_rank, 1);
  EXPECT_EQ(p.local_size, 2);
  EXPECT_TRUE(p.launcher_assigned);
  EXPECT_EQ(gpu_of_rank(p), 0);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "3", 1);  // OpenMPI's names come first
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4", 1);
  p = gpu_placement_from_environment(4);
  EXPECT_EQ(p.local_rank, 3);
  EXPECT_EQ(p.local_size, 4);
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
                           "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "CUDA_VISIBLE_DEVICES"})
    unsetenv(name);
}

}  // namespace
}  // namespace stilts
