// Collectives over MPI on host (Device::cpu) tensors of f32, i32 or i64.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "parallel/communicator.h"

namespace stilts {

// MPI_Init_thread on construction, MPI_Finalize on destruction; one per process, outliving
// every MpiCommunicator. MPI_THREAD_FUNNELED is enough because collectives are issued from the
// main thread only (OpenMP workers never call MPI). Without mpirun, OpenMPI starts a singleton
// world of size 1.
class MpiSession {
 public:
  MpiSession();
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator : public Communicator {
 public:
  // A duplicate of MPI_COMM_WORLD, so the error handler set here leaves the world's alone.
  static std::unique_ptr<MpiCommunicator> world();
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override;

  void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& tensor, int root) override;
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op = ReduceOp::sum) override;
  void barrier() override;
  std::unique_ptr<Communicator> split(int color, int key) override;

  // For bootstrapping other libraries over the same group (NCCL's unique id broadcast).
  MPI_Comm comm() const { return comm_; }

 private:
  // Takes ownership of `comm` and makes its errors return codes instead of aborting.
  MpiCommunicator(MPI_Comm comm, std::string group);
  void check(int rc, const char* call) const;
  void check_host(const char* collective, const Tensor& tensor) const;

  MPI_Comm comm_;
  std::string group_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace stilts
