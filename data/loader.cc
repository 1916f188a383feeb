#include "data/loader.h"

#include <stdexcept>
#include <utility>

namespace stilts::data {

Loader::Loader(Factory make, size_t prefetch) : prefetch_(prefetch) {
  if (prefetch_ == 0) throw std::invalid_argument("Loader: prefetch must be at least 1");
  thread_ = std::thread([this, make = std::move(make)] { run(make); });
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return acknowledged_; });
  if (control_error_) {
    lock.unlock();
    thread_.join();
    std::rethrow_exception(control_error_);
  }
}

Loader::~Loader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Loader::run(const Factory& make) {
  std::unique_ptr<BatchSource> source;
  {
    nlohmann::json initial;
    std::exception_ptr error;
    try {
      source = make();
      initial = source->state();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    consumer_state_ = std::move(initial);
    control_error_ = error;
    acknowledged_ = true;
    changed_.notify_all();
    if (error) return;
  }
  bool failed = false;  // after an error the source's position is unknown: wait for a restore
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(
        lock, [&] { return stop_ || restore_request_ || (!failed && queue_.size() < prefetch_); });
    if (stop_) break;
    if (restore_request_) {
      const nlohmann::json state = std::move(*restore_request_);
      restore_request_.reset();
      lock.unlock();
      std::exception_ptr error;
      try {
        source->restore(state);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      queue_.clear();
      // The consumer's next() must report the failure rather than wait for a batch.
      if (error) queue_.push_back({{}, {}, error});
      failed = error != nullptr;
      control_error_ = error;
      acknowledged_ = true;
      changed_.notify_all();
      continue;
    }
    lock.unlock();
    Item item;
    try {
      item.batch = source->next();
      item.state = source->state();
    } catch (...) {
      item.error = std::current_exception();
    }
    lock.lock();
    // A restore asked for meanwhile makes this batch one the consumer must not see.
    if (restore_request_) continue;
    failed = item.error != nullptr;
    queue_.push_back(std::move(item));
    changed_.notify_all();
  }
}

TokenBatch Loader::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty(); });
  // The failed item stays queued, so every later call reports it too.
  if (queue_.front().error) std::rethrow_exception(queue_.front().error);
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  consumer_state_ = std::move(item.state);
  return std::move(item.batch);
}

void Loader::restore(const nlohmann::json& state) {
  std::unique_lock lock(mutex_);
  restore_request_ = state;
  acknowledged_ = false;
  changed_.notify_all();
  changed_.wait(lock, [&] { return acknowledged_; });
  if (control_error_) std::rethrow_exception(control_error_);
  consumer_state_ = state;
}

}  // namespace stilts::data
