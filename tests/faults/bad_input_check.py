#!/usr/bin/env python3
"""Bad-input matrix: every app x its numeric options x {wrong type, negative, zero, beyond its
range, overflow, NaN/inf, missing value}, every file input x {missing, directory, empty, text,
truncated or foreign HDF5, no line breaks}, config files (unknown key, syntax error), an output
that is also an input, non-UTF-8 bytes, inputs the user cannot read (as nobody when run as
root) and an output directory it cannot write, damaged journals -- at 1 rank (a singleton run)
and at 3 ranks (numeric options: every value at 1 rank, two per option at 3). Each run must
end within 10 s with the documented exit code (2: bad input) and exactly one error
line from the app, nothing else of its own; and an output that is an input stays untouched.

  bad_input_check.py MPIRUN BIN_DIR SCRATCH

The numeric cases come from each app's --help (the option's type and any range CLI11 states),
so a new option is covered as soon as it exists; the cases below add what --help cannot say.
"""
import atexit
import concurrent.futures
import os
import re
import shutil
import subprocess
import tempfile
import sys
import time

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps"))
from process_tools import stacks_of_session  # noqa: E402

APPS = ["heat", "pi", "fib", "crawl", "wordcount", "h5stats", "collect", "info"]
MAX_SECONDS = 10
OVERFLOW = "99999999999999999999"


def numeric_options(help_text):
    """(name, kind, low, high) of every INT/UINT/FLOAT option --help shows."""
    found = []
    for line in help_text.splitlines():
        m = re.match(r"^\s+(?:-\w,)?(--[\w-]+) ((?:U?INT|FLOAT)[^=\s]*(?: in \[[^\]]*\])?)", line)
        if not m:
            continue
        name, spec = m.groups()
        kind = "float" if spec.startswith("FLOAT") else ("uint" if spec.startswith("UINT") else "int")
        low = high = None
        if r := re.search(r"in \[([-\d.e+]+) - ([-\d.e+]+)\]", spec):
            low, high = float(r.group(1)), float(r.group(2))
        if "POSITIVE" in spec:
            low = 1 if kind != "float" else 1e-300
        if "NONNEGATIVE" in spec:
            low = 0
        found.append((name, kind, low, high))
    return found


SHARED_GROUPS = ("Task farm:",)  # options every farm app declares through the same code


def without_groups_seen(help_text, seen):
    """`help_text` without the option groups of SHARED_GROUPS already tried with another app:
    the same code declares and checks them (FarmFlags), so one app covers them."""
    kept, skipping = [], False
    for line in help_text.splitlines():
        if line.strip() in SHARED_GROUPS:
            skipping = line.strip() in seen
            seen.add(line.strip())
        elif not line.strip():
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def generated_cases(app, help_text):
    """(cases at 1 rank, cases at 1 and 3 ranks). Every value is tried at 1 rank; at 3 ranks,
    for each option the value that reaches its own check (the last, usually just past its
    range), and for the app's first option also the overflow, which reaches the parser's type
    check (the same code for every option): whether every rank checks an option does not
    depend on the value, and 3-rank runs cost 5 times more."""
    one_rank, both = [], []
    for number, (name, kind, low, high) in enumerate(numeric_options(help_text)):
        bad = ["abc", "", OVERFLOW if kind != "float" else "1e999"]
        if kind == "uint":
            bad.append("-1")
        if kind == "float":
            bad += ["nan", "inf", "-inf"]
        if low is not None and low > 0:
            bad.append("0")
        if low is not None and low >= 0 and kind != "uint":
            bad.append("-1")
        if high is not None:
            bad.append(str(int(high) + 1) if kind != "float" else repr(high * 2 + 1))
        for i, value in enumerate(bad):
            at_three = i == len(bad) - 1 or (i == 2 and number == 0)
            (both if at_three else one_rank).append((app, [name, value], 2))
        one_rank.append((app, [name], 2))  # the value is missing
    return one_rank, both


