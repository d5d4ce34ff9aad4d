#include "spmdkit/runtime/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "spmdkit/runtime/error.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace spmd {

namespace {

// Without pidfd_open (Linux < 5.3) the end of a child is noticed by the clock, this often.
constexpr auto end_poll_interval = std::chrono::milliseconds(10);
// Reads per pipe per service(): a child that writes without pause cannot hold the loop.
constexpr int reads_per_service = 16;

std::string signal_name(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation != nullptr ? fmt::format("{} ({})", signal, abbreviation)
                                 : std::to_string(signal);
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The process groups of this process's running children, killed when this process ends however
// it ends -- SIGKILL included, when none of its code runs (mpirun ending a failed job, the OOM
// killer): a child in a group of its own is not reached by signals to its parent's group, and
// would run on. A keeper process, forked at the first child's start, reads "+group" / "-group"
// records (int32) from a socket; when the socket's other end closes -- this process is gone --
// it sends SIGKILL to every group still listed and exits. Forked from a process with threads,
// the keeper calls only async-signal-safe functions and allocates nothing; it sits in a process
// group of its own and ignores the catchable signals a job's end sends, so that it outlives the
// process it watches. A process forked from this one gets a keeper of its own at its first
// child. If none can be started, children run without it (as before it existed).
class GroupKeeper {
 public:
  static GroupKeeper& instance() {
    static GroupKeeper keeper;
    return keeper;
  }
  // Before a child is spawned: the keeper is forked now, not when the child is already running
  // (a fork is slow -- much slower under a sanitizer -- and an owner killed meanwhile would leave
  // its child unknown to any keeper). What is left is the time from posix_spawn's return to
  // started()'s one send.
  void prepare() noexcept {
    const std::lock_guard lock(mutex_);
    if (owner_ != ::getpid()) start();
  }
  void started(pid_t group) noexcept { send(static_cast<std::int32_t>(group)); }
  void ended(pid_t group) noexcept { send(-static_cast<std::int32_t>(group)); }

 private:
  GroupKeeper() = default;

  // Under the lock. The socket of the process this one was forked from, if any, is not ours.
  void start() noexcept {
    if (socket_ >= 0) ::close(socket_);
    socket_ = -1;
    owner_ = ::getpid();
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return;
    const pid_t keeper = ::fork();
    if (keeper == 0) keep(ends[1]);  // never returns
    ::close(ends[1]);
    if (keeper < 0) {
      ::close(ends[0]);
      return;
    }
    socket_ = ends[0];
  }

  [[noreturn]] static void keep(int socket) noexcept {
    ::setpgid(0, 0);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE}) {
      ::signal(signal, SIG_IGN);
    }
    // Nothing of the watched process stays open here but the socket (as descriptor 0): no
    // output pipe of mpirun's is held open by the keeper.
    ::dup2(socket, 0);
    ::syscall(SYS_close_range, 1U, ~0U, 0U);
    constexpr std::size_t most = 65536;
    static std::array<std::int32_t, most> groups;  // static: no allocation after fork
    std::size_t count = 0;
    while (true) {
      std::int32_t record = 0;
      const ssize_t got = ::read(0, &record, sizeof record);
      if (got < 0 && errno == EINTR) continue;
      if (got != static_cast<ssize_t>(sizeof record)) break;  // the watched process is gone
      if (record > 0 && count < most) {
        groups[count++] = record;
      } else if (record < 0) {
        for (std::size_t i = 0; i < count; ++i) {
          if (groups[i] == -record) {
            groups[i] = groups[--count];
            break;
          }
        }
      }
    }
    for (std::size_t i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
    ::_exit(0);
  }

  void send(std::int32_t record) noexcept {
    const std::lock_guard lock(mutex_);
    if (owner_ != ::getpid()) start();
    if (socket_ < 0) return;
    // Records are 4 bytes: a stream socket delivers them whole, in order.
    while (::send(socket_, &record, sizeof record, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
  }

  std::mutex mutex_;
  int socket_ = -1;
  pid_t owner_ = 0;  // the process whose children the keeper watches
};

// A pair of pipe ends, closed unless handed on.
struct PipeEnds {
  int read = -1;
  int write = -1;
  PipeEnds() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw SystemError("child process: pipe", errno);
    read = ends[0];
    write = ends[1];
  }
  PipeEnds(const PipeEnds&) = delete;
  PipeEnds& operator=(const PipeEnds&) = delete;
  ~PipeEnds() {
    close_fd(read);
    close_fd(write);
  }
};

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attributes{};
  posix_spawn_file_actions_t actions{};
  SpawnSetup() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

// This process's environment with `overrides` set.
std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    const bool replaced = std::any_of(overrides.begin(), overrides.end(),
                                      [&](const auto& variable) { return variable.first == name; });
    if (!replaced) entries.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) entries.push_back(name + "=" + value);
  return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

void keep_tail(std::string& tail, std::string_view chunk, std::size_t limit) {
  tail.append(chunk);
  // Trimmed in amortised steps: at most twice the limit is held.
  if (tail.size() > 2 * limit + 4096) tail.erase(0, tail.size() - limit);
}

}  // namespace

