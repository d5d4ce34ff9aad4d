// Is Boost.MPI (the user's chosen C++ MPI layer, which the runtime builds on) as fast as raw MPI
// for what spmdkit sends through it? Measured against raw MPI in the same run, 2 ranks:
//   RATIO boost_pingpong_vs_raw    8-byte ping-pong round trip, Boost.MPI / raw   (target <= 1.10)
//   RATIO boost_allreduce_vs_raw   allreduce of one double, Boost.MPI / raw       (target <= 1.10)
// Lower is better; 1.0 means no overhead. Rounds alternate the two sides and the median is kept,
// so drift of a shared machine hits both alike.
#include <mpi.h>

#include <algorithm>
#include <boost/mpi/collectives/all_reduce.hpp>
#include <boost/mpi/collectives/broadcast.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/runtime/app.hpp>
#include <spmdkit/runtime/error.hpp>

#include "bench_support.hpp"

namespace {

constexpr int rounds = 15;
constexpr int iterations = 20000;

void run(spmd::App& app) {
  const boost::mpi::communicator& comm = app.comm().boost();
  if (comm.size() != 2) throw spmd::UsageError("run this benchmark with exactly 2 ranks");
  const int peer = 1 - comm.rank();
  std::int64_t token = 0;

  auto raw_pingpong = [&] { bench::raw_pingpong(comm); };
  auto boost_pingpong = [&] {
    if (comm.rank() == 0) {
      comm.send(peer, 0, token);
      comm.recv(peer, 0, token);
    } else {
      comm.recv(peer, 0, token);
      comm.send(peer, 0, token);
    }
  };
  double value = comm.rank() + 1.0;
  double sum = 0;
  auto raw_allreduce = [&] { MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, comm); };
  auto boost_allreduce = [&] { boost::mpi::all_reduce(comm, value, sum, std::plus<double>()); };

  std::vector<double> raw_pp, boost_pp, raw_ar, boost_ar;
  for (int round = 0; round < rounds; ++round) {
    raw_pp.push_back(bench::seconds_per_call(comm, iterations, raw_pingpong));
    boost_pp.push_back(bench::seconds_per_call(comm, iterations, boost_pingpong));
    raw_ar.push_back(bench::seconds_per_call(comm, iterations, raw_allreduce));
    boost_ar.push_back(bench::seconds_per_call(comm, iterations, boost_allreduce));
  }
  const double pp_raw = bench::median(raw_pp), pp_boost = bench::median(boost_pp);
  const double ar_raw = bench::median(raw_ar), ar_boost = bench::median(boost_ar);
  if (app.is_root()) {
    fmt::print("ping-pong 8 B round trip: raw MPI {:.3f} us, Boost.MPI {:.3f} us\n", pp_raw * 1e6,
               pp_boost * 1e6);
    fmt::print("allreduce 1 double:       raw MPI {:.3f} us, Boost.MPI {:.3f} us\n", ar_raw * 1e6,
               ar_boost * 1e6);
    fmt::print("RATIO boost_pingpong_vs_raw {:.3f}\n", pp_boost / pp_raw);
    fmt::print("RATIO boost_allreduce_vs_raw {:.3f}\n", ar_boost / ar_raw);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "bench-runtime-mpi",
                    .description = "Boost.MPI against raw MPI: ping-pong and allreduce"},
                   run);
}
