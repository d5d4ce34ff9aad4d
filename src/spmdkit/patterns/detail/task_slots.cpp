#include "spmdkit/patterns/detail/task_slots.hpp"

#include <algorithm>
#include <iterator>

namespace spmd::detail {

void BatchRunner::submit(std::string batch) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
  batch_queued();
}

std::vector<std::string> BatchRunner::take_results() {
  std::vector<std::string> results;
  const std::lock_guard lock(mutex_);
  if (escaped_) std::rethrow_exception(escaped_);
  results.swap(results_);
  return results;
}

void BatchRunner::close() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();
  }
  wake_.notify_all();
}

bool BatchRunner::take_batches(std::deque<std::string>& into, std::size_t most, bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
  if (closing_) return false;
  const std::size_t count = std::min(most, queue_.size());
  std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count),
            std::back_inserter(into));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(count));
  return true;
}

void BatchRunner::finished(std::string results) {
  const std::lock_guard lock(mutex_);
  results_.push_back(std::move(results));
}

void BatchRunner::escaped(std::exception_ptr error) {
  const std::lock_guard lock(mutex_);
  if (!escaped_) escaped_ = std::move(error);
}

TaskSlots::TaskSlots(const RawWork& work, int rank, std::uint32_t slots,
                     const std::function<bool()>& interrupted)
    : work_(work), interrupted_(interrupted), rank_(rank) {
  threads_.reserve(slots);
  for (std::uint32_t i = 0; i < slots; ++i) threads_.emplace_back([this] { serve(); });
}

TaskSlots::~TaskSlots() {
  close();
  threads_.clear();  // joins
}

void TaskSlots::serve() {
  std::deque<std::string> taken;
  while (take_batches(taken, 1, true)) {
    try {
      finished(run_batch(taken.front(), rank_, work_, interrupted_));
    } catch (...) {
      escaped(std::current_exception());  // a damaged batch: the main thread ends the run
    }
    taken.pop_front();
  }
}

}  // namespace spmd::detail
