#!/usr/bin/env python3
"""clang-tidy over the library and the apps with the checks of .clang-tidy (test house.tidy).

  tidy.py SOURCE_DIR BUILD_DIR [JOBS]

Reads BUILD_DIR/compile_commands.json, keeps the sources under src/ and apps/, and runs
clang-tidy on each source, JOBS at a time. Cost: ~10 s of CPU a source (the checks walk the whole
AST, Boost.MPI and HDF5 included; a precompiled header does not help), ~9 min for the tree. Prints every finding; exits 1 if there is any, 0 otherwise (and 0 with a
note when clang-tidy is not installed: scripts/setup installs it, CI has it).

"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PCH_FLAGS = re.compile(r"\s-include\s+(\S*cmake_pch\.hxx)")


def main():
    source, build = sys.argv[1], sys.argv[2]
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count() or 2
    tidy = shutil.which("clang-tidy")
    if tidy is None:
        print("house.tidy: clang-tidy not installed, nothing checked (scripts/setup installs it)")
        return 0
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = json.load(f)
    roots = tuple(os.path.join(source, d) + os.sep for d in ("src", "apps"))
    kept, seen = [], set()
    for entry in commands:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if not path.startswith(roots) or path in seen or "command" not in entry:
            continue
        seen.add(path)
        kept.append(dict(entry, file=path))
    if not kept:
        print("house.tidy: no sources of src/ or apps/ in the compilation database")
        return 1
    with tempfile.TemporaryDirectory() as db:
        # GCC's precompiled headers mean nothing to clang (and clang would pick up the .gch
        # beside a list included as text): dropped, every source includes what it uses.
        for entry in kept:
            entry["command"] = PCH_FLAGS.sub("", entry["command"]).replace(" -Winvalid-pch", "")
        with open(os.path.join(db, "compile_commands.json"), "w") as f:
            json.dump(kept, f)

        def run(entry):
            # GCC's -Wconversion leaves sign changes alone, clang's does not: as in the build.
            done = subprocess.run([tidy, "-p", db, "--quiet", "--extra-arg=-Wno-sign-conversion",
                                   entry["file"]],
                                  capture_output=True, text=True, cwd=source)
            findings = [line for line in done.stdout.splitlines()
                        if re.search(r": (error|warning): ", line)]
            return entry["file"], done.returncode, findings, done.stdout + done.stderr

        failed = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for path, code, findings, output in pool.map(run, kept):
                if code != 0 or findings:
                    failed += 1
                    print(f"FAIL: {os.path.relpath(path, source)}")
                    print(output.rstrip())
    print(f"house.tidy: {len(kept)} sources, {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
