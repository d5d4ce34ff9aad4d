// A user's task farm: the squares of 1..N on every rank but the master, resumable, its outcomes
// written as a table of structs (/tasks: n, square, worker, attempts) in one call.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <spmdkit/spmdkit.hpp>

namespace {

struct TaskRow {
  std::uint64_t n = 0, square = 0;
  std::int32_t worker = 0;
  std::uint32_t attempts = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 1000;
  spmd::FarmFlags farm_flags;
  return spmd::run(
      argc, argv,
      {.name = "squares",
       .description = "squares as tasks",
       .default_output = "squares.h5",
       .version = "0.3",
       .program = "squares"},
      [&](CLI::App& cli) {
        cli.add_option("--count", count)
            ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
        farm_flags.declare(cli);
      },
      [&](spmd::App& app) {
        spmd::TaskFarm<std::uint64_t, std::uint64_t> farm(app.comm(),
                                                          farm_flags.options(app.options().output));
        std::vector<std::uint64_t> tasks(count);
        for (std::uint64_t i = 0; i < count; ++i) tasks[i] = i + 1;
        farm.submit_all(tasks);
        const auto run = farm.run([](std::uint64_t n) { return n * n; });
        // The outcomes arrive at the master (the other ranks have none), in completion order.
        std::vector<TaskRow> rows;
        std::uint64_t sum = 0;
        for (const auto& outcome : run.outcomes) {
          rows.push_back(
              {outcome.task, outcome.result.value_or(0), outcome.worker, outcome.attempts});
          sum += outcome.result.value_or(0);
        }
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.n < b.n; });
        using spmd::io::field;
        const spmd::io::RowColumns columns{
            field("n", &TaskRow::n), field("square", &TaskRow::square),
            field("worker", &TaskRow::worker), field("attempts", &TaskRow::attempts)};
        auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
        spmd::io::write_provenance(out.file(), app.provenance(), "squares as tasks");
        spmd::io::Table::create(out.file(), "tasks").append(columns.batch(rows));
        out.commit();
        app.summary().set("sum_of_squares", static_cast<std::int64_t>(sum));  // master's value
        app.print("sum of squares of 1..{}: {}\n", count, sum);
      });
}
