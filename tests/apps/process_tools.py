"""Helpers of the test scripts that kill jobs outright."""
import os
import signal


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
