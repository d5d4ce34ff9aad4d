#include "spmdkit/runtime/comm.hpp"

#include <array>
#include <climits>
#include <cstdint>
#include <numeric>
#include <thread>

#include "spmdkit/runtime/environment.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/exit_codes.hpp"

namespace spmd {

namespace {

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> at(counts.size(), 0);
  long long total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (total > INT_MAX) throw Error("a collective exchange of more than 2 GiB");
    at[r] = static_cast<int>(total);
    total += counts[r];
  }
  return at;
}

}  // namespace

Comm::Comm(boost::mpi::communicator comm)
    : comm_(std::move(comm)), native_(static_cast<MPI_Comm>(comm_)) {
  if (native_ != MPI_COMM_NULL) {
    check_mpi(MPI_Comm_rank(native_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(native_, &size_), "MPI_Comm_size");
  }
}

void Comm::throw_too_large_for_one_message() {
  throw Error("a message over 2 GiB cannot be sent in one piece");
}

void Comm::throw_null_communicator() {
  throw Error("the rank or size of a null communicator (MPI_COMM_NULL) was asked for");
}

Comm Comm::attach(MPI_Comm comm) {
  return Comm(boost::mpi::communicator(comm, boost::mpi::comm_attach));
}

Comm Comm::self() { return attach(MPI_COMM_SELF); }

Comm Comm::duplicate() const { return Comm(duplicate_with_errors_return(native())); }

Comm Comm::split(int color) const {
  MPI_Comm part = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(native(), color, rank(), &part), "MPI_Comm_split");
  if (part == MPI_COMM_NULL) return Comm();
  return Comm(boost::mpi::communicator(part, boost::mpi::comm_take_ownership));
}

void Comm::barrier() const { check_mpi(MPI_Barrier(native()), "MPI_Barrier"); }

// --- Collectives ------------------------------------------------------------------------------

void Comm::broadcast_raw(void* data, std::size_t bytes, int root) const {
  check_mpi(MPI_Bcast(data, count(bytes), MPI_BYTE, root, native()), "MPI_Bcast");
}

void Comm::broadcast_bytes(std::string& bytes, int root) const {
  auto size = static_cast<std::uint64_t>(bytes.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_UINT64_T, root, native()), "MPI_Bcast");
  bytes.resize(size);
  if (size > 0) broadcast_raw(bytes.data(), size, root);
}

void Comm::allgather_raw(const void* mine, void* all, std::size_t bytes) const {
  check_mpi(MPI_Allgather(mine, count(bytes), MPI_BYTE, all, count(bytes), MPI_BYTE, native()),
            "MPI_Allgather");
}

std::string Comm::gather_bytes(std::string_view mine, int root) const {
  const int mine_count = count(mine.size());
  const bool is_root = rank() == root;
  std::vector<int> counts(is_root ? static_cast<std::size_t>(size()) : 0);
  check_mpi(MPI_Gather(&mine_count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, native()),
            "MPI_Gather");
  std::vector<int> at;
  std::string all;
  if (is_root) {
    at = displacements(counts);
    all.resize(static_cast<std::size_t>(std::accumulate(counts.begin(), counts.end(), 0LL)));
  }
  check_mpi(MPI_Gatherv(mine.data(), mine_count, MPI_BYTE, all.data(), counts.data(), at.data(),
                        MPI_BYTE, root, native()),
            "MPI_Gatherv");
  return all;
}

std::string Comm::exchange_bytes(const std::vector<std::string>& out) const {
  std::vector<int> send_counts(out.size());
  std::string send;
  for (std::size_t r = 0; r < out.size(); ++r) {
    send_counts[r] = count(out[r].size());
    send += out[r];
  }
  std::vector<int> receive_counts(out.size());
  check_mpi(
      MPI_Alltoall(send_counts.data(), 1, MPI_INT, receive_counts.data(), 1, MPI_INT, native()),
      "MPI_Alltoall");
  const auto send_at = displacements(send_counts);
  const auto receive_at = displacements(receive_counts);
  std::string received(
      static_cast<std::size_t>(std::accumulate(receive_counts.begin(), receive_counts.end(), 0LL)),
      '\0');
  check_mpi(
      MPI_Alltoallv(send.data(), send_counts.data(), send_at.data(), MPI_BYTE, received.data(),
                    receive_counts.data(), receive_at.data(), MPI_BYTE, native()),
      "MPI_Alltoallv");
  return received;
}

// --- Messages ---------------------------------------------------------------------------------

void Comm::send_bytes(int dest, int tag, std::string_view bytes) const {
  check_mpi(MPI_Send(bytes.data(), count(bytes.size()), MPI_BYTE, dest, tag, native()), "MPI_Send");
}

Request Comm::isend_bytes(int dest, int tag, std::string_view bytes) const {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Isend(bytes.data(), count(bytes.size()), MPI_BYTE, dest, tag, native(), &request),
            "MPI_Isend");
  return Request(request, Request::Kind::send);
}

namespace {

void receive_matched(MPI_Message& handle, MPI_Status& status, Message& into) {
  int bytes = 0;
  check_mpi(MPI_Get_count(&status, MPI_BYTE, &bytes), "MPI_Get_count");
  into.source = status.MPI_SOURCE;
  into.tag = status.MPI_TAG;
  // (Zero-fills only what the buffer grows by; its capacity stays.)
  into.bytes.resize(static_cast<std::size_t>(bytes));
  check_mpi(MPI_Mrecv(into.bytes.data(), bytes, MPI_BYTE, &handle, &status), "MPI_Mrecv");
}

Message receive_matched(MPI_Message& handle, MPI_Status& status) {
  Message message;
  receive_matched(handle, status, message);
  return message;
}

}  // namespace

