#!/usr/bin/env python3
"""spmd-farm against the tools people use to run many commands, same cores, same run:

  RATIO farm_vs_gnu_parallel  tasks/s of N `true` commands: spmd-farm at 2 ranks / `parallel -j2`
                              (higher is better; target >= 3)
  RATIO farm_vs_xargs         the same against `xargs -P2 -I{} sh -c {}`: no bookkeeping at all,
                              only the cost of starting processes (target >= 0.8)
  RATIO farm_cpu_efficiency   busy time / (makespan x 2 cores) for 400 CPU-bound commands of
                              uneven length at 2 ranks: no core idles as a pure master (>= 0.9)
  RATIO farm_vs_slurm_array   makespan of 200 `sleep 0.1` as spmd-farm at 2 ranks / as a Slurm
                              job array on the local Slurm (slurm/local/cluster, 2 CPUs) --
                              lower is better; target <= 0.2; skipped where Slurm cannot run

Wall time of the whole command on both sides (spmd-farm's includes mpirun's start and the output
file). GNU parallel's figure is skipped with a note when it is not installed (bash scripts/setup
bench).

  farm_commands.py SPMD_FARM [TRUE_COMMANDS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FARM = sys.argv[1]
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
MPIRUN = os.environ.get("MPIEXEC", "mpirun")


def timed(cmd, stdin_path=None, env=None):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return seconds, proc.stdout.decode()


def farm_run(work, tasks, extra=()):
    out = os.path.join(work, "bench.h5")
    cmd = [MPIRUN, "-np", "2", FARM, tasks, "--no-journal", "--json", "--output", out, *extra]
    seconds, stdout = timed(cmd)
    summary = json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])
    return seconds, summary


def slurm_array_seconds(work, count):
    """Makespan of `count` x `sleep 0.1` as one Slurm job array on the local cluster, from
    submission to the last element's end (None when Slurm cannot run here)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cluster = os.path.join(root, "slurm", "local", "cluster")
    if os.geteuid() != 0 or not shutil.which("slurmctld") or not shutil.which("sbatch"):
        return None
    env = dict(os.environ, SPMD_SLURM_DIR=os.path.join(work, "slurm"),
               SPMD_SLURMCTLD_PORT="6937", SPMD_SLURMD_PORT="6938")
    env["SLURM_CONF"] = os.path.join(work, "slurm", "etc", "slurm.conf")
    subprocess.run([cluster, "start"], env=env, check=True, capture_output=True)
    try:
        start = time.perf_counter()
        job = subprocess.run(["sbatch", "--parsable", f"--array=0-{count - 1}", "--ntasks=1",
                              "--output=/dev/null", "--wrap", "sleep 0.1"], env=env, check=True,
                             capture_output=True, text=True, cwd=work).stdout.strip()
        while True:
            left = subprocess.run(["squeue", "-h", "-j", job.split(";")[0]], env=env,
                                  capture_output=True, text=True).stdout.strip()
            if not left:
                break
            time.sleep(0.05)
        return time.perf_counter() - start
    finally:
        subprocess.run([cluster, "stop"], env=env, capture_output=True)


def main():
    work = tempfile.mkdtemp(prefix="spmd-farm-bench-")
    try:
        trues = os.path.join(work, "true.txt")
        with open(trues, "w") as f:
            f.write("true\n" * COUNT)
        farm_seconds, summary = farm_run(work, trues)
        print(f"spmd-farm -np 2: {COUNT} x true in {farm_seconds:.2f} s "
              f"({COUNT / farm_seconds:.0f} tasks/s; farm makespan {summary['makespan_s']:.2f} s)")
        xargs_seconds, _ = timed(["xargs", "-P2", "-I{}", "sh", "-c", "{}"], trues)
        print(f"xargs -P2: {xargs_seconds:.2f} s ({COUNT / xargs_seconds:.0f} tasks/s)")
        print(f"RATIO farm_vs_xargs {xargs_seconds / farm_seconds:.3f}")
        if shutil.which("parallel"):
            parallel_seconds, _ = timed(["parallel", "-j2", "--will-cite"], trues)
            print(f"parallel -j2: {parallel_seconds:.2f} s ({COUNT / parallel_seconds:.0f} tasks/s)")
            print(f"RATIO farm_vs_gnu_parallel {parallel_seconds / farm_seconds:.3f}")
        else:
            print("farm_vs_gnu_parallel: skipped, GNU parallel is not installed "
                  "(bash scripts/setup bench)")

        # CPU-bound commands of uneven length (a shell counting loop: 10-100 ms each here).
        busy = os.path.join(work, "busy.txt")
        with open(busy, "w") as f:
            for i in range(400):
                loops = 2000 + (i * 7919) % 18000
                f.write(f"i=0; while [ $i -lt {loops} ]; do i=$((i+1)); done\n")
        seconds, summary = farm_run(work, busy)
        print(f"spmd-farm -np 2, 400 CPU-bound commands: makespan {summary['makespan_s']:.2f} s, "
              f"{summary['runners']} runners, whole command {seconds:.2f} s")
        print(f"RATIO farm_cpu_efficiency {summary['efficiency']:.3f}")

        sleeps = os.path.join(work, "sleep.txt")
        with open(sleeps, "w") as f:
            f.write("sleep 0.1\n" * 200)
        farm_seconds, summary = farm_run(work, sleeps)
        array_seconds = slurm_array_seconds(work, 200)
        if array_seconds is None:
            print("farm_vs_slurm_array: skipped (needs root and Slurm: bash scripts/setup slurm)")
        else:
            print(f"200 x sleep 0.1: spmd-farm -np 2 {farm_seconds:.2f} s, Slurm job array "
                  f"{array_seconds:.2f} s")
            print(f"RATIO farm_vs_slurm_array {farm_seconds / array_seconds:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
