// spmd-farm: a user's existing programs as one many-task job -- the book's Parallel Python and
// Celery job distribution, for any command, on MPI ranks (one job step, one allocation).
//
//   mpirun -np 4 spmd-farm tasks.txt                      # one shell command per line
//   mpirun -np 4 spmd-farm tasks.jsonl --slots 8          # JSON Lines; 8 commands at once a rank
//   mpirun -np 4 spmd-farm --template 'gzip -k {}' --args-file inputs.txt
//
// Every rank runs commands, the master (rank 0) too, between its dispatching. A command runs in
// a process group of its own (a timeout or a stop reaches everything it started), its output's
// last --tail-bytes kept. A failed command is tried again on another rank up to --attempts. The
// journal (OUTPUT.journal) records every finished task: a run stopped by SIGUSR1/SIGTERM (its
// running commands get --stop-grace, then TERM/KILL, exit 75) or killed outright continues with
// --resume at any rank count, redoing only what did not finish -- a command cut short by a stop
// did not use up an attempt. The output's /tasks table is in task order; exit 3 when any task
// failed for good (a summary of the failures on standard error).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "task_file.hpp"

namespace farm {

// What a command did: how it ended and the end of what it wrote.
struct CommandResult {
  std::int32_t exit_code = -1;
  std::int32_t signal = 0;
  std::uint8_t timed_out = 0;
  std::string stdout_tail;
  std::string stderr_tail;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  double started = 0;  ///< Unix time (rank's clock)
  double seconds = 0;
};

}  // namespace farm

template <>
struct spmd::wire::Codec<farm::CommandResult>
    : spmd::wire::Fields<&farm::CommandResult::exit_code, &farm::CommandResult::signal,
                         &farm::CommandResult::timed_out, &farm::CommandResult::stdout_tail,
                         &farm::CommandResult::stderr_tail, &farm::CommandResult::stdout_bytes,
                         &farm::CommandResult::stderr_bytes, &farm::CommandResult::started,
                         &farm::CommandResult::seconds> {};

namespace farm {
namespace {

// Tasks travel as their number: every rank holds the task list (read once by rank 0, sent to
// all), so a message carries 8 bytes per task whatever the command's length.
using Farm = spmd::TaskFarm<std::uint64_t, CommandResult>;

struct Options {
  std::string task_file;
  std::string format = "auto";
  std::string command_template;
  std::vector<std::string> arguments;
  std::string arguments_file;
  double timeout = 0;
  double kill_grace = 5;
  std::size_t tail_bytes = 4096;
  std::uint32_t slots = 1;
  std::string logs;
  spmd::FarmFlags farm;

