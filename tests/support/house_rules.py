#!/usr/bin/env python3
"""House rules that CI checks on the sources (test house.rules).

  house_rules.py SOURCE_DIR

- No raw MPI or HDF5 call under apps/: apps use the library (spmd::allreduce, io::File,
  io::list_datasets, decomp::Field, ...), which wraps each call once, checks it and owns the
  handles. Constants (MPI_COMM_SELF, H5P_DEFAULT) are not calls and are allowed; so are comments.
"""
import os
import re
import sys

RAW_CALL = re.compile(r"\b(MPI_[A-Z][a-z_]*|H5[A-Z][A-Za-z0-9_]*)\s*\(")


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


def main():
    source = sys.argv[1]
    problems = []
    apps = os.path.join(source, "apps")
    for root, _, files in os.walk(apps):
        for name in sorted(files):
            if not name.endswith((".cpp", ".hpp", ".h", ".cc")):
                continue
            path = os.path.join(root, name)
            for number, text in code_lines(path):
                for match in RAW_CALL.finditer(text):
                    problems.append(f"{os.path.relpath(path, source)}:{number}: raw call "
                                    f"{match.group(1)}() in an app: use the library")
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print("house rules: no raw MPI or HDF5 call under apps/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
