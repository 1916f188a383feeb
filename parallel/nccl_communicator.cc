#include "parallel/nccl_communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "kernels/cuda/context.h"

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
    case DType::f64:
      *type = ncclFloat64;
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

constexpr const char* kTimeoutVariable = "STILTS_NCCL_TIMEOUT";
constexpr const char* kImplicitOrderVariable = "NCCL_LAUNCH_ORDER_IMPLICIT";

ncclConfig_t non_blocking_config() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

// Polls `done` until it returns true or `timeout_s` have passed (then returns false): spins
// with a yield first, so a short wait costs microseconds, then sleeps a millisecond per poll.
template <class Done>
bool poll_until(double timeout_s, Done&& done) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (int polls = 0;; ++polls) {
    if (done()) return true;
    if (Clock::now() > deadline) return false;
    if (polls < 1000)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::string seconds(double s) {
  std::ostringstream text;
  text << s << " s (" << kTimeoutVariable << ")";
  return text.str();
}

// Before NCCL reads its parameters, which it does once per process: the unique id and the
// first communicator both may be the first NCCL call.
void request_implicit_launch_order() {
  setenv(kImplicitOrderVariable, "1", /*overwrite=*/0);
}

}  // namespace

double NcclCommunicator::timeout_from_environment() {
  const char* value = std::getenv(kTimeoutVariable);
  if (!value || !*value) return 300;
  char* end = nullptr;
  double timeout = std::strtod(value, &end);
  if (*end != '\0' || !(timeout > 0))
    throw std::invalid_argument(std::string(kTimeoutVariable) + "=\"" + value +
                                "\": expected a positive number of seconds");
  return timeout;
}

bool NcclCommunicator::separate_streams_allowed(int nccl_version, const char* implicit_order) {
  constexpr int kImplicitOrderVersion = 22600;  // NCCL 2.26
  if (nccl_version < kImplicitOrderVersion) return false;
  return implicit_order == nullptr || std::string(implicit_order) == "1";
}

NcclCommunicator::Watch::Watch() {
  cuda::set_host_waiter(
      [](void* state, cudaStream_t s, const char* what) {
        Watch& self = *static_cast<Watch*>(state);
        self.wait(s, what,
                  "the compute stream, which may wait on " + self.last +
                      " (the last collective enqueued)");
      },
      this);
}

NcclCommunicator::Watch::~Watch() {
  cuda::set_host_waiter(nullptr, nullptr);
}

NcclCommunicator::Lane::Lane() {
  check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check_cuda(cudaEventCreateWithFlags(&compute_done, cudaEventDisableTiming), "cudaEventCreate");
  check_cuda(cudaEventCreateWithFlags(&collectives_done, cudaEventDisableTiming),
             "cudaEventCreate");
}

NcclCommunicator::Lane::~Lane() {
  cudaEventDestroy(collectives_done);
  cudaEventDestroy(compute_done);
  cudaStreamDestroy(stream);
}

ncclUniqueId NcclCommunicator::unique_id() {
  request_implicit_launch_order();
  ncclUniqueId id;
  const ncclResult_t result = ncclGetUniqueId(&id);
  if (result != ncclSuccess)
    throw std::runtime_error(std::string("ncclGetUniqueId failed: ") + ncclGetErrorString(result));
  return id;
}

NcclCommunicator::NcclCommunicator(const ncclUniqueId& id, int rank, int size, std::string group)
    : watch_(std::make_shared<Watch>()),
      lane_(std::make_shared<Lane>()),
      group_(std::move(group)),
      rank_(rank),
      size_(size) {
  watch_->timeout_s = timeout_from_environment();
  request_implicit_launch_order();
  int version = 0;
  check(ncclGetVersion(&version), "ncclGetVersion");
  watch_->separate_streams = separate_streams_allowed(version, std::getenv(kImplicitOrderVariable));
  ncclConfig_t config = non_blocking_config();
  ncclResult_t result = ncclCommInitRankConfig(&comm_, size_, id, rank_, &config);
  if (comm_) watch_->comms.push_back(comm_);
  check(result, "ncclCommInitRankConfig");
}

NcclCommunicator::NcclCommunicator(ncclComm_t comm, std::shared_ptr<Watch> watch,
                                   std::shared_ptr<Lane> lane, std::string group)
    : comm_(comm), watch_(std::move(watch)), lane_(std::move(lane)), group_(std::move(group)) {
  watch_->comms.push_back(comm_);
  check(ncclCommUserRank(comm_, &rank_), "ncclCommUserRank");
  check(ncclCommCount(comm_, &size_), "ncclCommCount");
}

