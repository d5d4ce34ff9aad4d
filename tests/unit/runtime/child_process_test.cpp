// Child processes against what the shell and the kernel say: exit statuses, signals, output
// tails, timeouts that reach grandchildren, nothing left running or unreaped.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/runtime/child_process.hpp"
#include "spmdkit/runtime/error.hpp"

namespace {

using namespace std::chrono_literals;
using spmd::ChildProcess;
using spmd::ChildSpec;
using Clock = std::chrono::steady_clock;

spmd::ChildEnd run(ChildSpec spec) {
  ChildProcess child(std::move(spec));
  ChildProcess* const children[] = {&child};
  while (!child.service()) spmd::wait_for_children(children, 1000ms);
  return child.end();
}

spmd::ChildEnd run_shell(const std::string& command) { return run(ChildSpec::shell(command)); }

// Whether `pid` names a live process (a zombie, or a process gone, counts as not live).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto state = line.find(") ");
  return state != std::string::npos && line[state + 2] != 'Z';
}

pid_t read_pid(const std::filesystem::path& file) {
  std::ifstream in(file);
  pid_t pid = -1;
  in >> pid;
  return pid;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "spmd-child-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(ChildProcess, ExitStatusAndSeparateStreams) {
  const auto end = run_shell("echo out; echo err >&2; exit 3");
  EXPECT_EQ(end.exit_code, 3);
  EXPECT_EQ(end.signal, 0);
  EXPECT_FALSE(end.succeeded());
  EXPECT_EQ(end.stdout_tail, "out\n");
  EXPECT_EQ(end.stderr_tail, "err\n");
  EXPECT_EQ(end.describe(), "exit status 3");
  EXPECT_TRUE(run_shell("true").succeeded());
}

TEST(ChildProcess, TailKeepsTheLastBytesAndEveryByteIsCounted) {
  ChildSpec spec = ChildSpec::shell("head -c 300000 /dev/zero | tr '\\0' a; printf END");
  spec.tail_bytes = 10;
  std::uint64_t seen = 0;
  spec.on_output = [&seen](spmd::OutputStream stream, std::string_view chunk) {
    if (stream == spmd::OutputStream::out) seen += chunk.size();
  };
  const auto end = run(std::move(spec));
  EXPECT_EQ(end.stdout_bytes, 300003u);
  EXPECT_EQ(seen, 300003u);
  EXPECT_EQ(end.stdout_tail, "aaaaaaaEND");
}

TEST(ChildProcess, BinaryOutputIsKeptByteForByte) {
  const auto end = run_shell("printf 'a\\000\\377\\376b'");
  EXPECT_EQ(end.stdout_tail, std::string("a\0\xff\xfe"
                                         "b",
                                         5));
}

TEST(ChildProcess, DeathBySignal) {
  const auto end = run_shell("kill -9 $$");
  EXPECT_EQ(end.signal, 9);
  EXPECT_EQ(end.exit_code, -1);
  EXPECT_EQ(end.describe(), "killed by signal 9 (KILL)");
}

