#!/usr/bin/env python3
"""spmd-h5stats against numpy, on files written by h5py (foreign to spmdkit).

  h5stats_check.py MPIEXEC SPMD_H5STATS SCRATCH_DIR

Writes contiguous and chunked/compressed datasets of 1 to 4 dimensions and several types, runs
spmd-h5stats --json at 1, 2, 3 and 4 ranks, and checks: every figure against numpy (histogram
counts exactly, with numpy's binning), and the results bit-identical across rank counts. Also
checks the HDF5 summary (--output) with h5py.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np


def run(mpiexec, binary, ranks, *args):
    command = [mpiexec, "--oversubscribe", "-n", str(ranks), binary, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_file(path):
    rng = np.random.default_rng(2026)
    with h5py.File(path, "w") as f:
        f["line"] = rng.normal(3.0, 2.0, size=1001)
        f.create_dataset("grid/field", data=rng.random((23, 17)).astype(np.float32),
                         chunks=(5, 17), compression="gzip")
        f["grid/cube"] = rng.normal(size=(7, 6, 5))
        f["counts"] = rng.integers(-1000, 1000, size=(9, 2, 3, 4)).astype(np.int32)
        f["bytes"] = rng.integers(0, 255, size=(3, 50)).astype(np.uint8)
        f["tiny"] = np.array([42.0])
        f["offset"] = 1e9 + rng.random(500)  # a mean far from zero: tests the stable variance
        with_nan = rng.normal(size=64)
        with_nan[[5, 17]] = np.nan
        f["holes"] = with_nan
        f["words"] = np.array([b"not", b"numeric"])


def check_against_numpy(path, stats, bins):
    problems = []
    with h5py.File(path, "r") as f:
        for entry in stats:
            data = f[entry["path"]][...].astype(np.float64).ravel()
            finite = data[np.isfinite(data)]
            valid = data[~np.isnan(data)]
            expect = {
                "count": data.size,
                "nan_count": int(np.isnan(data).sum()),
                "min": float(valid.min()),
                "max": float(valid.max()),
            }
            for key, value in expect.items():
                if entry[key] != value:
                    problems.append(f"{entry['path']}: {key} {entry[key]} != numpy {value}")
            for key, value in (("mean", valid.mean()), ("std", valid.std(ddof=1) if valid.size > 1 else 0.0)):
                if not math.isclose(entry[key], float(value), rel_tol=1e-12, abs_tol=1e-12):
                    problems.append(f"{entry['path']}: {key} {entry[key]!r} != numpy {value!r}")
            counts, edges = np.histogram(finite, bins=bins)
            if entry["histogram"] != counts.tolist():
                problems.append(f"{entry['path']}: histogram {entry['histogram']} != numpy {counts.tolist()}")
            if entry["bin_edges"] != edges.tolist():
                problems.append(f"{entry['path']}: bin edges differ from numpy's")
    return problems


def main():
    mpiexec, binary, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    path = os.path.join(scratch, "foreign.h5")
    make_file(path)
    bins = 12
    by_ranks = {}
    for ranks in (1, 2, 3, 4):
        summary = run(mpiexec, binary, ranks, path, "--bins", str(bins), "--json")
        by_ranks[ranks] = summary["datasets"]
    names = [d["path"] for d in by_ranks[1]]
    expected = ["/bytes", "/counts", "/grid/cube", "/grid/field", "/holes", "/line", "/offset", "/tiny"]
    problems = []
    if names != expected:
        problems.append(f"datasets found {names}, expected {expected}")
    problems += check_against_numpy(path, by_ranks[1], bins)
    for ranks in (2, 3, 4):
        if by_ranks[ranks] != by_ranks[1]:
            problems.append(f"results at {ranks} ranks differ from 1 rank")
    # A small slab size forces many collective read rounds with uneven, empty blocks.
    slabbed = run(mpiexec, binary, 3, path, "/line", "/grid/cube", "--bins", str(bins),
                  "--slab-mb", "0.0001", "--json")["datasets"]
    reference = {d["path"]: d for d in by_ranks[1]}
    if slabbed != [reference["/line"], reference["/grid/cube"]]:
        problems.append("results with tiny slabs differ")
    # The HDF5 summary.
    out = os.path.join(scratch, "summary.h5")
    run(mpiexec, binary, 2, path, "--bins", str(bins), "--output", out, "--json")
    with h5py.File(out, "r") as f:
        group = f["datasets/grid/field"]
        reference = next(d for d in by_ranks[1] if d["path"] == "/grid/field")
        if group.attrs["count"] != reference["count"] or group.attrs["mean"] != reference["mean"]:
            problems.append("summary attributes differ from the JSON")
        if group["histogram"][...].tolist() != reference["histogram"]:
            problems.append("summary histogram differs from the JSON")
        source = f.attrs["source"]
        if "spmd-h5stats" not in (source.decode() if isinstance(source, bytes) else source):
            problems.append("summary has no provenance")
    if os.path.exists(out + ".tmp"):
        problems.append("summary left a .tmp file")
    if problems:
        print("\n".join("FAIL: " + p for p in problems))
        return 1
    print(f"spmd-h5stats matches numpy on {len(names)} datasets, identical at 1-4 ranks")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
