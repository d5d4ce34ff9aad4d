#!/usr/bin/env python3
"""Writes the small HDF5 files the app tests read (with h5py: files foreign to spmdkit).

  make_fixtures.py OUTDIR
"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with h5py.File(os.path.join(out, "mixed.h5"), "w") as f:
    f["values"] = np.arange(10, dtype=np.float64)
    f["words"] = np.array([b"not", b"numeric"])
