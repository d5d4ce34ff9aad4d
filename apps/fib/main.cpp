// spmd-fib: exact Fibonacci numbers F(n) for many inputs -- the book's "highest Fibonacci value"
// problem (chapters 3-7: threads, processes, Parallel Python, Celery) as a task farm on MPI.
//
//   mpirun -np 4 spmd-fib --random 1000 --max-n 1000000 --output results/fib.h5
//   mpirun -np 4 spmd-fib --inputs 10,200,3000 --json
//
// Rank 0 hands out the inputs; the other ranks compute F(n) with GMP (fast doubling). Finished
// tasks go to a journal (OUTPUT.journal): a run stopped by SIGUSR1/SIGTERM (exit 75) or killed
// outright continues with --resume, at any rank count, with an identical /tasks table.
#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "fibonacci.hpp"
#include "inputs.hpp"

namespace {

using Farm = spmd::TaskFarm<std::uint64_t, fib::FibResult>;

struct Options {
  fib::InputOptions inputs;
  spmd::FarmFlags farm;
  // Hidden, for tests: make chosen tasks fail always / once, and slow every task down.
  std::int64_t test_fail_n = -1;
  std::int64_t test_flaky_n = -1;
  int test_task_delay_ms = 0;

  void declare(CLI::App& cli) {
    cli.add_option("--inputs", inputs.inputs, "the n to compute, comma-separated")->delimiter(',');
    cli.add_option("--inputs-file", inputs.inputs_file, "a file with one n per line (# comments)");
    cli.add_option("--random", inputs.random_count,
                   "COUNT inputs drawn log-uniformly from [0, max-n]: mostly cheap, a few costly")
        ->check(CLI::Range(std::uint64_t{0}, fib::max_inputs));
    cli.add_option("--max-n", inputs.max_n, "the largest n allowed (and drawn by --random)")
        ->check(CLI::Range(std::uint64_t{0}, fib::max_n_ceiling))
        ->capture_default_str();
    cli.add_option("--seed", inputs.seed, "seed of --random")->capture_default_str();
    farm.declare(cli);
    cli.add_option("--test-fail-n", test_fail_n)->group("");
    cli.add_option("--test-flaky-n", test_flaky_n)->group("");
    cli.add_option("--test-task-delay-ms", test_task_delay_ms)->group("");
  }
};

// One row of the /tasks table.
struct TaskRow {
  std::uint64_t n = 0, digits = 0, mod1e18 = 0;
  std::string leading;
  std::uint8_t ok = 0;
  std::int32_t worker = 0;
  std::uint32_t attempts = 0;
  double seconds = 0;
};

// The /tasks table, in input order (rank 0's rows; the others add none), and root attributes.
void write_output(const spmd::App& app, const std::vector<std::uint64_t>& inputs,
                  const std::unordered_map<std::uint64_t, Farm::Outcome>& outcomes,
                  std::uint64_t highest_n, const fib::FibResult& highest) {
  using spmd::io::field;
  const spmd::io::RowColumns columns{field("n", &TaskRow::n, "1"),
                                     field("digits", &TaskRow::digits, "1"),
                                     field("mod1e18", &TaskRow::mod1e18, "1"),
                                     field("leading", &TaskRow::leading, 21),
                                     field("ok", &TaskRow::ok),
                                     field("worker", &TaskRow::worker),
                                     field("attempts", &TaskRow::attempts),
                                     field("seconds", &TaskRow::seconds, "s")};
  std::vector<TaskRow> rows;
  if (app.is_root()) {
    for (const std::uint64_t input : inputs) {
      const Farm::Outcome& outcome = outcomes.at(input);
      const fib::FibResult result = outcome.result.value_or(fib::FibResult{});
      rows.push_back({input, result.digits, result.mod1e18, result.leading_digits(),
                      static_cast<std::uint8_t>(outcome.ok() ? 1 : 0), outcome.worker,
                      outcome.attempts, outcome.seconds});
    }
  }
  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-fib: Fibonacci numbers F(n)");
  spmd::io::Table::create(out.file(), "tasks").append(columns.batch(rows));
  out.file().set_attribute("inputs", static_cast<std::uint64_t>(inputs.size()));
  out.file().set_attribute("highest_input", highest_n);
  out.file().set_attribute("highest_digits", highest.digits);
  out.file().set_attribute("highest_leading", highest.leading_digits());
  out.commit();
}

int run_fib(spmd::App& app, const Options& options) {
  const auto inputs = fib::resolve_inputs(options.inputs);  // every rank: same verdict
  spmd::StopRequest stop;
  auto progress = app.progress("tasks", inputs.size());
  spmd::FarmOptions farm_options = options.farm.options(app.options().output);
  farm_options.stop = &stop;
  spmd::attach_progress(farm_options, progress);

  Farm farm(app.comm(), farm_options);
  farm.submit_all(inputs);
  const auto fail_n = options.test_fail_n;
  const auto flaky_n = options.test_flaky_n;
  const int delay_ms = options.test_task_delay_ms;
  std::unordered_map<std::uint64_t, Farm::Outcome> outcomes;
  const spmd::FarmReport report = farm.run(
      [=](std::uint64_t n, spmd::TaskContext<std::uint64_t>& ctx) {
        if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        if (static_cast<std::int64_t>(n) == fail_n)
          throw spmd::Error(fmt::format("test failure of n = {}", n));
        if (static_cast<std::int64_t>(n) == flaky_n && ctx.attempt() == 1) {
          throw spmd::Error(fmt::format("flaky test failure of n = {}", n));
        }
        return fib::describe(fib::fibonacci(n));
      },
      [&](const Farm::Outcome& outcome) { outcomes.emplace(outcome.task, outcome); });
  progress.finish();

  auto& summary = app.summary();
  summary.set("inputs", static_cast<std::int64_t>(inputs.size()));
  summary.set("distinct", static_cast<std::int64_t>(report.tasks));
  summary.set("done", static_cast<std::int64_t>(report.done));
  summary.set("failed", static_cast<std::int64_t>(report.failed));
  summary.set("resumed", static_cast<std::int64_t>(report.resumed));
  summary.set("retries", static_cast<std::int64_t>(report.retries));
  summary.set("workers", report.workers);
  summary.set("schedule", options.farm.schedule);
  summary.set("makespan_s", report.seconds);
  summary.set("efficiency", report.efficiency());
  summary.set("messages", static_cast<std::int64_t>(report.messages));

  if (report.stopped) {
    summary.set("stopped", true);
    app.print("spmd-fib: stopped on request: {} of {} tasks done, journal {} ({} to continue)\n",
              report.done, report.tasks, farm_options.journal,
              farm_options.journal.empty() ? "no journal: start over" : "--resume");
    return spmd::exit_code::requeue;
  }

  // The highest input that was computed, the book's answer.
  std::uint64_t highest_n = 0;
  fib::FibResult highest;
  for (const auto& [n, outcome] : outcomes) {
    if (outcome.ok() && (n >= highest_n || highest.digits == 0)) {
      highest_n = n;
      highest = *outcome.result;
    }
  }
  // Attributes are written collectively: every rank brings rank 0's values.
  highest_n = app.comm().broadcast(highest_n);
  highest = app.comm().broadcast(highest);
  write_output(app, inputs, outcomes, highest_n, highest);

  summary.set("highest_input", static_cast<std::int64_t>(highest_n));
  summary.set("highest_digits", static_cast<std::int64_t>(highest.digits));
  summary.set("output", app.options().output);
  app.print(
      "spmd-fib: {} inputs ({} distinct) on {} worker(s) in {:.3f} s: {} done ({} resumed), "
      "{} failed\n",
      inputs.size(), report.tasks, report.workers, report.seconds, report.done, report.resumed,
      report.failed);
  app.print("  highest: F({}) has {} digits: {}... (mod 10^18: {})\n", highest_n, highest.digits,
            highest.leading_digits(), highest.mod1e18);
  app.print("  schedule {}: load-balance efficiency {:.2f}, {} task messages, {} retries\n",
            options.farm.schedule, report.efficiency(), report.messages, report.retries);
  app.print("  wrote {} (/tasks)\n", app.options().output);

  if (report.failed > 0) {
    if (app.is_root()) {
      std::size_t shown = 0;
      for (const std::uint64_t n : inputs) {
        const auto& outcome = outcomes.at(n);
        if (outcome.ok() || shown == 10) continue;
        ++shown;
        fmt::print(stderr, "spmd-fib: task n = {} failed: {}\n", n, outcome.error);
      }
      fmt::print(stderr,
                 "spmd-fib: {} task(s) failed; the journal {} keeps the run: --resume "
                 "retries them\n",
                 report.failed, farm_options.journal);
    }
    return spmd::exit_code::tasks_failed;
  }
  return spmd::exit_code::ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "fib",
       .description = "Exact Fibonacci numbers F(n) for many inputs, as a master-worker task farm",
       .default_output = "fib.h5"},
      [&](CLI::App& cli) { options.declare(cli); },
      [&](spmd::App& app) { return run_fib(app, options); });
}
