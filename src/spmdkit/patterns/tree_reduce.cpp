#include "spmdkit/patterns/tree_reduce.hpp"

#include <cstdint>

#include "spmdkit/runtime/check.hpp"

namespace spmd::detail {

void send_bytes(MPI_Comm comm, int dest, int tag, const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw Error("tree reduction: a value over 2 GiB cannot travel in one message");
  }
  check_mpi(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, comm),
            "MPI_Send");
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

void broadcast_bytes(MPI_Comm comm, std::string& bytes, int root) {
  auto size = static_cast<std::uint64_t>(bytes.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  bytes.resize(size);
  if (size > 0) {
    check_mpi(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, comm), "MPI_Bcast");
  }
}

}  // namespace spmd::detail
