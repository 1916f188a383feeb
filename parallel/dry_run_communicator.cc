#include "parallel/dry_run_communicator.h"

namespace stilts {

DryRunCommunicator::DryRunCommunicator(int size, int rank) : size_(size), rank_(rank) {
  if (size < 1 || rank < 0 || rank >= size)
    throw std::invalid_argument("DryRunCommunicator: rank " + std::to_string(rank) +
                                " of a group of " + std::to_string(size));
}

std::string DryRunCommunicator::name() const {
  return "dry-run rank " + std::to_string(rank_) + "/" + std::to_string(size_);
}

void DryRunCommunicator::broadcast(Tensor&, int root) {
  collective_checks::check_root(name(), root, size_);
}

void DryRunCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  collective_checks::check_leading_split(name(), "all_gather", "local", local, "gathered", gathered,
                                         size_);
}

void DryRunCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp) {
  collective_checks::check_leading_split(name(), "reduce_scatter", "local", local, "full", full,
                                         size_);
}

std::unique_ptr<Communicator> DryRunCommunicator::split(int, int) {
  throw std::logic_error(name() + " split: the absent ranks' colors are unknown");
}

}  // namespace stilts
