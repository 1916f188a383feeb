#include "parallel/counting_communicator.h"

#include <stdexcept>
#include <utility>

namespace stilts {

const char* collective_name(Collective kind) {
  switch (kind) {
    case Collective::all_reduce:
      return "all_reduce";
    case Collective::broadcast:
      return "broadcast";
    case Collective::all_gather:
      return "all_gather";
    case Collective::reduce_scatter:
      return "reduce_scatter";
    case Collective::barrier:
      return "barrier";
  }
  return "?";
}

CountingCommunicator::CountingCommunicator(std::unique_ptr<Communicator> inner)
    : inner_(std::move(inner)) {
  if (!inner_) throw std::invalid_argument("CountingCommunicator: no communicator to wrap");
}

void CountingCommunicator::add(Collective kind, size_t bytes) {
  CollectiveCount& count = counts_[static_cast<size_t>(kind)];
  ++count.calls;
  count.bytes += static_cast<int64_t>(bytes);
}

void CountingCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  inner_->all_reduce(tensor, op);
  add(Collective::all_reduce, tensor.nbytes());
}

void CountingCommunicator::broadcast(Tensor& tensor, int root) {
  inner_->broadcast(tensor, root);
  add(Collective::broadcast, tensor.nbytes());
}

void CountingCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  inner_->all_gather(local, gathered);
  add(Collective::all_gather, gathered.nbytes());
}

void CountingCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  inner_->reduce_scatter(full, local, op);
  add(Collective::reduce_scatter, full.nbytes());
}

void CountingCommunicator::barrier() {
  inner_->barrier();
  add(Collective::barrier, 0);
}

std::unique_ptr<Communicator> CountingCommunicator::split(int color, int key) {
  return std::make_unique<CountingCommunicator>(inner_->split(color, key));
}

CollectiveCount CountingCommunicator::total() const {
  CollectiveCount sum;
  for (const CollectiveCount& count : counts_) {
    sum.calls += count.calls;
    sum.bytes += count.bytes;
  }
  return sum;
}

void CountingCommunicator::reset() {
  counts_ = {};
}

}  // namespace stilts
