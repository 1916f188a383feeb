// DeviceRoutingCommunicator sends each collective to the transport of its tensors' device, and
// GradientSync's overlapped mode starts exactly all_reduce_gradients' buckets, each once every
// element of it is final. Both over a recording communicator (no GPU or MPI needed).
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "parallel/data_parallel.h"
#include "parallel/device_routing_communicator.h"

namespace stilts {
namespace {

// A group of `size` ranks that only records what it was asked to do.
struct Log {
  std::vector<std::string> calls;
  std::vector<std::pair<const void*, int64_t>> started;  // data pointer and elements
};

class Recording : public Communicator {
 public:
  Recording(std::string name, int size, Log& log)
      : name_(std::move(name)), size_(size), log_(log) {}
  int rank() const override { return 0; }
  int size() const override { return size_; }
  std::string name() const override { return name_; }
  void all_reduce(Tensor&, ReduceOp) override { note("all_reduce"); }
  void broadcast(Tensor&, int) override { note("broadcast"); }
  void all_gather(const Tensor&, Tensor&) override { note("all_gather"); }
  void reduce_scatter(const Tensor&, Tensor&, ReduceOp) override { note("reduce_scatter"); }
  void barrier() override { note("barrier"); }
  void start_all_reduce(Tensor& tensor, ReduceOp) override {
    note("start_all_reduce");
    log_.started.emplace_back(tensor.raw(), tensor.numel());
  }
  void finish_started_all_reduces() override { note("finish"); }
  std::unique_ptr<Communicator> split(int color, int) override {
    note("split");
    return std::make_unique<Recording>(name_ + ".split" + std::to_string(color), size_, log_);
  }

 private:
  void note(const std::string& what) { log_.calls.push_back(name_ + " " + what); }
  std::string name_;
  int size_;
  Log& log_;
};

TEST(DeviceRoutingCommunicator, SendsHostTensorsToTheHostTransport) {
  Log log;
  DeviceRoutingCommunicator group(std::make_unique<Recording>("mpi", 2, log),
                                  std::make_unique<Recording>("nccl", 2, log));
  Tensor t({4}), gathered({8});
  group.all_reduce(t);
  group.broadcast(t, 0);
  group.all_gather(t, gathered);
  group.reduce_scatter(gathered, t);
  group.start_all_reduce(t);
  group.barrier();
  group.finish_started_all_reduces();
  EXPECT_EQ(log.calls,
            (std::vector<std::string>{"mpi all_reduce", "mpi broadcast", "mpi all_gather",
                                      "mpi reduce_scatter", "mpi start_all_reduce", "mpi barrier",
                                      "nccl finish", "mpi finish"}));
}

TEST(DeviceRoutingCommunicator, SplitsBothTransports) {
  Log log;
  DeviceRoutingCommunicator group(std::make_unique<Recording>("mpi", 2, log),
                                  std::make_unique<Recording>("nccl", 2, log));
  std::unique_ptr<Communicator> child = group.split(1, 0);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"mpi split", "nccl split"}));
  Tensor t({2});
  child->all_reduce(t);
  EXPECT_EQ(log.calls.back(), "mpi.split1 all_reduce");
  EXPECT_NE(child->name().find("nccl.split1"), std::string::npos);
  EXPECT_THROW(group.split(-1, 0), std::invalid_argument);
}

TEST(DeviceRoutingCommunicator, RefusesTransportsOfDifferentGroups) {
  Log log;
  EXPECT_THROW(DeviceRoutingCommunicator(std::make_unique<Recording>("mpi", 2, log),
                                         std::make_unique<Recording>("nccl", 4, log)),
               std::invalid_argument);
}

// The buckets all_reduce_gradients starts, as (first element, elements), in order.
std::vector<std::pair<int64_t, int64_t>> buckets(const Log& log, const Tensor& flat) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [data, n] : log.started)
    out.emplace_back((static_cast<const char*>(data) - static_cast<const char*>(flat.raw())) / 4,
                     n);
  return out;
}

TEST(GradientSync, OverlappedModeStartsTheSameBucketsOnceTheyAreFinal) {
  Tensor flat({1000});
  Log whole_log;
  Recording whole_group("dp", 2, whole_log);
  GradientSync whole(whole_group, 100 * 4);
  whole.all_reduce_gradients(flat);
  const auto expected = buckets(whole_log, flat);
  ASSERT_EQ(expected.size(), 10u);
  EXPECT_EQ(expected.front(), (std::pair<int64_t, int64_t>{900, 100}));

  Log log;
  Recording group("dp", 2, log);
  GradientSync sync(group, 100 * 4);
  sync.begin_overlapped(flat);
  sync.gradients_final_from(950);  // no bucket lies entirely in [950, 1000)
  EXPECT_TRUE(log.started.empty());
  sync.gradients_final_from(750);  // [900, 1000) and [800, 900)
  EXPECT_EQ(log.started.size(), 2u);
  sync.gradients_final_from(700);
  EXPECT_EQ(log.started.size(), 3u);
  EXPECT_EQ(log.calls.back(), "dp start_all_reduce");
  sync.finish_overlapped();
  EXPECT_EQ(log.calls.back(), "dp finish");
  EXPECT_EQ(buckets(log, flat), expected);
  EXPECT_THROW(sync.gradients_final_from(0), std::logic_error);
}

}  // namespace
}  // namespace stilts
