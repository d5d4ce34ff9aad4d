#!/usr/bin/env python3
"""spmd-farm end to end at 1-4 ranks, against what each command must do (the serial reference is
the task file itself): exit statuses, signals, timeouts that kill grandchildren, binary and huge
output, retries, --slots never exceeded, templates, a deadline that leaves a task for --resume,
priorities, tags routing tasks to ranks, per-task attempts with backoff, full logs per rank, the timeline plot;
a bad task file runs nothing; a stop
(SIGUSR1) resumes, at another rank count, with every task done exactly once and no attempt used up by
the interruption; a hard kill resumes with every task done, and only those in flight again.

  farm_check.py MPIEXEC SPMD_FARM SCRATCH_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

from process_tools import kill_everything_mentioning

MPIEXEC, FARM, SCRATCH = sys.argv[1:4]


def fail(message):
    sys.exit(f"FAIL: {message}")


def farm(ranks, args, expect, stdin=None, timeout=120):
    cmd = [MPIEXEC, "--oversubscribe", "-n", str(ranks), FARM] + args + ["--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=timeout)
    if proc.returncode != expect:
        fail(f"{' '.join(cmd)} exited {proc.returncode}, not {expect}:\n{proc.stdout}\n{proc.stderr}")
    summary = None
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    return summary, proc.stderr


def table(path):
    with h5py.File(path, "r") as f:
        t = {name: f["tasks"][name][()] for name in f["tasks"].keys()}
        out = f["tails/stdout/bytes"][()].tobytes()
        err = f["tails/stderr/bytes"][()].tobytes()
    rows = []
    for i in range(len(t["index"])):
        row = {k: (v[i].decode() if isinstance(v[i], bytes) else v[i].item()) for k, v in t.items()}
        row["stdout"] = out[row["stdout_offset"]:row["stdout_offset"] + row["stdout_length"]]
        row["stderr"] = err[row["stderr_offset"]:row["stderr_offset"] + row["stderr_length"]]
        rows.append(row)
    return rows


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def check_outcomes(ranks, work):
    """Exit statuses, signals, timeouts with grandchildren, binary and huge output, a retry."""
    grandchild = os.path.join(work, "grandchild.pid")
    flaky = os.path.join(work, "flaky.mark")
    lines = [
        "# comments and blank lines are skipped",
        "",
        "echo hello",
        "echo to-stderr >&2; exit 3",
        "kill -TERM $$",
        f"sleep 60 & echo $! > {grandchild}; wait",  # timed out: the group is killed
        "printf 'bin\\000ary\\377'",
        "head -c 3000000 /dev/zero | tr '\\0' x",
        f"if [ -e {flaky} ]; then echo second; else touch {flaky}; exit 1; fi",
    ]
    tasks = os.path.join(work, "tasks.txt")
    with open(tasks, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = os.path.join(work, "outcomes.h5")
    logs = os.path.join(work, "logs")
    summary, stderr = farm(ranks, [tasks, "--output", out, "--no-journal", "--timeout", "1",
                                   "--kill-grace", "0.5", "--attempts", "2",
                                   "--retry-backoff", "0", "--tail-bytes", "1000",
                                   "--logs", logs], expect=3)
    # --logs: the whole output, one file per rank at most, every chunk under its task's header.
    files = sorted(os.listdir(logs))
    if not files or len(files) > ranks or any(not n.startswith("rank-") for n in files):
        fail(f"np{ranks}: log files {files}")
    sections = {}
    for name in files:
        current = None
        with open(os.path.join(logs, name), "rb") as f:
            for line in f.read().split(b"\n"):
                if line.startswith(b"==> ") and line.endswith(b" <=="):
                    current = line[4:-4].decode()
                    continue
                if current is not None:
                    sections[current] = sections.get(current, b"") + line
    if sections.get("6 stdout", b"").count(b"x") != 3000000 or \
            b"to-stderr" not in sections.get("2 stderr", b""):
        fail(f"np{ranks}: --logs lost output: {[(k, len(v)) for k, v in sections.items()]}")
    if (summary["tasks"], summary["done"], summary["failed"]) != (7, 4, 3):
        fail(f"np{ranks}: summary {summary}")
    rows = table(out)
    if [r["index"] for r in rows] != list(range(7)) or [r["key"] for r in rows] != [
            str(i) for i in range(1, 8)]:
        fail(f"np{ranks}: rows not in task order: {[r['key'] for r in rows]}")
    hello, exit3, term, timeout, binary, huge, retried = rows
    expect = [
        (hello, dict(ok=1, exit_code=0, signal=0, timed_out=0, stdout=b"hello\n", attempts=1)),
        (exit3, dict(ok=0, exit_code=3, signal=0, stderr=b"to-stderr\n", attempts=2)),
        (term, dict(ok=0, exit_code=-1, signal=15, timed_out=0, attempts=2)),
        (timeout, dict(ok=0, timed_out=1, attempts=2)),
        (binary, dict(ok=1, stdout=b"bin\0ary\xff", stdout_bytes=8)),
        (huge, dict(ok=1, stdout=b"x" * 1000, stdout_bytes=3000000)),
        (retried, dict(ok=1, attempts=2, stdout=b"second\n")),
    ]
    for row, fields in expect:
        for name, value in fields.items():
            if row[name] != value:
                fail(f"np{ranks}: task {row['key']} ({row['command']}): {name} is "
                     f"{row[name]!r}, not {value!r}")
    if timeout["seconds"] > 3:
        fail(f"np{ranks}: the timed-out task took {timeout['seconds']} s")
    with open(grandchild) as f:
        pid = int(f.read())
    if alive(pid):
        fail(f"np{ranks}: a timed-out command's grandchild {pid} is still running")
    if summary["retries"] != 4:
        fail(f"np{ranks}: {summary['retries']} retries, not 4")
    if ranks > 1 and retried["rank"] == -1:
        fail(f"np{ranks}: no rank recorded")
    if "spmd-farm: task 2 (echo to-stderr >&2; exit 3) failed: exit status 3" not in stderr or \
            ": to-stderr" not in stderr:
        fail(f"np{ranks}: failure summary missing: {stderr}")


def check_slots(ranks, work):
    """--slots K: K commands at once per rank, never more; every rank (the master too) runs."""
    tasks = os.path.join(work, "slots.txt")
    with open(tasks, "w") as f:
        f.write("sleep 0.3\n" * (6 * ranks))
    out = os.path.join(work, "slots.h5")
    summary, _ = farm(ranks, [tasks, "--output", out, "--no-journal", "--slots", "3"], expect=0)
    if summary["runners"] != 3 * ranks:
        fail(f"np{ranks}: {summary['runners']} runners, not {3 * ranks}")
    rows = table(out)
    most = {}
    for r in rows:
        overlapping = sum(1 for o in rows if o["rank"] == r["rank"] and o["start"] <= r["start"]
                          < o["start"] + o["seconds"])
        most[r["rank"]] = max(most.get(r["rank"], 0), overlapping)
    if sorted(most) != list(range(ranks)) or max(most.values()) > 3 or max(most.values()) < 2:
        fail(f"np{ranks}: most commands at once by rank: {most}")


def check_template(ranks, work):
    args = os.path.join(work, "args.txt")
    with open(args, "w") as f:
        f.write("a/b.txt\nc d/e.tar.gz\nit's\n")
    out = os.path.join(work, "template.h5")
    farm(ranks, ["--template", "echo {/.} {#}", "--args-file", args, "--output", out,
                 "--no-journal"], expect=0)
    got = [r["stdout"] for r in table(out)]
    if got != [b"b 1\n", b"e.tar 2\n", b"it's 3\n"]:
        fail(f"np{ranks}: template outputs {got}")


def check_bad_file(ranks, work):
    marker = os.path.join(work, "ran.mark")
    tasks = os.path.join(work, "bad.jsonl")
    with open(tasks, "w") as f:
        f.write(json.dumps({"cmd": f"touch {marker}"}) + "\n")
        f.write('{"cmd": "true", "timeout": "soon"}\n')
    _, stderr = farm(ranks, [tasks, "--output", os.path.join(work, "bad.h5")], expect=2)
    if f"{tasks}:2: \"timeout\" must be a number of seconds" not in stderr:
        fail(f"np{ranks}: no FILE:LINE error: {stderr}")
    if os.path.exists(marker):
        fail(f"np{ranks}: a command ran although the task file was bad")
    # A task whose tags no rank has is refused before anything runs, naming its line.
    with open(tasks, "w") as f:
        f.write(json.dumps({"cmd": f"touch {marker}"}) + "\n")
        f.write(json.dumps({"cmd": "true", "tags": ["gpu"]}) + "\n")
    _, stderr = farm(ranks, [tasks, "--output", os.path.join(work, "bad.h5")], expect=2)
    if f"{tasks}:2: task farm: no rank that runs tasks has the tags gpu" not in stderr or \
            os.path.exists(marker):
        fail(f"np{ranks}: a task no rank can run was not refused: {stderr}")


def check_own_attempts(ranks, work):
    """A task's own "attempts" wins over --attempts; retries wait --retry-backoff, doubled."""
    tasks = os.path.join(work, "attempts.jsonl")
    with open(tasks, "w") as f:
        f.write(json.dumps({"cmd": "exit 1", "key": "thrice", "attempts": 3}) + "\n")
        f.write(json.dumps({"cmd": "exit 1", "key": "once"}) + "\n")
    out = os.path.join(work, "attempts.h5")
    start = time.monotonic()
    summary, _ = farm(ranks, [tasks, "--output", out, "--no-journal", "--retry-backoff", "0.3"],
                      expect=3)
    seconds = time.monotonic() - start
    rows = table(out)
    if [r["attempts"] for r in rows] != [3, 1] or summary["retries"] != 2 or seconds < 0.9:
        fail(f"np{ranks}: own attempts {[r['attempts'] for r in rows]}, {summary}, {seconds} s")


