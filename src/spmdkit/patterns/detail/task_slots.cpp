#include "spmdkit/patterns/detail/task_slots.hpp"

namespace spmd::detail {

TaskSlots::TaskSlots(const RawWork& work, int rank, std::uint32_t slots,
                     const std::function<bool()>& interrupted)
    : work_(work), interrupted_(interrupted), rank_(rank) {
  threads_.reserve(slots);
  for (std::uint32_t i = 0; i < slots; ++i) threads_.emplace_back([this] { serve(); });
}

TaskSlots::~TaskSlots() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  threads_.clear();  // joins
}

void TaskSlots::submit(std::string batch) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
}

std::vector<std::string> TaskSlots::take_results() {
  std::vector<std::string> results;
  const std::lock_guard lock(mutex_);
  if (escaped_) std::rethrow_exception(escaped_);
  results.swap(results_);
  return results;
}

std::size_t TaskSlots::outstanding() const {
  const std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

void TaskSlots::serve() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
    if (closing_) return;
    std::string batch = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    std::string results;
    std::exception_ptr escaped;
    try {
      results = run_batch(batch, rank_, work_, interrupted_);
    } catch (...) {
      escaped = std::current_exception();  // a damaged batch: the main thread ends the run
    }
    lock.lock();
    --running_;
    if (escaped) {
      if (!escaped_) escaped_ = escaped;
    } else {
      results_.push_back(std::move(results));
    }
  }
}

}  // namespace spmd::detail