NcclCommunicator::~NcclCommunicator() {
  if (!comm_) return;
  auto& comms = watch_->comms;
  comms.erase(std::remove(comms.begin(), comms.end(), comm_), comms.end());
  if (watch_->aborted) return;  // ncclCommAbort freed it
  // Unwinding after a failure (or a flush that fails or times out): abort, never wait on peers
  // that may be gone.
  bool flushed = false;
  if (std::uncaught_exceptions() == 0) {
    ncclResult_t result = ncclCommFinalize(comm_);
    ncclResult_t state = result;
    if (result == ncclSuccess || result == ncclInProgress)
      flushed = poll_until(watch_->timeout_s,
                           [&] {
                             return ncclCommGetAsyncError(comm_, &state) != ncclSuccess ||
                                    state != ncclInProgress;
                           }) &&
                state == ncclSuccess;
  }
  if (flushed)
    ncclCommDestroy(comm_);
  else
    ncclCommAbort(comm_);
}

std::string NcclCommunicator::name() const {
  return "nccl " + group_ + " rank " + std::to_string(rank_) + "/" + std::to_string(size_);
}

void NcclCommunicator::check(ncclResult_t result, const char* call) const {
  if (result == ncclSuccess) return;
  if (result == ncclInProgress && comm_) return settle(comm_, call);
  const char* last = comm_ ? ncclGetLastError(comm_) : nullptr;
  std::string detail = last ? last : "";
  fail(call, std::string("failed: ") + ncclGetErrorString(result) +
                 (detail.empty() ? "" : " (" + detail + ")"));
}

void NcclCommunicator::settle(ncclComm_t comm, const std::string& what) const {
  ncclResult_t state = ncclInProgress;
  ncclResult_t query = ncclSuccess;
  bool settled = poll_until(watch_->timeout_s, [&] {
    query = ncclCommGetAsyncError(comm, &state);
    return query != ncclSuccess || state != ncclInProgress;
  });
  if (!settled)
    fail(what, "did not complete within " + seconds(watch_->timeout_s) +
                   "; a peer rank has probably died or hangs");
  if (query != ncclSuccess) state = query;
  if (state != ncclSuccess) {
    const char* last = ncclGetLastError(comm);
    fail(what, std::string("failed: ") + ncclGetErrorString(state) +
                   (last && *last ? std::string(" (") + last + ")" : std::string()));
  }
}

void NcclCommunicator::fail(const std::string& what, const std::string& reason) const {
  watch_->fail(name(), what, reason);
}

void NcclCommunicator::enqueue(const char* collective, const Tensor& tensor) {
  if (watch_->aborted)
    throw std::runtime_error(name() + " " + collective +
                             ": the NCCL communicators were aborted after an earlier failure");
  watch_->last = std::string(collective) + " of " + tensor.describe() + " on " + name();
}

void NcclCommunicator::wait_for_compute() {
  check_cuda(cudaEventRecord(lane_->compute_done, cuda::compute_stream()), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(stream(), lane_->compute_done, 0), "cudaStreamWaitEvent");
}

void NcclCommunicator::make_compute_wait() {
  check_cuda(cudaEventRecord(lane_->collectives_done, stream()), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(cuda::compute_stream(), lane_->collectives_done, 0),
             "cudaStreamWaitEvent");
}

void NcclCommunicator::synchronize() {
  watch_->wait(stream(), name(), watch_->last + " (the last collective enqueued)");
}

void NcclCommunicator::Watch::wait(cudaStream_t s, const std::string& who,
                                   const std::string& what) {
  if (aborted)
    throw std::runtime_error(who + ": waiting for " + what +
                             ": the NCCL communicators were aborted after an earlier failure");
  cudaError_t error = cudaSuccess;
  ncclResult_t state = ncclSuccess;
  ncclComm_t failed = nullptr;
  const bool done = poll_until(timeout_s, [&] {
    error = cudaStreamQuery(s);
    if (error != cudaErrorNotReady) return true;
    for (ncclComm_t comm : comms) {
      if (ncclCommGetAsyncError(comm, &state) != ncclSuccess) state = ncclInternalError;
      if (state != ncclSuccess && state != ncclInProgress) {
        failed = comm;
        return true;
      }
    }
    return false;
  });
  const std::string waiting = "waiting for " + what;
  if (failed) {
    const char* last_error = ncclGetLastError(failed);
    fail(who, waiting,
         std::string("failed: ") + ncclGetErrorString(state) +
             (last_error && *last_error ? std::string(" (") + last_error + ")" : std::string()));
  }
  if (!done)
    fail(who, waiting,
         "did not complete within " + seconds(timeout_s) +
             "; a peer rank has probably died or hangs");
  if (error != cudaSuccess)
    fail(who, waiting, std::string("failed: CUDA error ") + cudaGetErrorString(error));
}

void NcclCommunicator::Watch::fail(const std::string& who, const std::string& what,
                                   const std::string& reason) {
  std::string note;
  if (!aborted) {
    for (ncclComm_t comm : comms) ncclCommAbort(comm);
    aborted = true;
    note = "; aborted the NCCL communicators";
  }
  throw std::runtime_error(who + ": " + what + " " + reason + note);
}

