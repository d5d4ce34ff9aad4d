#!/usr/bin/env python3
"""Slurm across simulated hosts (slurm/cluster/lab: a head namespace with munged + slurmctld, one
slurmd per host namespace), driving the project's own job script slurm/heat.sbatch:

1. `sbatch -N 2 --ntasks-per-node=2` runs heat with srun --mpi=pmix on 4 ranks over both nodes:
   the final field is bit-identical to a one-host run and the provenance names both hosts;
2. the checkpoint/requeue path spread over two nodes: a 1-minute time limit, a run that needs
   longer; Slurm signals the batch script, srun passes the signal to the ranks on both nodes,
   they checkpoint, the job requeues itself and resumes; bit-identical in the end;
3. the lab comes down: no namespace, interface or process is left.

Exits 77 (skipped, saying why) without root, iproute2/nsenter or the Slurm packages.

  cluster_slurm_check.py SOURCE_DIR BIN_DIR MPIEXEC SCRATCH_DIR
"""
import os
import re
import subprocess
import sys
import time

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_tools import Lab, skip_unless_lab_possible  # noqa: E402


def main():
    source, bin_dir, mpiexec, scratch = sys.argv[1:5]
    skip_unless_lab_possible(slurm=True)
    lab = Lab.fresh(source, scratch)
    heat_bin = os.path.join(bin_dir, "spmd-heat")
    job_env = {"SPMD_ROOT": source, "SPMD_BIN": bin_dir}

    def reference(name, args, ranks=1):
        out = os.path.join(scratch, f"{name}-reference.h5")
        subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), heat_bin, *args, "--output",
                        out, "--quiet"], check=True, capture_output=True, timeout=180)
        return out

    def same_field(a, b, what):
        diff = subprocess.run(["h5diff", a, b, "/fields/T", "/fields/T"], capture_output=True,
                              text=True)
        if diff.returncode != 0:
            sys.exit(f"FAIL {what}: the field differs from the one-host run\n{diff.stdout}{diff.stderr}")

    def hosts_of(path):
        with h5py.File(path) as f:
            names = f.attrs["hosts"]
            return int(f.attrs["host_count"]), names.decode() if isinstance(names, bytes) else names

    with lab.session(hosts=2):
        print(lab.sh("slurm", "start").stdout.strip())

        # 1. Heat on 2 nodes x 2 tasks, through slurm/heat.sbatch (srun --mpi=pmix).
        args = ["--nx", "64", "--ny", "48", "--steps", "200", "--every", "100"]
        ref = reference("heat", args)
        out = os.path.join(scratch, "heat-2x2.h5")
        job = lab.sbatch(os.path.join(source, "slurm", "heat.sbatch"),
                         dict(job_env, SPMD_ARGS=" ".join(args), SPMD_OUTPUT=out),
                         "-N", "2", "--ntasks-per-node=2")
        state = lab.wait(job, 180)
        log = lab.job_log(f"spmd-heat-{job}.out")
        if state[1] != "COMPLETED" or "srun --mpi=pmix" not in log or "on 4 ranks" not in log:
            sys.exit(f"FAIL heat -N 2 --ntasks-per-node=2: {state}\n{log}")
        same_field(ref, out, "heat on 2 nodes")
        count, names = hosts_of(out)
        if count != 2 or names != "h1,h2":
            sys.exit(f"FAIL heat on 2 nodes: provenance says {count} host(s): {names}")
        print(f"sbatch -N 2 --ntasks-per-node=2 slurm/heat.sbatch (job {job}): srun --mpi=pmix, "
              f"4 ranks on {names}, field bit-identical to one host")

        # 2. Checkpoint + requeue with the job spread over both nodes.
        # slurmctld checks time limits about every 30 s, so the signal comes 10-40 s into a run:
        # 900 steps of at least 50 ms outlast the first run whenever it comes.
        args = ["--nx", "48", "--ny", "40", "--steps", "900", "--every", "300", "--init", "hotspot"]
        ref = reference("requeue", args, ranks=2)
        out = os.path.join(scratch, "heat-requeue.h5")
        start = time.monotonic()
        job = lab.sbatch(os.path.join(source, "slurm", "heat.sbatch"),
                         dict(job_env, SPMD_ARGS=" ".join(args + ["--test-step-delay-ms", "50"]),
                              SPMD_OUTPUT=out),
                         "-N", "2", "--ntasks-per-node=2", "--time=1", "--signal=B:USR1@50")
        state = lab.wait(job, 400)
        log = lab.job_log(f"spmd-heat-{job}.out")
        restarts = int(lab.job_field(job, "Restarts") or 0)
        both = {node for line in log.splitlines() if line.startswith("srun: error:")
                for node in re.findall(r"srun: error: (h\d):", line)}
        if state[1] != "COMPLETED" or restarts < 1 or "requeueing job" not in log:
            sys.exit(f"FAIL requeue over 2 nodes: {state}, {restarts} restart(s)\n{log}")
        if both != {"h1", "h2"}:
            sys.exit(f"FAIL requeue over 2 nodes: the checkpoint exits came from {both}\n{log}")
        same_field(ref, out, "requeue over 2 nodes")
        print(f"heat over its 1-minute limit on 2 nodes (job {job}): ranks on h1 and h2 "
              f"checkpointed, requeued {restarts} time(s), completed in "
              f"{time.monotonic() - start:.0f} s, field bit-identical")


if __name__ == "__main__":
    main()
