#include "spmdkit/patterns/farm_cli.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include <fmt/ranges.h>
#include "spmdkit/runtime/cli.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/text.hpp"

namespace spmd {

void FarmFlags::declare(CLI::App& cli) {
  cli_ = &cli;
  const std::string& group = farm_option_group;
  cli.add_option("--schedule", schedule,
                 "dynamic: workers pull batches (load balance); static: one fixed block each")
      ->check(CLI::IsMember({"dynamic", "static"}))
      ->capture_default_str()
      ->group(group);
  cli.add_option("--prefetch", prefetch, "task batches in flight per worker")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str()
      ->group(group);
  cli.add_option("--batch", batch, "tasks per message (0: adaptive, from measured task times)")
      ->capture_default_str()
      ->group(group);
  cli.add_option("--batch-ms", batch_ms, "adaptive batches aim at this much work [ms]")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  cli.add_option("--attempts", attempts, "tries per task before it is recorded as failed")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str()
      ->group(group);
  cli.add_option("--retry-backoff", retry_backoff,
                 "seconds before a failed task is tried again, doubled after each failure (at "
                 "most 60 s; 0: at once)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cli.add_option("--journal", journal, "journal directory (default: OUTPUT.journal)")->group(group);
  cli.add_flag("--no-journal", no_journal, "keep no journal (an interrupted run starts over)")
      ->group(group);
  cli.add_flag("--resume", resume,
               "continue the run recorded in the journal: skip what is done (any rank count)")
      ->group(group);
  cli.add_option("--journal-interval", journal_interval,
                 "seconds between journal flushes (a hard kill redoes at most this much work)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cli.add_option("--stop-grace", stop_grace,
                 "on SIGUSR1/SIGTERM: seconds for tasks in flight to finish before exit 75")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(group);
  cli.add_option("--time-left", time_left,
                 "seconds this run may take: no task is started that is expected to run past "
                 "them (its estimate, else the 90th percentile of task times so far); the rest "
                 "is left for --resume (exit 75)")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
  cli.add_option("--host-tag", host_tags,
                 "TAG=HOSTGLOB: ranks on hosts whose name matches HOSTGLOB have TAG (also "
                 "SPMD_FARM_TAGS=a,b in a rank's environment); a task with tags runs only on "
                 "ranks that have them all")
      ->group(group);
  cli.add_flag("--master-schedules-only", master_schedules_only,
               "rank 0 only dispatches tasks (by default it runs tasks too, on a thread beside "
               "its dispatching, so that N ranks are N task runners)")
      ->group(group);
  cli.add_option("--deadline", deadline,
                 "the same as a Unix time (date +%s), e.g. a batch job's end less the time to "
                 "stop")
      ->check(CLI::NonNegativeNumber)
      ->group(group);
}

std::string FarmFlags::journal_path(const std::string& output) const {
  if (no_journal) return {};
  return journal.empty() ? output + ".journal" : journal;
}

std::vector<std::string> FarmFlags::rank_tags() const {
  std::vector<std::string> tags;
  auto add_list = [&](std::string_view list) {
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view tag = trim_blanks(list.substr(0, comma));
      if (!tag.empty()) tags.emplace_back(tag);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  };
  if (const char* listed = std::getenv("SPMD_FARM_TAGS")) add_list(listed);
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  for (const std::string& rule : host_tags) {
    const std::size_t equals = rule.find('=');
    if (equals == 0 || equals == std::string::npos || equals + 1 == rule.size()) {
      throw UsageError(fmt::format("--host-tag {}: expected TAG=HOSTGLOB", rule));
    }
    const std::string pattern = rule.substr(equals + 1);
    if (fnmatch(pattern.c_str(), host.data(), 0) == 0) tags.push_back(rule.substr(0, equals));
  }
  return tags;
}

FarmOptions FarmFlags::options(const std::string& output) const {
  FarmOptions farm;
  farm.schedule = schedule == "static" ? Schedule::static_blocks : Schedule::dynamic;
  farm.prefetch = prefetch;
  farm.batch = batch;
  farm.batch_seconds = batch_ms * 1e-3;
  farm.max_attempts = attempts;
  farm.retry_backoff = retry_backoff;
  farm.journal = journal_path(output);
  farm.resume = resume;
  farm.journal_interval = journal_interval;
  farm.stop_grace = stop_grace;
  farm.tags = rank_tags();
  farm.master_runs_tasks = !master_schedules_only;
  // The earlier of the two limits given.
  const auto now = std::chrono::system_clock::now();
  auto limit = [&](std::chrono::system_clock::time_point at) {
    farm.deadline = farm.deadline ? std::min(*farm.deadline, at) : at;
  };
  if (time_left > 0) {
    limit(now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::duration<double>(time_left)));
  }
  if (deadline > 0) {
    limit(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(deadline))));
  }
  if (cli_ != nullptr) farm.fingerprint = configuration_fingerprint(*cli_);
  return farm;
}

void attach_progress(FarmOptions& options, Progress& progress) {
  options.on_progress = [&progress](const FarmStatus& status) {
    progress.set_total(status.known);
    const double rate = status.seconds > 0 ? static_cast<double>(status.done) / status.seconds : 0;
    progress.set_note(fmt::format("{} failed, {:.3g} tasks/s", status.failed, rate));
    progress.update(status.done + status.failed);
  };
}

}  // namespace spmd
