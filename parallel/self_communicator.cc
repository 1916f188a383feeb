#include "parallel/self_communicator.h"

#include "kernels/ops.h"

namespace stilts {

void SelfCommunicator::broadcast(Tensor&, int root) {
  collective_checks::check_root(name(), root, 1);
}

void SelfCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  collective_checks::check_leading_split(name(), "all_gather", "local", local, "gathered", gathered,
                                         1);
  ops::copy(local, gathered);
}

void SelfCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp) {
  collective_checks::check_leading_split(name(), "reduce_scatter", "local", local, "full", full, 1);
  ops::copy(full, local);
}

Communicator& single_rank_group() {
  static SelfCommunicator group;
  return group;
}

std::unique_ptr<Communicator> SelfCommunicator::split(int color, int) {
  collective_checks::check_color(name(), color);
  return std::make_unique<SelfCommunicator>();
}

}  // namespace stilts