def check_deadline(ranks, work):
    """--time-left: a task whose estimate does not fit is not started (exit 75, left for
    --resume); the resumed run without a limit does it."""
    tasks = os.path.join(work, "deadline.jsonl")
    with open(tasks, "w") as f:
        for i in range(4):
            f.write(json.dumps({"cmd": "echo short", "est": 0.1}) + "\n")
        f.write(json.dumps({"cmd": "echo long", "key": "long", "est": 3600}) + "\n")
    out = os.path.join(work, "deadline.h5")
    summary, _ = farm(ranks, [tasks, "--output", out, "--time-left", "600"], expect=75)
    if (summary["done"], summary["past_deadline"], summary["unfinished"]) != (4, 1, 1):
        fail(f"np{ranks}: deadline: {summary}")
    summary, _ = farm(ranks, [tasks, "--output", out, "--resume"], expect=0)
    rows = table(out)
    if summary["resumed"] != 4 or rows[4]["stdout"] != b"long\n":
        fail(f"np{ranks}: deadline resumed: {summary} {rows[4]}")


def check_priorities_and_tags(work):
    """Higher priority first (one runner: the order of starts is the order of priorities); tags
    route tasks to the ranks that have them (SPMD_FARM_TAGS, given to ranks 1-2 only)."""
    tasks = os.path.join(work, "priority.jsonl")
    with open(tasks, "w") as f:
        for key, priority in [("a", 0), ("b", 5), ("c", -1), ("d", 5), ("e", 9)]:
            f.write(json.dumps({"cmd": "true", "key": key, "priority": priority}) + "\n")
    out = os.path.join(work, "priority.h5")
    farm(1, [tasks, "--output", out, "--no-journal"], expect=0)
    order = [r["key"] for r in sorted(table(out), key=lambda r: r["start"])]
    if order != ["e", "b", "d", "a", "c"]:
        fail(f"priorities: started in the order {order}")

    tasks = os.path.join(work, "tags.jsonl")
    with open(tasks, "w") as f:
        for i in range(24):
            task = {"cmd": "sleep 0.05", "key": f"t{i}"}
            if i % 3 == 0:
                task["tags"] = ["big"]
            f.write(json.dumps(task) + "\n")
    out = os.path.join(work, "tags.h5")
    common = [FARM, tasks, "--output", out, "--no-journal", "--json"]
    cmd = [MPIEXEC, "--oversubscribe", "-n", "2"] + common + [
        ":", "-n", "2", "env", "SPMD_FARM_TAGS=big"] + common
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail(f"tags: exit {proc.returncode}: {proc.stderr}")
    rows = table(out)
    tagged_ranks = {r["rank"] for r in rows if int(r["key"][1:]) % 3 == 0}
    if not tagged_ranks or not tagged_ranks <= {2, 3} or not all(r["ok"] for r in rows):
        fail(f"tags: tasks tagged big ran on ranks {tagged_ranks}")


