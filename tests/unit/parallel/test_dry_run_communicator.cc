#include <gtest/gtest.h>

#include <stdexcept>

#include "parallel/dry_run_communicator.h"

namespace stilts {
namespace {

TEST(DryRunCommunicator, ChecksShapesAndMovesNothing) {
  DryRunCommunicator group(4, 2);
  EXPECT_EQ(group.size(), 4);
  EXPECT_EQ(group.rank(), 2);
  Tensor values({3, 2});
  values.data<float>()[5] = 7.0f;
  group.all_reduce(values);
  group.broadcast(values, 3);
  EXPECT_EQ(values.data<float>()[5], 7.0f);
  Tensor gathered({12, 2});
  group.all_gather(values, gathered);
  group.reduce_scatter(gathered, values);
  EXPECT_EQ(values.data<float>()[5], 7.0f);
  Tensor wrong({6, 2});
  EXPECT_THROW(group.all_gather(values, wrong), std::invalid_argument);
  EXPECT_THROW(group.reduce_scatter(wrong, values), std::invalid_argument);
  EXPECT_THROW(group.broadcast(values, 4), std::invalid_argument);
  EXPECT_THROW(group.split(0, 0), std::logic_error);
  EXPECT_THROW(DryRunCommunicator(2, 2), std::invalid_argument);
  EXPECT_THROW(DryRunCommunicator(0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
