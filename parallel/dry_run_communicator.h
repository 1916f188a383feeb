// One rank of a group whose other ranks do not exist: every collective checks its shapes and
// leaves the tensors as they are. Code run on it issues exactly the collectives it issues in a
// real group of that size, from one process, so a CountingCommunicator over it tells what a
// layout communicates without launching it (core/communication_plan.h). The numbers it
// computes are this rank's partial results, not the group's.
#pragma once

#include "parallel/communicator.h"

namespace stilts {

class DryRunCommunicator : public Communicator {
 public:
  // Throws std::invalid_argument unless 0 <= rank < size.
  DryRunCommunicator(int size, int rank);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override;

  void all_reduce(Tensor&, ReduceOp = ReduceOp::sum) override {}
  void broadcast(Tensor& tensor, int root) override;
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp = ReduceOp::sum) override;
  void barrier() override {}
  // Throws std::logic_error: which ranks would share a color is unknown without the others.
  // Build each group's DryRunCommunicator directly instead.
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  int size_, rank_;
};

}  // namespace stilts
