// spmd-pi: a Monte Carlo estimate of pi -- the classic first parallel program, as a reduction.
//
//   mpirun -np 4 spmd-pi --samples 100000000 --seed 7 --output results/pi.h5
//   mpirun -np 4 spmd-pi --dims 5 --samples 10000000        (volume of the unit 5-ball)
//
// Sample i's point comes from a counter-based generator (Philox) indexed by i, the samples are
// split in contiguous blocks over the ranks, and only integer hit counts are reduced: the
// estimate, its standard error and the convergence table are bit-identical for any rank count.
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

namespace {

struct Options {
  std::uint64_t samples = 10'000'000;
  std::uint64_t seed = 1;
  int dims = 2;
  void declare(CLI::App& cli) {
    cli.add_option("--samples", samples, "random points")
        ->check(CLI::Validator(
            [](std::string& text) {
              return text.find_first_not_of("0123456789") == std::string::npos &&
                             text.find_first_not_of('0') != std::string::npos
                         ? std::string()
                         : "must be a positive integer, got " + text;
            },
            "POSITIVE"))
        // 2^62: the doubling convergence marks and the counters stay far from overflow (and
        // at 10^9 samples per second per core that is still a century of a thousand cores).
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62))
        ->capture_default_str();
    cli.add_option("--seed", seed, "seed of the counter-based generator")->capture_default_str();
    cli.add_option("--dims", dims, "dimension d: estimates the volume of the unit d-ball (2: pi)")
        ->check(CLI::Range(1, 24))
        ->capture_default_str();
  }
};

// The exact volume of the unit d-ball: pi^(d/2) / Gamma(d/2 + 1).
double ball_volume(int d) {
  return std::pow(std::numbers::pi, d / 2.0) / std::tgamma(d / 2.0 + 1.0);
}

// Sample counts at which the convergence table records the estimate: 1000, 2000, 4000, ..., N.
std::vector<std::uint64_t> checkpoints(std::uint64_t samples) {
  std::vector<std::uint64_t> at;
  for (std::uint64_t n = 1000; n < samples; n *= 2) at.push_back(n);
  at.push_back(samples);
  return at;
}

// Hits of this rank's samples [begin, end) below each checkpoint segment.
std::vector<std::uint64_t> count_hits(const Options& options,
                                      const std::vector<std::uint64_t>& marks, std::uint64_t begin,
                                      std::uint64_t end) {
  const spmd::Philox rng(options.seed);
  std::vector<std::uint64_t> hits(marks.size(), 0);
  std::size_t segment = 0;
  while (segment < marks.size() && marks[segment] <= begin) ++segment;
  std::uint64_t count = 0;
  for (std::uint64_t i = begin; i < end; ++i) {
    if (i == marks[segment]) {
      hits[segment++] = count;
      count = 0;
    }
    // A point of [0, 1)^d (one orthant of the ball: the volume scales by 2^d).
    double r2 = 0;
    for (int k = 0; k < options.dims; k += 2) {
      const auto [x, y] = rng.uniform_pair(i, static_cast<std::uint32_t>(k / 2));
      r2 += x * x + (k + 1 < options.dims ? y * y : 0.0);
    }
    count += r2 < 1.0 ? 1 : 0;
  }
  if (segment < marks.size()) hits[segment] = count;
  return hits;
}

void run_pi(spmd::App& app, const Options& options) {
  const auto marks = checkpoints(options.samples);
  const spmd::decomp::BlockMap blocks(static_cast<spmd::decomp::Index>(options.samples),
                                      app.size());
  const std::uint64_t begin = static_cast<std::uint64_t>(blocks.offset(app.rank()));
  const std::uint64_t end = begin + static_cast<std::uint64_t>(blocks.local_size(app.rank()));
  const auto segment_hits =
      app.comm().allreduce(count_hits(options, marks, begin, end), std::plus<>{});

  const double scale = std::ldexp(1.0, options.dims);
  const double exact = ball_volume(options.dims);
  std::vector<std::uint64_t> samples, hits;
  std::vector<double> estimate, stderr_, error;
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < marks.size(); ++k) {
    total += segment_hits[k];
    const double n = static_cast<double>(marks[k]);
    const double p = static_cast<double>(total) / n;
    samples.push_back(marks[k]);
    hits.push_back(total);
    estimate.push_back(scale * p);
    stderr_.push_back(scale * std::sqrt(p * (1 - p) / n));
    error.push_back(scale * p - exact);
  }
  const double est = estimate.back(), se = stderr_.back();

  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(),
                             options.dims == 2 ? "spmd-pi: Monte Carlo estimate of pi"
                                               : "spmd-pi: Monte Carlo volume of the unit ball");
  auto table = spmd::io::Table::create(out.file(), "convergence");
  spmd::io::TableBatch batch;
  const bool root = app.is_root();
  const auto mine = [root](const auto& v) { return root ? v : std::decay_t<decltype(v)>{}; };
  batch.column("samples", mine(samples), "1")
      .column("hits", mine(hits), "1")
      .column("estimate", mine(estimate), "1")
      .column("stderr", mine(stderr_), "1")
      .column("error", mine(error), "1");
  table.append(batch);
  out.file().set_attribute("estimate", est);
  out.file().set_attribute("stderr", se);
  out.file().set_attribute("exact", exact);
  out.file().set_attribute("dims", static_cast<std::int32_t>(options.dims));
  out.file().set_attribute("seed", options.seed);
  out.file().set_attribute("samples", options.samples);
  out.commit();

  auto& summary = app.summary();
  summary.set("samples", static_cast<std::int64_t>(options.samples));
  summary.set("dims", options.dims);
  summary.set("hits", static_cast<std::int64_t>(hits.back()));
  summary.set("estimate", est);
  summary.set("estimate_hex", fmt::format("{:a}", est));
  summary.set("stderr", se);
  summary.set("error", est - exact);
  summary.set("output", app.options().output);
  const char* what = options.dims == 2 ? "pi" : "the unit ball's volume";
  app.print("spmd-pi: {} ~ {:.10f} +- {:.2e} (standard error) from {} samples on {} rank(s)\n",
            what, est, se, options.samples, app.size());
  app.print("  exact {:.10f}: error {:+.2e} = {:+.2f} standard errors\n", exact, est - exact,
            (est - exact) / se);
  app.print("  wrote {} (/convergence: {} rows)\n", app.options().output, marks.size());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "pi",
       .description =
           "Monte Carlo estimate of pi (or a d-ball's volume), the same at any rank count",
       .default_output = "pi.h5"},
      [&](CLI::App& cli) { options.declare(cli); }, [&](spmd::App& app) { run_pi(app, options); });
}
