#!/usr/bin/env python3
"""The book's tool as the baseline of bench_fib: the same inputs, the same fast-doubling
algorithm on Python integers, in a ProcessPoolExecutor. Prints "MAKESPAN <seconds>" (pool
started and warmed up before the clock starts).

  fib_pool.py INPUTS_FILE PROCESSES
"""
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def fib(n):
    """F(n) by fast doubling on (F(k), F(k-1)), two squarings per bit: the same algorithm as
    spmd-fib (apps/fib/fibonacci.cpp)."""
    if n == 0:
        return 0
    f1, f0, k_odd = 1, 0, True
    for bit in bin(n)[3:]:
        s1, s0 = f1 * f1, f0 * f0
        up = 4 * s1 - s0 + (-2 if k_odd else 2)
        down = s1 + s0
        if bit == "1":
            f1, f0, k_odd = up, up - down, True
        else:
            f1, f0, k_odd = up - down, down, False
    return f1


def task(n):
    f = fib(n)
    # Digits from the bit length (Python's int -> str is quadratic, so this is kinder to Python
    # than spmd-fib's exact decimal conversion), and the residue.
    return n, int(f.bit_length() * 0.30102999566398120) + 1, f % 10**18


def main():
    inputs = [int(line) for line in open(sys.argv[1]) if line.strip()]
    processes = int(sys.argv[2])
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(task, range(processes * 4)))  # start and warm the workers
        start = time.perf_counter()
        results = list(pool.map(task, inputs, chunksize=1))
        makespan = time.perf_counter() - start
    assert len(results) == len(inputs)
    print(f"MAKESPAN {makespan:.6f}")


if __name__ == "__main__":
    main()