Message Comm::receive(int source, int tag) const {
  MPI_Message handle = MPI_MESSAGE_NULL;
  MPI_Status status;
  check_mpi(MPI_Mprobe(source, tag, native(), &handle, &status), "MPI_Mprobe");
  return receive_matched(handle, status);
}

std::optional<Message> Comm::receive_if_arrived(int source, int tag) const {
  Message message;
  if (!receive_if_arrived(message, source, tag)) return std::nullopt;
  return message;
}

bool Comm::receive_if_arrived(Message& into, int source, int tag) const {
  int arrived = 0;
  MPI_Message handle = MPI_MESSAGE_NULL;
  MPI_Status status;
  check_mpi(MPI_Improbe(source, tag, native(), &arrived, &handle, &status), "MPI_Improbe");
  if (arrived == 0) return false;
  receive_matched(handle, status, into);
  return true;
}

Request Comm::isend(const void* data, const Datatype& type, int dest, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Isend(data, 1, type.get(), dest, tag, native(), &request), "MPI_Isend");
  return Request(request, Request::Kind::send);
}

Request Comm::ireceive(void* data, const Datatype& type, int source, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Irecv(data, 1, type.get(), source, tag, native(), &request), "MPI_Irecv");
  return Request(request, Request::Kind::receive);
}

// --- Cartesian topologies ---------------------------------------------------------------------

std::vector<int> Comm::balanced_grid(int ranks, std::vector<int> dims) {
  check_mpi(MPI_Dims_create(ranks, static_cast<int>(dims.size()), dims.data()), "MPI_Dims_create");
  return dims;
}

Comm Comm::cartesian(std::span<const int> dims, std::span<const int> periodic) const {
  MPI_Comm cart = MPI_COMM_NULL;
  check_mpi(MPI_Cart_create(native(), static_cast<int>(dims.size()), dims.data(), periodic.data(),
                            0, &cart),
            "MPI_Cart_create");
  // Inherits MPI_ERRORS_RETURN from this communicator; freed with the last copy.
  return Comm(boost::mpi::communicator(cart, boost::mpi::comm_take_ownership));
}

std::vector<int> Comm::coordinates(int of_rank, int ndims) const {
  std::vector<int> coords(static_cast<std::size_t>(ndims));
  check_mpi(MPI_Cart_coords(native(), of_rank, ndims, coords.data()), "MPI_Cart_coords");
  return coords;
}

int Comm::rank_at(std::span<const int> coordinates) const {
  int at = MPI_PROC_NULL;
  check_mpi(MPI_Cart_rank(native(), coordinates.data(), &at), "MPI_Cart_rank");
  return at;
}

// --- Agreeing on a failure --------------------------------------------------------------------

std::optional<FailureAgreement> Comm::agree_on_failure(
    FailureVote local, std::optional<std::chrono::milliseconds> patience) const {
  const int ranks = size();
  // One MIN reduction answers both questions: the lowest failed rank, and (negated) the largest
  // exit code. Non-blocking, so that a deadline can end the wait.
  // On the heap: if we give up waiting, the request stays pending and a late completion still
  // writes into these buffers, so they are then kept for the life of the process (the job is
  // about to end), reachable so that a leak checker does not report them.
  struct Buffers {
    std::array<int, 2> mine;
    std::array<int, 2> agreed;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  auto buffers = std::make_unique<Buffers>();
  buffers->mine = {local.failed ? rank() : ranks, -local.exit_code};
  check_mpi(MPI_Iallreduce(buffers->mine.data(), buffers->agreed.data(), 2, MPI_INT, MPI_MIN,
                           native(), &buffers->request),
            "MPI_Iallreduce");
  if (!patience) {
    check_mpi(MPI_Wait(&buffers->request, MPI_STATUS_IGNORE), "MPI_Wait");
  } else {
    const auto deadline = std::chrono::steady_clock::now() + *patience;
    int done = 0;
    while (true) {
      check_mpi(MPI_Test(&buffers->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done != 0) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        static std::vector<std::unique_ptr<Buffers>> abandoned;  // still in use by the requests
        abandoned.push_back(std::move(buffers));
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const auto& agreed = buffers->agreed;
  return FailureAgreement{-agreed[1], agreed[0] < ranks ? agreed[0] : -1};
}

void Comm::throw_first_failure(const std::exception_ptr& local, std::string message) const {
  const int local_code = local ? exit_code_of(local) : exit_code::ok;
  const auto agreed = agree_on_failure({local_code, local != nullptr});
  if (!agreed->failed()) return;
  broadcast_bytes(message, agreed->first_failed_rank);
  // The exit code of the first failing rank decides the kind: bad input stays bad input.
  const int first_code = broadcast(local_code, agreed->first_failed_rank);
  if (first_code == exit_code::usage) throw UsageError(message);
  throw Error(message);
}

int exit_code_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const UsageError&) {
    return exit_code::usage;
  } catch (...) {
    return exit_code::failure;
  }
}

}  // namespace spmd
