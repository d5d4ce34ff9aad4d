// Split-phase halo exchange (subarray datatypes, all neighbours at once) against a hand-written
// exchange of the same faces with MPI_Sendrecv, same run, 2 ranks, lower is better:
//   RATIO halo_vs_sendrecv          split along y: contiguous row faces        (target <= 1.10)
//   RATIO halo_vs_sendrecv_columns  split along x: strided column faces, which the hand-written
//                                   version packs into buffers itself
// A 2-D field of doubles, 1 ghost layer, STAR stencil; rounds alternate the two, medians kept.
// Temporal blocking's side (spmd-heat --time-block K): a K-deep exchange (edges and corners
// too, as heat does it) once per K steps against the 1-deep one every step, per step:
//   RATIO halo_per_step_k8_vs_k1    (8-deep exchange / 8) / 1-deep exchange, n = 256: where
//                                   messages are small their count is what costs (lower is
//                                   better; about 1/8 when latency dominates)
// With --across-hosts (the two ranks on different hosts: slurm/cluster/lab mpirun --map-by node)
// the faces cross the network and the ratios are named halo_vs_sendrecv_tcp (target <= 1.10),
// halo_vs_sendrecv_columns_tcp and halo_per_step_k8_vs_k1_tcp.
//   mpirun -np 2 bench_halo [--n 2048] [--rounds 9] [--iterations 200] [--across-hosts]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "bench_support.hpp"