def unreadable_cases(scratch, bin_dir):
    """Inputs the user running the app cannot read, and an output directory it cannot write.
    As root (which reads everything) the apps run as nobody, from a copy of the binaries and
    libraries that nobody can reach; otherwise as the current user."""
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            print("note: no setpriv, unreadable inputs not tried")
            return []
        stage = tempfile.mkdtemp(prefix="spmd-unreadable-")
        atexit.register(shutil.rmtree, stage, True)
        os.chmod(stage, 0o755)
        shutil.copytree(bin_dir, os.path.join(stage, "bin"),
                        ignore=lambda d, names: [n for n in names if not n.startswith("spmd-")])
        shutil.copytree(os.path.join(bin_dir, "..", "lib"), os.path.join(stage, "lib"), symlinks=True)
        work = os.path.join(stage, "work")
        os.makedirs(work)
        os.chmod(work, 0o1777)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                  "env", "HOME=/tmp"]
        user = (prefix, os.path.join(stage, "bin"), work)
    else:
        work = os.path.join(scratch, "unreadable")
        os.makedirs(work)
        user = ([], bin_dir, work)
    w = lambda name: os.path.join(work, name)
    with open(w("closed.txt"), "w") as f:
        f.write("1\n2\n")
    with open(w("closed.toml"), "w") as f:
        f.write("samples = 100\n")
    shutil.copy(os.path.join(scratch, "pi.h5"), w("closed.h5"))
    os.makedirs(w("corpus/locked"))
    with open(w("corpus/open.txt"), "w") as f:
        f.write("some words\n")
    with open(w("corpus/locked/hidden.txt"), "w") as f:
        f.write("hidden words\n")
    os.makedirs(w("readonly"))
    for path in ("closed.txt", "closed.toml", "closed.h5", "corpus/locked"):
        os.chmod(w(path), 0)
    os.chmod(w("readonly"), 0o555)
    return [
        ("wordcount", [w("closed.txt")], 2, user),
        ("wordcount", [w("corpus/locked")], 2, user),
        ("wordcount", [w("corpus")], 3, user, "skipped "),  # counted without it, and said so
        ("fib", ["--inputs-file", w("closed.txt")], 2, user),
        ("heat", ["--restart", w("closed.h5")], 2, user),
        ("h5stats", [w("closed.h5")], 2, user),
        ("collect", [w("closed.h5"), os.path.join(scratch, "pi.h5")], 2, user),
        ("pi", ["--config", w("closed.toml")], 2, user),
        ("pi", ["--samples", "1000", "-o", w("readonly/pi.h5")], 1, user),
    ]


