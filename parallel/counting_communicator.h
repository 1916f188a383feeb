// Counts and times the collectives issued through another communicator, so a test can check
// that a layout issues the collectives the Megatron scheme predicts and the bench can report
// the communication volume and the time spent communicating.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "parallel/communicator.h"

namespace stilts {

enum class Collective { all_reduce, broadcast, all_gather, reduce_scatter, barrier };
inline constexpr int kCollectiveKinds = 5;
const char* collective_name(Collective kind);

struct CollectiveCount {
  int64_t calls = 0;
  // The logical payload: the full (unsharded) buffer of each call, i.e. the tensor of an
  // all_reduce or broadcast, `gathered` of an all_gather and `full` of a reduce_scatter. What
  // crosses the wire per rank follows from the algorithm (a ring all-reduce sends
  // 2 (n - 1) / n of it).
  int64_t bytes = 0;
  // Wall time inside the calls, waiting for slower peers included (on the host, where MPI
  // collectives block; an asynchronous device collective returns before it is done).
  double seconds = 0;
};

class CountingCommunicator : public Communicator {
 public:
  explicit CountingCommunicator(std::unique_ptr<Communicator> inner);

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string name() const override { return "counting " + inner_->name(); }

  void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& tensor, int root) override;
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op = ReduceOp::sum) override;
  void barrier() override;
  // Counted as all-reduces; the time of the final wait goes to the all-reduces too (the
  // overlapped part of a started reduction costs no time of the caller's).
  void start_all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void finish_started_all_reduces() override;
  // A CountingCommunicator over the inner split, with counts of its own (the parent's do not
  // include the child's), so TP and DP traffic are told apart.
  std::unique_ptr<Communicator> split(int color, int key) override;

  // Calls that threw are not counted, nor calls over a group of one (nothing moves).
  const CollectiveCount& count(Collective kind) const { return counts_[static_cast<size_t>(kind)]; }
  CollectiveCount total() const;
  void reset();

 private:
  // Runs call() and counts it under kind.
  template <class Call>
  void counted(Collective kind, size_t bytes, Call call);

  std::unique_ptr<Communicator> inner_;
  std::array<CollectiveCount, kCollectiveKinds> counts_{};
};

}  // namespace stilts
