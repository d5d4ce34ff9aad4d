#pragma once
// Other programs as tasks: a child process that owns its process group, its output and its end.
//
// A child starts in a process group of its own (so that a timeout or a stop reaches everything
// it started: `sh -c` and its grandchildren), with standard input from /dev/null, its standard
// output and error read through pipes (the last `tail_bytes` of each kept, every byte counted,
// every chunk handed to `on_output` if set), no file descriptor of this process but 0-2, and
// every signal at its default disposition and unblocked (whatever MPI or spmd::run set here).
//
// Nothing here blocks but wait_for_children(): service() reads what is there, enforces the
// timeout (SIGTERM to the group, SIGKILL `kill_grace` later) and notices the end. A child is its
// group: when the command itself exits, whatever it left running in its group is killed (a task
// leaves nothing behind). The destructor kills and reaps a child still running, so no child
// outlives its owner or is left a zombie; an owner that dies without running any code (SIGKILL)
// takes its children's groups with it too, through a keeper process, once the constructor has
// returned.
//
// Not thread-safe: one thread owns a child (the rank's event loop).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spmd {

enum class OutputStream { out, err };

/// What to run and how.
struct ChildSpec {
  /// The program and its arguments; a program name without '/' is looked up on PATH.
  std::vector<std::string> argv;
  /// Variables set in (or replacing those of) the environment this process passes on.
  std::vector<std::pair<std::string, std::string>> environment;
  /// Where it runs; empty: this process's working directory.
  std::string working_directory;
  /// The last bytes of standard output and of standard error kept for the end report.
  std::size_t tail_bytes = 4096;
  /// From the start; past it the group gets SIGTERM, then SIGKILL `kill_grace` later.
  std::optional<std::chrono::duration<double>> timeout;
  std::chrono::duration<double> kill_grace = std::chrono::seconds(5);
  /// Every chunk of output as it arrives (full logs); the tails are kept either way.
  std::function<void(OutputStream, std::string_view)> on_output;

  /// `command` run by /bin/sh -c.
  [[nodiscard]] static ChildSpec shell(std::string command);
};

/// How a child ended.
struct ChildEnd {
  int exit_code = -1;      ///< its exit status when it exited, else -1
  int signal = 0;          ///< the signal that ended it, else 0
  bool timed_out = false;  ///< ran past its timeout (and was signalled)
  bool stopped = false;    ///< ended by stop(): not the command's own failure
  std::string stdout_tail;
  std::string stderr_tail;
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
  double seconds = 0;  ///< from start to end

  [[nodiscard]] bool succeeded() const noexcept {
    return exit_code == 0 && signal == 0 && !timed_out && !stopped;
  }
  /// "exit status 3", "killed by signal 9 (KILL)", "timed out after 2.5 s (then signal 15
  /// (TERM))", "stopped (signal 15 (TERM))".
  [[nodiscard]] std::string describe() const;
};

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  /// Starts `spec`. Throws SystemError when it cannot: no such program or working directory, no
  /// pipes or processes left.
  explicit ChildProcess(ChildSpec spec);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  /// A child still running is killed with its group and reaped.
  ~ChildProcess();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  /// Does what is due, without blocking: reads output, signals past a deadline, notices the end.
  /// Returns finished().
  bool service();
  /// Ends it early: SIGTERM to its group now, SIGKILL after `grace` (service() sees to it). The
  /// end is marked stopped. No effect once finished.
  void stop(std::chrono::duration<double> grace);
  /// How it ended; only once finished().
  [[nodiscard]] const ChildEnd& end() const noexcept { return end_; }

  /// What wait_for_children() waits on: readable pipes and the end of the process.
  void add_wait_descriptors(std::vector<int>& fds) const;
  /// The next moment service() has something to do by the clock (a deadline), if any.
  [[nodiscard]] std::optional<Clock::time_point> next_deadline() const;

 private:
  void read_available(int& fd, OutputStream stream);
  void signal_group(int signal) const noexcept;
  void finish(int status);
  void release() noexcept;

  ChildSpec spec_;
  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable when the child ends (-1: no pidfd_open here, poll by the clock)
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool finished_ = false;
  Clock::time_point started_{};
  std::optional<Clock::time_point> term_at_;  // SIGTERM due (timeout)
  std::optional<Clock::time_point> kill_at_;  // SIGKILL due (after TERM)
  ChildEnd end_;
};

/// Blocks until one of `children` has output or has ended, or a deadline of one is due, or
/// `timeout` has passed (then returns false).
bool wait_for_children(std::span<ChildProcess* const> children, std::chrono::milliseconds timeout);

}  // namespace spmd
