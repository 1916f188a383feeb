// One group over two transports: collectives on device tensors go through the device
// communicator (NCCL), those on host tensors (token counts, the loss sum, checkpoint
// metadata) through the host communicator (MPI). A GPU job's TP and DP groups are these, so
// the model, the trainer and the checkpoints issue every collective to one group whatever the
// tensor's device.
#pragma once

#include <memory>

#include "parallel/communicator.h"

namespace stilts {

class DeviceRoutingCommunicator : public Communicator {
 public:
  // Both must span the same ranks in the same order (std::invalid_argument otherwise).
  DeviceRoutingCommunicator(std::unique_ptr<Communicator> host,
                            std::unique_ptr<Communicator> device);

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  std::string name() const override;

  void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& tensor, int root) override;
  // Both tensors must be on the same device.
  void all_gather(const Tensor& local, Tensor& gathered) override;
  void reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op = ReduceOp::sum) override;
  // The host's barrier, which returns once every rank has reached it.
  void barrier() override;
  void start_all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  void finish_started_all_reduces() override;
  // Splits both (each split is collective over its own transport, host first on every rank).
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  Communicator& route(const Tensor& tensor) {
    return tensor.device() == Device::cpu ? *host_ : *device_;
  }
  Communicator& route(const char* collective, const Tensor& a, const Tensor& b);

  std::unique_ptr<Communicator> host_, device_;
};

}  // namespace stilts
