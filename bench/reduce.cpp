// Reductions against their baselines, measured in the same run at 2 ranks:
//   RATIO allreduce_vs_mpi       Comm::allreduce of doubles / raw MPI_Allreduce, worst of the
//                                sizes 8 B .. 2 MB, each the median of 100 rounds of four
//                                timings (raw-spmd-spmd-raw, spmd-raw-raw-spmd)
//                                (target <= 1.02; lower is better)
//   RATIO allreduce_mpi_vs_mpi   the control: raw MPI_Allreduce timed against itself the same
//                                way, the worst size (as far from 1 as the measurement resolves)
//   RATIO userop_vs_boost_mpi    element-wise user operation on std::vector of a small struct:
//                                Comm::allreduce / boost::mpi::all_reduce with the same functor
//                                (target <= 0.1: Boost.MPI serializes user types element-wise)
//   RATIO reprosum_vs_best_sum   reproducible (exact) sum of 10^7 doubles over the ranks / the
//                                best plain sum + MPI_Allreduce: 16 independent partial sums,
//                                vectorised, AVX2 where the CPU has it (target <= 1.5)
//   RATIO reprosum_vs_sum        the same against the naive plain sum (one dependent add per
//                                value: the slowest plain sum; kept for comparison)
//   RATIO reprosum_vs_sum_alone  the same local sums on rank 0 while rank 1 sleeps: the
//                                algorithm's own cost, without two ranks sharing the machine
//   RATIO reprosum_buckets_vs_sum_alone  the same without the AVX2 blocks (CPUs without AVX2)
// Medians of alternating rounds.
#include <mpi.h>

#include <algorithm>
#include <array>
#include <boost/mpi/collectives/all_reduce.hpp>
#include <boost/serialization/vector.hpp>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/patterns/exact_sum.hpp>
#include <spmdkit/runtime/app.hpp>
#include <spmdkit/runtime/comm.hpp>
#include <spmdkit/runtime/error.hpp>

#include "bench_support.hpp"

namespace {

// The plain sum as a performance engineer writes it: 16 independent partial sums, so the adds
// overlap instead of each waiting for the one before (vectorised without reassociating
// anything), compiled for AVX2 beside the baseline like ExactSum's own blocks.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
double
best_plain_sum(const double* values, std::size_t count) {
  constexpr std::size_t lanes = 16;
  std::array<double, lanes> partial{};
  std::size_t i = 0;
  for (; i + lanes <= count; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) partial[k] += values[i + k];
  }
  double sum = 0;
  for (const double p : partial) sum += p;
  for (; i < count; ++i) sum += values[i];
  return sum;
}

struct Cell {  // a small user type: a min/max/count record
  double low, high;
  long count;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& low& high& count;
  }
};

struct MergeCells {
  Cell operator()(const Cell& a, const Cell& b) const {
    return {std::min(a.low, b.low), std::max(a.high, b.high), a.count + b.count};
  }
};
// Element-wise on vectors, for Boost.MPI (which reduces whole values).
struct MergeCellVectors {
  std::vector<Cell> operator()(const std::vector<Cell>& a, const std::vector<Cell>& b) const {
    std::vector<Cell> out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = MergeCells{}(a[i], b[i]);
    return out;
  }
};

template <class Fn>
double per_call(MPI_Comm comm, int iterations, Fn&& fn) {
  return bench::seconds_per_call(comm, iterations, fn);
}

