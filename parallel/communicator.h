// The collective interface every parallel layer talks to: MpiCommunicator (host memory, every
// test under mpirun) and NcclCommunicator (device memory) implement it, CountingCommunicator
// decorates either.
//
// Device tensors: a collective is ordered after the work already queued on the compute stream
// and the compute stream's later work sees its result, so the model needs no synchronization
// of its own (NcclCommunicator).
//
// Collectives are issued from one thread in the same order on every rank (docs/DESIGN.md);
// a rank that skips or reorders one deadlocks the group.
//
// Determinism: for a given communicator size, message size and library version, MPI and NCCL
// pick the same algorithm, so a reduction adds the ranks' values in the same order run to run
// and a rerun is bit-identical. The order is not rank order, and it changes with the size:
// OpenMPI's tuned collectives choose the algorithm (recursive doubling, ring, ...) from the
// communicator size and the message size, so splitting the same sum into other buckets or
// over other ranks changes its rounding. Compare across layouts with a tolerance.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/tensor.h"

namespace stilts {

enum class ReduceOp { sum, max };

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Which group and rank, for messages: "mpi world rank 1/4".
  virtual std::string name() const = 0;

  // In place: every rank ends with the element-wise reduction over the group.
  virtual void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) = 0;
  // In place: every rank ends with `root`'s tensor.
  virtual void broadcast(Tensor& tensor, int root) = 0;
  // `gathered` is every rank's `local` concatenated along the leading dimension in rank order,
  // so its leading dimension is size() times local's. The two must not overlap.
  virtual void all_gather(const Tensor& local, Tensor& gathered) = 0;
  // The reduction of every rank's `full`, of which this rank keeps rows
  // [rank * n, (rank + 1) * n) of the leading dimension in `local` (n = local.dim(0)).
  virtual void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op = ReduceOp::sum) = 0;
  virtual void barrier() = 0;
  // The data-parallel gradient reduction overlapped with backward (GradientSync): starts an
  // in-place all-reduce that may still be running when this returns; `tensor` must not be
  // touched before finish_started_all_reduces(). Started reductions run in the order started.
  // The default is the blocking all_reduce (MPI: on the CPU there is nothing to overlap with).
  virtual void start_all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) {
    all_reduce(tensor, op);
  }
  // Waits for every started all-reduce; afterwards their results are visible to the host and
  // to all later work on the device.
  virtual void finish_started_all_reduces() {}
  // Collective over this group: ranks with the same color form a sub-group, ordered by key
  // (ties keep this group's order). color must be >= 0.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
};

// Shape checks shared by the implementations, so every backend refuses the same way.
namespace collective_checks {

// `whole` must be `part` with the leading dimension multiplied by `ranks`, of the same dtype.
inline void check_leading_split(const std::string& who, const char* collective,
                                const char* part_name, const Tensor& part, const char* whole_name,
                                const Tensor& whole, int ranks) {
  Shape expected = part.shape();
  if (!expected.empty()) expected[0] *= ranks;
  if (part.rank() == 0 || part.dtype() != whole.dtype() || whole.shape() != expected)
    throw std::invalid_argument(who + " " + collective + ": " + whole_name + " must be " +
                                dtype_name(part.dtype()) + shape_string(expected) + " (" +
                                part_name + " " + part.describe() +
                                " with its leading dimension times " + std::to_string(ranks) +
                                " ranks), got " + whole_name + " " + whole.describe());
}

inline void check_root(const std::string& who, int root, int size) {
  if (root < 0 || root >= size)
    throw std::invalid_argument(who + " broadcast: root " + std::to_string(root) +
                                " is not a rank of a group of " + std::to_string(size));
}

inline void check_color(const std::string& who, int color) {
  if (color < 0)
    throw std::invalid_argument(who + " split: color " + std::to_string(color) + " must be >= 0");
}

}  // namespace collective_checks

}  // namespace stilts
