#pragma once
// Where and how a run happened: the value behind `spmd-info` (Parallel Python's "auto-discovery
// of computational resources") and behind the provenance attributes of every output file.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>
#include "spmdkit/runtime/comm.hpp"

#include "spmdkit/runtime/environment.hpp"

namespace spmd {

/// One rank's place on the machine.
struct RankPlacement {
  int rank = 0;
  std::string host;
  int cores = 0;     ///< CPUs this rank may run on (its affinity mask)
  std::string cpus;  ///< those CPUs as a list, e.g. "0-3,8"
};

/// Slurm's view of the job, when running under Slurm.
struct SlurmJob {
  std::string job_id;
  std::string array_job_id;  ///< empty unless part of a job array
  std::string array_task_id;
  int restart_count = 0;  ///< SLURM_RESTART_COUNT: how often the job was requeued
  std::string nodelist;
  std::string cluster;
  std::string partition;
};

struct Provenance {
  std::string app;
  std::string program;      ///< "spmd-heat", or a user's app's own name
  std::string app_version;  ///< the app's own version (spmdkit's for spmdkit's apps)
  std::string version;      ///< spmdkit's
  std::string git_commit;   ///< spmdkit's
  std::vector<std::string> command_line;
  std::string working_directory;
  std::string user;
  std::string start_time_utc;  ///< ISO 8601, rank 0's clock
  int ranks = 0;
  std::vector<std::string> hosts;  ///< distinct host names, sorted
  std::vector<RankPlacement> placement;
  int cores_per_rank_min = 0;
  int cores_per_rank_max = 0;
  int threads_per_rank = 1;  ///< OMP_NUM_THREADS if set, else 1
  std::string mpi_threading;
  std::string mpi_library;   ///< first line of MPI_Get_library_version
  std::string mpi_standard;  ///< e.g. "3.1"
  std::string hdf5_version;
  std::string boost_version;
  std::string compiler;
  std::optional<SlurmJob> slurm;
  std::string config_toml;  ///< every option's effective value

  /// Collective over `comm`: every rank gets the same value.
  [[nodiscard]] static Provenance collect(const Comm& comm, std::string app, int argc,
                                          const char* const* argv, Threading threading);

  [[nodiscard]] std::string command_line_string() const;  ///< shell-quoted
  [[nodiscard]] nlohmann::ordered_json to_json_value() const;
  /// One line; bytes that are not UTF-8 (a Latin-1 directory name) escaped as in text.hpp.
  [[nodiscard]] std::string to_json() const;
  [[nodiscard]] std::string to_text() const;  ///< a human-readable report
};

/// Slurm's environment variables of this process, or nullopt outside Slurm.
[[nodiscard]] std::optional<SlurmJob> slurm_job_from_environment();

/// The CPUs of this process's affinity mask as a compact list ("0-3,8") and their count.
[[nodiscard]] std::pair<std::string, int> affinity_cpus();

}  // namespace spmd
