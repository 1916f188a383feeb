// Prefetches batches on a background thread into a bounded queue, so reading and padding
// overlap the training step.
//
// The batch source is built, used and destroyed on that thread only, so one CorpusStore never
// meets two threads (HDF5 itself serializes calls across threads: see corpus_reader.h). Every
// queued batch carries the source's state after it, so state() is the position of the
// consumer, not of the prefetcher, and restoring it replays exactly the batches the consumer
// has not taken.
// One consumer thread calls next(), state() and restore().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "data/batcher.h"

namespace stilts::data {

class Loader {
 public:
  using Factory = std::function<std::unique_ptr<BatchSource>()>;

  // Runs `make` on the prefetch thread and keeps up to `prefetch` (>= 1) batches ready.
  // Rethrows what `make` throws.
  Loader(Factory make, size_t prefetch);
  // Stops the thread after the batch it is building, if any.
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Blocks until a batch is ready. An exception of the source reaches the consumer in stream
  // order, after the batches built before it, and again on every later call until a restore.
  TokenBatch next();
  nlohmann::json state() const { return consumer_state_; }
  // Drops the prefetched batches and restores the source on its thread. Rethrows its error,
  // which next() then reports too until a restore succeeds.
  void restore(const nlohmann::json& state);

 private:
  struct Item {
    TokenBatch batch;
    nlohmann::json state;
    std::exception_ptr error;
  };

  void run(const Factory& make);

  const size_t prefetch_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::optional<nlohmann::json> restore_request_;
  bool stop_ = false;
  bool acknowledged_ = false;  // the thread finished starting or restoring
  std::exception_ptr control_error_;
  nlohmann::json consumer_state_;
  std::thread thread_;
};

}  // namespace stilts::data