def interrupted_then_resumed(work, first_ranks, resume_ranks, how):
    """Commands that log their key when done: a stop or a kill, then --resume: each key once."""
    log = os.path.join(work, f"{how}.log")
    tasks = os.path.join(work, f"{how}.jsonl")
    with open(tasks, "w") as f:
        for i in range(40):
            f.write(json.dumps({"key": f"t{i}", "cmd": f"sleep 0.25; echo t{i} >> {log}"}) + "\n")
    out = os.path.join(work, f"{how}.h5")
    args = [tasks, "--output", out, "--slots", "2", "--stop-grace", "0.1", "--kill-grace", "1",
            "--journal-interval", "0"]
    cmd = [MPIEXEC, "--oversubscribe", "-n", str(first_ranks), FARM] + args + ["--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(log) or len(open(log).read().split()) < 8:
        if proc.poll() is not None or time.monotonic() > deadline:
            fail(f"{how}: the first run ended or stalled early: {proc.communicate()}")
        time.sleep(0.02)
    if how == "stop":
        os.killpg(proc.pid, signal.SIGUSR1)
        out_text, err_text = proc.communicate(timeout=60)
        if proc.returncode != 75:
            fail(f"stop: exit {proc.returncode}, not 75: {out_text} {err_text}")
        stopped = json.loads([l for l in out_text.splitlines() if l.startswith("{")][-1])
        # Commands cut short by the stop are neither failed nor done: unfinished, for --resume.
        if stopped["failed"] != 0 or stopped["done"] + stopped["unfinished"] != 40 or \
                stopped["unfinished"] == 0:
            fail(f"stop: the stopped run's summary {stopped}")
    else:
        kill_everything_mentioning(tasks)
        proc.communicate(timeout=60)
        time.sleep(0.5)  # commands running at the kill (orphans under mpirun) end by themselves
    if os.path.exists(out):
        fail(f"{how}: an output appeared under the final name after an interrupted run")
    summary, _ = farm(resume_ranks, args + ["--resume"], expect=0)
    with open(log) as f:
        done = f.read().split()
    if how == "kill":
        # Killed outright, a rank cannot record what was in flight (running, or finished with
        # its result on the way): those tasks run again -- at most two per slot, nothing else.
        in_flight = 2 * 2 * first_ranks
        repeated = [k for k in set(done) if done.count(k) > 1]
        if set(done) != set(f"t{i}" for i in range(40)) or len(repeated) > in_flight or any(
                done.count(k) > 2 for k in repeated):
            fail(f"kill: tasks missing or repeated beyond those in flight: {sorted(done)}")
    elif sorted(done) != sorted(f"t{i}" for i in range(40)):
        repeated = sorted({k for k in done if done.count(k) > 1})
        missing = sorted(set(f"t{i}" for i in range(40)) - set(done))
        fail(f"{how}: not every task exactly once: repeated {repeated}, missing {missing}")
    rows = table(out)
    if how == "stop":
        if summary["resumed"] < 8 or any(r["attempts"] != 1 for r in rows):
            fail(f"stop: resumed {summary['resumed']}, attempts {[r['attempts'] for r in rows]}")
    if any(r["ok"] != 1 for r in rows):
        fail(f"{how}: not every task done in the resumed table")


def main():
    shutil.rmtree(SCRATCH, ignore_errors=True)
    for ranks in (1, 2, 3, 4):
        work = os.path.join(SCRATCH, f"np{ranks}")
        os.makedirs(work)
        check_outcomes(ranks, work)
        check_slots(ranks, work)
        check_template(ranks, work)
        check_bad_file(ranks, work)
        check_deadline(ranks, work)
        check_own_attempts(ranks, work)
    check_priorities_and_tags(os.path.join(SCRATCH, "np1"))
    # The timeline of a run with failures: scripts/h5view draws it.
    h5view = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                          "h5view")
    png = os.path.join(SCRATCH, "timeline.png")
    drawn = subprocess.run([sys.executable, h5view, os.path.join(SCRATCH, "np3", "outcomes.h5"),
                            "--timeline", "-o", png], capture_output=True, text=True)
    # (7 tasks, 3 failed; how many of the 3 ranks ran any depends on timing)
    if drawn.returncode != 0 or not re.search(r"\(7 tasks, [1-3] ranks, 3 failed\)",
                                              drawn.stdout) or \
            os.path.getsize(png) < 1000:
        fail(f"h5view --timeline: {drawn.stdout} {drawn.stderr}")
    interrupted_then_resumed(os.path.join(SCRATCH, "np2"), 2, 3, "stop")
    interrupted_then_resumed(os.path.join(SCRATCH, "np3"), 3, 1, "kill")
    print("spmd-farm: outcomes, slots, templates, bad files, deadline, stop and kill resumed: all "
          "as expected")


if __name__ == "__main__":
    main()