def main():
    mpirun, bin_dir, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    s = lambda name: os.path.join(scratch, name)
    # Inputs: a text file, an empty file, a truncated and a foreign HDF5 file, a directory.
    with open(s("text.txt"), "w") as f:
        f.write("just words\n")
    open(s("empty.h5"), "w").close()
    os.makedirs(s("dir"))
    subprocess.run([mpirun, "-np", "1", os.path.join(bin_dir, "spmd-pi"), "-q", "--samples",
                    "10000", "-o", s("pi.h5")], check=True)
    with open(s("pi.h5"), "rb") as f:
        whole = f.read()
    with open(s("truncated.h5"), "wb") as f:
        f.write(whole[: len(whole) // 3])
    shutil.copy(s("pi.h5"), s("foreign.h5"))  # valid HDF5, but not what heat/collect expect
    with open(s("typo.toml"), "w") as f:
        f.write("stpes = 5\n")
    with open(s("syntax.toml"), "w") as f:
        f.write("samples 100\n")
    with open(s("words.txt"), "w") as f:
        f.write("the quick brown fox\n")
    with open(s("precious.h5"), "wb") as f:
        f.write(whole)
    non_utf8 = os.fsdecode(b"caf\xe9-\xff")
    # Damaged journals for --resume: a segment that is text, cut short, or another HDF5 file.
    for name, content in (("text", b"not a journal\n"), ("cut", whole[: len(whole) // 2]),
                          ("foreign", whole)):
        journal = s(f"journal-{name}.h5.journal")
        os.makedirs(journal)
        with open(os.path.join(journal, "segment-00000001.h5"), "wb") as f:
            f.write(content)
    # A journal whose HDF5 is intact but whose result bytes do not decode: a run with a failing
    # task keeps its journal; its result bytes are then overwritten in place.
    subprocess.run([mpirun, "-np", "1", os.path.join(bin_dir, "spmd-fib"), "-q", "--inputs",
                    "1,2,3", "--test-fail-n", "3", "-o", s("blobs.h5")], capture_output=True)
    for segment in os.listdir(s("blobs.h5.journal")):
        with h5py.File(os.path.join(s("blobs.h5.journal"), segment), "r+") as f:
            if f["result/bytes"].shape[0] > 0:
                f["result/bytes"][...] = 0xFF

    cases = unreadable_cases(scratch, bin_dir)
    single = []  # tried at 1 rank only
    shared_seen = set()
    for app in APPS:
        help_text = subprocess.run([os.path.join(bin_dir, "spmd-" + app), "--help"],
                                   capture_output=True, text=True).stdout
        help_text = without_groups_seen(help_text, shared_seen)
        one_rank, both = generated_cases(app, help_text)
        single += one_rank
        cases += both
        cases += [
            (app, ["--no-such-option"], 2),
            (app, ["--config", s("missing.toml")], 2),
            (app, ["--config", s("dir")], 2),
            (app, ["--config", s("typo.toml")], 2),
            (app, ["--config", s("syntax.toml")], 2),
            (app, ["--config", s("text.txt")], 2),
        ]
    for bad in ["missing.h5", "dir", "empty.h5", "text.txt", "truncated.h5"]:
        cases += [("h5stats", [s(bad)], 2), ("collect", [s(bad)], 2),
                  ("heat", ["--restart", s(bad)], 2)]
    cases += [
        ("heat", ["--restart", s("foreign.h5")], 2),
        ("heat", ["--nx", "0"], 2), ("heat", ["--nx", "2147483648"], 2),
        ("heat", ["--steps", "0"], 2), ("heat", ["--every", "0"], 2),
        ("heat", ["--t-end", "1e300"], 2), ("heat", ["--dt", "1e9"], 2),
        ("heat", ["--lx", "0"], 2), ("heat", ["--alpha", "0"], 2), ("heat", ["--dims", "4"], 2),
        ("heat", ["--checkpoint-every", "-1"], 2), ("heat", ["--boundary", non_utf8], 2),
        ("heat", ["--init", "\x1b[31m"], 2),
        ("heat", ["--checkpoint", s("same.h5"), "-o", s("same.h5")], 2),
        ("pi", ["--samples", "0"], 2), ("pi", ["--samples", str(2**62 + 1)], 2),
        ("pi", ["--samples", "18446744073709551616"], 2), ("pi", ["--dims", "0"], 2),
        ("fib", [], 2), ("fib", ["--inputs", "-1"], 2), ("fib", ["--inputs", "abc"], 2),
        ("fib", ["--inputs", "5", "--max-n", "1"], 2), ("fib", ["--inputs", "5", "--random", "3"], 2),
        ("fib", ["--inputs-file", "/dev/zero"], 2), ("fib", ["--inputs-file", s("missing")], 2),
        ("fib", ["--inputs-file", s("dir")], 2), ("fib", ["--inputs-file", s("text.txt")], 2),
        ("fib", ["--inputs-file", s("empty.h5")], 2), ("fib", ["--random", "10000001"], 2),
        ("fib", ["--max-n", "1000000001", "--inputs", "5"], 2),
        ("fib", ["--inputs", "1,2,3", "--resume", "-o", s("journal-text.h5")], 2),
        ("fib", ["--inputs", "1,2,3", "--resume", "-o", s("journal-cut.h5")], 2),
        ("fib", ["--inputs", "1,2,3", "--resume", "-o", s("journal-foreign.h5")], 2),
        ("fib", ["--inputs", "1,2,3", "--resume", "-o", s("blobs.h5")], 2),
        ("crawl", [], 2), ("crawl", [s("missing.html")], 2), ("crawl", ["ftp://x/"], 2),
        ("crawl", ["http://"], 2), ("crawl", ["http://127.0.0.1/", "--ca-file", s("missing.pem")], 2),
        ("wordcount", [], 2), ("wordcount", [s("missing.txt")], 2), ("wordcount", [s("dir")], 2),
        ("wordcount", [s("words.txt"), "--chunk-kib", "0"], 2),
        ("h5stats", [s("pi.h5"), "/nope"], 2), ("h5stats", [s("pi.h5"), "--bins", "-1"], 2),
        ("h5stats", [s("pi.h5"), "--bins", "1000001"], 2),
        ("h5stats", [s("pi.h5"), "--bins", "2000000000"], 2),
        ("h5stats", [s("pi.h5"), "--slab-mb", "0"], 2), ("h5stats", [s("pi.h5"), non_utf8], 2),
        ("collect", [s("pi.h5")], 2), ("collect", [s("missing.h5"), s("pi.h5")], 2),
        # An output that is also an input: refused, and the input stays as it was.
        ("wordcount", [s("words.txt"), "-o", s("words.txt")], 2),
        ("h5stats", [s("precious.h5"), "-o", s("precious.h5")], 2),
        ("collect", ["--table", "convergence", s("precious.h5"), "-o", s("precious.h5")], 2),
        ("heat", ["--restart", s("precious.h5"), "-o", s("precious.h5")], 2),
        ("info", ["-o", s("dir")], None),  # a directory as output: an error (1 or 2), one line
    ]

    def run(case, ranks):
        app, args, expected = case[:3]
        user = case[3] if len(case) > 3 else None  # (command prefix, bin dir, work dir)
        line = case[4] if len(case) > 4 else "error: "
        prefix, bin_path, work = user if user else ([], bin_dir, scratch)
        command = [os.path.join(bin_path, "spmd-" + app)] + args
        if "-o" not in args and "--output" not in args:
            command += ["-o", os.path.join(work, f"out-{os.getpid()}-{abs(hash(tuple(args)))}-{ranks}.h5")]
        if ranks > 1:
            command = [mpirun, "-np", str(ranks)] + command
        command = prefix + command
        start = time.monotonic()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work,
                                start_new_session=True)
        try:
            _, err_bytes = proc.communicate(timeout=3 * MAX_SECONDS)
            code, err = proc.returncode, err_bytes.decode(errors="replace")
        except subprocess.TimeoutExpired:
            code, err = None, ""
            hung_stacks.append(f"{' '.join(command)}:\n{stacks_of_session(proc.pid)}")
            os.killpg(proc.pid, 9)
            proc.communicate()
        seconds = time.monotonic() - start
        where = f"{ranks} rank(s): spmd-{app} {' '.join(args)!r}"
        problems = []
        own = [l for l in err.splitlines() if l.startswith(f"spmd-{app}:")]
        if code is None:
            problems.append(f"{where}: still running after {3 * MAX_SECONDS} s")
        elif expected is not None and code != expected:
            problems.append(f"{where}: exit {code}, expected {expected}: {err[-300:]}")
        elif expected is None and code not in (1, 2):
            problems.append(f"{where}: exit {code}, expected 1 or 2")
        if code is not None and seconds > MAX_SECONDS:
            problems.append(f"{where}: took {seconds:.1f} s")
        if code not in (None, 0) and (len(own) != 1 or not own[0].startswith(f"spmd-{app}: {line}")):
            problems.append(f"{where}: {len(own)} lines of its own: {own[:3]}")
        if any(len(l) > 2500 or "\x1b" in l for l in own):
            problems.append(f"{where}: an unescaped or uncut message")
        return problems

    def run_twice_if_hung(case, ranks):
        # A run that hangs is shown with the stacks of its processes, then run again: a hang
        # seen once under load (Open MPI's singleton start-up, so far) is reported, not hidden,
        # but fails the test only if it happens again.
        found = run(case, ranks)
        if any("still running" in p for p in found):
            again = run(case, ranks)
            if not again:
                flaky.extend(f"{p} (passed when run again)" for p in found)
                return []
            return found + again
        return found

    hung_stacks = []
    flaky = []
    jobs = [(case, ranks) for case in cases for ranks in (1, 3)] + [(case, 1) for case in single]
    problems = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for found in pool.map(lambda job: run_twice_if_hung(*job), jobs):
            problems += found
    with open(s("precious.h5"), "rb") as f:
        if f.read() != whole:
            problems.append("precious.h5, given as input and output, was changed")
    with open(s("words.txt")) as f:
        if f.read() != "the quick brown fox\n":
            problems.append("words.txt, given as input and output, was changed")
    print(f"{len(jobs)} bad-input runs ({len(cases)} cases at 1 and 3 ranks, {len(single)} at 1), "
          f"{len(problems)} problems")
    for p in flaky:
        print("HUNG ONCE:", p)
    for stacks in hung_stacks:
        print("stacks of a hung run:", stacks)
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
