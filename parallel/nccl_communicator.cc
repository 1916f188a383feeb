#include "parallel/nccl_communicator.h"

#include <stdexcept>
#include <utility>

namespace stilts {
namespace {

using collective_checks::check_leading_split;

bool nccl_type(DType dtype, ncclDataType_t* type) {
  switch (dtype) {
    case DType::f32:
      *type = ncclFloat32;
      return true;
    case DType::bf16:
      *type = ncclBfloat16;
      return true;
    case DType::f16:
      *type = ncclFloat16;
      return true;
    case DType::i32:
      *type = ncclInt32;
      return true;
    case DType::i64:
      *type = ncclInt64;
      return true;
  }
  return false;
}

ncclDataType_t type_of(const Tensor& tensor) {
  ncclDataType_t type = ncclFloat32;
  nccl_type(tensor.dtype(), &type);
  return type;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  return op == ReduceOp::sum ? ncclSum : ncclMax;
}

void check_cuda(cudaError_t error, const char* call) {
  if (error != cudaSuccess)
    throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorString(error));
}

}  // namespace

NcclCommunicator::Stream::Stream() {
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
}

NcclCommunicator::Stream::~Stream() {
  cudaStreamDestroy(stream);
}

NcclCommunicator::NcclCommunicator(const MpiCommunicator& bootstrap)
    : stream_(std::make_shared<Stream>()),
      group_("world"),
      rank_(bootstrap.rank()),
      size_(bootstrap.size()) {
  ncclUniqueId id;
  if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, bootstrap.comm()) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Bcast of the NCCL unique id failed on " + bootstrap.name());
  check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
}

NcclCommunicator::NcclCommunicator(ncclComm_t comm, std::shared_ptr<Stream> stream,
                                   std::string group)
    : comm_(comm), stream_(std::move(stream)), group_(std::move(group)) {
  check(ncclCommUserRank(comm_, &rank_), "ncclCommUserRank");
  check(ncclCommCount(comm_, &size_), "ncclCommCount");
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) ncclCommDestroy(comm_);
}

std::string NcclCommunicator::name() const {
  return "nccl " + group_ + " rank " + std::to_string(rank_) + "/" + std::to_string(size_);
}

void NcclCommunicator::check(ncclResult_t result, const char* call) const {
  if (result == ncclSuccess) return;
  const char* last = comm_ ? ncclGetLastError(comm_) : nullptr;
  std::string detail = last ? last : "";
  throw std::runtime_error(std::string(call) + " failed on " + name() + ": " +
                           ncclGetErrorString(result) +
                           (detail.empty() ? "" : " (" + detail + ")"));
}

void NcclCommunicator::check_device(const char* collective, const Tensor& tensor) const {
  ncclDataType_t type;
  if (!tensor.defined() || tensor.device() != Device::cuda || !nccl_type(tensor.dtype(), &type))
    throw std::invalid_argument(name() + " " + collective +
                                ": needs a cuda tensor of f32, bf16, f16, i32 or i64, got " +
                                (tensor.defined() ? tensor.describe() : "an undefined tensor"));
}

void NcclCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  check_device("all_reduce", tensor);
  check(ncclAllReduce(tensor.raw(), tensor.raw(), static_cast<size_t>(tensor.numel()),
                      type_of(tensor), nccl_op(op), comm_, stream()),
        "ncclAllReduce");
}

void NcclCommunicator::broadcast(Tensor& tensor, int root) {
  check_device("broadcast", tensor);
  collective_checks::check_root(name(), root, size_);
  check(ncclBroadcast(tensor.raw(), tensor.raw(), static_cast<size_t>(tensor.numel()),
                      type_of(tensor), root, comm_, stream()),
        "ncclBroadcast");
}

void NcclCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  check_device("all_gather", local);
  check_device("all_gather", gathered);
  check_leading_split(name(), "all_gather", "local", local, "gathered", gathered, size_);
  check(ncclAllGather(local.raw(), gathered.raw(), static_cast<size_t>(local.numel()),
                      type_of(local), comm_, stream()),
        "ncclAllGather");
}

void NcclCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  check_device("reduce_scatter", full);
  check_device("reduce_scatter", local);
  check_leading_split(name(), "reduce_scatter", "local", local, "full", full, size_);
  check(ncclReduceScatter(full.raw(), local.raw(), static_cast<size_t>(local.numel()),
                          type_of(local), nccl_op(op), comm_, stream()),
        "ncclReduceScatter");
}

void NcclCommunicator::barrier() {
  // NCCL has no barrier: a one-element all-reduce that the host waits for is one.
  int* flag = nullptr;
  check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&flag), sizeof(int), stream()),
             "cudaMallocAsync");
  ncclResult_t result = ncclAllReduce(flag, flag, 1, ncclInt32, ncclSum, comm_, stream());
  cudaFreeAsync(flag, stream());
  check(result, "ncclAllReduce (barrier)");
  check_cuda(cudaStreamSynchronize(stream()), "cudaStreamSynchronize (barrier)");
}

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  collective_checks::check_color(name(), color);
  ncclComm_t child = nullptr;
  check(ncclCommSplit(comm_, color, key, &child, nullptr), "ncclCommSplit");
  return std::unique_ptr<Communicator>(
      new NcclCommunicator(child, stream_, group_ + ".split(" + std::to_string(color) + ")"));
}

}  // namespace stilts
