#!/usr/bin/env python3
"""spmd-heat's sine mode converges: the maximum error against the exact solution, at the same
final time, shrinks as the grid is refined (second order: about 4x per halving of h).

  heat_convergence_check.py MPIEXEC SPMD_HEAT RANKS
"""
import json
import subprocess
import sys


def error(mpiexec, heat, ranks, n, dims):
    args = [mpiexec, "--oversubscribe", "-n", ranks, heat, "--dims", str(dims), "--nx", str(n),
            "--ny", str(n), "--nz", str(n), "--t-end", "0.01", "--output", "", "--json"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)}\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["error_max"]


def main():
    mpiexec, heat, ranks = sys.argv[1:4]
    problems = []
    for dims, sizes in ((2, (16, 32, 64)), (3, (8, 16))):
        errors = [error(mpiexec, heat, ranks, n, dims) for n in sizes]
        print(f"{dims}-D: grid {sizes} -> max error {errors}")
        for coarse, fine in zip(errors, errors[1:]):
            if not fine < coarse / 2.5:
                problems.append(f"{dims}-D error did not shrink enough: {errors}")
        if errors[0] > 5e-3:
            problems.append(f"{dims}-D coarse error {errors[0]} above 5e-3")
    if problems:
        print("\n".join("FAIL: " + p for p in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
