#!/usr/bin/env python3
"""SIGKILL at random points: of the whole job (mpirun and every rank, as a node failure or
`scancel -s KILL` does) and of one rank alone (mpirun then ends the job), for heat, fib, crawl
and wordcount at 2-3 ranks. After each kill: nothing new under the final output name (a previous
result stays byte for byte), and the continuation (heat --restart from its checkpoint, fib and
crawl --resume from the journal, at another rank count; wordcount runs again) gives exactly the
result of an uninterrupted run in every deterministic column.

  kill_check.py MPIEXEC BIN_DIR SCRATCH [SEED]
"""
import hashlib
import http.server
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps"))
from process_tools import (kill_everything_mentioning, processes_mentioning,  # noqa: E402
                           stacks_of_session)

PAGES = 90


class Site(http.server.BaseHTTPRequestHandler):
    """A tree of pages, each answered after 15 ms (so that a crawl lasts seconds)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        time.sleep(0.015)
        if self.path == "/robots.txt":
            body, status = b"User-agent: *\nDisallow: /p7\n", 200
        elif self.path.startswith("/p") and self.path[2:].isdigit() and int(self.path[2:]) < PAGES:
            i = int(self.path[2:])
            links = "".join(f"<a href='/p{c}'>{c}</a>" for c in (3 * i + 1, 3 * i + 2, 3 * i + 3, i // 2))
            body, status = f"<html><title>page {i}</title>{links}</html>".encode(), 200
        else:
            body, status = b"none", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler was killed while this page was on its way


def columns(path, group, names):
    with h5py.File(path, "r") as f:
        return {name: f[f"{group}/{name}"][()] for name in names}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def journal_has_segments(directory):
    """True if the journal directory holds a complete segment (SEQ.h5; a .tmp is a segment
    whose writer was killed, never part of the journal)."""
    return os.path.isdir(directory) and any(name.endswith(".h5") for name in os.listdir(directory))


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Matrix:
    def __init__(self, mpiexec, bin_dir, scratch, rng):
        self.mpiexec, self.bin, self.scratch, self.rng = mpiexec, bin_dir, scratch, rng
        self.problems, self.kills, self.missed = [], 0, 0
        self.late = 0      # killed after the commit: the complete result was already published
        self.restarts = 0  # heat continuations from a checkpoint (the others start over)
        self.hangs = 0     # jobs that did not end after a kill (one is reported, two fail)
        self.seconds = self.reference_seconds = 0.0

    def command(self, app, ranks, args):
        return [self.mpiexec, "--oversubscribe", "-n", str(ranks), os.path.join(self.bin, app)] + args

    def run(self, app, ranks, args, what):
        started = time.monotonic()
        done = subprocess.run(self.command(app, ranks, args), capture_output=True, text=True,
                              timeout=120)
        self.seconds = time.monotonic() - started
        if done.returncode != 0:
            self.problems.append(f"{what}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        return done.returncode == 0

    def kill_run(self, app, ranks, args, marker, mode):
        """Starts the app, SIGKILLs it (the whole job or one rank) at a random point of the
        time an uninterrupted run took; returns whether it was still running then (a trial
        only counts then)."""
        job = subprocess.Popen(self.command(app, ranks, args), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(self.rng.uniform(0.3, 0.3 + 0.8 * max(self.reference_seconds - 0.3, 0.2)))
        running = job.poll() is None
        if running:
            self.kills += 1
            if mode == "job":
                os.killpg(job.pid, signal.SIGKILL)
                kill_everything_mentioning(marker)
            else:
                ranks_alive = [p for p in processes_mentioning(marker) if p != job.pid]
                if ranks_alive:
                    os.kill(self.rng.choice(ranks_alive), signal.SIGKILL)
        try:
            job.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Seen once under heavy load (spmd-fib, one rank killed) and not reproduced in
            # dozens of tries: the stacks say where it stood; a second one fails the test.
            stacks = stacks_of_session(job.pid)
            self.hangs += 1
            print(f"HUNG: {app} {mode} kill: the job did not end within 30 s\n{stacks}")
            if self.hangs > 1:
                self.problems.append(f"{app} {mode} kill: the job did not end within 30 s "
                                     f"(the {self.hangs}th time; stacks above)")
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
            kill_everything_mentioning(marker)
            return False  # not a trial: the continuation would follow a hang, not a kill
        kill_everything_mentioning(marker)
        if not running:
            self.missed += 1
        return running

    def kill_and_continue(self, app, args, reference_ranks, result, continuation, changed=None):
        """A reference run, then four kills (whole job, one rank, twice each) at 3 ranks, each
        followed by the continuation at 2 ranks; `result(path)` reads what must match,
        `continuation(out)` gives the extra arguments of the continuing run. With `changed`
        (arguments that change a parameter), the first continuation tries those first: refused
        (exit 2, naming the option), and nothing changes."""
        name = app.removeprefix("spmd-")
        reference = os.path.join(self.scratch, f"{name}-reference.h5")
        if not self.run(app, reference_ranks, args + ["-o", reference], f"{name} reference"):
            return
        self.reference_seconds = self.seconds
        wanted = result(reference)
        for trial, mode in enumerate(("job", "rank", "job", "rank")):
            out = os.path.join(self.scratch, f"{name}-{trial}.h5")
            if not self.kill_run(app, 3, args + ["-o", out], out, mode):
                continue
            if os.path.exists(out):
                # Killed after its commit (the rename) but before the job ended: the complete
                # result, which is allowed; anything else under the name is not.
                if not same(result(out), wanted):
                    self.problems.append(f"{name} {mode} kill {trial}: a file under the final "
                                         "name that is not the complete result")
                self.late += 1
                continue
            # Only a journal that recorded something can be refused: a run killed before its
            # first segment was written left an empty directory, and a run with other
            # parameters then starts afresh (nothing to merge), rightly.
            if changed and journal_has_segments(out + ".journal"):
                done = subprocess.run(self.command(app, 2, args + ["-o", out] + continuation(out)
                                                   + changed), capture_output=True, text=True,
                                      timeout=60)
                if done.returncode != 2 or "other parameters (" + changed[0] not in done.stderr:
                    self.problems.append(f"{name}: resumed with {changed}: exit "
                                         f"{done.returncode}: {done.stderr.strip()[-300:]}")
                changed = None
            if self.run(app, 2, args + ["-o", out] + continuation(out), f"{name} continued {trial}"):
                if not same(result(out), wanted):
                    self.problems.append(f"{name} {mode} kill {trial}: the continued result differs")

    def heat(self):
        def restart(out):
            checkpoint = os.path.splitext(out)[0] + ".checkpoint.h5"  # none if killed before the first
            self.restarts += os.path.exists(checkpoint)
            return ["--restart", checkpoint] if os.path.exists(checkpoint) else []

        self.kill_and_continue(
            "spmd-heat", ["--nx", "48", "--ny", "40", "--steps", "240", "--every", "40",
                          "--checkpoint-every", "15", "--test-step-delay-ms", "8", "-q"], 1,
            lambda path: columns(path, "fields", ["T", "time"]), restart)

    def fib(self):
        self.kill_and_continue(
            "spmd-fib", ["--random", "300", "--max-n", "30000", "--seed", "9",
                         "--journal-interval", "0.1", "-q"], 2,
            lambda path: columns(path, "tasks", ["n", "digits", "mod1e18", "leading", "ok"]),
            lambda out: ["--resume"])  # a changed parameter: fib.resume_other_parameters

    def crawl(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        seed = f"http://127.0.0.1:{server.server_address[1]}/p0"

        def pages_and_links(path):
            found = columns(path, "pages", ["url", "status", "depth", "title", "bytes"])
            found.update(columns(path, "links", ["src", "dst"]))
            return found

        self.kill_and_continue("spmd-crawl", [seed, "--max-depth", "6", "--journal-interval", "0.1",
                                              "-q"], 3, pages_and_links, lambda out: ["--resume"],
                               changed=["--max-pages", "50"])
        server.shutdown()

    def wordcount(self):
        corpus = os.path.join(self.scratch, "corpus")
        os.makedirs(corpus, exist_ok=True)
        words = [f"w{i}" for i in range(5000)] + ["Straße", "ΟΔΟΣ", "мир"]
        for i in range(8):
            with open(os.path.join(corpus, f"t{i}.txt"), "w", encoding="utf-8") as f:
                f.write(" ".join(self.rng.choice(words) for _ in range(400000)))
        reference = os.path.join(self.scratch, "words-reference.h5")
        if not self.run("spmd-wordcount", 3, [corpus, "-q", "-o", reference], "wordcount reference"):
            return
        self.reference_seconds = self.seconds
        wanted = columns(reference, "words", ["word", "count"])
        out = os.path.join(self.scratch, "words.h5")
        old = os.path.join(self.scratch, "old.txt")
        with open(old, "w") as f:
            f.write("an older result\n")
        if not self.run("spmd-wordcount", 2, [old, "-q", "-o", out], "wordcount older result"):
            return
        before = digest(out)
        for trial, mode in enumerate(("job", "rank", "job", "rank")):
            if not self.kill_run("spmd-wordcount", 3, [corpus, "-q", "-o", out], out, mode):
                before = digest(out)  # it finished first: its result is the older one now
                continue
            if digest(out) != before:
                # Killed after its commit (the rename) but before the job ended: the new result
                # is complete, which is allowed; anything else under the name is not.
                if same(columns(out, "words", ["word", "count"]), wanted):
                    before = digest(out)
                else:
                    self.problems.append(f"wordcount {mode} kill {trial}: the older result "
                                         "changed, and is not the complete new one")
        if self.run("spmd-wordcount", 2, [corpus, "-q", "-o", out], "wordcount rerun"):
            if not same(columns(out, "words", ["word", "count"]), wanted):
                self.problems.append("wordcount: the rerun differs from the reference")


def main():
    mpiexec, bin_dir, scratch = sys.argv[1:4]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time())
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    matrix = Matrix(mpiexec, bin_dir, scratch, random.Random(seed))
    for app in (matrix.heat, matrix.fib, matrix.crawl, matrix.wordcount):
        started = time.monotonic()
        app()
        print(f"{app.__name__}: {time.monotonic() - started:.1f} s")
    for p in matrix.problems:
        print("FAIL:", p)
    print(f"seed {seed}: {matrix.kills} kills, {matrix.missed} runs that ended before their kill, "
          f"{matrix.late} killed after publishing their result, {matrix.restarts} heat restarts "
          f"from a checkpoint, {len(matrix.problems)} problems")
    return 1 if matrix.problems else 0


if __name__ == "__main__":
    sys.exit(main())
