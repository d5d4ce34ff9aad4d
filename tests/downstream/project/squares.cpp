// A user's task farm: the squares of 1..N on every rank but the master, resumable.
#include <cstdint>
#include <vector>

#include <spmdkit/spmdkit.hpp>

int main(int argc, char** argv) {
  std::uint64_t count = 1000;
  spmd::FarmFlags farm_flags;
  return spmd::run(
      argc, argv,
      {.name = "squares", .description = "squares as tasks", .default_output = "squares.h5",
       .version = "0.3", .program = "squares"},
      [&](CLI::App& cli) {
        cli.add_option("--count", count)->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
        farm_flags.declare(cli);
      },
      [&](spmd::App& app) {
        spmd::TaskFarm<std::uint64_t, std::uint64_t> farm(app.comm(), farm_flags.options(app.options().output));
        std::vector<std::uint64_t> tasks(count);
        for (std::uint64_t i = 0; i < count; ++i) tasks[i] = i + 1;
        farm.submit_all(tasks);
        const auto run = farm.run([](std::uint64_t n) { return n * n; });
        std::uint64_t sum = 0;
        for (const auto& outcome : run.outcomes) sum += outcome.result.value_or(0);
        app.summary().set("sum_of_squares", static_cast<std::int64_t>(sum));  // master's value
        app.print("sum of squares of 1..{}: {}\n", count, sum);
      });
}
