#!/usr/bin/env python3
"""The XDMF sidecar parses as XML, and every HDF5 data item it names exists in the file with the
shape the XML declares; times match the file's time coordinate.

  xdmf_check.py FILE.xmf
"""
import os
import sys
import xml.etree.ElementTree as ET

import h5py


def main():
    xmf = sys.argv[1]
    root = ET.parse(xmf).getroot()  # raises on malformed XML
    problems = []
    collection = root.find("Domain/Grid")
    if collection is None or collection.get("CollectionType") != "Temporal":
        problems.append("no temporal collection")
    steps = collection.findall("Grid") if collection is not None else []
    times = [float(step.find("Time").get("Value")) for step in steps]
    checked = 0
    for item in root.iter("DataItem"):
        if item.get("Format") != "HDF":
            continue
        file_name, _, dataset = item.text.strip().partition(":")
        path = os.path.join(os.path.dirname(xmf), file_name)
        dims = [int(d) for d in item.get("Dimensions").split()]
        with h5py.File(path, "r") as f:
            if dataset not in f:
                problems.append(f"{dataset} missing from {path}")
                continue
            if list(f[dataset].shape) != dims:
                problems.append(f"{dataset}: shape {f[dataset].shape}, XML says {dims}")
            time_path = dataset.rsplit("/", 1)[0] + "/time"
            if list(f[time_path][...]) != times:
                problems.append(f"times {times} differ from {time_path}")
        checked += 1
    if checked == 0:
        problems.append("no HDF5 data items")
    if problems:
        print("\n".join("FAIL: " + p for p in problems))
        return 1
    print(f"{xmf}: {len(steps)} steps, {checked} HDF5 data items, all present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
