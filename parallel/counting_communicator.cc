#include "parallel/counting_communicator.h"

#include <chrono>
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

template <class Call>
void CountingCommunicator::counted(Collective kind, size_t bytes, Call call) {
  const auto start = std::chrono::steady_clock::now();
  call();
  if (size() == 1) return;  // a group of one moves nothing
  CollectiveCount& count = counts_[static_cast<size_t>(kind)];
  ++count.calls;
  count.bytes += static_cast<int64_t>(bytes);
  count.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void CountingCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  counted(Collective::all_reduce, tensor.nbytes(), [&] { inner_->all_reduce(tensor, op); });
}

void CountingCommunicator::broadcast(Tensor& tensor, int root) {
  counted(Collective::broadcast, tensor.nbytes(), [&] { inner_->broadcast(tensor, root); });
}

void CountingCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  counted(Collective::all_gather, gathered.nbytes(), [&] { inner_->all_gather(local, gathered); });
}

void CountingCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  counted(Collective::reduce_scatter, full.nbytes(),
          [&] { inner_->reduce_scatter(full, local, op); });
}

void CountingCommunicator::barrier() {
  counted(Collective::barrier, 0, [&] { inner_->barrier(); });
}

void CountingCommunicator::start_all_reduce(Tensor& tensor, ReduceOp op) {
  counted(Collective::all_reduce, tensor.nbytes(), [&] { inner_->start_all_reduce(tensor, op); });
}

void CountingCommunicator::finish_started_all_reduces() {
  const auto start = std::chrono::steady_clock::now();
  inner_->finish_started_all_reduces();
  if (size() == 1) return;
  counts_[static_cast<size_t>(Collective::all_reduce)].seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::unique_ptr<Communicator> CountingCommunicator::split(int color, int key) {
  return std::make_unique<CountingCommunicator>(inner_->split(color, key));
}

CollectiveCount CountingCommunicator::total() const {
  CollectiveCount sum;
  for (const CollectiveCount& count : counts_) {
    sum.calls += count.calls;
    sum.bytes += count.bytes;
    sum.seconds += count.seconds;
  }
  return sum;
}

void CountingCommunicator::reset() {
  counts_ = {};
}

}  // namespace stilts
