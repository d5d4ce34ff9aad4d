// HDF5 bandwidth of the io layer against raw MPI-IO, same bytes, same directory, same run, under
// the MPI-IO layer the process was started with (spmdkit's default under Open MPI: romio321;
// scripts/bench runs it under OMPIO too, with --label):
//   RATIO h5_write[_LABEL]  layer collective write / raw MPI_File_write_at_all  (target >= 0.95)
//   RATIO h5_read[_LABEL]   layer collective read  / raw MPI_File_read_at_all   (target >= 0.95)
// Higher is better. A distributed 2-D array of doubles (default 4096 x 8192 = 256 MiB), each rank
// owning a block of rows; both sides create a fresh file and include open and close. Rounds
// alternate layer and raw; the median of each is kept (9 rounds: with 5, one slow round of the
// page cache's write-back moved the ratio by 15%). Under OMPIO the layer reads every write back
// (io/array.hpp verifying_writes: OMPIO reports a write to a full disk as a success), which raw
// MPI-IO does not: SPMD_VERIFY_WRITES=0 compares like with like, and the label says which.
//   mpirun -np 2 bench_io_bandwidth [--dir DIR] [--rows N] [--columns N] [--rounds N] [--label L]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "bench_support.hpp"

namespace {

struct Options {
  std::string dir = ".";
  hsize_t rows = 4096;
  hsize_t columns = 8192;
  int rounds = 9;
  std::string label;  // appended to the ratio names
};

void remove_file(const spmd::Comm& comm, const std::string& path) {
  if (comm.rank() == 0) std::remove(path.c_str());
  comm.barrier();
}

void run(spmd::App& app, const Options& opt) {
  const auto& comm = app.comm();
  const spmd::io::Extents shape{opt.rows, opt.columns};
  const spmd::io::Selection box = spmd::decomp::leading_block(shape, comm.rank(), comm.size());
  std::vector<double> data(box.elements());
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<double>(i % 1000) * 0.5;
  std::vector<double> back(data.size());
  const double bytes = static_cast<double>(opt.rows * opt.columns * sizeof(double));
  const MPI_Offset offset = static_cast<MPI_Offset>(box.offset[0] * opt.columns * sizeof(double));
  const int count = static_cast<int>(data.size());
  const std::string h5_path = opt.dir + "/spmdkit-bench.h5";
  const std::string raw_path = opt.dir + "/spmdkit-bench.raw";

  std::vector<double> layer_write, raw_write, layer_read, raw_read;
  bool collective = true;
  for (int round = 0; round < opt.rounds; ++round) {
    remove_file(comm, h5_path);
    layer_write.push_back(bench::timed(comm, [&] {
      auto file = spmd::io::File::create(comm, h5_path);
      collective &= spmd::io::write_array<double>(file, "field", shape, box, data).collective;
      file.close();
    }));
    remove_file(comm, raw_path);
    raw_write.push_back(bench::timed(comm, [&] {
      MPI_File file = MPI_FILE_NULL;
      spmd::check_mpi(MPI_File_open(comm, raw_path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY,
                                    MPI_INFO_NULL, &file),
                      "MPI_File_open");
      spmd::check_mpi(
          MPI_File_write_at_all(file, offset, data.data(), count, MPI_DOUBLE, MPI_STATUS_IGNORE),
          "MPI_File_write_at_all");
      spmd::check_mpi(MPI_File_close(&file), "MPI_File_close");
    }));
    layer_read.push_back(bench::timed(comm, [&] {
      auto file = spmd::io::File::open(comm, h5_path);
      spmd::io::read_array_bytes(file, "field", H5T_NATIVE_DOUBLE, box, back.data());
      file.close();
    }));
    raw_read.push_back(bench::timed(comm, [&] {
      MPI_File file = MPI_FILE_NULL;
      spmd::check_mpi(MPI_File_open(comm, raw_path.c_str(), MPI_MODE_RDONLY, MPI_INFO_NULL, &file),
                      "MPI_File_open");
      spmd::check_mpi(
          MPI_File_read_at_all(file, offset, back.data(), count, MPI_DOUBLE, MPI_STATUS_IGNORE),
          "MPI_File_read_at_all");
      spmd::check_mpi(MPI_File_close(&file), "MPI_File_close");
    }));
  }
  remove_file(comm, h5_path);
  remove_file(comm, raw_path);
  if (back != data) throw spmd::Error("read back data differ from what was written");

  const double gb = bytes / 1e9;
  const double lw = bench::median(layer_write), rw = bench::median(raw_write);
  const double lr = bench::median(layer_read), rr = bench::median(raw_read);
  if (app.is_root()) {
    const char* layer = std::getenv("OMPI_MCA_io");
    fmt::print(
        "{:.0f} MiB, {} ranks, {} rounds, MPI-IO layer {}, writes read back: {}, layer "
        "transfers collective: {}\n",
        bytes / (1 << 20), comm.size(), opt.rounds, layer != nullptr ? layer : "(default)",
        spmd::io::verifying_writes() ? "yes" : "no", collective ? "yes" : "NO");
    fmt::print("write: layer {:.2f} GB/s, raw MPI-IO {:.2f} GB/s\n", gb / lw, gb / rw);
    fmt::print("read:  layer {:.2f} GB/s, raw MPI-IO {:.2f} GB/s\n", gb / lr, gb / rr);
    const std::string suffix = opt.label.empty() ? "" : "_" + opt.label;
    fmt::print("RATIO h5_read{} {:.3f}\n", suffix, rr / lr);
    fmt::print("RATIO h5_write{} {:.3f}\n", suffix, rw / lw);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  return spmd::run(
      argc, argv, {.name = "bench-io-bandwidth", .description = "io layer vs raw MPI-IO bandwidth"},
      [&](CLI::App& cli) {
        cli.add_option("--dir", opt.dir, "directory for the two files")->capture_default_str();
        cli.add_option("--rows", opt.rows)->capture_default_str();
        cli.add_option("--columns", opt.columns)->capture_default_str();
        cli.add_option("--rounds", opt.rounds)->check(CLI::PositiveNumber)->capture_default_str();
        cli.add_option("--label", opt.label, "appended to the RATIO names (e.g. the MPI-IO layer)");
      },
      [&](spmd::App& app) { run(app, opt); });
}
