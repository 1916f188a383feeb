// Collectives over NCCL on device (Device::cuda) tensors of f32, bf16, f16, i32, i64 or f64.
// Collectives are enqueued on the communicator's stream() and return before they complete. Each
// waits (through an event) for the work already queued on the compute stream
// (kernels/cuda/context.h), and the compute stream's later work waits for it, so kernels see the
// results in stream order; call synchronize() before reading a result on the host.
// start_all_reduce skips the second wait, so backward keeps computing while the gradients of its
// finished layers are reduced; finish_started_all_reduces makes the compute stream wait and then
// waits on the host.
//
// Streams. Each communicator split off another gets a stream of its own, as PyTorch's process
// groups do: the tensor-parallel all-reduces of a sublayer then never queue behind the
// data-parallel gradient buckets in flight, which the buckets' overlap with backward needs. NCCL
// kernels block until their peers arrive, so collectives of several communicators running at
// once on one GPU deadlock unless every GPU runs them in one order; NCCL 2.26 and later keep the
// order the host issued them in when NCCL_LAUNCH_ORDER_IMPLICIT=1, which the first communicator
// sets unless the user set it, and stilts issues every collective from one thread in the same
// order on every rank (parallel/communicator.h). With an older NCCL, or the variable set to 0,
// every communicator shares its root's stream, which orders them as one queue
// (separate_streams()).
//
// A dead peer: an NCCL collective whose peer is gone never completes, and a plain
// cudaStreamSynchronize would wait forever. So the communicators are non-blocking
// (ncclConfig_t blocking = 0), and every wait here (initialization, split, enqueueing,
// synchronize(), barrier(), finalization) polls the stream and ncclCommGetAsyncError with a
// deadline of STILTS_NCCL_TIMEOUT seconds (default 300). On an NCCL error or at the deadline
// every communicator of the root's family is aborted (ncclCommAbort) and a std::runtime_error
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

namespace stilts {

class NcclCommunicator : public Communicator {
 public:
  // The id of a new group, made on one rank and handed to every other (over MPI:
  // parallel/nccl_over_mpi.h; in a test, through the environment of its processes).
  static ncclUniqueId unique_id();
  // Joins the group `id` names as `rank` of `size`; collective over the group. Uses the current
  // CUDA device, which the caller picks (one rank per GPU: NCCL refuses two ranks of one
  // communicator on the same device). `group` names it in messages ("world").
  NcclCommunicator(const ncclUniqueId& id, int rank, int size, std::string group = "world");
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
  // ncclCommSplit. The child enqueues on a stream of its own when separate_streams(), else on
  // this communicator's (the file comment).
  std::unique_ptr<Communicator> split(int color, int key) override;

  cudaStream_t stream() const { return lane_->stream; }
  // Whether this family's communicators each have their own stream.
  bool separate_streams() const { return watch_->separate_streams; }

  // Waits until everything enqueued on stream() has completed. Throws (after aborting the
  // communicators) on an NCCL or CUDA error, or when it has not completed within the timeout.
  void synchronize();

  // STILTS_NCCL_TIMEOUT in seconds (a positive number; default 300); a malformed value is an
  // std::invalid_argument naming the variable.
  static double timeout_from_environment();
  // Whether split communicators may have streams of their own: NCCL `nccl_version`
  // (ncclGetVersion's number, 22809 for 2.28.9) keeps the host's launch order across
  // communicators from 2.26 on, when NCCL_LAUNCH_ORDER_IMPLICIT is unset (stilts sets it) or 1.
  static bool separate_streams_allowed(int nccl_version, const char* implicit_order);

 private:
  // What a root communicator and every communicator split off it share: every live
  // communicator (all are aborted together: which of them a stuck stream waits on is unknown),
  // the last collective enqueued, for messages, the timeout and the stream policy.
  struct Watch {
    // Installs wait() as the backend's host waiter, and the destructor removes it.
    Watch();
    ~Watch();
    // Waits on the host until `s` has run its queued work, polling it and every communicator's
    // asynchronous state until the deadline; on an NCCL or CUDA error, or at the deadline,
    // aborts the communicators and throws "<who>: waiting for <what> ...".
    void wait(cudaStream_t s, const std::string& who, const std::string& what);
    [[noreturn]] void fail(const std::string& who, const std::string& what,
                           const std::string& reason);
    std::vector<ncclComm_t> comms;
    std::string last = "nothing yet";
    bool aborted = false;
    bool separate_streams = false;
    double timeout_s = 300;
  };
  // The stream a communicator enqueues on, and the events that order it against the compute
  // stream both ways.
  struct Lane {
    Lane();
    ~Lane();
    cudaStream_t stream = nullptr;
    cudaEvent_t compute_done = nullptr, collectives_done = nullptr;
  };
  NcclCommunicator(ncclComm_t comm, std::shared_ptr<Watch> watch, std::shared_ptr<Lane> lane,
                   std::string group);
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
  std::shared_ptr<Watch> watch_;
  std::shared_ptr<Lane> lane_;
  std::string group_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace stilts
