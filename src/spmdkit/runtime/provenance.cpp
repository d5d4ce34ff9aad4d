#include "spmdkit/runtime/provenance.hpp"

#include <hdf5.h>
#include <mpi.h>
#include <pwd.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <boost/mpi/collectives/all_gather.hpp>
#include <boost/mpi/collectives/broadcast.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/version.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "spmdkit/runtime/check.hpp"
#include "spmdkit/runtime/text.hpp"
#include "spmdkit/version.hpp"

namespace spmd {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::string utc_now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string mpi_library_first_line() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  check_mpi(MPI_Get_library_version(text, &length), "MPI_Get_library_version");
  std::string line(text, static_cast<std::size_t>(length));
  line = line.substr(0, line.find('\n'));
  // Open MPI: "Open MPI v4.1.4, package: ..., ident: ..." -- the part before the first comma.
  return line.substr(0, line.find(','));
}

std::string user_name() {
  if (const passwd* entry = getpwuid(getuid()); entry != nullptr) return entry->pw_name;
  return env_or_empty("USER");
}

std::string this_host() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  check_mpi(MPI_Get_processor_name(name, &length), "MPI_Get_processor_name");
  return std::string(name, static_cast<std::size_t>(length));
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_./=:,+@%") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

std::pair<std::string, int> affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return {"?", static_cast<int>(online > 0 ? online : 1)};
  }
  std::string list;
  int count = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    if (!list.empty()) list += ',';
    list += last == cpu ? std::to_string(cpu) : fmt::format("{}-{}", cpu, last);
    count += last - cpu + 1;
    cpu = last;
  }
  return {list, count};
}

std::optional<SlurmJob> slurm_job_from_environment() {
  std::string job_id = env_or_empty("SLURM_JOB_ID");
  if (job_id.empty()) return std::nullopt;
  SlurmJob job;
  job.job_id = std::move(job_id);
  job.array_job_id = env_or_empty("SLURM_ARRAY_JOB_ID");
  job.array_task_id = env_or_empty("SLURM_ARRAY_TASK_ID");
  job.nodelist = env_or_empty("SLURM_JOB_NODELIST");
  job.cluster = env_or_empty("SLURM_CLUSTER_NAME");
  job.partition = env_or_empty("SLURM_JOB_PARTITION");
  if (const std::string restarts = env_or_empty("SLURM_RESTART_COUNT"); !restarts.empty()) {
    job.restart_count = std::atoi(restarts.c_str());
  }
  return job;
}

Provenance Provenance::collect(const Comm& comm, std::string app, int argc, const char* const* argv,
                               Threading threading) {
  Provenance p;
  p.app = std::move(app);
  p.program = "spmd-" + p.app;
  p.version = std::string(spmd::version_string);
  p.app_version = p.version;
  p.git_commit = std::string(spmd::git_commit);
  for (int i = 0; i < argc; ++i) p.command_line.emplace_back(argv[i]);
  std::error_code ignored;
  p.working_directory = std::filesystem::current_path(ignored).string();
  p.user = user_name();
  p.ranks = comm.size();
  p.mpi_threading = std::string(to_string(threading));
  p.mpi_library = mpi_library_first_line();
  int mpi_major = 0;
  int mpi_minor = 0;
  check_mpi(MPI_Get_version(&mpi_major, &mpi_minor), "MPI_Get_version");
  p.mpi_standard = fmt::format("{}.{}", mpi_major, mpi_minor);
  unsigned h5_major = 0;
  unsigned h5_minor = 0;
  unsigned h5_release = 0;
  check_h5(H5get_libversion(&h5_major, &h5_minor, &h5_release), "H5get_libversion");
  p.hdf5_version = fmt::format("{}.{}.{}", h5_major, h5_minor, h5_release);
  p.boost_version = fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                                BOOST_VERSION % 100);
  p.compiler = fmt::format("GCC-compatible {}", __VERSION__);
  if (const std::string threads = env_or_empty("OMP_NUM_THREADS"); !threads.empty()) {
    p.threads_per_rank = std::max(1, std::atoi(threads.c_str()));
  }
  p.slurm = slurm_job_from_environment();

  // Rank 0's clock and environment speak for the job. Placement needs every rank's view: one
  // all_gather of small strings at start-up, so Boost.MPI's serialization is fine here.
  std::string start = comm.rank() == 0 ? utc_now_iso8601() : std::string();
  boost::mpi::broadcast(comm.boost(), start, 0);
  p.start_time_utc = std::move(start);

  auto [cpus, cores] = affinity_cpus();
  const std::string mine = fmt::format("{}\n{}\n{}", this_host(), cores, cpus);
  std::vector<std::string> everyone;
  boost::mpi::all_gather(comm.boost(), mine, everyone);
  std::set<std::string> distinct_hosts;
  p.cores_per_rank_min = cores;
  p.cores_per_rank_max = cores;
  for (int r = 0; r < static_cast<int>(everyone.size()); ++r) {
    std::istringstream fields(everyone[static_cast<std::size_t>(r)]);
    RankPlacement place;
    place.rank = r;
    std::string count;
    std::getline(fields, place.host);
    std::getline(fields, count);
    std::getline(fields, place.cpus);
    place.cores = std::atoi(count.c_str());
    distinct_hosts.insert(place.host);
    p.cores_per_rank_min = std::min(p.cores_per_rank_min, place.cores);
    p.cores_per_rank_max = std::max(p.cores_per_rank_max, place.cores);
    p.placement.push_back(std::move(place));
  }
  p.hosts.assign(distinct_hosts.begin(), distinct_hosts.end());
  return p;
}

