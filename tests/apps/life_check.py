#!/usr/bin/env python3
"""spmd-life against an independent serial Game of Life in Python, and its checkpoints.

  life_check.py MPIEXEC SPMD_LIFE SCRATCH

1. At 1, 2, 3 and 4 ranks every snapshot equals the serial reference (same counter-based start,
   B3/S23 on a periodic grid), so the runs are also identical to each other; the XDMF sidecar
   lists every snapshot.
2. A stop request (SIGUSR1 on the last rank only, at a known step) ends every rank with exit 75
   and a checkpoint, nothing under the output's name; a restart with another --density is refused
   naming it; a restart at another rank count ends identical to the reference and removes the
   checkpoints; --steps may grow on restart.
"""
import os
import shutil
import subprocess
import sys

import h5py

NY, NX, STEPS, EVERY, DENSITY, SEED = 23, 37, 30, 10, 0.35, 7
ARGS = ["--ny", str(NY), "--nx", str(NX), "--every", str(EVERY), "--seed", str(SEED), "--quiet"]
MASK = (1 << 64) - 1


def initially_alive(index):
    z = (SEED * 0x9E3779B97F4A7C15 + index) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    z ^= z >> 31
    return 1 if (z >> 11) * 2.0 ** -53 < DENSITY else 0


def reference(steps):
    """The snapshots (step -> grid) of a serial run, plain Python loops."""
    grid = [[initially_alive(y * NX + x) for x in range(NX)] for y in range(NY)]
    frames = {0: grid}
    for step in range(1, steps + 1):
        new = [[0] * NX for _ in range(NY)]
        for y in range(NY):
            for x in range(NX):
                n = sum(grid[(y + dy) % NY][(x + dx) % NX]
                        for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
                new[y][x] = 1 if n == 3 or (n == 2 and grid[y][x]) else 0
        grid = new
        if step % EVERY == 0 or step == steps:
            frames[step] = grid
    return frames


def snapshots(path):
    with h5py.File(path, "r") as f:
        times = [int(t) for t in f["fields/time"][:]]
        return dict(zip(times, (frame.tolist() for frame in f["fields/alive"][:])))


def main():
    mpiexec, life, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    problems = []

    def launch(ranks, *extra, expect=0, density=DENSITY):
        done = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), life, *ARGS,
                               "--density", str(density), *extra],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != expect:
            problems.append(f"{ranks} ranks {' '.join(extra)}: exit {done.returncode}, expected "
                            f"{expect}: {done.stderr.strip()[-400:]}")
        return done

    wanted = reference(STEPS)
    for ranks in (1, 2, 3, 4):
        out = os.path.join(scratch, f"np{ranks}.h5")
        launch(ranks, "--steps", str(STEPS), "-o", out)
        if os.path.exists(out) and snapshots(out) != wanted:
            problems.append(f"{ranks} ranks: the snapshots differ from the serial reference")
    xmf = os.path.join(scratch, "np3.xmf")
    if not os.path.exists(xmf) or open(xmf).read().count('Name="alive"') != len(wanted):
        problems.append(f"{xmf}: missing, or not one 'alive' attribute per snapshot")

    # Stopped at step 14 (rank 2 of 3 alone gets the signal), continued at 2 ranks.
    out = os.path.join(scratch, "stopped.h5")
    checkpoint = os.path.join(scratch, "stopped.checkpoint.h5")
    launch(3, "--steps", str(STEPS), "-o", out, "--test-signal-at-step", "14", expect=75)
    if os.path.exists(out) or not os.path.exists(checkpoint):
        problems.append("stopped run: an output under the final name, or no checkpoint")
    refused = launch(2, "--steps", str(STEPS), "-o", out, "--restart", checkpoint, density=0.5,
                     expect=2)
    if "--density was 0.35, is 0.5 now" not in refused.stderr:
        problems.append(f"restart with another --density: {refused.stderr.strip()[-300:]}")
    launch(2, "--steps", str(STEPS), "-o", out, "--restart", checkpoint)
    if os.path.exists(out) and snapshots(out) != wanted:
        problems.append("restarted at 2 ranks: the snapshots differ from the serial reference")
    left = [p for p in os.listdir(scratch) if p.startswith("stopped.checkpoint")]
    if left:
        problems.append(f"after the complete restarted run, checkpoint files remain: {left}")

    # A complete run of 20 steps kept its checkpoint of step 10 (--keep-checkpoint): continued
    # from it to 30 steps.
    short = os.path.join(scratch, "short.h5")
    launch(1, "--steps", "20", "--checkpoint-every", "10", "--keep-checkpoint", "-o", short)
    launch(4, "--steps", str(STEPS), "-o", short, "--restart",
           os.path.join(scratch, "short.checkpoint.h5"))
    if os.path.exists(short) and snapshots(short) != wanted:
        problems.append("a run extended with --steps on restart differs from the reference")

    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"spmd-life {NY}x{NX}, {STEPS} generations: identical to the serial reference at 1-4 "
              "ranks, after a stop and restart at another rank count, and extended on restart")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