namespace {

using spmd::decomp::Index;

// One configuration: the grid split over the ranks along `axis` (0: y, faces are contiguous
// rows; 1: x, faces are strided columns), periodic along that axis only, so both versions
// exchange exactly the same two faces per rank.
double ratio(spmd::App& app, Index n, int rounds, int iterations, int axis) {
  const auto& comm = app.comm();
  spmd::decomp::CartSpec<2> spec{
      .cells = {n, n}, .ghost = {1, 1}, .stencil = spmd::decomp::Stencil::star};
  spec.periodic[static_cast<std::size_t>(axis)] = true;
  spec.procs = axis == 0 ? std::array<int, 2>{comm.size(), 1} : std::array<int, 2>{1, comm.size()};
  spmd::decomp::CartDecomposition<2> cart(comm, spec);
  const auto& sub = cart.subdomain();
  std::vector<double> field(static_cast<std::size_t>(sub.local_cells()), 1.0);
  spmd::decomp::HaloExchange<double, 2> halo(cart);

  const auto e = sub.local_extents();
  const Index ny = e[0], nx = e[1];
  const spmd::decomp::Offset<2> low =
      axis == 0 ? spmd::decomp::Offset<2>{-1, 0} : spmd::decomp::Offset<2>{0, -1};
  const spmd::decomp::Offset<2> high =
      axis == 0 ? spmd::decomp::Offset<2>{1, 0} : spmd::decomp::Offset<2>{0, 1};
  const int before = sub.neighbour(low)->rank, after = sub.neighbour(high)->rank;
  const MPI_Comm c = cart.comm();
  auto at = [&](Index y, Index x) { return field.data() + y * nx + x; };
  std::vector<double> out(static_cast<std::size_t>(ny)), in(static_cast<std::size_t>(ny));
  auto by_hand = [&] {
    if (axis == 0) {  // contiguous rows straight from the field
      const int row = static_cast<int>(nx - 2);
      MPI_Sendrecv(at(1, 1), row, MPI_DOUBLE, before, 0, at(ny - 1, 1), row, MPI_DOUBLE, after, 0,
                   c, MPI_STATUS_IGNORE);
      MPI_Sendrecv(at(ny - 2, 1), row, MPI_DOUBLE, after, 1, at(0, 1), row, MPI_DOUBLE, before, 1,
                   c, MPI_STATUS_IGNORE);
    } else {  // strided columns, packed and unpacked by hand
      const int column = static_cast<int>(ny - 2);
      for (Index y = 1; y < ny - 1; ++y) out[static_cast<std::size_t>(y)] = *at(y, 1);
      MPI_Sendrecv(out.data() + 1, column, MPI_DOUBLE, before, 0, in.data() + 1, column, MPI_DOUBLE,
                   after, 0, c, MPI_STATUS_IGNORE);
      for (Index y = 1; y < ny - 1; ++y) *at(y, nx - 1) = in[static_cast<std::size_t>(y)];
      for (Index y = 1; y < ny - 1; ++y) out[static_cast<std::size_t>(y)] = *at(y, nx - 2);
      MPI_Sendrecv(out.data() + 1, column, MPI_DOUBLE, after, 1, in.data() + 1, column, MPI_DOUBLE,
                   before, 1, c, MPI_STATUS_IGNORE);
      for (Index y = 1; y < ny - 1; ++y) *at(y, 0) = in[static_cast<std::size_t>(y)];
    }
  };
  std::vector<double> ours, theirs;
  for (int r = 0; r < rounds; ++r) {
    ours.push_back(bench::seconds_per_call(comm, iterations, [&] { halo.begin(field).end(); }));
    theirs.push_back(bench::seconds_per_call(comm, iterations, by_hand));
  }
  const double a = bench::median(ours), b = bench::median(theirs);
  if (app.is_root()) {
    fmt::print(
        "{}x{} doubles, {} ranks along {} ({} faces): halo begin+end {:.2f} us, "
        "MPI_Sendrecv {:.2f} us\n",
        n, n, comm.size(), axis == 0 ? "y" : "x", axis == 0 ? "contiguous" : "strided", a * 1e6,
        b * 1e6);
  }
  return a / b;
}

// Seconds of one exchange of a `ghost`-deep halo of an n x n periodic grid split along y (as
// spmd-heat: star stencil for one layer, box for more).
double exchange_seconds(const spmd::Comm& comm, Index n, int ghost, int rounds, int iterations) {
  spmd::decomp::CartSpec<2> spec{
      .cells = {n, n},
      .periodic = {true, true},
      .ghost = {ghost, ghost},
      .stencil = ghost > 1 ? spmd::decomp::Stencil::box : spmd::decomp::Stencil::star};
  spec.procs = {comm.size(), 1};
  spmd::decomp::CartDecomposition<2> cart(comm, spec);
  std::vector<double> field(static_cast<std::size_t>(cart.subdomain().local_cells()), 1.0);
  spmd::decomp::HaloExchange<double, 2> halo(cart);
  std::vector<double> times;
  for (int r = 0; r < rounds; ++r) {
    times.push_back(bench::seconds_per_call(comm, iterations, [&] { halo.begin(field).end(); }));
  }
  return bench::median(times);
}

void run(spmd::App& app, Index n, int rounds, int iterations, bool across_hosts) {
  if (across_hosts) bench::require_ranks_0_and_1_on_different_hosts(app.provenance());
  const double rows = ratio(app, n, rounds, iterations, 0);
  const double columns = ratio(app, n, rounds, iterations, 1);
  constexpr Index small = 256;
  constexpr int depth = 8;
  const double one = exchange_seconds(app.comm(), small, 1, rounds, iterations);
  const double deep = exchange_seconds(app.comm(), small, depth, rounds, iterations);
  const char* suffix = across_hosts ? "_tcp" : "";
  if (app.is_root()) {
    fmt::print(
        "{0}x{0}: 1-deep exchange {1:.2f} us per step, {2}-deep {3:.2f} us = {4:.2f} us "
        "per step\n",
        small, one * 1e6, depth, deep * 1e6, deep / depth * 1e6);
    fmt::print("RATIO halo_vs_sendrecv_columns{} {:.3f}\n", suffix, columns);
    fmt::print("RATIO halo_vs_sendrecv{} {:.3f}\n", suffix, rows);
    fmt::print("RATIO halo_per_step_k8_vs_k1{} {:.3f}\n", suffix, deep / depth / one);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Index n = 2048;
  int rounds = 9;
  int iterations = 200;
  bool across_hosts = false;
  return spmd::run(
      argc, argv, {.name = "bench-halo", .description = "halo exchange vs MPI_Sendrecv"},
      [&](CLI::App& cli) {
        cli.add_option("--n", n)->capture_default_str();
        cli.add_option("--rounds", rounds)->capture_default_str();
        cli.add_option("--iterations", iterations)->capture_default_str();
        cli.add_flag("--across-hosts", across_hosts,
                     "the two ranks are on different hosts: report the _tcp ratios");
      },
      [&](spmd::App& app) { run(app, n, rounds, iterations, across_hosts); });
}