void NcclCommunicator::check_device(const char* collective, const Tensor& tensor) const {
  ncclDataType_t type;
  if (!tensor.defined() || tensor.device() != Device::cuda || !nccl_type(tensor.dtype(), &type))
    throw std::invalid_argument(name() + " " + collective +
                                ": needs a cuda tensor of f32, bf16, f16, i32, i64 or f64, got " +
                                (tensor.defined() ? tensor.describe() : "an undefined tensor"));
}

void NcclCommunicator::all_reduce(Tensor& tensor, ReduceOp op) {
  check_device("all_reduce", tensor);
  enqueue("ncclAllReduce", tensor);
  wait_for_compute();
  check(ncclAllReduce(tensor.raw(), tensor.raw(), static_cast<size_t>(tensor.numel()),
                      type_of(tensor), nccl_op(op), comm_, stream()),
        "ncclAllReduce");
  make_compute_wait();
}

void NcclCommunicator::broadcast(Tensor& tensor, int root) {
  check_device("broadcast", tensor);
  collective_checks::check_root(name(), root, size_);
  enqueue("ncclBroadcast", tensor);
  wait_for_compute();
  check(ncclBroadcast(tensor.raw(), tensor.raw(), static_cast<size_t>(tensor.numel()),
                      type_of(tensor), root, comm_, stream()),
        "ncclBroadcast");
  make_compute_wait();
}

void NcclCommunicator::all_gather(const Tensor& local, Tensor& gathered) {
  check_device("all_gather", local);
  check_device("all_gather", gathered);
  check_leading_split(name(), "all_gather", "local", local, "gathered", gathered, size_);
  enqueue("ncclAllGather", local);
  wait_for_compute();
  check(ncclAllGather(local.raw(), gathered.raw(), static_cast<size_t>(local.numel()),
                      type_of(local), comm_, stream()),
        "ncclAllGather");
  make_compute_wait();
}

void NcclCommunicator::reduce_scatter(const Tensor& full, Tensor& local, ReduceOp op) {
  check_device("reduce_scatter", full);
  check_device("reduce_scatter", local);
  check_leading_split(name(), "reduce_scatter", "local", local, "full", full, size_);
  enqueue("ncclReduceScatter", full);
  wait_for_compute();
  check(ncclReduceScatter(full.raw(), local.raw(), static_cast<size_t>(local.numel()),
                          type_of(local), nccl_op(op), comm_, stream()),
        "ncclReduceScatter");
  make_compute_wait();
}

void NcclCommunicator::start_all_reduce(Tensor& tensor, ReduceOp op) {
  check_device("start_all_reduce", tensor);
  enqueue("ncclAllReduce (started)", tensor);
  wait_for_compute();
  check(ncclAllReduce(tensor.raw(), tensor.raw(), static_cast<size_t>(tensor.numel()),
                      type_of(tensor), nccl_op(op), comm_, stream()),
        "ncclAllReduce");
}

void NcclCommunicator::finish_started_all_reduces() {
  make_compute_wait();
  synchronize();
}

void NcclCommunicator::barrier() {
  // NCCL has no barrier: a one-element all-reduce that the host waits for is one.
  if (watch_->aborted)
    throw std::runtime_error(name() +
                             " barrier: the NCCL communicators were aborted after an earlier "
                             "failure");
  int* flag = nullptr;
  check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&flag), sizeof(int), stream()),
             "cudaMallocAsync");
  watch_->last = "ncclAllReduce (barrier) on " + name();
  ncclResult_t result = ncclAllReduce(flag, flag, 1, ncclInt32, ncclSum, comm_, stream());
  // A non-blocking communicator may still be enqueueing the collective when the call returns
  // (ncclInProgress): the flag is freed once check has waited for it to be on the stream, so
  // the free is ordered after the collective's use of it.
  check(result, "ncclAllReduce (barrier)");
  cudaFreeAsync(flag, stream());
  synchronize();
}

std::unique_ptr<Communicator> NcclCommunicator::split(int color, int key) {
  collective_checks::check_color(name(), color);
  if (watch_->aborted)
    throw std::runtime_error(name() +
                             " split: the NCCL communicators were aborted after an earlier "
                             "failure");
  ncclComm_t child = nullptr;
  ncclConfig_t config = non_blocking_config();
  watch_->last = "ncclCommSplit on " + name();
  ncclResult_t result = ncclCommSplit(comm_, color, key, &child, &config);
  // Registered at once, so a failure below aborts it with the others.
  if (child) watch_->comms.push_back(child);
  check(result, "ncclCommSplit");
  if (!child) fail("ncclCommSplit", "returned no communicator");
  settle(child, "ncclCommSplit");
  watch_->comms.pop_back();  // the constructor registers it again
  auto lane = watch_->separate_streams ? std::make_shared<Lane>() : lane_;
  return std::unique_ptr<Communicator>(new NcclCommunicator(
      child, watch_, std::move(lane), group_ + ".split(" + std::to_string(color) + ")"));
}

}  // namespace stilts
