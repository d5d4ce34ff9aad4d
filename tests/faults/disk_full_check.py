#!/usr/bin/env python3
"""Fault matrix, full disk: every app that writes, under both MPI-IO layers, at 1 and 3 ranks, on
a small tmpfs filled so that the output fits nowhere, or only in part (the run fails while it
writes data, or -- OMPIO -- loses writes without an error). Each run must end within seconds.
A run that fails exits non-zero with exactly one error line and leaves the previous result
under the final name byte for byte; a run that succeeds (the output did fit) leaves an output
equal to the one written with room, in every deterministic dataset. With no room at all a run
must fail.

  disk_full_check.py MPIRUN BIN_DIR SCRATCH [LAYER]   (LAYER: ompio or romio321; default both)

Needs root (to mount a tmpfs); without it, says so and exits 77 (skipped).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

LAYERS = ["ompio", "romio321"]
RANKS = [1, 3]
CASE_FILTER = os.environ.get("DISK_FULL_CASES", "")  # e.g. "heat,pi": only those
PAGE = 4096
MAX_SECONDS = 20


def run(command, cwd, env=None, timeout=2 * MAX_SECONDS):
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode(errors="replace"), time.monotonic() - start
    return done.returncode, done.stderr.decode(errors="replace"), time.monotonic() - start


def make_inputs(directory, mpirun, bin_dir):
    """Inputs of the apps that read: a corpus, a small web site, two pi outputs."""
    os.makedirs(directory, exist_ok=True)
    words = [f"w{i:05d}" for i in range(6000)]
    with open(os.path.join(directory, "corpus.txt"), "w") as f:
        for i in range(60000):
            f.write(words[(i * 7919) % len(words)] + (" " if i % 13 else "\n"))
    site = os.path.join(directory, "site")
    os.makedirs(site, exist_ok=True)
    for i in range(40):
        with open(os.path.join(site, f"p{i}.html"), "w") as f:
            f.write(f"<html><body>page {i} <a href='p{(i + 1) % 40}.html'>next</a>"
                    f"<a href='p{(i * 7) % 40}.html'>jump</a>{'x' * 2000}</body></html>")
    for seed in (1, 2):
        subprocess.run([mpirun, "-np", "1", os.path.join(bin_dir, "spmd-pi"), "-q", "--seed",
                        str(seed), "-o", os.path.join(directory, f"pi{seed}.h5")], check=True)
    return directory


def cases(inputs):
    """(name, arguments before -o, output file name)."""
    return [
        ("heat", ["spmd-heat", "--nx", "192", "--ny", "192", "--steps", "20", "--every", "10",
                  "--checkpoint-every", "10"], "heat.h5"),
        ("pi", ["spmd-pi", "--samples", "100000"], "pi.h5"),
        ("fib", ["spmd-fib", "--inputs", "5,10,2000,30000"], "fib.h5"),
        ("crawl", ["spmd-crawl", os.path.join(inputs, "site", "p0.html")], "crawl.h5"),
        ("wordcount", ["spmd-wordcount", os.path.join(inputs, "corpus.txt")], "words.h5"),
        ("h5stats", ["spmd-h5stats", os.path.join(inputs, "pi1.h5")], "stats.h5"),
        ("collect", ["spmd-collect", "--table", "convergence", os.path.join(inputs, "pi1.h5"),
                     os.path.join(inputs, "pi2.h5")], "collected.h5"),
        ("info", ["spmd-info"], "info.h5"),
        ("info-json", ["spmd-info"], "info.json"),
    ]


RESERVE = 1 << 20  # AtomicFileOptions::metadata_reserve


def allocated_bytes(directory):
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


def clear(directory):
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def fill_leaving(directory, free_bytes):
    """A filler file that leaves about `free_bytes` free on the file system of `directory`."""
    stat = os.statvfs(directory)
    available = stat.f_bavail * stat.f_frsize
    size = max(0, available - free_bytes)
    with open(os.path.join(directory, "filler"), "wb") as f:
        chunk = b"\0" * (1 << 20)
        while size > 0:
            n = min(size, len(chunk))
            f.write(chunk[:n])
            size -= n


# Datasets whose values change from run to run (timings, placement).
VOLATILE = re.compile(r"seconds|\bms$|worker|elapsed|time|host|cpus|cores|rank|attempts|placement")


def differs(expected_path, got_path):
    """None if the output at got_path equals the one at expected_path (deterministic datasets),
    else what differs."""
    if expected_path.endswith(".json"):
        try:
            with open(got_path) as f:
                json.load(f)
        except (OSError, ValueError) as e:
            return f"the JSON output does not read back: {e}"
        return None
    import h5py
    import numpy as np
    try:
        with h5py.File(expected_path, "r") as expected, h5py.File(got_path, "r") as got:
            names = []
            expected.visititems(lambda name, obj: names.append(name)
                                if isinstance(obj, h5py.Dataset) else None)
            for name in names:
                if VOLATILE.search(name):
                    continue
                if name not in got:
                    return f"dataset {name} is missing"
                if not np.array_equal(expected[name][()], got[name][()]):
                    return f"dataset {name} differs"
    except (OSError, KeyError) as e:
        return f"the output does not read back: {e}"
    return None


def main():
    mpirun, bin_dir, scratch = sys.argv[1:4]
    layers = sys.argv[4:5] or LAYERS
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root")
        return 77
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    inputs = make_inputs(os.path.join(scratch, "inputs"), mpirun, bin_dir)
    roomy = os.path.join(scratch, "roomy")
    os.makedirs(roomy)
    disk = os.path.join(scratch, "disk")
    os.makedirs(disk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", disk], check=True)
    problems = []
    runs = 0
    try:
        for name, argv, output in cases(inputs):
            if CASE_FILTER and name not in CASE_FILTER.split(","):
                continue
            command = [os.path.join(bin_dir, argv[0])] + argv[1:]
            # How much the output takes when it fits.
            clear(roomy)
            code, err, _ = run([mpirun, "-np", "1"] + command + ["-q", "-o", output], roomy)
            if code != 0:
                problems.append(f"{name}: the run with room failed ({code}): {err[-500:]}")
                continue
            # Bytes on disk (not file sizes: HDF5 files have holes where objects are aligned),
            # of everything the run wrote (checkpoints, sidecars, journals too).
            size = allocated_bytes(roomy)
            # No room for the metadata reserve; then room for it and a third of the rest: the
            # run fails writing data, or (OMPIO) loses writes without an error.
            levels = [0, RESERVE + (size // 3) // PAGE * PAGE]
            for layer in layers:
                env = dict(os.environ, OMPI_MCA_io=layer)
                for ranks in RANKS:
                    for free in levels:
                        clear(disk)
                        previous = f"previous result of {name}\n".encode() * 100
                        final = os.path.join(disk, output)
                        with open(final, "wb") as f:
                            f.write(previous)
                        fill_leaving(disk, free)
                        code, err, seconds = run(
                            [mpirun, "-np", str(ranks)] + command + ["-q", "-o", output], disk,
                            env)
                        runs += 1
                        where = f"{name} {layer} np{ranks} free {free} of {size}"
                        errors = [l for l in err.splitlines() if re.match(r"^spmd-[\w-]+: error: ", l)]
                        if code is None:
                            problems.append(f"{where}: still running after {2 * MAX_SECONDS} s")
                        elif seconds > MAX_SECONDS:
                            problems.append(f"{where}: took {seconds:.1f} s")
                        if code not in (None, 0) and len(errors) != 1:
                            problems.append(f"{where}: {len(errors)} error lines: {err[-800:]}")
                        if code == 0 and free == 0:
                            problems.append(f"{where}: exit 0 without any room")
                        elif code == 0:
                            if problem := differs(os.path.join(roomy, output), final):
                                problems.append(f"{where}: exit 0 but {problem}")
                        else:
                            with open(final, "rb") as f:
                                if f.read() != previous:
                                    problems.append(f"{where}: the previous result was changed")
                        print(f"{where}: exit {code} in {seconds:.1f} s; "
                              f"{errors[0][:160] if errors else '(no error line)'}")
    finally:
        subprocess.run(["umount", "-l", disk])
    print(f"{runs} runs on a full disk, {len(problems)} problems")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
