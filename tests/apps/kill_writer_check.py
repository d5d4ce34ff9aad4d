#!/usr/bin/env python3
"""A writer killed mid-write (SIGKILL to mpirun and every rank) leaves no file under the final
name, and an older complete output stays intact; the next run replaces it cleanly.

  kill_writer_check.py MPIEXEC SPMD_TEST_WRITER SCRATCH_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py

from process_tools import kill_everything_mentioning


def generation(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["generation"]), f["fields/u"].shape[0]


def main():
    mpiexec, writer, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    final = os.path.join(scratch, "out.h5")
    launch = [mpiexec, "--oversubscribe", "-n", "2", writer, "--output", final]

    subprocess.run(launch + ["--generation", "1"], check=True, capture_output=True, timeout=60)
    if generation(final) != (1, 3):
        sys.exit(f"FAIL: first run wrote {generation(final)}")

    slow = subprocess.Popen(launch + ["--generation", "2", "--frames", "400", "--pause-ms", "50"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(final + ".tmp"):
        if time.monotonic() > deadline or slow.poll() is not None:
            sys.exit("FAIL: the slow writer never started writing")
        time.sleep(0.05)
    time.sleep(1.0)  # well into the frames
    os.killpg(slow.pid, signal.SIGKILL)
    kill_everything_mentioning(final)
    slow.wait(timeout=30)

    if generation(final) != (1, 3):
        sys.exit(f"FAIL: after the kill the final name holds {generation(final)}, not the old output")
    print("killed writer: old output intact under the final name")

    subprocess.run(launch + ["--generation", "3"], check=True, capture_output=True, timeout=60)
    if generation(final) != (3, 3) or os.path.exists(final + ".tmp"):
        sys.exit(f"FAIL: the run after the kill wrote {generation(final)}")
    print("next run replaced it cleanly")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
