// The NCCL communicator on the GPUs of this machine: a group of one in the test's process, and a
// group of every visible GPU (two at most) with one process per rank (tests/cuda/nccl_worker.cc),
// each running every collective of the interface, and a data-parallel reduction in flight beside
// a tensor-parallel one on split groups (tests/cuda/nccl_checks.h). The stream policy's rule runs
// everywhere; the GPU tests skip with the reason where no GPU is usable.
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "parallel/nccl_communicator.h"
#include "tests/cuda/gpu_required.h"
#include "tests/cuda/nccl_checks.h"

extern char** environ;

namespace stilts {
namespace {

TEST(NcclStreams, SeparateStreamsNeedNccl226AndImplicitLaunchOrder) {
  EXPECT_TRUE(NcclCommunicator::separate_streams_allowed(22809, nullptr));
  EXPECT_TRUE(NcclCommunicator::separate_streams_allowed(22600, "1"));
  EXPECT_FALSE(NcclCommunicator::separate_streams_allowed(22809, "0"));
  EXPECT_FALSE(NcclCommunicator::separate_streams_allowed(22507, nullptr));
  EXPECT_FALSE(NcclCommunicator::separate_streams_allowed(21903, "1"));
}

TEST(NcclUniqueId, HexadecimalTextRoundTrips) {
  ncclUniqueId id{};
  for (size_t i = 0; i < sizeof id.internal; ++i) id.internal[i] = static_cast<char>(i * 37 + 5);
  const std::string hex = test::unique_id_hex(id);
  EXPECT_EQ(hex.size(), 2 * sizeof id.internal);
  const ncclUniqueId back = test::unique_id_from_hex(hex);
  EXPECT_TRUE(std::equal(std::begin(id.internal), std::end(id.internal), back.internal));
  EXPECT_THROW(test::unique_id_from_hex("00ff"), std::invalid_argument);
}

TEST(NcclOneRank, EveryCollectiveAndSplitInThisProcess) {
  STILTS_NEED_CUDA();
  NcclCommunicator world(NcclCommunicator::unique_id(), 0, 1);
  int version = 0;
  ASSERT_EQ(ncclGetVersion(&version), ncclSuccess);
  EXPECT_EQ(world.separate_streams(), NcclCommunicator::separate_streams_allowed(
                                          version, std::getenv("NCCL_LAUNCH_ORDER_IMPLICIT")));
  std::cout << "NCCL " << version << ", split communicators on "
            << (world.separate_streams() ? "streams of their own" : "one shared stream") << "\n";
  EXPECT_EQ(test::check_nccl_collectives(world), "");
}

// Two ranks where two GPUs are visible, else one: the same processes, bootstrap and checks
// either way, so nothing here is skipped on a one-GPU machine.
TEST(NcclRanks, EveryVisibleGpuJoinsOneGroupOfProcesses) {
  STILTS_NEED_CUDA();
  int gpus = 0;
  ASSERT_EQ(cudaGetDeviceCount(&gpus), cudaSuccess);
  const int ranks = std::min(gpus, 2);
  std::cout << ranks << " rank(s), one process and one GPU each\n";
  const std::string id = test::unique_id_hex(NcclCommunicator::unique_id());
  // A hung peer fails the workers after a minute instead of hanging the test.
  setenv("STILTS_NCCL_TIMEOUT", "60", /*overwrite=*/0);
  std::vector<pid_t> workers;
  for (int rank = 0; rank < ranks; ++rank) {
    std::vector<std::string> args = {STILTS_NCCL_WORKER, std::to_string(rank),
                                     std::to_string(ranks), id};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, STILTS_NCCL_WORKER, nullptr, nullptr, argv.data(), environ), 0)
        << "could not start " << STILTS_NCCL_WORKER;
    workers.push_back(pid);
  }
  for (int rank = 0; rank < ranks; ++rank) {
    int status = 0;
    ASSERT_EQ(waitpid(workers[rank], &status, 0), workers[rank]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "rank " << rank << " ended with status " << status << " (its stderr is above)";
  }
}

}  // namespace
}  // namespace stilts
