#!/usr/bin/env python3
"""The job scripts of slurm/ on a real Slurm (slurm/local/cluster, started and stopped here):

1. bad parameters: the job ends FAILED with the app's one-line error in its output file;
2. heat with a 1-minute time limit and a run that needs longer: Slurm signals it, it checkpoints,
   requeues itself, resumes and completes; the final field is bit-identical to an uninterrupted
   run (h5diff);
   spmd-farm likewise over its time limit: stopped, requeued, every command run exactly once;
3. fib cancelled (scancel) mid-run, then resubmitted: it resumes from its journal; no task is
   lost or repeated, and the table equals an uninterrupted run;
4. a 4-element job array (a heat sweep) and its merge job (--dependency=afterok), submitted with
   scripts/submit --wait: the merged file holds all four results, in element order;
5. the harness stops cleanly: none of the processes it started is left.

Exits 77 (skipped) without root or without the Slurm packages (bash scripts/setup slurm).

  slurm_jobs_check.py SOURCE_DIR BUILD_BIN MPIEXEC SCRATCH_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np

SKIP = 77


def main():
    source, bin_dir, mpiexec, scratch = sys.argv[1:5]
    if os.geteuid() != 0:
        print("SKIP: the local Slurm cluster needs root")
        sys.exit(SKIP)
    missing = [t for t in ("slurmctld", "slurmd", "munged", "sbatch") if shutil.which(t) is None]
    if missing:
        print(f"SKIP: Slurm is not installed ({', '.join(missing)}): bash scripts/setup slurm")
        sys.exit(SKIP)
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    cluster = os.path.join(source, "slurm", "local", "cluster")
    env = dict(os.environ)
    env.update(SPMD_SLURM_DIR=os.path.join(scratch, "cluster"), SPMD_SLURMCTLD_PORT="6917",
               SPMD_SLURMD_PORT="6918", SPMD_ROOT=source, SPMD_BIN=bin_dir)
    env["SLURM_CONF"] = os.path.join(scratch, "cluster", "etc", "slurm.conf")

    def sh(*cmd, check=True, **kw):
        return subprocess.run(list(cmd), env=kw.pop("env", env), capture_output=True, text=True,
                              check=check, cwd=scratch, **kw)

    def submit(script, extra_env, *options):
        job_env = dict(env)
        job_env.update(extra_env)
        out = sh("sbatch", "--parsable", "--ntasks", "2", *options,
                 os.path.join(source, "slurm", script), env=job_env)
        return out.stdout.strip().split(";")[0]

    def wait(job, limit):
        done = sh(cluster, "wait", job, str(limit), check=False)
        return done.stdout.split()

    def job_field(job, field):
        info = sh("scontrol", "-o", "show", "job", job).stdout
        match = re.search(rf"\b{field}=(\S+)", info)
        return match.group(1) if match else ""

    started = sh(cluster, "start")
    print(started.stdout.strip())
    pids = {}
    for name in ("munged", "slurmctld", "slurmd"):
        with open(os.path.join(scratch, "cluster", "run", f"{name}.pid")) as f:
            pids[name] = int(f.read())
    try:
        # 1. Bad parameters.
        bad = submit("heat.sbatch", {"SPMD_ARGS": "--nx -5",
                                     "SPMD_OUTPUT": os.path.join(scratch, "bad.h5")})
        state = wait(bad, 120)
        log = open(os.path.join(scratch, f"spmd-heat-{bad}.out")).read()
        errors = [l for l in log.splitlines() if l.startswith("spmd-heat: error:")]
        if state[1] != "FAILED" or errors != ["spmd-heat: error: --nx must be in [1, 2147483647], got -5 (rank 0)"]:
            sys.exit(f"FAIL bad parameters: {state}\n{log}")
        print(f"bad parameters: job {bad} FAILED with one line: {errors[0]}")

        # 2. Heat over its time limit: signal, checkpoint, requeue, resume.
        heat_args = "--nx 48 --ny 40 --steps 900 --every 300 --init hotspot"
        reference = os.path.join(scratch, "heat-reference.h5")
        subprocess.run([mpiexec, "--oversubscribe", "-n", "2", os.path.join(bin_dir, "spmd-heat")]
                       + heat_args.split() + ["--output", reference, "--quiet"], env=env, check=True,
                       capture_output=True, timeout=120)
        heat_out = os.path.join(scratch, "heat.h5")
        start = time.monotonic()
        heat = submit("heat.sbatch", {"SPMD_ARGS": heat_args + " --test-step-delay-ms 50",
                                      "SPMD_OUTPUT": heat_out},
                      "--time=1", "--signal=B:USR1@50")
        state = wait(heat, 400)
        log = open(os.path.join(scratch, f"spmd-heat-{heat}.out")).read()
        restarts = int(job_field(heat, "Restarts") or 0)
        if state[1] != "COMPLETED" or restarts < 1 or "requeueing job" not in log:
            sys.exit(f"FAIL heat requeue: {state}, {restarts} restarts\n{log}")
        diff = subprocess.run(["h5diff", reference, heat_out, "/fields/T", "/fields/T"],
                              capture_output=True, text=True)
        if diff.returncode != 0:
            sys.exit(f"FAIL heat requeue: the field differs from an uninterrupted run\n{diff.stdout}")
        print(f"heat over its 1-minute limit: requeued {restarts} time(s), completed in "
              f"{time.monotonic() - start:.0f} s, field bit-identical to an uninterrupted run")

        # 2b. spmd-farm over its time limit: the commands running at the signal are stopped
        # (unfinished, no attempt used), the job requeues itself and the restarted job runs only
        # what is not done: every command exactly once.
        farm_log = os.path.join(scratch, "farm-done.log")
        farm_tasks = os.path.join(scratch, "farm-tasks.txt")
        # 0.5 s each on 2 ranks x 2 slots: 20 s, past the deadline the job script gives the farm
        # (the job's end less SPMD_STOP_LEAD: 10 s in) and maybe Slurm's signal (sent when its
        # periodic time check notices, anywhere up to ~40 s): either ends the first run
        farm_count = 160
        with open(farm_tasks, "w") as f:
            for i in range(farm_count):
                f.write(f"sleep 0.5; echo t{i} >> {farm_log}\n")
        farm_out = os.path.join(scratch, "farm.h5")
        start = time.monotonic()
        farm = submit("farm.sbatch",
                      {"SPMD_ARGS": f"{farm_tasks} --slots 2 --stop-grace 1 --kill-grace 1",
                       "SPMD_OUTPUT": farm_out, "SPMD_STOP_LEAD": "50"},
                      "--time=1", "--signal=B:USR1@50")
        state = wait(farm, 400)
        log = open(os.path.join(scratch, f"spmd-farm-{farm}.out")).read()
        restarts = int(job_field(farm, "Restarts") or 0)
        if state[1] != "COMPLETED" or restarts < 1 or "requeueing job" not in log:
            sys.exit(f"FAIL farm requeue: {state}, {restarts} restarts\n{log}")
        done = open(farm_log).read().split()
        if sorted(done) != sorted(f"t{i}" for i in range(farm_count)):
            sys.exit(f"FAIL farm requeue: commands lost or repeated: {len(done)} lines, "
                     f"{len(set(done))} distinct")
        with h5py.File(farm_out) as f:
            ok = f["tasks/ok"][()]
            attempts = f["tasks/attempts"][()]
        if len(ok) != farm_count or not ok.all() or (attempts != 1).any():
            sys.exit(f"FAIL farm requeue: /tasks ok {ok.sum()}/{len(ok)}, attempts {set(attempts)}")
        print(f"farm over its 1-minute limit: requeued {restarts} time(s), completed in "
              f"{time.monotonic() - start:.0f} s, each of {farm_count} commands ran once")

        # 3. Fib cancelled mid-run, resubmitted, resumed.
        fib_args = "--random 400 --max-n 30000 --seed 5"
        fib_reference = os.path.join(scratch, "fib-reference.h5")
        subprocess.run([mpiexec, "--oversubscribe", "-n", "2", os.path.join(bin_dir, "spmd-fib")]
                       + fib_args.split() + ["--output", fib_reference, "--quiet"], env=env,
                       check=True, capture_output=True, timeout=120)
        fib_out = os.path.join(scratch, "fib.h5")
        fib_env = {"SPMD_ARGS": fib_args + " --test-task-delay-ms 25 --journal-interval 0.2 --batch 2",
                   "SPMD_OUTPUT": fib_out}
        first = submit("fib.sbatch", fib_env)
        journal = fib_out + ".journal"
        deadline = time.monotonic() + 120
        while not (os.path.isdir(journal) and
                   len([n for n in os.listdir(journal) if n.endswith(".h5")]) >= 2):
            if time.monotonic() > deadline:
                sys.exit("FAIL fib: no journal appeared")
            time.sleep(0.1)
        sh("scancel", first)
        state = wait(first, 60)
        if state[1] != "CANCELLED" or os.path.exists(fib_out):
            sys.exit(f"FAIL fib: after scancel {state}, output exists: {os.path.exists(fib_out)}")
        second = submit("fib.sbatch", fib_env)
        state = wait(second, 300)
        log = open(os.path.join(scratch, f"spmd-fib-{second}.out")).read()
        resumed = re.search(r"\((\d+) resumed\)", log)
        if state[1] != "COMPLETED" or not resumed or int(resumed.group(1)) == 0:
            sys.exit(f"FAIL fib resubmitted: {state}\n{log}")
        with h5py.File(fib_reference) as a, h5py.File(fib_out) as b:
            for column in ("n", "digits", "mod1e18", "leading", "ok"):
                if not np.array_equal(a["tasks"][column][()], b["tasks"][column][()]):
                    sys.exit(f"FAIL fib resubmitted: column {column} differs")
            n = b["tasks/n"][()]
        print(f"fib cancelled (job {first}) and resubmitted (job {second}): {resumed.group(1)} tasks "
              f"resumed from the journal, {len(n)} rows equal to an uninterrupted run")
        # 4. A sweep: job array + merge job, through scripts/submit.
        params = os.path.join(scratch, "sweep.txt")
        t_ends = ["0.0005", "0.001", "0.002", "0.004"]
        with open(params, "w") as f:
            f.write("# heat sweep for the test\n")
            for t in t_ends:
                f.write(f"--nx 32 --ny 32 --init hotspot --t-end {t}\n")
        sweep_env = dict(env, SPMD_SWEEP_DIR=os.path.join(scratch, "sweep"))
        submitted = sh(os.path.join(source, "scripts", "submit"), "--wait", "sweep", params,
                       env=sweep_env, check=False, timeout=300)
        if submitted.returncode != 0 or "COMPLETED" not in submitted.stdout:
            sys.exit(f"FAIL sweep: {submitted.returncode}\n{submitted.stdout}\n{submitted.stderr}")
        with h5py.File(os.path.join(scratch, "sweep", "summary.h5")) as f:
            commands = [c.decode() for c in f["collected/command_line"][()]]
            times = list(f["collected/time"][()])
            maxima = list(f["collected/max"][()])
        if not all(c.endswith("--t-end " + t) for c, t in zip(commands, t_ends)) or \
                [round(t, 6) for t in times] != [float(t) for t in t_ends] or \
                not all(a > b for a, b in zip(maxima, maxima[1:])):
            sys.exit(f"FAIL sweep: summary {commands} {times} {maxima}")
        print(f"sweep: array of 4 + merge job: summary.h5 holds all four (max {['%.3f' % m for m in maxima]})")
        # Any app through its job script: pi, by scripts/submit.
        pi_env = dict(env, SPMD_OUTPUT=os.path.join(scratch, "pi.h5"))
        submitted = sh(os.path.join(source, "scripts", "submit"), "--wait", "pi", "--samples", "200000",
                       env=pi_env, check=False, timeout=120)
        if submitted.returncode != 0 or not os.path.exists(os.path.join(scratch, "pi.h5")):
            sys.exit(f"FAIL pi job: {submitted.stdout} {submitted.stderr}")
        print("pi through scripts/submit --wait: COMPLETED")
    finally:
        stopped = sh(cluster, "stop", check=False)
        print(stopped.stdout.strip())
    # 4. Nothing left behind.
    left = []
    for name, pid in pids.items():
        try:
            os.kill(pid, 0)
            left.append(f"{name} ({pid})")
        except ProcessLookupError:
            pass
    if left:
        sys.exit(f"FAIL: still running after stop: {', '.join(left)}")
    print("harness stopped: munged, slurmctld and slurmd are gone")


if __name__ == "__main__":
    main()
