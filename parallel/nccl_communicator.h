// Collectives over NCCL on device (Device::cuda) tensors of f32, bf16, f16, i32, i64 or f64.
// Collectives are enqueued on stream() and return before they complete. Each waits (through an
// event) for the work already queued on the compute stream (kernels/cuda/context.h), and the
// compute stream's later work waits for it, so kernels see the results in stream order; call
// synchronize() before reading a result on the host. start_all_reduce skips the second wait,
// so backward keeps computing while the gradients of its finished layers are reduced;
// finish_started_all_reduces makes the compute stream wait and then waits on the host.
//
// A dead peer: an NCCL collective whose peer is gone never completes, and a plain
// cudaStreamSynchronize would wait forever. So the communicators are non-blocking
// (ncclConfig_t blocking = 0), and every wait here (initialization, split, enqueueing,
// synchronize(), barrier(), finalization) polls the stream and ncclCommGetAsyncError with a
// deadline of STILTS_NCCL_TIMEOUT seconds (default 300). On an NCCL error or at the deadline
// every communicator sharing the stream is aborted (ncclCommAbort) and a std::runtime_error
// names the rank, the collective and the reason; the program's catch hands it to abort_job
// (parallel/failure.h), which ends the job. The backend's own host waits on the compute stream
// (a loss, a norm or an optimizer statistic read after a collective the compute stream waits
// on) go through the same poll: while communicators live, they are its waiter
// (cuda::set_host_waiter, kernels/cuda/context.h). Elsewhere, wait on the host through
// synchronize() or cuda::wait_on_host, never cudaStreamSynchronize or a blocking copy, wherever a
// collective may still be in flight.
// A communicator destroyed while an exception is in flight is aborted rather than finalized,
// so unwinding after a failure never waits on a peer.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <memory>
#include <string>
#include <vector>

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
  void start_all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::sum) override;
  // Also has synchronize()'s timeout and abort.
  void finish_started_all_reduces() override;
  // ncclCommSplit. The child enqueues on this communicator's stream: several communicators on
  // one GPU must run their collectives in one global order or they can deadlock, and one
  // stream fed from one thread gives that order.
  std::unique_ptr<Communicator> split(int color, int key) override;

  cudaStream_t stream() const { return stream_->stream; }

  // Waits until everything enqueued on stream() has completed. Throws (after aborting the
  // communicators) on an NCCL or CUDA error, or when it has not completed within the timeout.
  void synchronize();

  // STILTS_NCCL_TIMEOUT in seconds (a positive number; default 300); a malformed value is an
  // std::invalid_argument naming the variable.
  static double timeout_from_environment();

 private:
  // What the communicators on one stream share: the stream, every live communicator on it
  // (all are aborted together: which of them a stuck stream waits on is unknown), the last
  // collective enqueued, for messages, and the timeout.
  struct Stream {
    // Installs wait() as the backend's host waiter, and the destructor removes it.
    Stream();
    ~Stream();
    // Waits on the host until `s` has run its queued work, polling it and every communicator's
    // asynchronous state until the deadline; on an NCCL or CUDA error, or at the deadline,
    // aborts the communicators and throws "<who>: waiting for <what> ...".
    void wait(cudaStream_t s, const std::string& who, const std::string& what);
    [[noreturn]] void fail(const std::string& who, const std::string& what,
                           const std::string& reason);
    cudaStream_t stream = nullptr;
    // Recorded on the compute stream for `stream` to wait on, and the reverse.
    cudaEvent_t compute_done = nullptr, collectives_done = nullptr;
    std::vector<ncclComm_t> comms;
    std::string last = "nothing yet";
    bool aborted = false;
    double timeout_s = 300;
  };
  NcclCommunicator(ncclComm_t comm, std::shared_ptr<Stream> stream, std::string group);
  // A call's result: ncclInProgress (non-blocking communicators) is waited for; an error
  // aborts the communicators and throws.
  void check(ncclResult_t result, const char* call) const;
  // Polls comm's asynchronous state until it is no longer ncclInProgress.
  void settle(ncclComm_t comm, const std::string& what) const;
  // Notes the collective about to be enqueued and refuses to enqueue on aborted communicators.
  void enqueue(const char* collective, const Tensor& tensor);
  // stream() waits for the work queued on the compute stream so far.
  void wait_for_compute();
  // The compute stream waits for the collectives queued on stream() so far.
  void make_compute_wait();
  [[noreturn]] void fail(const std::string& what, const std::string& reason) const;
  void check_device(const char* collective, const Tensor& tensor) const;

  ncclComm_t comm_ = nullptr;
  std::shared_ptr<Stream> stream_;
  std::string group_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace stilts
