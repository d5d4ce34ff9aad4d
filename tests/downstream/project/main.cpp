// A downstream app: one include, one call, and it behaves like every spmdkit app.
#include <functional>

#include <spmdkit/spmdkit.hpp>

int main(int argc, char** argv) {
  int greeting_rank = 0;
  return spmd::run(
      argc, argv, {.name = "downstream", .description = "built against an installed spmdkit"},
      [&](CLI::App& cli) { cli.add_option("--greeting-rank", greeting_rank); },
      [&](spmd::App& app) {
        app.summary().set("sum_of_ranks", app.comm().allreduce(app.rank(), std::plus<>()));
        app.print("hello from spmdkit {} on {} ranks\n", spmd::version_string, app.size());
      });
}
