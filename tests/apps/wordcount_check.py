#!/usr/bin/env python3
"""spmd-wordcount against an independent count (Python's re + str.lower + collections.Counter)
on a generated multilingual UTF-8 corpus (nested directories, a file spanning many chunks, invalid
UTF-8, an empty file, an unreadable entry), identical at 1-4 ranks; an empty corpus.

  wordcount_check.py MPIEXEC SPMD_WORDCOUNT SCRATCH_DIR
"""
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys

import h5py

VOCABULARY = (
    "The the cat CAT and dog Dog parallel Parallel programming pipeline MASTER worker "
    "Ça élève garçon ÉTÉ été Straße STRASSE Über ÜBER Öl Qué Sí niño AÑO año "
    "ΟΔΟΣ οδος Σοφία ΣΟΦΟΣ λόγος Άλφα Έψιλον Ώρα Привет ПРИВЕТ мир МИР Ёлка ёлка "
    "東京 タワー 数据 Łódź ŁÓDŹ żółw ŻÓŁW ČEŠTINA čeština Škoda 2024 42 x9 9x").split()
GLUE = [" ", " ", " ", "\n", ", ", ". ", " — ", " “", "” ", "… ", " «", "» ", " ¿", "? ", " ¡",
        "! ", "'", "’", "-", "_", "/", " 😀 ", "\t", " (", ") ", ": ", "3.14", "="]


def reference(paths):
    counts = collections.Counter()
    for path in paths:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        counts.update(w.lower() for w in re.findall(r"[^\W_]+", text))
    return counts


def make_corpus(root, rng):
    files = []
    for i in range(12):
        sub = os.path.join(root, f"part{i % 3}", "deeper" if i % 4 == 0 else "")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f"text{i}.txt")
        words = [rng.choice(VOCABULARY) + rng.choice(GLUE) for _ in range(rng.randint(200, 2000))]
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(words))
        files.append(path)
    big = os.path.join(root, "big.txt")  # many chunks of --chunk-kib 4, and a 9 kB word
    with open(big, "w", encoding="utf-8") as f:
        for _ in range(30000):
            f.write(rng.choice(VOCABULARY) + rng.choice(GLUE))
        f.write(" " + "long" * 2300 + " end\n")
    files.append(big)
    invalid = os.path.join(root, "part1", "invalid.txt")
    with open(invalid, "wb") as f:
        f.write(b"valid words \xff\xfe broken\xe3\x81 bytes \xc0\x80 overlong caf\xc3\xa9 end\n")
    files.append(invalid)
    empty = os.path.join(root, "part2", "empty.txt")
    open(empty, "w").close()
    files.append(empty)
    os.symlink("/nonexistent/nowhere.txt", os.path.join(root, "part0", "dangling.txt"))
    return files


def table(path):
    with h5py.File(path, "r") as f:
        words = [w.decode("utf-8") for w in f["words/word"][()]]
        counts = [int(c) for c in f["words/count"][()]]
    return list(zip(words, counts))


def run(mpiexec, app, ranks, args):
    cmd = [mpiexec, "--oversubscribe", "-n", str(ranks), app] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    mpiexec, app, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    corpus = os.path.join(scratch, "corpus")
    os.makedirs(corpus)
    files = make_corpus(corpus, random.Random(17))
    expected = reference(files)
    expected_rows = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    tables = []
    for ranks in (1, 2, 3, 4):
        out = os.path.join(scratch, f"words-{ranks}.h5")
        result = run(mpiexec, app, ranks, [corpus, "--chunk-kib", "4", "--json", "--output", out])
        # The dangling link is skipped and reported: the run completes with exit code 3.
        if result.returncode != 3:
            sys.exit(f"FAIL at {ranks} ranks: exit {result.returncode}, expected 3\n{result.stderr}")
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        if summary["skipped"] != 1 or summary["files"] != len(files):
            sys.exit(f"FAIL at {ranks} ranks: files/skipped {summary}")
        rows = table(out)
        if rows != expected_rows:
            got = dict(rows)
            diff = [(w, got.get(w), c) for w, c in expected.items() if got.get(w) != c][:10]
            extra = [w for w in got if w not in expected][:10]
            sys.exit(f"FAIL at {ranks} ranks: differs from Counter; (word, got, expected): {diff}; "
                     f"extra {extra}; order ok: {sorted(rows, key=lambda kv: (-kv[1], kv[0])) == rows}")
        if summary["words"] != sum(expected.values()) or summary["distinct"] != len(expected):
            sys.exit(f"FAIL at {ranks} ranks: summary {summary}")
        tables.append(rows)
        print(f"{ranks} rank(s): {summary['words']} words, {summary['distinct']} distinct, "
              f"stages {summary['stages']}: equal to collections.Counter")

    # A corpus without words, and one without files.
    quiet = os.path.join(scratch, "quiet")
    os.makedirs(quiet)
    with open(os.path.join(quiet, "blank.txt"), "w") as f:
        f.write(" \n — … \n")
    result = run(mpiexec, app, 2, [quiet, "--output", os.path.join(scratch, "quiet.h5")])
    if result.returncode != 0 or "holds no words" not in result.stdout:
        sys.exit(f"FAIL empty corpus: {result.returncode} {result.stdout} {result.stderr}")
    nothing = os.path.join(scratch, "nothing")
    os.makedirs(nothing)
    result = run(mpiexec, app, 2, [nothing, "--output", os.path.join(scratch, "nothing.h5")])
    if result.returncode != 2 or "error: no readable files in" not in result.stderr:
        sys.exit(f"FAIL no files: {result.returncode} {result.stderr}")
    print("a corpus without words: a clear message; without files: a usage error")


if __name__ == "__main__":
    main()