void run(spmd::App& app) {
  const auto& comm = app.comm();
  if (comm.size() != 2) throw spmd::UsageError("run this benchmark with exactly 2 ranks");
  constexpr int rounds = 9;

  // 1. allreduce of doubles, 8 B .. 2 MB. Two equal costs compared on a shared machine, where a
  // measurement's place in the sequence biases it (drift; the middle of a run of timings came
  // out 2-5% faster than its ends here): rounds of four timings, raw-other-other-raw and
  // other-raw-raw-other by turns, so the two sides hold the same places on average and linear
  // drift cancels within a round; the ratio of a round is its two "other" timings over its two
  // raw ones, the figure the median over the rounds. Every second pair of rounds the "other" is
  // raw MPI again: the control, the same estimator on two equal calls -- the resolution of the
  // measurement.
  double worst = 0, worst_control = 0;
  std::size_t worst_bytes = 0;
  constexpr int rounds_per_size = 200;
  constexpr double seconds_per_timing = 2e-3;  // long enough to average over short hiccups
  for (std::size_t count = 1; count <= (std::size_t{1} << 20); count *= 8) {
    std::vector<double> in(count, comm.rank() + 1.0), out(count);
    const auto raw_call = [&] {
      MPI_Allreduce(in.data(), out.data(), static_cast<int>(count), MPI_DOUBLE, MPI_SUM, comm);
    };
    // Every timing about equally long (the same number of calls on every rank: rank 0's clock).
    const double warm_call = per_call(comm, 20, raw_call);
    const int iterations = std::max(1, static_cast<int>(seconds_per_timing / warm_call));
    const auto spmd_call = [&] {
      comm.allreduce<double>(std::span<const double>(in), std::span<double>(out), std::plus<>{});
    };
    std::vector<double> raw, ours, ratios, control_ratios;
    for (int round = 0; round < rounds_per_size; ++round) {
      const bool control = (round / 2) % 2 == 1;
      const bool raw_outside = round % 2 == 0;
      std::array<double, 4> seconds{};
      for (std::size_t place = 0; place < seconds.size(); ++place) {
        const bool outside = place == 0 || place == 3;
        seconds[place] = (outside == raw_outside || control)
                             ? per_call(comm, iterations, raw_call)
                             : per_call(comm, iterations, spmd_call);
      }
      const double outer = seconds[0] + seconds[3], inner = seconds[1] + seconds[2];
      const double raw_pair = raw_outside ? outer : inner, other_pair = raw_outside ? inner : outer;
      (control ? control_ratios : ratios).push_back(other_pair / raw_pair);
      if (!control) {
        raw.push_back(raw_pair / 2);
        ours.push_back(other_pair / 2);
      }
    }
    const double ratio = bench::median(ratios);
    const double control_ratio = bench::median(control_ratios);
    if (app.is_root()) {
      fmt::print(
          "allreduce {:>9} B: raw {:9.3f} us, spmd {:9.3f} us, ratio {:.3f} (raw against "
          "itself: {:.3f})\n",
          count * sizeof(double), bench::median(raw) * 1e6, bench::median(ours) * 1e6, ratio,
          control_ratio);
    }
    if (ratio > worst) {
      worst = ratio;
      worst_bytes = count * sizeof(double);
    }
    worst_control = std::max(worst_control, std::max(control_ratio, 1.0 / control_ratio));
  }

  // 2. user operation on a vector of small structs.
  constexpr std::size_t cells = 4096;
  std::vector<Cell> mine(cells);
  for (std::size_t i = 0; i < cells; ++i) {
    const auto at = static_cast<double>(i);
    mine[i] = {comm.rank() - at, comm.rank() + at, static_cast<long>(i)};
  }
  std::vector<double> boost_times, spmd_times;
  std::vector<Cell> boost_result, spmd_result;
  for (int r = 0; r < rounds; ++r) {
    boost_times.push_back(per_call(comm, 20, [&] {
      boost::mpi::all_reduce(comm.boost(), mine, boost_result, MergeCellVectors{});
    }));
    spmd_times.push_back(
        per_call(comm, 20, [&] { spmd_result = comm.allreduce(mine, MergeCells{}); }));
  }
  for (std::size_t i = 0; i < cells; ++i) {
    if (boost_result[i].count != spmd_result[i].count ||
        boost_result[i].low != spmd_result[i].low) {
      throw spmd::Error("user-op results differ");
    }
  }

  // 3. reproducible sum of 10^7 doubles (split over the ranks), ill-conditioned data.
  const std::size_t total = 10'000'000, local = total / comm.size();
  std::vector<double> values(local);
  std::mt19937_64 random(11 + comm.rank());
  std::uniform_real_distribution<double> unit(-1, 1);
  for (auto& v : values) v = unit(random) * std::ldexp(1.0, static_cast<int>(random() % 80) - 40);
  std::vector<double> plain_times, best_times, exact_times;
  double plain = 0, best = 0, exact = 0;
  for (int r = 0; r < 5; ++r) {
    plain_times.push_back(bench::timed(comm, [&] {
      double s = 0;
      for (const double v : values) s += v;
      MPI_Allreduce(&s, &plain, 1, MPI_DOUBLE, MPI_SUM, comm);
    }));
    best_times.push_back(bench::timed(comm, [&] {
      double s = best_plain_sum(values.data(), values.size());
      MPI_Allreduce(&s, &best, 1, MPI_DOUBLE, MPI_SUM, comm);
    }));
    exact_times.push_back(bench::timed(comm, [&] {
      spmd::ExactSum sum;
      sum.add(values);
      sum.all_reduce(comm);
      exact = sum.value();
    }));
  }
  // The local sums alone: rank 0 times them while every other rank sleeps (an MPI wait would
  // spin and take the core's other half).
  double alone = 0, buckets_alone = 0;
  if (comm.rank() == 0) {
    std::vector<double> plain_alone, exact_alone, buckets_only;
    double sink = 0;
    for (int r = 0; r < 7; ++r) {
      auto start = std::chrono::steady_clock::now();
      double s = 0;
      for (const double v : values) s += v;
      sink += s;  // keeps the loop between the clock reads
      auto middle = std::chrono::steady_clock::now();
      spmd::ExactSum sum;
      sum.add(values);
      sink += sum.value();
      auto end = std::chrono::steady_clock::now();
      spmd::ExactSum by_buckets;
      spmd::detail::add_with_buckets(by_buckets, values);
      sink += by_buckets.value();
      auto last = std::chrono::steady_clock::now();
      plain_alone.push_back(std::chrono::duration<double>(middle - start).count());
      exact_alone.push_back(std::chrono::duration<double>(end - middle).count());
      buckets_only.push_back(std::chrono::duration<double>(last - end).count());
    }
    alone = bench::median(exact_alone) / bench::median(plain_alone);
    buckets_alone = bench::median(buckets_only) / bench::median(plain_alone);
    if (std::isnan(sink)) fmt::print("(nan)\n");
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  }
  MPI_Barrier(comm);

  if (app.is_root()) {
    fmt::print("user op on {} cells: Boost.MPI {:.3f} ms, spmd {:.3f} ms\n", cells,
               bench::median(boost_times) * 1e3, bench::median(spmd_times) * 1e3);
    fmt::print(
        "sum of 10^7 doubles: plain {:.2f} ms ({:.17g}), best plain {:.2f} ms ({:.17g}), exact "
        "{:.2f} ms ({:.17g})\n",
        bench::median(plain_times) * 1e3, plain, bench::median(best_times) * 1e3, best,
        bench::median(exact_times) * 1e3, exact);
    fmt::print("RATIO allreduce_vs_mpi {:.3f}  (worst at {} B)\n", worst, worst_bytes);
    fmt::print("RATIO allreduce_mpi_vs_mpi {:.3f}  (the control: raw against raw, worst size)\n",
               worst_control);
    fmt::print("RATIO userop_vs_boost_mpi {:.4f}\n",
               bench::median(spmd_times) / bench::median(boost_times));
    fmt::print("RATIO reprosum_vs_best_sum {:.3f}\n",
               bench::median(exact_times) / bench::median(best_times));
    fmt::print("RATIO reprosum_vs_sum {:.3f}\n",
               bench::median(exact_times) / bench::median(plain_times));
    fmt::print("RATIO reprosum_vs_sum_alone {:.3f}\n", alone);
    fmt::print("RATIO reprosum_buckets_vs_sum_alone {:.3f}\n", buckets_alone);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "bench-reduce",
                    .description = "Reductions against raw MPI, Boost.MPI and a plain sum"},
                   run);
}
