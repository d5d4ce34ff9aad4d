#!/usr/bin/env python3
"""SIGUSR1 to mpirun mid-run: every rank of spmd-heat stops at the same step, writes a checkpoint
and exits with 75 ("checkpointed, requeue me"); a restart from it at another rank count ends with
results identical to an uninterrupted run.

  heat_signal_check.py MPIEXEC SPMD_HEAT H5DIFF SCRATCH
"""
import os
import shutil
import signal
import subprocess
import sys
import time

ARGS = ["--nx", "37", "--ny", "23", "--steps", "60", "--every", "20", "--quiet"]


def launch(mpiexec, heat, ranks, *extra):
    return [mpiexec, "--oversubscribe", "-n", str(ranks), heat, *ARGS, *extra]


def main():
    mpiexec, heat, h5diff, scratch = sys.argv[1:5]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    full = os.path.join(scratch, "full.h5")
    stopped = os.path.join(scratch, "stopped.h5")
    resumed = os.path.join(scratch, "resumed.h5")
    checkpoint = os.path.join(scratch, "stopped.checkpoint.h5")

    subprocess.run(launch(mpiexec, heat, 1, "--output", full), check=True, timeout=120)

    run = subprocess.Popen(launch(mpiexec, heat, 2, "--output", stopped, "--test-step-delay-ms", "60"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # about 20 of the 60 steps
    start = time.monotonic()
    run.send_signal(signal.SIGUSR1)  # mpirun forwards it to every rank
    out, err = run.communicate(timeout=60)
    waited = time.monotonic() - start
    problems = []
    if run.returncode != 75:
        problems.append(f"exit code {run.returncode}, expected 75\n{out}\n{err}")
    if waited > 10:
        problems.append(f"took {waited:.1f} s to stop")
    if not os.path.exists(checkpoint):
        problems.append("no checkpoint written")
    if os.path.exists(stopped):
        problems.append("the unfinished output appeared under its final name")
    if problems:
        print("\n".join("FAIL: " + p for p in problems))
        return 1
    print(f"stopped with 75 after {waited:.2f} s, checkpoint written")

    subprocess.run(launch(mpiexec, heat, 3, "--output", resumed, "--restart", checkpoint),
                   check=True, timeout=120)
    for dataset in ("/fields/T", "/fields/time", "/stats"):
        if subprocess.run([h5diff, full, resumed, dataset, dataset]).returncode != 0:
            print(f"FAIL: {dataset} differs between the uninterrupted and the resumed run")
            return 1
    print("resumed at 3 ranks: identical to the uninterrupted run at 1 rank")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
