"""Helpers of the test scripts that kill jobs outright."""
import os
import shutil
import signal
import subprocess


def processes_mentioning(marker):
    """The pids of the processes whose command line contains `marker` (mpirun's ranks included),
    except this one and its parent."""
    spared = {os.getpid(), os.getppid()}
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in spared:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def kill_everything_mentioning(marker):
    """SIGKILL every process whose command line contains `marker`, except this one and its
    parent."""
    for pid in processes_mentioning(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stacks_of_session(leader):
    """The processes of a hung run's session and their stacks (gdb), for the report."""
    lines = []
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != leader:  # the session id
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        lines.append(f"  pid {pid} ({fields[0]}): {cmdline[:200]}")
        if shutil.which("gdb"):
            trace = subprocess.run(["gdb", "-batch", "-p", str(pid), "-ex",
                                    "thread apply all bt 12"], capture_output=True, text=True,
                                   timeout=60)
            lines += ["    " + l for l in trace.stdout.splitlines() if l.startswith(("#", "Thread"))]
    return "\n".join(lines)
