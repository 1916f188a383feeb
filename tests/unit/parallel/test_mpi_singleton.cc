// MpiCommunicator at world size 1, without mpirun: the OpenMPI singleton a plain process gets.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "parallel/grid.h"
#include "parallel/mpi_communicator.h"
#include "tests/unit/error_of.h"

namespace stilts {
namespace {

using testing::error_of;

// MPI can be initialized once per process, so the session lives until exit; the world is
// constructed after it and so destroyed before MPI_Finalize.
Communicator& world() {
  static MpiSession session = [] {
    // Containers run the tests as root, which OpenMPI refuses unless told.
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    return MpiSession();
  }();
  static std::unique_ptr<MpiCommunicator> communicator = MpiCommunicator::world();
  return *communicator;
}

TEST(MpiSingleton, IsAWorldOfOne) {
  EXPECT_EQ(world().rank(), 0);
  EXPECT_EQ(world().size(), 1);
  EXPECT_EQ(world().name(), "mpi world rank 0/1");
}

TEST(MpiSingleton, CollectivesAreIdentities) {
  Tensor values({2, 3});
  for (int i = 0; i < 6; ++i) values.data<float>()[i] = 0.5f * static_cast<float>(i);
  world().all_reduce(values, ReduceOp::sum);
  world().all_reduce(values, ReduceOp::max);
  world().broadcast(values, 0);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values.data<float>()[i], 0.5f * static_cast<float>(i));

  Tensor gathered({2, 3});
  world().all_gather(values, gathered);
  Tensor local({2, 3});
  world().reduce_scatter(gathered, local);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(local.data<float>()[i], 0.5f * static_cast<float>(i));

  Tensor ids({4}, DType::i64);
  ids.data<int64_t>()[3] = int64_t{1} << 40;
  world().all_reduce(ids);
  EXPECT_EQ(ids.data<int64_t>()[3], int64_t{1} << 40);
  world().barrier();
}

TEST(MpiSingleton, RefusesMismatchedTensors) {
  Tensor local({2, 3});
  Tensor wrong({3, 3});
  EXPECT_THROW(world().all_gather(local, wrong), std::invalid_argument);
  EXPECT_EQ(error_of([&] { world().all_gather(local, wrong); }),
            "mpi world rank 0/1 all_gather: gathered must be f32[2,3] (local f32[2,3] cpu with its "
            "leading dimension times 1 ranks), got gathered f32[3,3] cpu");
  Tensor ints({2, 3}, DType::i32);
  EXPECT_NE(error_of([&] { world().reduce_scatter(ints, local); }).find("reduce_scatter"),
            std::string::npos);
  Tensor half({2}, DType::bf16);
  EXPECT_NE(error_of([&] { world().all_reduce(half); }).find("needs a cpu tensor of f32, i32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { world().broadcast(local, 1); }).find("root 1"), std::string::npos);
  EXPECT_NE(error_of([&] { world().split(-1, 0); }).find("color -1"), std::string::npos);
}

TEST(MpiSingleton, SplitsIntoGridGroups) {
  ProcessGrid::Groups groups = ProcessGrid(1, 0, 1).make_communicators(world());
  EXPECT_EQ(groups.tp->size(), 1);
  EXPECT_EQ(groups.dp->size(), 1);
  EXPECT_EQ(groups.tp->name(), "mpi world.split(0) rank 0/1");
  Tensor one({1});
  one.data<float>()[0] = 1.0f;
  groups.dp->all_reduce(one);
  EXPECT_EQ(one.data<float>()[0], 1.0f);
}

}  // namespace
}  // namespace stilts
