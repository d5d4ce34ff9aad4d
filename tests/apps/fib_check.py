#!/usr/bin/env python3
"""spmd-fib against independent big-integer arithmetic (Python's int), and identical at every
rank count: /tasks rows follow the inputs file, in order, duplicates included.

  fib_check.py INPUTS_FILE OUT_1.h5 OUT_2.h5 ...
"""
import sys

import h5py
import numpy as np

sys.set_int_max_str_digits(0)


def fib(n):
    """F(n) by plain iteration: slow, obviously right, and not GMP."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def read_inputs(path):
    values = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            values.append(int(line))
    return values


DETERMINISTIC = ["n", "digits", "mod1e18", "leading", "ok"]


def main():
    inputs_path, outputs = sys.argv[1], sys.argv[2:]
    inputs = read_inputs(inputs_path)
    cache = {}
    reference = None
    for path in outputs:
        with h5py.File(path, "r") as f:
            t = f["tasks"]
            columns = {name: t[name][()] for name in DETERMINISTIC}
            if list(columns["n"]) != inputs:
                sys.exit(f"FAIL {path}: rows are not the inputs in order")
            for i, n in enumerate(inputs):
                if n not in cache:
                    value = fib(n)
                    text = str(value)
                    cache[n] = (len(text), value % 10**18, text[:20])
                digits, mod, leading = cache[n]
                got = (int(columns["digits"][i]), int(columns["mod1e18"][i]),
                       columns["leading"][i].decode())
                if got != (digits, mod, leading) or columns["ok"][i] != 1:
                    sys.exit(f"FAIL {path}: F({n}) row {i}: got {got}, expected "
                             f"{(digits, mod, leading)}")
            top = max(inputs)
            if int(f.attrs["highest_input"]) != top or int(f.attrs["highest_digits"]) != cache[top][0]:
                sys.exit(f"FAIL {path}: highest attributes {f.attrs['highest_input']} "
                         f"{f.attrs['highest_digits']}")
            if f["tasks/seconds"].attrs["units"] != b"s" and f["tasks/seconds"].attrs["units"] != "s":
                sys.exit(f"FAIL {path}: seconds has no units")
        if reference is None:
            reference = columns
        else:
            for name in DETERMINISTIC:
                if not np.array_equal(reference[name], columns[name]):
                    sys.exit(f"FAIL {path}: column {name} differs from {outputs[0]}")
    print(f"fib: {len(inputs)} rows equal to Python's integers in {len(outputs)} file(s)")


if __name__ == "__main__":
    main()
