// spmd-info: what this job runs on. The book's Parallel Python discovers its computational
// resources automatically; on a cluster the same question is "which ranks, on which hosts, with
// how many cores, under which MPI, HDF5 and Slurm job?". Run it first on a new machine or a new
// allocation:   mpirun -np 4 spmd-info   |   srun spmd-info --json
#include <cstdio>

#include <spmdkit/spmdkit.hpp>

namespace {

// Written as PATH.tmp and renamed: a reader never sees half a report.
void write_report(const std::string& path, const std::string& json) {
  spmd::io::write_text_atomically(path, json + '\n');
}

// The report as HDF5: provenance on the root, and a placement table to which every rank adds
// its own row (rank, host, cores) -- the io layer's distributed table in its simplest use.
void write_hdf5_report(const spmd::App& app, const std::string& path) {
  auto out = spmd::io::AtomicFile::create(app.comm(), path);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-info: resources of an MPI job");
  const spmd::RankPlacement& me =
      app.provenance().placement.at(static_cast<std::size_t>(app.rank()));
  auto table = spmd::io::Table::create(out.file(), "placement");
  spmd::io::TableBatch row;
  row.column("rank", std::vector<std::int32_t>{me.rank})
      .column("cores", std::vector<std::int32_t>{me.cores}, "1")
      .column("host", std::vector<std::string>{me.host}, 64)
      .column("cpus", std::vector<std::string>{me.cpus}, 256);
  table.append(row);
  out.commit();
}

void report(spmd::App& app) {
  const spmd::Provenance& provenance = app.provenance();
  app.summary().set_json_value("provenance", provenance.to_json_value());
  app.print("{}", provenance.to_text());
  const std::string& output = app.options().output;
  if (output.empty()) return;
  if (output.ends_with(".json")) {
    if (app.is_root()) write_report(output, provenance.to_json());
  } else {
    write_hdf5_report(app, output);
  }
  app.print("report written to {}\n", output);
}

}  // namespace

int main(int argc, char** argv) {
  return spmd::run(argc, argv,
                   {.name = "info",
                    .description = "Report the ranks, hosts, cores and software of this MPI job "
                                   "(--output FILE.h5 writes it as HDF5, FILE.json as JSON)"},
                   report);
}
