#include "spmdkit/patterns/farm_cli.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace spmd {

namespace {
const std::string farm_group = "Task farm";
}  // namespace

std::string configuration_fingerprint(const CLI::App& cli) {
  static const std::set<std::string> not_parameters = {"--output", "--config", "--json", "--quiet",
                                                       "--progress", "--help", "--version"};
  std::vector<std::string> lines;
  for (const CLI::Option* option : cli.get_options()) {
    const std::string name = option->get_lnames().empty() ? option->get_name()
                                                          : "--" + option->get_lnames().front();
    if (option->get_group() == farm_group || option->get_group().empty() ||
        not_parameters.contains(name)) {
      continue;
    }
    const auto& given = option->results();
    std::string value = option->get_default_str();
    if (option->count() > 0) value = given.empty() ? "set" : fmt::format("{}", fmt::join(given, ","));
    lines.push_back(name + "=" + value);
  }
  std::sort(lines.begin(), lines.end());
  return fmt::format("{}\n{}", cli.get_name(), fmt::join(lines, "\n"));
}

void FarmFlags::declare(CLI::App& cli) {
  cli_ = &cli;
  const std::string& group = farm_group;
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
  FarmOptions o;
  o.schedule = schedule == "static" ? Schedule::static_blocks : Schedule::dynamic;
  o.prefetch = prefetch;
  o.batch = batch;
  o.batch_seconds = batch_ms * 1e-3;
  o.max_attempts = attempts;
  o.journal = journal_path(output);
  o.resume = resume;
  o.journal_interval = journal_interval;
  o.stop_grace = stop_grace;
  if (cli_ != nullptr) o.fingerprint = configuration_fingerprint(*cli_);
  return o;
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
