#include "spmdkit/patterns/detail/messaging.hpp"

#include <algorithm>
#include <thread>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/error.hpp"

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
  for (auto& send : pending_) MPI_Request_free(&send.request);
  static std::deque<Pending> abandoned;
  for (auto& send : pending_) abandoned.push_back(std::move(send));
}

void SendQueue::send(int dest, int tag, std::string buffer) {
  if (buffer.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw Error("a message over 2 GiB cannot be sent in one piece");
  }
  pending_.push_back({MPI_REQUEST_NULL, std::move(buffer)});
  Pending& p = pending_.back();
  check_mpi(MPI_Isend(p.buffer.data(), static_cast<int>(p.buffer.size()), MPI_BYTE, dest, tag,
                      comm_, &p.request),
            "MPI_Isend");
}

void SendQueue::progress() {
  while (!pending_.empty()) {
    int done = 0;
    check_mpi(MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done == 0) return;
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

std::optional<std::pair<MPI_Status, std::string>> receive_if_arrived(MPI_Comm comm, int source,
                                                                      int tag) {
  int arrived = 0;
  MPI_Message message = MPI_MESSAGE_NULL;
  MPI_Status status;
  check_mpi(MPI_Improbe(source, tag, comm, &arrived, &message, &status), "MPI_Improbe");
  if (arrived == 0) return std::nullopt;
  int count = 0;
  check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::string buffer(static_cast<std::size_t>(count), '\0');
  check_mpi(MPI_Mrecv(buffer.data(), count, MPI_BYTE, &message, &status), "MPI_Mrecv");
  return std::make_pair(status, std::move(buffer));
}

std::string receive_bytes(MPI_Comm comm, int source, int tag) {
  MPI_Message message = MPI_MESSAGE_NULL;
  MPI_Status status;
  check_mpi(MPI_Mprobe(source, tag, comm, &message, &status), "MPI_Mprobe");
  int count = 0;
  check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::string bytes(static_cast<std::size_t>(count), '\0');
  check_mpi(MPI_Mrecv(bytes.data(), count, MPI_BYTE, &message, &status), "MPI_Mrecv");
  return bytes;
}

void send_bytes(MPI_Comm comm, int dest, int tag, const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw Error("a message over 2 GiB cannot be sent in one piece");
  }
  check_mpi(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, comm),
            "MPI_Send");
}

void broadcast_bytes(MPI_Comm comm, std::string& bytes, int root) {
  auto size = static_cast<std::uint64_t>(bytes.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  bytes.resize(size);
  if (size > 0) {
    check_mpi(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, comm), "MPI_Bcast");
  }
}

}  // namespace spmd::detail
