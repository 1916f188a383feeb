#include "parallel/mpi_communicator.h"

#include <climits>
#include <stdexcept>
#include <utility>

namespace stilts {
namespace {

using collective_checks::check_leading_split;

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::i32:
      return MPI_INT32_T;
    case DType::i64:
      return MPI_INT64_T;
    default:
      return MPI_DATATYPE_NULL;
  }
}

MPI_Op mpi_op(ReduceOp op) {
  return op == ReduceOp::sum ? MPI_SUM : MPI_MAX;
}

void init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw std::logic_error("MpiSession: MPI is already initialized");
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Init_thread failed");
  if (provided < MPI_THREAD_FUNNELED)
    throw std::runtime_error(
        "MPI_Init_thread: the MPI library does not provide "
        "MPI_THREAD_FUNNELED");
}

}  // namespace

MpiSession::MpiSession() {
  init(nullptr, nullptr);
}
MpiSession::MpiSession(int* argc, char*** argv) {
  init(argc, argv);
}
MpiSession::~MpiSession() {
  MPI_Finalize();
}

std::unique_ptr<MpiCommunicator> MpiCommunicator::world() {
  MPI_Comm comm;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Comm_dup(MPI_COMM_WORLD) failed");
  return std::unique_ptr<MpiCommunicator>(new MpiCommunicator(comm, "world"));
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, std::string group)
    : comm_(comm), group_(std::move(group)) {
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  // A communicator that outlives the session cannot be freed any more; MPI_Finalize did it.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
}

std::string MpiCommunicator::name() const {
  return "mpi " + group_ + " rank " + std::to_string(rank_) + "/" + std::to_string(size_);
}

void MpiCommunicator::check(int rc, const char* call) const {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string(call) + " failed on " + name() + ": " +
                           std::string(text, static_cast<size_t>(length)));
}

void MpiCommunicator::check_host(const char* collective, const Tensor& tensor) const {
  if (!tensor.defined() || tensor.device() != Device::cpu ||
      mpi_type(tensor.dtype()) == MPI_DATATYPE_NULL)
    throw std::invalid_argument(name() + " " + collective +
                                ": needs a cpu tensor of f32, i32 or i64, got " +
                                (tensor.defined() ? tensor.describe() : "an undefined tensor"));
  // MPI counts are ints; chunking would split all_gather's blocks, so larger buffers refuse.
  if (tensor.numel() > INT_MAX)
    throw std::invalid_argument(name() + " " + collective + ": " + tensor.describe() +
                                " has more than INT_MAX elements");
}

void MpiCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  check_host("all_reduce", tensor);
  check(MPI_Allreduce(MPI_IN_PLACE, tensor.raw(), static_cast<int>(tensor.numel()),
                      mpi_type(tensor.dtype()), mpi_op(op), comm_),
        "MPI_Allreduce");
}

void MpiCommunicator::broadcast(Tensor& tensor, int root) {
  check_host("broadcast", tensor);
  collective_checks::check_root(name(), root, size_);
  check(MPI_Bcast(tensor.raw(), static_cast<int>(tensor.numel()), mpi_type(tensor.dtype()), root,
                  comm_),
        "MPI_Bcast");
}

void MpiCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  check_host("all_gather", local);
  check_host("all_gather", gathered);
  check_leading_split(name(), "all_gather", "local", local, "gathered", gathered, size_);
  int count = static_cast<int>(local.numel());
  MPI_Datatype type = mpi_type(local.dtype());
  check(MPI_Allgather(local.raw(), count, type, gathered.raw(), count, type, comm_),
        "MPI_Allgather");
}

void MpiCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  check_host("reduce_scatter", full);
  check_host("reduce_scatter", local);
  check_leading_split(name(), "reduce_scatter", "local", local, "full", full, size_);
  check(MPI_Reduce_scatter_block(full.raw(), local.raw(), static_cast<int>(local.numel()),
                                 mpi_type(local.dtype()), mpi_op(op), comm_),
        "MPI_Reduce_scatter_block");
}

void MpiCommunicator::barrier() {
  check(MPI_Barrier(comm_), "MPI_Barrier");
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  collective_checks::check_color(name(), color);
  MPI_Comm child;
  check(MPI_Comm_split(comm_, color, key, &child), "MPI_Comm_split");
  return std::unique_ptr<Communicator>(
      new MpiCommunicator(child, group_ + ".split(" + std::to_string(color) + ")"));
}

}  // namespace stilts