  void declare(CLI::App& cli) {
    cli.add_option("tasks", task_file,
                   "task file: one shell command per line, or JSON Lines (*.jsonl); - reads "
                   "standard input");
    cli.add_option("--format", format, "task file format (auto: JSON Lines for *.jsonl/*.ndjson)")
        ->check(CLI::IsMember({"auto", "lines", "jsonl"}))
        ->capture_default_str();
    cli.add_option("--template", command_template,
                   "a command run once per argument, GNU parallel's {} {.} {/} {//} {/.} {#} "
                   "replaced (shell-quoted); without any, the argument is appended");
    cli.add_option("--args", arguments, "the arguments of --template (like parallel's :::)");
    cli.add_option("--args-file", arguments_file,
                   "a file with one argument of --template per line (like parallel's ::::); - "
                   "reads standard input");
    cli.add_option("--timeout", timeout,
                   "seconds a command may run (0: no limit; a task's own \"timeout\" wins); then "
                   "its process group gets TERM, and KILL after --kill-grace")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    // How the run goes, not what it computes: a resume may change these (the farm's group).
    cli.add_option("--kill-grace", kill_grace, "seconds between TERM and KILL")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str()
        ->group(spmd::farm_option_group);
    cli.add_option("--tail-bytes", tail_bytes,
                   "bytes of the end of each command's stdout and stderr kept in the output")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
        ->capture_default_str();
    cli.add_option("--logs", logs,
                   "directory for the commands' whole output: one file per rank (rank-R.log), "
                   "each chunk under a '==> KEY stdout <==' line when the source changes")
        ->group(spmd::farm_option_group);
    cli.add_option("--slots", slots, "commands at once per rank (more than cores for I/O-bound)")
        ->check(CLI::Range(1U, 1024U))
        ->capture_default_str()
        ->group(spmd::farm_option_group);
    // Commands are not assumed to be safe to run twice: retry only when asked, and then give
    // what failed (a busy file system, a network blip) a moment to recover.
    farm.attempts = 1;
    farm.retry_backoff = 1;
    farm.declare(cli);
  }
};

// The task list as read on rank 0, for every rank: the file's text (or the arguments).
struct TaskSource {
  std::string name;  ///< for messages: the file, "-", or "--args"
  std::string text;  ///< the task file, or the arguments file
};

std::string read_all(const std::string& path) {
  if (path == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    return std::move(text).str();
  }
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw spmd::UsageError(fmt::format("{} is a directory, not a task file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw spmd::UsageError(fmt::format("cannot read {}", path));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw spmd::UsageError(fmt::format("cannot read {}", path));
  return text;
}

// The tasks, the same on every rank (or the same UsageError on every rank).
std::vector<CommandTask> load_tasks(const spmd::Comm& comm, const Options& options) {
  const bool from_template = !options.command_template.empty();
  const int sources = (options.task_file.empty() ? 0 : 1) + (from_template ? 1 : 0);
  if (sources != 1) {
    throw spmd::UsageError(
        "give a task file (or - for standard input), or --template CMD with --args or "
        "--args-file");
  }
  if (from_template && options.arguments.empty() == options.arguments_file.empty()) {
    throw spmd::UsageError("--template needs exactly one of --args A B ... or --args-file FILE");
  }
  if (!from_template && (!options.arguments.empty() || !options.arguments_file.empty())) {
    throw spmd::UsageError("--args and --args-file go with --template");
  }
  // Rank 0 reads (standard input reaches rank 0 only); its verdict is everyone's.
  std::string text;
  std::exception_ptr failed;
  std::string message;
  const std::string& path = from_template ? options.arguments_file : options.task_file;
  if (comm.rank() == 0 && !path.empty()) {
    try {
      text = read_all(path);
    } catch (const std::exception& e) {
      failed = std::current_exception();
      message = e.what();
    }
  }
  comm.throw_first_failure(failed, std::move(message));
  comm.broadcast_bytes(text, 0);

  std::vector<CommandTask> tasks;
  if (from_template) {
    const std::vector<std::string> arguments =
        path.empty() ? options.arguments : argument_lines(text);
    tasks = expand_template(options.command_template, arguments, path.empty() ? ":::" : path);
  } else {
    TaskFormat format = TaskFormat::automatic;
    if (options.format == "lines") format = TaskFormat::lines;
    if (options.format == "jsonl") format = TaskFormat::json_lines;
    tasks = parse_tasks(text, options.task_file, format);
  }
  if (tasks.empty())
    throw spmd::UsageError(fmt::format("{}: no tasks", path.empty() ? ":::" : path));
  return tasks;
}

// FNV-1a, 64 bits: names the task list in the journal's fingerprint (a resume with another list
// is refused), without storing the list there.
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string tasks_fingerprint(const std::vector<CommandTask>& tasks) {
  std::string all;
  for (const CommandTask& task : tasks) {
    all += task.key;
    all += '\0';
    all += task.display();
    all += '\0';
    all += task.cwd;
    all += '\0';
    for (const auto& [name, value] : task.env) all += name + "=" + value + '\0';
    all += fmt::format("{}\n", task.timeout.value_or(-1));
  }
  return fmt::format("{} tasks, fnv1a64 {:016x}", tasks.size(), fnv1a(all));
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The whole output of this rank's commands, when asked for (--logs): one file per rank, never
// one per task (a million tasks would be a million files). Commands running at once (--slots)
// interleave by chunk; a header line names the task and stream whenever the source changes.
// Appended to, so a resumed run adds to what the earlier one wrote.
class RankLog {
 public:
  RankLog(const std::string& directory, int rank) {
    if (directory.empty()) return;
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    const std::string path = fmt::format("{}/rank-{}.log", directory, rank);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw spmd::SystemError(fmt::format("--logs: cannot open {}", path), errno);
  }
  ~RankLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  RankLog(const RankLog&) = delete;
  RankLog& operator=(const RankLog&) = delete;
  [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }

  void write(const std::string& key, spmd::OutputStream stream, std::string_view chunk) {
    const std::lock_guard lock(mutex_);
    const char* name = stream == spmd::OutputStream::out ? "stdout" : "stderr";
    if (key != last_key_ || stream != last_stream_) {
      write_all(fmt::format("{}==> {} {} <==\n", at_line_start_ ? "" : "\n", key, name));
      last_key_ = key;
      last_stream_ = stream;
      at_line_start_ = true;
    }
    write_all(chunk);
    if (!chunk.empty()) at_line_start_ = chunk.back() == '\n';
  }

 private:
  void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t wrote = ::write(fd_, bytes.data(), bytes.size());
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) throw spmd::SystemError("--logs: cannot write (is the disk full?)", errno);
      bytes.remove_prefix(static_cast<std::size_t>(wrote));
    }
  }

  std::mutex mutex_;
  int fd_ = -1;
  std::string last_key_;
  spmd::OutputStream last_stream_ = spmd::OutputStream::out;
  bool at_line_start_ = true;
};

// Runs one task's command to its end; a failed command throws TaskFailure with its result, a
// stop's interruption kills it and throws TaskInterrupted.
CommandResult run_command(const CommandTask& task, const Options& options, RankLog& log,
                          spmd::TaskContext<std::uint64_t>& context) {
  if (context.interrupted()) throw spmd::TaskInterrupted("the run is stopping");
  spmd::ChildSpec spec =
      task.argv.empty() ? spmd::ChildSpec::shell(task.command) : spmd::ChildSpec{.argv = task.argv};
  spec.environment = task.env;
  spec.working_directory = task.cwd;
  spec.tail_bytes = options.tail_bytes;
  const double timeout = task.timeout.value_or(options.timeout);
  if (timeout > 0) spec.timeout = std::chrono::duration<double>(timeout);
  spec.kill_grace = std::chrono::duration<double>(options.kill_grace);
  if (log.enabled()) {
    spec.on_output = [&log, &task](spmd::OutputStream stream, std::string_view chunk) {
      log.write(task.key, stream, chunk);
    };
  }
  CommandResult result;
  result.started = unix_now();
  spmd::ChildProcess child(std::move(spec));
  spmd::ChildProcess* const children[] = {&child};
  bool stopped = false;
  while (!child.service()) {
    (void)spmd::wait_for_children(children, std::chrono::milliseconds(50));
    if (!stopped && context.interrupted()) {
      child.stop(std::chrono::duration<double>(options.kill_grace));
      stopped = true;
    }
  }
  const spmd::ChildEnd& end = child.end();
  result.exit_code = end.exit_code;
  result.signal = end.signal;
  result.timed_out = end.timed_out ? 1 : 0;
  result.stdout_tail = end.stdout_tail;
  result.stderr_tail = end.stderr_tail;
  result.stdout_bytes = end.stdout_bytes;
  result.stderr_bytes = end.stderr_bytes;
  result.seconds = end.seconds;
  if (end.stopped) throw spmd::TaskInterrupted(end.describe());
  if (!end.succeeded()) throw spmd::TaskFailure<CommandResult>(end.describe(), result);
  return result;
}

// One row of /tasks.
struct TaskRow {
  std::uint64_t index = 0;
  std::string key;
  std::string command;
  std::uint8_t ok = 0;
  std::int32_t exit_code = -1;
  std::int32_t signal = 0;
  std::uint8_t timed_out = 0;
  std::uint32_t attempts = 0;
  std::string host;
  std::int32_t rank = -1;
  double start = 0;
  double seconds = 0;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  std::uint64_t stdout_offset = 0;
  std::uint64_t stdout_length = 0;
  std::uint64_t stderr_offset = 0;
  std::uint64_t stderr_length = 0;
  std::string error;
};

// The first line of a command's error output (or its error message), for the failure summary.
std::string first_line(std::string_view text) {
  const std::string_view line = text.substr(0, text.find('\n'));
  return std::string(line.substr(0, 200));
}

std::vector<std::uint8_t> as_bytes(const std::string& text) { return {text.begin(), text.end()}; }

void write_output(spmd::App& app, const std::vector<CommandTask>& tasks,
                  const std::vector<Farm::Outcome>& outcomes, const std::string& fingerprint) {
  using spmd::io::field;
  const spmd::io::RowColumns columns{
      field("index", &TaskRow::index),
      field("key", &TaskRow::key, spmd::io::TableBatch::longest_value),
      field("command", &TaskRow::command, spmd::io::TableBatch::longest_value),
      field("ok", &TaskRow::ok),
      field("exit_code", &TaskRow::exit_code),
      field("signal", &TaskRow::signal),
      field("timed_out", &TaskRow::timed_out),
      field("attempts", &TaskRow::attempts),
      field("host", &TaskRow::host, spmd::io::TableBatch::longest_value),
      field("rank", &TaskRow::rank),
      field("start", &TaskRow::start, "s"),
      field("seconds", &TaskRow::seconds, "s"),
      field("stdout_bytes", &TaskRow::stdout_bytes, "B"),
      field("stderr_bytes", &TaskRow::stderr_bytes, "B"),
      field("stdout_offset", &TaskRow::stdout_offset),
      field("stdout_length", &TaskRow::stdout_length, "B"),
      field("stderr_offset", &TaskRow::stderr_offset),
      field("stderr_length", &TaskRow::stderr_length, "B"),
      field("error", &TaskRow::error, spmd::io::TableBatch::longest_value)};
  std::vector<TaskRow> rows;
  std::string stdout_tails;
  std::string stderr_tails;
  double first_start = 0;
  if (app.is_root()) {
    // Start times count from the first task's start (of this run or of a resumed earlier one).
    first_start = std::numeric_limits<double>::max();
    for (const auto& outcome : outcomes) {
      if (outcome.result) first_start = std::min(first_start, outcome.result->started);
    }
    if (first_start == std::numeric_limits<double>::max()) first_start = 0;
    const auto& placement = app.provenance().placement;
    for (const auto& outcome : outcomes) {
      const CommandTask& task = tasks[outcome.task];
      const CommandResult result = outcome.result.value_or(CommandResult{});
      TaskRow row;
      row.index = outcome.task;
      row.key = task.key;
      row.command = task.display();
      row.ok = outcome.ok() ? 1 : 0;
      row.exit_code = result.exit_code;
      row.signal = result.signal;
      row.timed_out = result.timed_out;
      row.attempts = outcome.attempts;
      row.rank = outcome.worker;
      if (outcome.worker >= 0 && static_cast<std::size_t>(outcome.worker) < placement.size()) {
        row.host = placement[static_cast<std::size_t>(outcome.worker)].host;
      }
      row.start = outcome.result ? result.started - first_start : 0;
      row.seconds = result.seconds;
      row.stdout_bytes = result.stdout_bytes;
      row.stderr_bytes = result.stderr_bytes;
      row.stdout_offset = stdout_tails.size();
      row.stdout_length = result.stdout_tail.size();
      row.stderr_offset = stderr_tails.size();
      row.stderr_length = result.stderr_tail.size();
      stdout_tails += result.stdout_tail;
      stderr_tails += result.stderr_tail;
      row.error = outcome.error;
      rows.push_back(std::move(row));
    }
  }
  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-farm: commands as tasks");
  spmd::io::Table::create(out.file(), "tasks").append(columns.batch(rows));
  // The tails are bytes (any encoding, NULs included): one byte column each, a task's part
  // found by its row's offset and length.
  spmd::io::TableBatch stdout_batch;
  const std::vector<std::uint8_t> stdout_bytes = as_bytes(stdout_tails);
  stdout_batch.column("bytes", stdout_bytes);
  spmd::io::Table::create(out.file(), "tails/stdout").append(stdout_batch);
  spmd::io::TableBatch stderr_batch;
  const std::vector<std::uint8_t> stderr_bytes = as_bytes(stderr_tails);
  stderr_batch.column("bytes", stderr_bytes);
  spmd::io::Table::create(out.file(), "tails/stderr").append(stderr_batch);
  out.file().set_attribute("tasks", static_cast<std::uint64_t>(tasks.size()));
  out.file().set_attribute("first_start_unix", app.comm().broadcast(first_start));
  out.file().set_attribute("task_list", fingerprint);
  out.commit();
}

int run_farm(spmd::App& app, const Options& options) {
  const std::vector<CommandTask> tasks = load_tasks(app.comm(), options);
  const std::string task_list = tasks_fingerprint(tasks);
  spmd::StopRequest stop;
  auto progress = app.progress("tasks", tasks.size());
  spmd::FarmOptions farm_options = options.farm.options(app.options().output);
  farm_options.fingerprint += "\ntask list: " + task_list;
  farm_options.stop = &stop;
  farm_options.slots = options.slots;
  farm_options.delivery = spmd::Delivery::task_order;
  // A command is one task in its own batch unless commands are quick: the adaptive batching
  // still groups tiny ones (~2 ms of work a message).
  spmd::attach_progress(farm_options, progress);

  RankLog log(options.logs, app.rank());
  Farm farm(app.comm(), farm_options);
  farm.key_by([&tasks](std::uint64_t index) { return tasks[index].key; });
  // A task's "est" (seconds) tells the deadline what it will take; others are judged by the
  // times measured so far.
  farm.estimate_by([&tasks](std::uint64_t index) { return tasks[index].estimate.value_or(-1.0); });
  farm.priority_by([&tasks](std::uint64_t index) { return tasks[index].priority; });
  farm.attempts_by([&tasks](std::uint64_t index) { return tasks[index].attempts.value_or(0); });
  farm.tags_by([&tasks](std::uint64_t index) { return tasks[index].tags; });
  // Every rank learns the master's verdict on the tasks (a task no rank can run is refused).
  std::exception_ptr refused;
  std::string message;
  for (std::uint64_t index = 0; index < tasks.size() && !refused; ++index) {
    try {
      farm.submit(index);
    } catch (const spmd::UsageError& e) {
      refused = std::current_exception();
      message = fmt::format("{}: {}", tasks[index].origin, e.what());
    }
  }
  app.comm().throw_first_failure(refused, std::move(message));
  std::vector<Farm::Outcome> outcomes;
  const spmd::FarmReport report = farm.run(
      [&](std::uint64_t index, spmd::TaskContext<std::uint64_t>& context) {
        return run_command(tasks.at(index), options, log, context);
      },
      [&](const Farm::Outcome& outcome) { outcomes.push_back(outcome); });
  progress.finish();

  auto& summary = app.summary();
  summary.set("tasks", static_cast<std::int64_t>(report.tasks));
  summary.set("done", static_cast<std::int64_t>(report.done));
  summary.set("failed", static_cast<std::int64_t>(report.failed));
  summary.set("resumed", static_cast<std::int64_t>(report.resumed));
  summary.set("retries", static_cast<std::int64_t>(report.retries));
  summary.set("unfinished", static_cast<std::int64_t>(report.unfinished));
  summary.set("past_deadline", static_cast<std::int64_t>(report.past_deadline));
  summary.set("runners", report.workers);
  summary.set("slots", static_cast<std::int64_t>(options.slots));
  summary.set("makespan_s", report.seconds);
  summary.set("efficiency", report.efficiency());
  summary.set("tasks_per_s",
              report.seconds > 0
                  ? static_cast<double>(report.done - report.resumed) / report.seconds
                  : 0.0);

  if (report.stopped) {
    summary.set("stopped", true);
    app.print("spmd-farm: stopped {}: {} of {} tasks done, journal {} ({} to continue)\n",
              report.past_deadline > 0
                  ? fmt::format("at the deadline ({} task(s) could not finish in the time left)",
                                report.past_deadline)
                  : std::string("on request"),
              report.done, report.tasks, farm_options.journal,
              farm_options.journal.empty() ? "no journal: start over" : "--resume");
    return spmd::exit_code::requeue;
  }
  write_output(app, tasks, outcomes, task_list);
  summary.set("output", app.options().output);
  app.print(
      "spmd-farm: {} tasks on {} runner(s) ({} rank(s) x {} slot(s)) in {:.3f} s: {} done ({} "
      "resumed), {} failed, {} retries\n",
      report.tasks, report.workers, app.size(), options.slots, report.seconds, report.done,
      report.resumed, report.failed, report.retries);
  app.print("  busy {:.1f}% of the runners' time; wrote {} (/tasks)\n", 100 * report.efficiency(),
            app.options().output);

  if (report.failed > 0) {
    if (app.is_root()) {
      std::size_t shown = 0;
      for (const auto& outcome : outcomes) {
        if (outcome.ok()) continue;
        if (++shown > 10) break;
        const CommandTask& task = tasks[outcome.task];
        const std::string detail =
            outcome.result ? first_line(outcome.result->stderr_tail) : std::string();
        fmt::print(stderr, "spmd-farm: task {} ({}) failed: {}{}{}\n", task.key, task.display(),
                   outcome.error, detail.empty() ? "" : ": ", detail);
      }
      fmt::print(stderr,
                 "spmd-farm: {} of {} task(s) failed; details in {} (/tasks); the journal {} "
                 "keeps the run: --resume runs them again\n",
                 report.failed, report.tasks, app.options().output, farm_options.journal);
    }
    return spmd::exit_code::tasks_failed;
  }
  return spmd::exit_code::ok;
}

}  // namespace
}  // namespace farm

int main(int argc, char** argv) {
  farm::Options options;
  return spmd::run(
      argc, argv,
      {.name = "farm",
       .description = "Runs many commands (a task file, or a template over arguments) as one MPI "
                      "job: every rank runs them, failures retried, resumable",
       .default_output = "farm.h5"},
      [&](CLI::App& cli) { options.declare(cli); },
      [&](spmd::App& app) { return farm::run_farm(app, options); });
}
