#include "parallel/device_routing_communicator.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace stilts {

DeviceRoutingCommunicator::DeviceRoutingCommunicator(std::unique_ptr<Communicator> host,
                                                     std::unique_ptr<Communicator> device)
    : host_(std::move(host)), device_(std::move(device)) {
  if (!host_ || !device_)
    throw std::invalid_argument("DeviceRoutingCommunicator: needs a host and a device group");
  if (host_->size() != device_->size() || host_->rank() != device_->rank())
    throw std::invalid_argument("DeviceRoutingCommunicator: " + host_->name() + " and " +
                                device_->name() + " are not the same group");
}

std::string DeviceRoutingCommunicator::name() const {
  return device_->name() + " (host tensors: " + host_->name() + ")";
}

Communicator& DeviceRoutingCommunicator::route(const char* collective, const Tensor& a,
                                               const Tensor& b) {
  if (a.device() != b.device())
    throw std::invalid_argument(name() + " " + collective + ": " + a.describe() + " and " +
                                b.describe() + " are on different devices");
  return route(a);
}

void DeviceRoutingCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  route(tensor).all_reduce(tensor, op);
}

void DeviceRoutingCommunicator::broadcast(Tensor& tensor, int root) {
  route(tensor).broadcast(tensor, root);
}

void DeviceRoutingCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  route("all_gather", local, gathered).all_gather(local, gathered);
}

void DeviceRoutingCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  route("reduce_scatter", full, local).reduce_scatter(full, local, op);
}

void DeviceRoutingCommunicator::barrier() {
  host_->barrier();
}

void DeviceRoutingCommunicator::start_all_reduce(Tensor& tensor, ReduceOp op) {
  route(tensor).start_all_reduce(tensor, op);
}

void DeviceRoutingCommunicator::finish_started_all_reduces() {
  device_->finish_started_all_reduces();
  host_->finish_started_all_reduces();
}

std::unique_ptr<Communicator> DeviceRoutingCommunicator::split(int color, int key) {
  collective_checks::check_color(name(), color);
  std::unique_ptr<Communicator> host = host_->split(color, key);
  return std::make_unique<DeviceRoutingCommunicator>(std::move(host), device_->split(color, key));
}

}  // namespace stilts
