// The group of one rank: every collective is the identity (or a copy), so single-process
// training runs the same tensor- and data-parallel code as a sharded run, at no cost, on
// host or device tensors alike (the copies are ops::copy).
#pragma once

#include "parallel/communicator.h"

namespace stilts {

class SelfCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single rank"; }

  void all_reduce(Tensor&, ReduceOp = ReduceOp::sum) override {}
  void broadcast(Tensor&, int root) override;
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp = ReduceOp::sum) override;
  void barrier() override {}
  std::unique_ptr<Communicator> split(int color, int key) override;
};

// A process-wide group of one (the communicator is stateless), the default group of a model
// or optimizer built without tensor or data parallelism.
Communicator& single_rank_group();

}  // namespace stilts