ChildSpec ChildSpec::shell(std::string command) {
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", std::move(command)};
  return spec;
}

std::string ChildEnd::describe() const {
  std::string text;
  if (stopped) {
    text = "stopped";
  } else if (timed_out) {
    text = fmt::format("timed out after {:.3g} s", seconds);
  } else if (signal != 0) {
    return "killed by signal " + signal_name(signal);
  } else {
    return fmt::format("exit status {}", exit_code);
  }
  if (signal != 0) text += " (then signal " + signal_name(signal) + ")";
  if (exit_code >= 0) text += fmt::format(" (exit status {})", exit_code);
  return text;
}

ChildProcess::ChildProcess(ChildSpec spec) : spec_(std::move(spec)) {
  if (spec_.argv.empty()) throw UsageError("child process: nothing to run (empty argv)");
  PipeEnds out, err;
  SpawnSetup setup;
  // Its own process group (pgid = its pid), every signal at its default and none blocked.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  posix_spawnattr_setsigdefault(&setup.attributes, &all);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (!spec_.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, spec_.working_directory.c_str());
  }
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err.write, 2);
  // Nothing else of this process (MPI's sockets, HDF5 files) reaches the child.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);

  std::vector<std::string> arguments = spec_.argv;
  std::vector<std::string> environment = child_environment(spec_.environment);
  std::vector<char*> argv = pointers_to(arguments);
  std::vector<char*> envp = pointers_to(environment);
  GroupKeeper::instance().prepare();
  started_ = Clock::now();
  const int failed =
      posix_spawnp(&pid_, argv[0], &setup.actions, &setup.attributes, argv.data(), envp.data());
  if (failed != 0) {
    pid_ = -1;
    const std::string where =
        spec_.working_directory.empty() ? std::string() : " in " + spec_.working_directory;
    throw SystemError(fmt::format("cannot run {}{}", spec_.argv[0], where), failed);
  }
  GroupKeeper::instance().started(pid_);
  out_fd_ = std::exchange(out.read, -1);
  err_fd_ = std::exchange(err.read, -1);
  for (const int fd : {out_fd_, err_fd_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (spec_.timeout) {
    term_at_ = started_ + std::chrono::duration_cast<Clock::duration>(*spec_.timeout);
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : spec_(std::move(other.spec_)),
      pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      finished_(std::exchange(other.finished_, true)),
      started_(other.started_),
      term_at_(other.term_at_),
      kill_at_(other.kill_at_),
      end_(std::move(other.end_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    spec_ = std::move(other.spec_);
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
    out_fd_ = std::exchange(other.out_fd_, -1);
    err_fd_ = std::exchange(other.err_fd_, -1);
    finished_ = std::exchange(other.finished_, true);
    started_ = other.started_;
    term_at_ = other.term_at_;
    kill_at_ = other.kill_at_;
    end_ = std::move(other.end_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { release(); }

void ChildProcess::release() noexcept {
  if (pid_ > 0 && !finished_) {
    signal_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    GroupKeeper::instance().ended(pid_);
    finished_ = true;
  }
  close_fd(pidfd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
  pid_ = -1;
}

void ChildProcess::signal_group(int signal) const noexcept {
  // The group id is the child's pid, which cannot be reused while the child is unreaped.
  if (pid_ > 0) ::kill(-pid_, signal);
}

void ChildProcess::read_available(int& fd, OutputStream stream) {
  if (fd < 0) return;
  std::string& tail = stream == OutputStream::out ? end_.stdout_tail : end_.stderr_tail;
  std::uint64_t& bytes = stream == OutputStream::out ? end_.stdout_bytes : end_.stderr_bytes;
  char buffer[65536];
  for (int i = 0; i < reads_per_service; ++i) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) {
      const std::string_view chunk(buffer, static_cast<std::size_t>(got));
      bytes += chunk.size();
      keep_tail(tail, chunk, spec_.tail_bytes);
      if (spec_.on_output) spec_.on_output(stream, chunk);
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_fd(fd);  // end of file (every writer gone) or a read error
    return;
  }
}

bool ChildProcess::service() {
  if (finished_) return true;
  read_available(out_fd_, OutputStream::out);
  read_available(err_fd_, OutputStream::err);
  const auto now = Clock::now();
  if (term_at_ && now >= *term_at_) {
    term_at_.reset();
    if (!end_.stopped) end_.timed_out = true;
    signal_group(SIGTERM);
    kill_at_ = now + std::chrono::duration_cast<Clock::duration>(spec_.kill_grace);
  }
  if (kill_at_ && now >= *kill_at_) {
    kill_at_.reset();
    signal_group(SIGKILL);
  }
  // Ended? Asked without reaping, so that its group can still be named safely below.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid == 0) {
    return false;
  }
  signal_group(SIGKILL);  // whatever it left running in its group
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  GroupKeeper::instance().ended(pid_);
  finish(status);
  return true;
}

void ChildProcess::finish(int status) {
  // Everything the command wrote is in the pipes now; a writer that escaped the group could keep
  // them open, so read what is there and no more.
  for (int round = 0; round < 64 && (out_fd_ >= 0 || err_fd_ >= 0); ++round) {
    const std::uint64_t before = end_.stdout_bytes + end_.stderr_bytes;
    read_available(out_fd_, OutputStream::out);
    read_available(err_fd_, OutputStream::err);
    if (end_.stdout_bytes + end_.stderr_bytes == before) break;
  }
  finished_ = true;
  end_.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  if (WIFEXITED(status)) end_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) end_.signal = WTERMSIG(status);
  for (std::string* tail : {&end_.stdout_tail, &end_.stderr_tail}) {
    if (tail->size() > spec_.tail_bytes) tail->erase(0, tail->size() - spec_.tail_bytes);
  }
  close_fd(pidfd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
  pid_ = -1;
}

void ChildProcess::stop(std::chrono::duration<double> grace) {
  if (finished_ || end_.stopped) return;
  end_.stopped = true;
  term_at_ = Clock::now();
  spec_.kill_grace = grace;
  service();
}

void ChildProcess::add_wait_descriptors(std::vector<int>& fds) const {
  if (finished_) return;
  for (const int fd : {out_fd_, err_fd_, pidfd_}) {
    if (fd >= 0) fds.push_back(fd);
  }
}

std::optional<ChildProcess::Clock::time_point> ChildProcess::next_deadline() const {
  if (finished_) return std::nullopt;
  std::optional<Clock::time_point> next;
  for (const auto& due : {term_at_, kill_at_}) {
    if (due && (!next || *due < *next)) next = due;
  }
  if (pidfd_ < 0) {
    const auto poll_at = Clock::now() + end_poll_interval;
    if (!next || poll_at < *next) next = poll_at;
  }
  return next;
}

bool wait_for_children(std::span<ChildProcess* const> children, std::chrono::milliseconds timeout) {
  std::vector<int> fds;
  const auto give_up = ChildProcess::Clock::now() + timeout;
  auto wait_until = give_up;
  for (const ChildProcess* child : children) {
    if (child->finished()) return true;
    child->add_wait_descriptors(fds);
    if (const auto due = child->next_deadline()) wait_until = std::min(wait_until, *due);
  }
  std::vector<pollfd> polled;
  polled.reserve(fds.size());
  for (const int fd : fds) polled.push_back({fd, POLLIN, 0});
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(wait_until - ChildProcess::Clock::now());
  const int ready =
      ::poll(polled.data(), polled.size(),
             static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count())));
  // Something to do: a descriptor is ready, or a child's deadline (not the timeout) came.
  return ready > 0 || wait_until < give_up;
}

}  // namespace spmd
