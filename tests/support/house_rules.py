#!/usr/bin/env python3
"""House rules that CI checks on the sources (test house.rules).

  house_rules.py SOURCE_DIR

- No raw MPI or HDF5 call under apps/: apps use the library (Comm::allreduce, io::File,
  decomp::Field, ...), which wraps each call once, checks it and owns the handles. Constants
  (MPI_PROC_NULL, H5P_DEFAULT) are not calls and are allowed; so are comments.
- One MPI layer: no raw MPI call in the library outside src/spmdkit/runtime/ (Comm and the owned
  MPI objects of runtime/mpi_handles.hpp).
- Apps include only the umbrella headers (spmdkit/spmdkit.hpp or a room's spmdkit/ROOM.hpp):
  what a room keeps in its files is its own business. Sources compiled without MPI (the fuzz
  targets) may use the runtime's MPI-free headers (error, text, wire).
- The house style: every C++ source is as clang-format (.clang-format) would write it, when
  clang-format is installed (scripts/setup installs it; CI has it).
"""
import os
import re
import shutil
import subprocess
import sys

RAW_CALL = re.compile(r"\b(MPI_[A-Z][a-z_]*|H5[A-Z][A-Za-z0-9_]*)\s*\(")
RAW_MPI_CALL = re.compile(r"\b(MPI_[A-Z][a-z_]*)\s*\(")
SPMDKIT_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](spmdkit/[^>"]+)[>"]')
UMBRELLAS = {"spmdkit/spmdkit.hpp", "spmdkit/runtime.hpp", "spmdkit/io.hpp",
             "spmdkit/decomp.hpp", "spmdkit/patterns.hpp", "spmdkit/version.hpp",
             # MPI-free parts of the runtime, for an app's sources that are also fuzzed or
             # tested without MPI (tests/fuzz compiles them alone): the umbrellas bring MPI.
             "spmdkit/runtime/error.hpp", "spmdkit/runtime/text.hpp", "spmdkit/runtime/wire.hpp"}
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc")


def code_lines(path):
    """(number, text) of each line with comments and string literals blanked."""
    in_block = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            text = re.sub(r'"(\\.|[^"\\])*"', '""', line)
            if in_block:
                end = text.find("*/")
                if end < 0:
                    continue
                text, in_block = text[end + 2:], False
            text = re.sub(r"/\*.*?\*/", "", text)
            if "/*" in text:
                text, in_block = text[:text.index("/*")], True
            yield number, text.split("//", 1)[0]


def sources(root):
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.join(folder, name)


def check_apps(source, problems):
    for path in sources(os.path.join(source, "apps")):
        where = os.path.relpath(path, source)
        for number, text in code_lines(path):
            for match in RAW_CALL.finditer(text):
                problems.append(f"{where}:{number}: raw call {match.group(1)}() in an app: use the "
                                "library")
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = SPMDKIT_INCLUDE.match(line)
                if m and m.group(1) not in UMBRELLAS:
                    problems.append(f"{where}:{number}: includes {m.group(1)}: apps include only "
                                    "umbrella headers (spmdkit/spmdkit.hpp, spmdkit/ROOM.hpp)")


def check_library(source, problems):
    library = os.path.join(source, "src", "spmdkit")
    runtime = os.path.join(library, "runtime")
    for path in sources(library):
        if path.startswith(runtime + os.sep):
            continue
        for number, text in code_lines(path):
            for match in RAW_MPI_CALL.finditer(text):
                problems.append(f"{os.path.relpath(path, source)}:{number}: raw call "
                                f"{match.group(1)}() outside the runtime room: use spmd::Comm")


def check_format(source, problems):
    clang_format = shutil.which("clang-format")
    if clang_format is None:
        print("house rules: clang-format not installed, style not checked (scripts/setup installs it)")
        return
    listed = subprocess.run(["git", "-C", source, "ls-files", "*.cpp", "*.hpp", "*.h"],
                            capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an unpacked release): every source
        files = [os.path.relpath(p, source) for d in ("src", "apps", "tests", "bench")
                 for p in sources(os.path.join(source, d))]
    else:
        files = listed.stdout.split()
    for i in range(0, len(files), 50):
        batch = [os.path.join(source, f) for f in files[i:i + 50]]
        run = subprocess.run([clang_format, "--dry-run", "--Werror", f"--style=file"] + batch,
                             capture_output=True, text=True, cwd=source)
        if run.returncode != 0:
            unformatted = sorted({line.split(":", 1)[0] for line in run.stderr.splitlines()
                                  if ": error:" in line})
            for path in unformatted:
                problems.append(f"{os.path.relpath(path, source)}: not in the house style "
                                "(clang-format -i FILE)")


def main():
    source = sys.argv[1]
    problems = []
    check_apps(source, problems)
    check_library(source, problems)
    check_format(source, problems)
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print("house rules: no raw MPI/HDF5 call in apps, no raw MPI call outside runtime, apps "
              "include umbrella headers only, sources formatted")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
