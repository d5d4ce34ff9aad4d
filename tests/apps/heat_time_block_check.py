#!/usr/bin/env python3
"""Temporal blocking in spmd-heat (--time-block K: K ghost layers, K steps per exchange and per
pass over the field) gives results bit-identical to the one-step sweep: the snapshots and the
per-step statistics of every K at 1-4 ranks, 2-D and 3-D, Dirichlet (with a non-zero boundary
value) and periodic, blocks cut short by snapshots (K not dividing the interval); a run stopped
mid-way with K = 4 and restarted with K = 2 at another rank count; K too deep for the
subdomains is one clear error.

  heat_time_block_check.py MPIEXEC SPMD_HEAT H5DIFF SCRATCH
"""
import os
import shutil
import subprocess
import sys

CASES = {
    # name: arguments; (ranks, K) runs compared with the 1-rank K = 1 reference
    "2d_sine": (["--nx", "37", "--ny", "23", "--steps", "60", "--every", "20"],
                [(1, 2), (2, 4), (3, 7), (4, 3)]),
    "2d_hotspot_boundary": (["--nx", "30", "--ny", "41", "--steps", "33", "--every", "11",
                             "--init", "hotspot", "--boundary-value", "0.5", "--alpha", "0.3"],
                            [(2, 5), (4, 4)]),
    "2d_random_periodic": (["--nx", "29", "--ny", "31", "--steps", "24", "--every", "8",
                            "--init", "random", "--boundary", "periodic"],
                           [(1, 4), (3, 3), (4, 6)]),
    "3d_hotspot": (["--dims", "3", "--nx", "9", "--ny", "10", "--nz", "11", "--steps", "25",
                    "--every", "5", "--init", "hotspot", "--boundary-value", "0.5",
                    "--alpha", "0.3"],
                   [(1, 3), (2, 4), (4, 2)]),
    "3d_random_periodic": (["--dims", "3", "--nx", "13", "--ny", "11", "--nz", "9",
                            "--steps", "30", "--every", "10", "--init", "random", "--seed", "7",
                            "--boundary", "periodic"],
                           [(3, 3), (4, 3)]),
}


def main():
    mpiexec, heat, h5diff, scratch = sys.argv[1:5]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    problems = []

    def run(ranks, args, output, expect=0):
        command = [mpiexec, "--oversubscribe", "-n", str(ranks), heat, *args, "--output", output]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != expect:
            problems.append(f"{' '.join(command)}: exit {done.returncode}, expected {expect}\n"
                            f"{done.stdout}{done.stderr}")
        return done

    def same(reference, other, what):
        for dataset in ("/fields/T", "/fields/time", "/stats"):
            if subprocess.run([h5diff, reference, other, dataset, dataset],
                              capture_output=True).returncode != 0:
                problems.append(f"{what}: {dataset} differs from the one-step sweep")

    for name, (args, runs) in CASES.items():
        args = [*args, "--quiet"]
        reference = os.path.join(scratch, f"{name}-ref.h5")
        run(1, args, reference)
        for ranks, block in runs:
            output = os.path.join(scratch, f"{name}-{ranks}-k{block}.h5")
            if run(ranks, [*args, "--time-block", str(block)], output).returncode == 0:
                same(reference, output, f"{name} at {ranks} ranks, K = {block}")
        print(f"{name}: {len(runs)} blocked runs checked")

    # Stopped (a signal after step 26, inside a block of 4) and restarted with another K and
    # rank count: identical to the uninterrupted one-step run.
    args, _ = CASES["2d_sine"]
    stopped = os.path.join(scratch, "stopped.h5")
    checkpoint = os.path.join(scratch, "stopped.checkpoint.h5")
    run(3, [*args, "--time-block", "4", "--test-signal-at-step", "26"], stopped, expect=75)
    resumed = os.path.join(scratch, "resumed.h5")
    done = run(2, [*args, "--time-block", "2", "--restart", checkpoint], resumed)
    if done.returncode == 0:
        same(os.path.join(scratch, "2d_sine-ref.h5"), resumed,
             "stopped at step 26 with K = 4 (3 ranks), restarted with K = 2 (2 ranks)")
        print("stop with K = 4 and restart with K = 2: checked")

    # Periodic checkpoints cut the blocks too: every 25 steps with K = 4 (blocks 4 x 6, 1, ...),
    # the one of step 25 (kept as .prev) restarted with K = 3 at 3 ranks.
    periodic = os.path.join(scratch, "periodic.h5")
    run(2, [*args, "--time-block", "4", "--checkpoint-every", "25", "--keep-checkpoint"],
        periodic)
    again = os.path.join(scratch, "again.h5")
    done = run(3, [*args, "--time-block", "3", "--restart",
                   os.path.join(scratch, "periodic.checkpoint.h5.prev")], again)
    if "at step 25" not in done.stdout + done.stderr:
        problems.append(f"the kept checkpoint is not the one of step 25: {done.stdout}")
    same(os.path.join(scratch, "2d_sine-ref.h5"), again,
         "checkpointed every 25 steps with K = 4, restarted at step 25 with K = 3")
    print("periodic checkpoints with K = 4, restart with K = 3: checked")

    # Four ranks split 6 x 6 into 3 x 3 blocks: 4 ghost layers do not fit.
    done = run(4, ["--nx", "6", "--ny", "6", "--time-block", "4"],
               os.path.join(scratch, "never.h5"), expect=2)
    if "error: --time-block 4: " not in done.stderr:
        problems.append(f"--time-block deeper than the subdomains: {done.stderr}")

    if problems:
        print("\n".join("FAIL: " + p for p in problems))
        return 1
    print("temporal blocking: bit-identical everywhere")
    return 0


if __name__ == "__main__":
    sys.exit(main())