std::string Provenance::command_line_string() const {
  std::string line;
  for (const auto& word : command_line) {
    if (!line.empty()) line += ' ';
    line += shell_quote(word);
  }
  return line;
}

std::string Provenance::to_json() const { return json_dump(to_json_value()); }

nlohmann::ordered_json Provenance::to_json_value() const {
  nlohmann::ordered_json j;
  j["app"] = app;
  j["program"] = program;
  j["app_version"] = app_version;
  j["version"] = version;
  j["git_commit"] = git_commit;
  j["command_line"] = command_line;
  j["working_directory"] = working_directory;
  j["user"] = user;
  j["start_time_utc"] = start_time_utc;
  j["ranks"] = ranks;
  j["hosts"] = hosts;
  j["host_count"] = hosts.size();
  j["cores_per_rank_min"] = cores_per_rank_min;
  j["cores_per_rank_max"] = cores_per_rank_max;
  j["threads_per_rank"] = threads_per_rank;
  j["mpi_threading"] = mpi_threading;
  j["mpi_library"] = mpi_library;
  j["mpi_standard"] = mpi_standard;
  j["hdf5_version"] = hdf5_version;
  j["boost_version"] = boost_version;
  j["compiler"] = compiler;
  nlohmann::ordered_json places = nlohmann::ordered_json::array();
  for (const auto& place : placement) {
    places.push_back(
        {{"rank", place.rank}, {"host", place.host}, {"cores", place.cores}, {"cpus", place.cpus}});
  }
  j["placement"] = std::move(places);
  if (slurm) {
    j["slurm"] = {{"job_id", slurm->job_id},
                  {"array_job_id", slurm->array_job_id},
                  {"array_task_id", slurm->array_task_id},
                  {"restart_count", slurm->restart_count},
                  {"nodelist", slurm->nodelist},
                  {"cluster", slurm->cluster},
                  {"partition", slurm->partition}};
  } else {
    j["slurm"] = nullptr;
  }
  j["config_toml"] = config_toml;
  return j;
}

std::string Provenance::to_text() const {
  std::string text;
  auto line = [&text](std::string_view key, const std::string& value) {
    text += fmt::format("  {:<16} {}\n", key, value);
  };
  text +=
      app_version == version
          ? fmt::format("{} {} (spmdkit, git {})\n", program, version, git_commit)
          : fmt::format("{} {} (spmdkit {}, git {})\n", program, app_version, version, git_commit);
  line("ranks", fmt::format("{} on {} host(s): {}", ranks, hosts.size(), fmt::join(hosts, ", ")));
  line("cores per rank", cores_per_rank_min == cores_per_rank_max
                             ? std::to_string(cores_per_rank_min)
                             : fmt::format("{}..{}", cores_per_rank_min, cores_per_rank_max));
  line("threads/rank", fmt::format("{} (MPI thread level {})", threads_per_rank, mpi_threading));
  line("MPI", fmt::format("{} (MPI {})", mpi_library, mpi_standard));
  line("HDF5", hdf5_version + " (parallel)");
  line("Boost", boost_version);
  if (slurm) {
    std::string job = slurm->job_id;
    if (!slurm->array_job_id.empty()) {
      job += fmt::format(" (array {} task {})", slurm->array_job_id, slurm->array_task_id);
    }
    job += fmt::format(", restarts {}, nodes {}", slurm->restart_count, slurm->nodelist);
    line("Slurm job", job);
  } else {
    line("Slurm job", "none (not running under Slurm)");
  }
  line("started (UTC)", start_time_utc);
  line("user", user);
  line("directory", working_directory);
  line("command", command_line_string());
  text += fmt::format("  {:>5}  {:<24} {:>5}  {}\n", "rank", "host", "cores", "cpus");
  for (const auto& place : placement) {
    text +=
        fmt::format("  {:>5}  {:<24} {:>5}  {}\n", place.rank, place.host, place.cores, place.cpus);
  }
  return text;
}

}  // namespace spmd
