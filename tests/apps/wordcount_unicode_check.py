#!/usr/bin/env python3
"""spmd-wordcount's words are Python's, for every code point of Unicode: a corpus holding every
code point (shuffled, in runs glued to their neighbours or not) and the cases that differed
before (Romanian comma-below letters, Vietnamese precomposed and decomposed, Ukrainian Ґ, Kazakh
Қ, polytonic Greek and the final sigma in context, İ, µ ª º ², letters with modifier letters)
is counted at 1 and 3 ranks (small chunks: words cut at chunk borders) and compared with
collections.Counter(w.lower() for w in re.findall(r"[^\\W_]+", text)).

  wordcount_unicode_check.py MPIEXEC SPMD_WORDCOUNT SCRATCH TABLES_INC
"""
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import unicodedata

import h5py

SPECIAL = ("Șapte ȘAPTE ţară ȚARĂ Țară Tiếng Việt TIẾNG VIỆT Tie\u0302\u0301ng Vie\u0323\u0302t "
           "Ґанок ҐАНОК Қазақ ҚАЗАҚ Ἀθῆναι ἈΘΗΝΑΙ ᾯ ᾨ ΣΟΦΟΣ ΟΔΟΣ ΑΣΑ ΑΣ Σ ΑΣʰ ΑʰΣ ΑΣʰΑ ǅΣ ΣΑ "
           "İSTANBUL İi µ ª º ² ³ ¹ ¼ ΐ Ⅻ ⅻ ǈ ǋ ẞ ß ﬁ ŉ Ω K Å ꭰ Ꭰ 𐐀 𐐨 𞤀 𞤢 ᾼ ᾳ").split()


def main():
    mpiexec, app, scratch, tables = sys.argv[1:5]
    with open(tables, encoding="utf-8") as f:
        version = re.search(r"Unicode ([0-9.]+)", f.readline()).group(1)
    if version != unicodedata.unidata_version:
        print(f"this Python has Unicode {unicodedata.unidata_version}, the tables {version}: "
              "code points assigned in between would differ; skipped")
        return 77
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    rng = random.Random(5)
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    rng.shuffle(points)
    pieces = []
    at = 0
    while at < len(points):
        n = rng.randint(1, 6)
        pieces.append("".join(points[at:at + n]))
        pieces.append(rng.choice(("", " ", "\n", "a", "Σ", "Ä")))
        at += n
    for _ in range(20):
        for word in SPECIAL:
            pieces.append(word)
            pieces.append(rng.choice((" ", "\n", ", ", "")))
    text = "".join(pieces)
    corpus = os.path.join(scratch, "all.txt")
    with open(corpus, "w", encoding="utf-8", errors="surrogatepass") as f:
        f.write(text)
    expected = collections.Counter(w.lower() for w in re.findall(r"[^\W_]+", text))
    expected_rows = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    for ranks in (1, 3):
        out = os.path.join(scratch, f"words-{ranks}.h5")
        done = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), app, corpus,
                               "--chunk-kib", "64", "-q", "--output", out],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            print(f"FAIL at {ranks} ranks: exit {done.returncode}: {done.stderr[-500:]}")
            return 1
        with h5py.File(out, "r") as f:
            rows = list(zip((w.decode("utf-8") for w in f["words/word"][()]),
                            (int(c) for c in f["words/count"][()])))
        if rows != expected_rows:
            got = dict(rows)
            diff = [(w, [hex(ord(c)) for c in w], got.get(w), c)
                    for w, c in expected.items() if got.get(w) != c][:8]
            extra = [(w, [hex(ord(c)) for c in w]) for w in got if w not in expected][:8]
            print(f"FAIL at {ranks} ranks: {len(rows)} rows, {len(expected_rows)} expected; "
                  f"(word, code points, got, expected): {diff}; extra: {extra}")
            return 1
        print(f"{ranks} rank(s): {len(rows)} distinct words over all of Unicode "
              f"{version}: equal to Python's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
