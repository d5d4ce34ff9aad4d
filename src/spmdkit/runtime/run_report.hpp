#pragma once
// Reports that rooms above runtime add to the end of a run. runtime includes no other room, so
// they register here: today the io layer's report of its parallel HDF5 transfers, asked for with
// --io-report. spmd::run says whether it was asked for once the command line is parsed, and at
// the end prints it on rank 0 -- as text on stdout, or under "io" in the --json summary.
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace spmd::run_report {

/// One report: the text an app prints, and the same as a JSON value.
struct Section {
  std::string text;
  nlohmann::ordered_json json;
};
using Producer = std::function<Section()>;

/// Whether --io-report was given (the io layer logs its transfers only then: logging costs two
/// small collectives per transfer).
[[nodiscard]] bool io_requested() noexcept;
void request_io(bool requested) noexcept;
/// Set by the io layer when it first logs a transfer.
void set_io_producer(Producer producer);
/// The io report, if one was produced (nullopt: no transfer was logged).
[[nodiscard]] std::optional<Section> io_section();

}  // namespace spmd::run_report
