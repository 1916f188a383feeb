// Collectives over NCCL on device (Device::cuda) tensors of f32, bf16, f16, i32 or i64.
// Collectives are enqueued on stream() and return before they complete; synchronize the stream
// (or make another stream wait on it) before reading a result on the host or another stream.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <memory>
#include <string>

#include "parallel/communicator.h"
#include "parallel/mpi_communicator.h"

namespace stilts {

class NcclCommunicator : public Communicator {
 public:
  // Collective over `bootstrap`'s group: rank 0's ncclGetUniqueId is broadcast over MPI and
  // every rank joins with its MPI rank. Uses the current CUDA device, which the caller picks
  // (one rank per GPU: NCCL refuses two ranks of one communicator on the same device).
  explicit NcclCommunicator(const MpiCommunicator& bootstrap);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override;

  void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& tensor, int root) override;
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op = ReduceOp::sum) override;
  // Unlike the collectives, returns only once every rank has reached it.
  void barrier() override;
  // ncclCommSplit. The child enqueues on this communicator's stream: several communicators on
  // one GPU must run their collectives in one global order or they can deadlock, and one
  // stream fed from one thread gives that order.
  std::unique_ptr<Communicator> split(int color, int key) override;

  cudaStream_t stream() const { return stream_->stream; }

 private:
  struct Stream {
    Stream();
    ~Stream();
    cudaStream_t stream = nullptr;
  };
  NcclCommunicator(ncclComm_t comm, std::shared_ptr<Stream> stream, std::string group);
  void check(ncclResult_t result, const char* call) const;
  void check_device(const char* collective, const Tensor& tensor) const;

  ncclComm_t comm_ = nullptr;
  std::shared_ptr<Stream> stream_;
  std::string group_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace stilts
