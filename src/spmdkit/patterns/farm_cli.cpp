#include "spmdkit/patterns/farm_cli.hpp"

#include <fmt/format.h>

#include <fmt/ranges.h>
#include "spmdkit/runtime/cli.hpp"

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
}

std::string FarmFlags::journal_path(const std::string& output) const {
  if (no_journal) return {};
  return journal.empty() ? output + ".journal" : journal;
}

FarmOptions FarmFlags::options(const std::string& output) const {
  FarmOptions farm;
  farm.schedule = schedule == "static" ? Schedule::static_blocks : Schedule::dynamic;
  farm.prefetch = prefetch;
  farm.batch = batch;
  farm.batch_seconds = batch_ms * 1e-3;
  farm.max_attempts = attempts;
  farm.journal = journal_path(output);
  farm.resume = resume;
  farm.journal_interval = journal_interval;
  farm.stop_grace = stop_grace;
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
