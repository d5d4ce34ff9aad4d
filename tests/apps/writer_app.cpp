// spmd-test-writer: a test-only app that writes an atomic HDF5 output slowly (frames of a time
// series with pauses), so that a test can kill it mid-write (tests/apps/kill_writer_check.py);
// with --xdmf it also writes the ParaView sidecar (tests/apps/xdmf_check.py).
#include <chrono>
#include <filesystem>
#include <thread>

#include <spmdkit/spmdkit.hpp>

int main(int argc, char** argv) {
  int generation = 1;
  int frames = 3;
  int pause_ms = 0;
  bool xdmf = false;
  return spmd::run(
      argc, argv,
      {.name = "test-writer", .description = "writes an atomic output slowly (tests only)"},
      [&](CLI::App& cli) {
        cli.add_option("--generation", generation);
        cli.add_option("--frames", frames);
        cli.add_option("--pause-ms", pause_ms);
        cli.add_flag("--xdmf", xdmf, "also write OUTPUT.xmf for ParaView");
      },
      [&](spmd::App& app) {
        if (app.options().output.empty()) throw spmd::UsageError("--output is required");
        auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
        spmd::io::write_provenance(out.file(), app.provenance(), "test writer");
        out.file().set_attribute("generation", static_cast<std::int32_t>(generation));
        const spmd::io::Extents frame{64, 64};
        const auto box = spmd::decomp::leading_block(frame, app.rank(), app.size());
        auto series = spmd::io::TimeSeries::create<double>(out.file(), "fields/u", frame);
        std::vector<double> values(box.elements(), static_cast<double>(generation));
        for (int step = 0; step < frames; ++step) {
          series.append<double>(step, box, values);
          out.file().flush();
          std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        }
        out.commit();
        if (xdmf && app.is_root()) {
          const std::filesystem::path path(app.options().output);
          std::vector<double> times(static_cast<std::size_t>(frames));
          for (int step = 0; step < frames; ++step) times[static_cast<std::size_t>(step)] = step;
          spmd::io::write_xdmf(std::filesystem::path(path).replace_extension(".xmf").string(),
                               path.filename().string(),
                               {{64, 64}, {0.0, 0.0}, {1.0 / 63, 1.0 / 63}}, times,
                               {{"u", "fields/u"}});
        }
      });
}
