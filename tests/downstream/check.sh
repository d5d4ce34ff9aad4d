#!/usr/bin/env bash
# Installs spmdkit from BUILD_DIR into a scratch prefix, builds tests/downstream/project against
# it with find_package(spmdkit), runs the result and an installed app under mpirun.
#   check.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR MPIEXEC
set -euo pipefail
build=$1 source=$2 scratch=$3 mpiexec=$4
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
test -x "$scratch/prefix/bin/spmd-info" || { echo "FAIL: bin/spmd-info not installed"; exit 1; }
test -f "$scratch/prefix/include/spmdkit/spmdkit.hpp" || { echo "FAIL: umbrella header not installed"; exit 1; }
cmake -S "$source/tests/downstream/project" -B "$scratch/build" \
      -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" >/dev/null
out=$("$mpiexec" --oversubscribe -n 3 "$scratch/build/downstream" --json)
echo "$out"
grep -q '"sum_of_ranks":3' <<<"$out" || { echo "FAIL: downstream run gave: $out"; exit 1; }
# The installed app finds its installed library (RPATH relative to the prefix).
"$mpiexec" --oversubscribe -n 2 "$scratch/prefix/bin/spmd-info" --json | grep -q '"ranks":2'
rm -rf "$scratch"
echo "downstream project built and ran against the installed spmdkit"
