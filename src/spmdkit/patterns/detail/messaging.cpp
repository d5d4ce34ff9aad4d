#include "spmdkit/patterns/detail/messaging.hpp"

#include <algorithm>
#include <thread>

namespace spmd::detail {

void Backoff::idle() {
  const auto now = Clock::now();
  if (spins_ == 0) quiet_since_ = now;
  ++spins_;
  if (now - quiet_since_ < spin_window) {
    if (spins_ > 8) std::this_thread::yield();
    return;
  }
  std::this_thread::sleep_for(pause_);
  pause_ = std::min(pause_ * 2, max_pause);
}

SendQueue::~SendQueue() {
  if (pending_.empty()) return;
  for (auto& send : pending_) send.request.release();
  // Still read by MPI: kept where they are (moving a deque keeps its elements in place; moving a
  // short string would not).
  static std::deque<std::deque<Pending>> abandoned;
  abandoned.push_back(std::move(pending_));
}

void SendQueue::send(int dest, int tag, std::string buffer) {
  pending_.push_back({std::move(buffer), Request()});
  Pending& p = pending_.back();
  p.request = comm_.isend_bytes(dest, tag, p.buffer);
}

std::string SendQueue::buffer() {
  if (spares_.empty()) return {};
  std::string spare = std::move(spares_.back());
  spares_.pop_back();
  return spare;
}

void SendQueue::progress() {
  while (!pending_.empty() && pending_.front().request.test()) {
    if (spares_.size() < spares_kept && pending_.front().buffer.capacity() <= spare_capacity) {
      spares_.push_back(std::move(pending_.front().buffer));
      spares_.back().clear();
    }
    pending_.pop_front();
  }
}

bool SendQueue::wait_all(Clock::time_point deadline) {
  Backoff backoff;
  while (!pending_.empty()) {
    const std::size_t before = pending_.size();
    progress();
    if (pending_.size() < before) {
      backoff.reset();
      continue;
    }
    if (Clock::now() > deadline) return false;
    backoff.idle();
  }
  return true;
}

}  // namespace spmd::detail
