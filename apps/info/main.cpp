// spmd-info: what this job runs on. The book's Parallel Python discovers its computational
// resources automatically; on a cluster the same question is "which ranks, on which hosts, with
// how many cores, under which MPI, HDF5 and Slurm job?". Run it first on a new machine or a new
// allocation:   mpirun -np 4 spmd-info   |   srun spmd-info --json
#include <cerrno>
#include <cstdio>
#include <fstream>

#include <spmdkit/spmdkit.hpp>

namespace {

// Written as PATH.tmp and renamed: a reader never sees half a report.
void write_report(const std::string& path, const std::string& json) {
  const std::string partial = path + ".tmp";
  {
    std::ofstream out(partial);
    out << json << '\n';
    if (!out.flush()) throw spmd::Error("cannot write " + partial);
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    throw spmd::SystemError("cannot rename " + partial + " to " + path, errno);
  }
}

void report(spmd::App& app) {
  const spmd::Provenance& provenance = app.provenance();
  app.summary().set_json("provenance", provenance.to_json());
  app.print("{}", provenance.to_text());
  if (app.is_root() && !app.options().output.empty()) {
    write_report(app.options().output, provenance.to_json());
    app.print("report written to {}\n", app.options().output);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "info",
                    .description = "Report the ranks, hosts, cores and software of this MPI job "
                                   "(--output FILE also writes the report as JSON)"},
                   report);
}
