#!/usr/bin/env python3
"""A task-farm app survives interruption: killed outright (SIGKILL to the whole job), stopped by
SIGUSR1 (exit 75), or losing a worker process; each time the journal stays readable, no output
appears under the final name, and --resume (at another rank count) finishes with a /tasks table
identical to an uninterrupted run in every deterministic column.

  farm_resume_check.py MPIEXEC SPMD_FIB SCRATCH_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py

from process_tools import kill_everything_mentioning
import numpy as np

DETERMINISTIC = ["n", "digits", "mod1e18", "leading", "ok"]
TASK_ARGS = ["--random", "240", "--max-n", "20000", "--seed", "3"]


def launch(mpiexec, app, ranks, args, **kw):
    cmd = [mpiexec, "--oversubscribe", "-n", str(ranks), app] + TASK_ARGS + args
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def columns(path):
    with h5py.File(path, "r") as f:
        return {name: f["tasks"][name][()] for name in DETERMINISTIC}


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in DETERMINISTIC)


def segments(journal):
    if not os.path.isdir(journal):
        return 0
    return len([n for n in os.listdir(journal) if n.endswith(".h5")])


def wait_for_segments(journal, proc, count=2, timeout=60):
    deadline = time.monotonic() + timeout
    while segments(journal) < count:
        if proc.poll() is not None:
            sys.exit(f"FAIL: the run ended before its journal had {count} segments: "
                     f"{proc.communicate()}")
        if time.monotonic() > deadline:
            sys.exit("FAIL: no journal segments appeared")
        time.sleep(0.05)


def rank_pid(marker, rank):
    """The pid of the app process with OMPI_COMM_WORLD_RANK == rank."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if marker.encode() not in cmd or b"mpirun" in cmd or b"orterun" in cmd:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
            if f"OMPI_COMM_WORLD_RANK={rank}".encode() in env:
                return int(pid)
        except (OSError, ProcessLookupError):
            pass
    return None


def resume(mpiexec, app, ranks, output, label):
    code, out, err = finish(launch(mpiexec, app, ranks, ["--resume", "--json", "--output", output]))
    if code != 0:
        sys.exit(f"FAIL {label}: resume exited {code}: {err}")
    summary = json.loads(out.strip().splitlines()[-1])
    if summary["resumed"] <= 0 or summary["done"] != summary["distinct"]:
        sys.exit(f"FAIL {label}: resume summary {summary}")
    if os.path.exists(output + ".journal"):
        sys.exit(f"FAIL {label}: the journal was not removed after a complete run")
    return summary


def main():
    mpiexec, app, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)

    reference = os.path.join(scratch, "reference.h5")
    code, _, err = finish(launch(mpiexec, app, 1, ["--output", reference]))
    if code != 0:
        sys.exit(f"FAIL: reference run exited {code}: {err}")
    expected = columns(reference)
    slow = ["--test-task-delay-ms", "15", "--journal-interval", "0.2", "--batch", "2"]

    # 1. Killed outright at 2 ranks (SIGKILL to mpirun and every rank), resumed at 3.
    out1 = os.path.join(scratch, "killed.h5")
    proc = launch(mpiexec, app, 2, slow + ["--output", out1])
    wait_for_segments(out1 + ".journal", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    kill_everything_mentioning(out1)
    proc.wait(timeout=30)
    if os.path.exists(out1):
        sys.exit("FAIL killed: an output appeared under the final name")
    s = resume(mpiexec, app, 3, out1, "killed")
    if not same(columns(out1), expected):
        sys.exit("FAIL killed: the resumed output differs from the uninterrupted one")
    print(f"killed at 2 ranks, resumed at 3: identical ({s['resumed']} of {s['distinct']} resumed)")

    # 2. Stopped by SIGUSR1 (as Slurm's --signal does): exit 75, then resumed at 4 ranks.
    out2 = os.path.join(scratch, "stopped.h5")
    proc = launch(mpiexec, app, 3, slow + ["--output", out2, "--stop-grace", "5"])
    wait_for_segments(out2 + ".journal", proc)
    proc.send_signal(signal.SIGUSR1)
    code, out, err = finish(proc, timeout=60)
    if code != 75 or "stopped on request" not in out:
        sys.exit(f"FAIL stopped: exit {code}, stdout {out!r}, stderr {err!r}")
    if os.path.exists(out2):
        sys.exit("FAIL stopped: an output appeared under the final name")
    s = resume(mpiexec, app, 4, out2, "stopped")
    if not same(columns(out2), expected):
        sys.exit("FAIL stopped: the resumed output differs from the uninterrupted one")
    print(f"stopped by SIGUSR1 (exit 75), resumed at 4: identical ({s['resumed']} resumed)")

    # 3. A worker process dies: the job ends (no hang), the journal resumes.
    out3 = os.path.join(scratch, "lost-worker.h5")
    proc = launch(mpiexec, app, 3, slow + ["--output", out3])
    wait_for_segments(out3 + ".journal", proc)
    pid = rank_pid(out3, 2)
    if pid is None:
        sys.exit("FAIL lost worker: rank 2 not found")
    os.kill(pid, signal.SIGKILL)
    start = time.monotonic()
    code, _, _ = finish(proc, timeout=60)
    if code == 0:
        sys.exit("FAIL lost worker: the job reported success")
    print(f"worker killed: job ended with exit {code} in {time.monotonic() - start:.1f} s")
    kill_everything_mentioning(out3)
    s = resume(mpiexec, app, 2, out3, "lost worker")
    if not same(columns(out3), expected):
        sys.exit("FAIL lost worker: the resumed output differs from the uninterrupted one")
    print(f"resumed at 2 ranks: identical ({s['resumed']} resumed)")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
