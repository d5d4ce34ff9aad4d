#include "spmdkit/io/provenance_attributes.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/io/attributes.hpp"
#include "spmdkit/io/file.hpp"

namespace spmd::io {

void write_provenance(const Object& target, const Provenance& p, std::string_view title) {
  const hid_t object = target.id();
  set_attribute(object, "Conventions", "CF-1.8");
  set_attribute(object, "title", title);
  set_attribute(object, "history", fmt::format("{} {}", p.start_time_utc, p.command_line_string()));
  set_attribute(
      object, "source",
      fmt::format("{} {} (spmdkit {}, git {})", p.program, p.app_version, p.version, p.git_commit));
  set_attribute(object, "program", p.program);
  set_attribute(object, "program_version", p.app_version);
  set_attribute(object, "spmdkit_app", p.app);
  set_attribute(object, "spmdkit_version", p.version);
  set_attribute(object, "git_commit", p.git_commit);
  set_attribute(object, "command_line", p.command_line_string());
  set_attribute(object, "start_time_utc", p.start_time_utc);
  set_attribute(object, "ranks", static_cast<std::int32_t>(p.ranks));
  set_attribute(object, "host_count", static_cast<std::int32_t>(p.hosts.size()));
  set_attribute(object, "hosts", fmt::format("{}", fmt::join(p.hosts, ",")));
  set_attribute(object, "mpi_library", p.mpi_library);
  set_attribute(object, "hdf5_version", p.hdf5_version);
  if (p.slurm) {
    set_attribute(object, "slurm_job_id", p.slurm->job_id);
    set_attribute(object, "slurm_array_job_id", p.slurm->array_job_id);
    set_attribute(object, "slurm_array_task_id", p.slurm->array_task_id);
    set_attribute(object, "slurm_restart_count", static_cast<std::int32_t>(p.slurm->restart_count));
  }
  set_attribute(object, "config", p.config_toml);
  set_attribute(object, "provenance_json", p.to_json());
}

}  // namespace spmd::io
