#!/usr/bin/env python3
"""Runs a command (usually mpirun ... spmd-<app>) and checks how it ended.

  expect_run.py [checks] -- command args...

Checks:
  --exit N | --exit nonzero      expected exit status (default 0)
  --max-seconds S                the command must end within S seconds (killed after 2*S)
  --stderr-once REGEX            exactly one stderr line matches
  --stderr-count REGEX=N         exactly N stderr lines match
  --stdout-once REGEX            exactly one stdout line matches
  --output-has REGEX             stdout or stderr contains a match
  --json KEY=VALUE               stdout's last line is JSON whose KEY (dotted path) equals VALUE
  --file-json PATH KEY=VALUE     like --json, for a file the command wrote
  --no-file PATH                 PATH does not exist afterwards (removed first if it does)
Prints what it saw when a check fails, and exits 1.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time


def json_path(document, dotted):
    value = document
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        else:
            value = value[part]
    return value


def same(value, expected_text):
    if isinstance(value, bool):
        return str(value).lower() == expected_text
    if isinstance(value, (int, float)):
        try:
            return value == type(value)(expected_text)
        except ValueError:
            return False
    return str(value) == expected_text


def main(argv):
    if "--" not in argv:
        sys.exit("usage: expect_run.py [checks] -- command...")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    expected_exit = "0"
    max_seconds = None
    checks = []
    i = 0
    while i < len(options):
        flag = options[i]
        if flag == "--exit":
            expected_exit = options[i + 1]
        elif flag == "--max-seconds":
            max_seconds = float(options[i + 1])
        elif flag in ("--stderr-once", "--stdout-once", "--output-has", "--json"):
            checks.append((flag, options[i + 1]))
        elif flag == "--no-file":
            checks.append((flag, options[i + 1]))
            if os.path.lexists(options[i + 1]):
                os.remove(options[i + 1])
        elif flag == "--stderr-count":
            pattern, _, count = options[i + 1].rpartition("=")
            checks.append((flag, (pattern, int(count))))
        elif flag == "--file-json":
            checks.append((flag, (options[i + 1], options[i + 2])))
            i += 1
        else:
            sys.exit(f"expect_run.py: unknown option {flag}")
        i += 2

    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=2 * max_seconds if max_seconds else None)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        print(f"FAIL: still running after {2 * max_seconds:.0f} s, killed", file=sys.stderr)
        print(stdout, stderr, sep="\n--- stderr ---\n", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - start

    problems = []
    code = process.returncode
    if expected_exit == "nonzero":
        if code == 0:
            problems.append("exit status 0, expected non-zero")
    elif code != int(expected_exit):
        problems.append(f"exit status {code}, expected {expected_exit}")
    if max_seconds is not None and elapsed > max_seconds:
        problems.append(f"took {elapsed:.1f} s, limit {max_seconds:.0f} s")

    def count(text, pattern):
        return sum(1 for line in text.splitlines() if re.search(pattern, line))

    for flag, arg in checks:
        if flag == "--stderr-once" and count(stderr, arg) != 1:
            problems.append(f"{count(stderr, arg)} stderr lines match /{arg}/, expected 1")
        elif flag == "--stdout-once" and count(stdout, arg) != 1:
            problems.append(f"{count(stdout, arg)} stdout lines match /{arg}/, expected 1")
        elif flag == "--stderr-count" and count(stderr, arg[0]) != arg[1]:
            problems.append(f"{count(stderr, arg[0])} stderr lines match /{arg[0]}/, expected {arg[1]}")
        elif flag == "--no-file" and os.path.lexists(arg):
            problems.append(f"{arg} exists")
        elif flag == "--output-has" and not re.search(arg, stdout + stderr):
            problems.append(f"no output matches /{arg}/")
        elif flag in ("--json", "--file-json"):
            if flag == "--json":
                source, assignment = "stdout", arg
                lines = stdout.strip().splitlines()
                text = lines[-1] if lines else ""
            else:
                source, assignment = arg
                try:
                    with open(source, encoding="utf-8") as f:
                        text = f.read()
                except OSError as e:
                    problems.append(f"cannot read {source}: {e}")
                    continue
            key, _, expected = assignment.partition("=")
            try:
                value = json_path(json.loads(text), key)
            except (ValueError, KeyError, IndexError, TypeError) as e:
                problems.append(f"{source}: no JSON value at {key} ({e!r})")
                continue
            if not same(value, expected):
                problems.append(f"{source}: {key} is {value!r}, expected {expected}")

    print(f"exit {code} after {elapsed:.2f} s: {' '.join(command)}")
    if problems:
        for p in problems:
            print(f"FAIL: {p}", file=sys.stderr)
        print("--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
