#include <gtest/gtest.h>

#include <stdexcept>

#include "kernels/ops.h"
#include "parallel/self_communicator.h"

namespace stilts {
namespace {

Tensor filled(Shape shape, float start) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}

TEST(SelfCommunicator, CollectivesOfOneRankLeaveOrCopyTheTensor) {
  SelfCommunicator self;
  EXPECT_EQ(self.size(), 1);
  EXPECT_EQ(self.rank(), 0);
  Tensor t = filled({2, 3}, 1.0f);
  self.all_reduce(t, ReduceOp::sum);
  self.all_reduce(t, ReduceOp::max);
  self.broadcast(t, 0);
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], 1.0f + static_cast<float>(i));

  Tensor gathered({2, 3}), scattered({2, 3});
  self.all_gather(t, gathered);
  self.reduce_scatter(t, scattered);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(gathered.data<float>()[i], t.data<float>()[i]);
    EXPECT_EQ(scattered.data<float>()[i], t.data<float>()[i]);
  }
  EXPECT_EQ(self.split(3, 0)->size(), 1);
}

TEST(SelfCommunicator, RefusesWhatAGroupOfOneCannotDo) {
  SelfCommunicator self;
  Tensor t({4}), wrong({8});
  EXPECT_THROW(self.broadcast(t, 1), std::invalid_argument);
  EXPECT_THROW(self.all_gather(t, wrong), std::invalid_argument);
  EXPECT_THROW(self.reduce_scatter(wrong, t), std::invalid_argument);
  EXPECT_THROW(self.split(-1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
