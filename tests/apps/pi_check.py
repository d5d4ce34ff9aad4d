#!/usr/bin/env python3
"""spmd-pi outputs: the estimate within 5 standard errors of the exact value, the convergence
table consistent (samples doubling, hits non-decreasing, estimate = 2^d hits / samples), and the
standard error shrinking like 1/sqrt(samples).

  pi_check.py OUT.h5...
"""
import math
import sys

import h5py


def main():
    for path in sys.argv[1:]:
        with h5py.File(path, "r") as f:
            c = f["convergence"]
            samples, hits = c["samples"][()], c["hits"][()]
            estimate, stderr = c["estimate"][()], c["stderr"][()]
            d = int(f.attrs["dims"])
            exact = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
            if abs(float(f.attrs["exact"]) - exact) > 1e-12:
                sys.exit(f"FAIL {path}: exact volume {f.attrs['exact']} != {exact}")
            for k in range(len(samples)):
                if estimate[k] != 2.0 ** d * hits[k] / samples[k]:
                    sys.exit(f"FAIL {path}: row {k} estimate inconsistent")
                if k and (samples[k] <= samples[k - 1] or hits[k] < hits[k - 1]):
                    sys.exit(f"FAIL {path}: row {k} not increasing")
            if abs(estimate[-1] - exact) > 5 * stderr[-1]:
                sys.exit(f"FAIL {path}: {estimate[-1]} is {abs(estimate[-1] - exact) / stderr[-1]:.1f} "
                         f"standard errors from {exact}")
            ratio = stderr[0] / stderr[-1]
            expected = math.sqrt(samples[-1] / samples[0])
            if not 0.5 * expected < ratio < 2 * expected:
                sys.exit(f"FAIL {path}: standard error does not shrink like 1/sqrt(n)")
        print(f"{path}: d={d} estimate {estimate[-1]:.6f} +- {stderr[-1]:.1e} (exact {exact:.6f})")


if __name__ == "__main__":
    main()
