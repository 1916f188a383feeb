#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "parallel/counting_communicator.h"
#include "parallel/self_communicator.h"

namespace stilts {
namespace {

// Rank 0 of a pretend group of two whose collectives check their shapes and move nothing:
// what the decorator counts does not depend on the data.
class TwoRankStub : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string name() const override { return "stub rank 0/2"; }
  void all_reduce(Tensor&, ReduceOp) override {}
  void broadcast(Tensor&, int root) override { collective_checks::check_root(name(), root, 2); }
  void all_gather(const Tensor& local, Tensor& gathered) override {
    collective_checks::check_leading_split(name(), "all_gather", "local", local, "gathered",
                                           gathered, 2);
  }
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp) override {
    collective_checks::check_leading_split(name(), "reduce_scatter", "local", local, "full", full,
                                           2);
  }
  void barrier() override {}
  std::unique_ptr<Communicator> split(int, int) override { return std::make_unique<TwoRankStub>(); }
};

TEST(CountingCommunicator, CountsCallsAndBytesPerKind) {
  CountingCommunicator counting(std::make_unique<TwoRankStub>());
  Tensor values({4, 2});
  Tensor gathered({8, 2});
  counting.all_reduce(values);
  counting.all_reduce(values, ReduceOp::max);
  counting.broadcast(values, 1);
  counting.all_gather(values, gathered);
  counting.reduce_scatter(gathered, values);
  counting.barrier();
  EXPECT_EQ(counting.count(Collective::all_reduce).calls, 2);
  EXPECT_EQ(counting.count(Collective::all_reduce).bytes, 64);
  EXPECT_EQ(counting.count(Collective::broadcast).calls, 1);
  EXPECT_EQ(counting.count(Collective::broadcast).bytes, 32);
  // The logical payload: the gathered buffer and the full buffer.
  EXPECT_EQ(counting.count(Collective::all_gather).bytes, 64);
  EXPECT_EQ(counting.count(Collective::reduce_scatter).bytes, 64);
  EXPECT_EQ(counting.count(Collective::barrier).calls, 1);
  EXPECT_EQ(counting.total().calls, 6);
  EXPECT_EQ(counting.total().bytes, 224);
  EXPECT_GE(counting.total().seconds, 0.0);

  Tensor wrong({3, 2});
  EXPECT_THROW(counting.all_gather(values, wrong), std::invalid_argument);
  EXPECT_EQ(counting.count(Collective::all_gather).calls, 1);

  std::unique_ptr<Communicator> child = counting.split(0, 0);
  auto* counting_child = dynamic_cast<CountingCommunicator*>(child.get());
  ASSERT_NE(counting_child, nullptr);
  counting_child->all_reduce(values);
  EXPECT_EQ(counting_child->count(Collective::all_reduce).calls, 1);
  EXPECT_EQ(counting.count(Collective::all_reduce).calls, 2);

  counting.reset();
  EXPECT_EQ(counting.total().calls, 0);
  EXPECT_EQ(counting.total().bytes, 0);
  EXPECT_EQ(counting.total().seconds, 0.0);
  EXPECT_STREQ(collective_name(Collective::reduce_scatter), "reduce_scatter");
}

TEST(CountingCommunicator, AGroupOfOneMovesNothing) {
  CountingCommunicator counting(std::make_unique<SelfCommunicator>());
  Tensor values({4, 2});
  counting.all_reduce(values);
  counting.barrier();
  EXPECT_EQ(counting.total().calls, 0);
  EXPECT_EQ(counting.total().bytes, 0);
}

}  // namespace
}  // namespace stilts