TEST(ChildProcess, EnvironmentAndWorkingDirectory) {
  const TempDir dir;
  ChildSpec spec = ChildSpec::shell("echo \"$SPMD_CHILD_TEST\"; pwd");
  spec.environment = {{"SPMD_CHILD_TEST", "a b=c"}};
  spec.working_directory = dir.path().string();
  const auto end = run(std::move(spec));
  EXPECT_EQ(end.stdout_tail, "a b=c\n" + std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(ChildProcess, ArgumentVectorWithoutAShell) {
  ChildSpec spec;
  spec.argv = {"printf", "%s|", "one two", "$HOME", ";"};
  EXPECT_EQ(run(std::move(spec)).stdout_tail, "one two|$HOME|;|");
}

TEST(ChildProcess, WhatCannotStartIsAnError) {
  ChildSpec missing;
  missing.argv = {"/nonexistent/program"};
  EXPECT_THROW(ChildProcess{missing}, spmd::SystemError);
  ChildSpec nowhere = ChildSpec::shell("true");
  nowhere.working_directory = "/nonexistent/directory";
  EXPECT_THROW(ChildProcess{nowhere}, spmd::SystemError);
}

TEST(ChildProcess, TimeoutReachesGrandchildren) {
  const TempDir dir;
  const auto pid_file = dir.path() / "grandchild";
  ChildSpec spec = ChildSpec::shell("sleep 30 & echo $! > '" + pid_file.string() + "'; wait");
  spec.timeout = 300ms;
  const auto start = Clock::now();
  const auto end = run(std::move(spec));
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_TRUE(end.timed_out);
  EXPECT_EQ(end.signal, SIGTERM);
  EXPECT_FALSE(end.succeeded());
  EXPECT_EQ(end.describe().rfind("timed out after", 0), 0u) << end.describe();
  const pid_t grandchild = read_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  for (int i = 0; i < 100 && alive(grandchild); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(alive(grandchild));
}

TEST(ChildProcess, CommandsEndWithTheirOwnerEvenKilledOutright) {
  // An owner process (a rank) starts a command that starts another, then dies by SIGKILL --
  // none of its code runs. The keeper still ends both: none runs on without its owner. The
  // guarantee holds from the moment ChildProcess's constructor has returned (the few
  // instructions from posix_spawn's return to the keeper's record are the one gap), so the
  // owner is killed only after it says so: under load it may not have run since the spawn.
  const TempDir dir;
  const auto pid_file = dir.path() / "grandchild";
  const auto constructed_file = dir.path() / "constructed";
  const pid_t owner = ::fork();
  if (owner == 0) {
    ChildProcess child(ChildSpec::shell("sleep 60 & echo $! > '" + pid_file.string() + "'; wait"));
    std::ofstream(constructed_file) << "1\n";
    while (true) ::pause();
  }
  ASSERT_GT(owner, 0);
  pid_t grandchild = -1;
  for (int i = 0; i < 500 && (grandchild <= 0 || !std::filesystem::exists(constructed_file)); ++i) {
    std::this_thread::sleep_for(10ms);
    grandchild = read_pid(pid_file);
  }
  ASSERT_TRUE(std::filesystem::exists(constructed_file));
  ASSERT_GT(grandchild, 0);
  ::kill(owner, SIGKILL);
  int status = 0;
  ::waitpid(owner, &status, 0);
  for (int i = 0; i < 300 && alive(grandchild); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(alive(grandchild)) << "a command outlived the process that started it";
}

TEST(ChildProcess, TermIgnoredThenKillAfterTheGrace) {
  ChildSpec spec = ChildSpec::shell("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  spec.timeout = 200ms;
  spec.kill_grace = 300ms;
  const auto start = Clock::now();
  const auto end = run(std::move(spec));
  const auto took = Clock::now() - start;
  EXPECT_TRUE(end.timed_out);
  EXPECT_EQ(end.signal, SIGKILL);
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 3s);
}

TEST(ChildProcess, WhatAFinishedCommandLeftRunningIsKilled) {
  const auto end = run_shell("sleep 30 >/dev/null 2>&1 & echo $!");
  ASSERT_TRUE(end.succeeded());
  const pid_t left = std::stoi(end.stdout_tail);
  for (int i = 0; i < 100 && alive(left); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(alive(left));
}

TEST(ChildProcess, StopIsNotTheCommandsFailure) {
  ChildProcess child(ChildSpec::shell("sleep 30"));
  ChildProcess* const children[] = {&child};
  child.stop(1s);
  while (!child.service()) spmd::wait_for_children(children, 1000ms);
  EXPECT_TRUE(child.end().stopped);
  EXPECT_FALSE(child.end().timed_out);
  EXPECT_EQ(child.end().signal, SIGTERM);
  EXPECT_EQ(child.end().describe(), "stopped (then signal 15 (TERM))");
}

TEST(ChildProcess, WaitingReportsWhetherAnythingHappened) {
  ChildProcess quiet(ChildSpec::shell("sleep 30"));
  ChildProcess* const children[] = {&quiet};
  EXPECT_FALSE(spmd::wait_for_children(children, 50ms));  // nothing within the timeout
  quiet.stop(1s);
  EXPECT_TRUE(spmd::wait_for_children(children, 5000ms));  // its end
}

TEST(ChildProcess, DestructorKillsAndReaps) {
  pid_t pid = -1;
  {
    ChildProcess child(ChildSpec::shell("sleep 30"));
    pid = child.pid();
    ASSERT_TRUE(alive(pid));
  }
  EXPECT_FALSE(alive(pid));
  // Reaped: no zombie left for this process to collect.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(ChildProcess, SignalsAreResetAndNoDescriptorLeaks) {
  // This process ignores SIGPIPE and blocks SIGUSR1 (as MPI runtimes and spmd::run may); the
  // child must not inherit either, nor any descriptor above 2.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  const int extra = ::dup(1);  // not close-on-exec
  // grep is the child itself (no shell, which masks signals of its own while it waits).
  ChildSpec status;
  status.argv = {"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"};
  const auto end = run(std::move(status));
  const auto descriptor =
      run_shell("test -e /proc/$$/fd/" + std::to_string(extra) + " && echo leaked || echo clean");
  ::close(extra);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &previous, nullptr);
  // The standard signals 1-31 are the low 31 bits of each mask (the C library keeps 32 and 33
  // for itself, and what this process inherited for them it passes on).
  auto standard_signals = [&](const std::string& field) {
    const auto at = end.stdout_tail.find(field + ":\t");
    EXPECT_NE(at, std::string::npos) << end.stdout_tail;
    return std::stoull(end.stdout_tail.substr(at + field.size() + 2, 16), nullptr, 16) &
           0x7fffffffULL;
  };
  EXPECT_EQ(standard_signals("SigIgn"), 0u) << end.stdout_tail;
  EXPECT_EQ(standard_signals("SigBlk"), 0u) << end.stdout_tail;
  EXPECT_EQ(descriptor.stdout_tail, "clean\n");
}

TEST(ChildProcess, ManyAtOnceEachWaitedForWithoutPolling) {
  std::vector<std::unique_ptr<ChildProcess>> running;
  for (int i = 0; i < 16; ++i) {
    running.push_back(
        std::make_unique<ChildProcess>(ChildSpec::shell("sleep 0.3; echo " + std::to_string(i))));
  }
  const auto start = Clock::now();
  int wakeups = 0;
  for (;;) {
    std::vector<ChildProcess*> waiting;
    for (auto& child : running) {
      if (!child->service()) waiting.push_back(child.get());
    }
    if (waiting.empty()) break;
    spmd::wait_for_children(waiting, 5000ms);
    ++wakeups;
  }
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_LT(wakeups, 200);  // woken by the children, not spinning
  for (std::size_t i = 0; i < running.size(); ++i) {
    EXPECT_EQ(running[i]->end().stdout_tail, std::to_string(i) + "\n");
  }
}

}  // namespace
