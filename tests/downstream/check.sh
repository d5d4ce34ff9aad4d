#!/usr/bin/env bash
# Installs spmdkit from BUILD_DIR into a scratch prefix, builds tests/downstream/project (C++
# only) against it with find_package(spmdkit), runs its apps and an installed app under mpirun:
# a user's checkpointed solver stopped and restarted at another rank count ends identical to an
# uninterrupted run; a user's farm; the apps' own names and versions in --version and provenance.
#   check.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR MPIEXEC H5DIFF
set -euo pipefail
build=$1 source=$2 scratch=$3 mpiexec=$4 h5diff=$5
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
test -x "$scratch/prefix/bin/spmd-info" || { echo "FAIL: bin/spmd-info not installed"; exit 1; }
test -f "$scratch/prefix/include/spmdkit/spmdkit.hpp" || { echo "FAIL: umbrella header not installed"; exit 1; }
cmake -S "$source/tests/downstream/project" -B "$scratch/build" \
      -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" --parallel 2 >/dev/null  # the test holds 2 CTest slots
out=$("$mpiexec" --oversubscribe -n 3 "$scratch/build/downstream" --json)
echo "$out"
grep -q '"sum_of_ranks":3' <<<"$out" || fail "downstream run gave: $out"

bin=$scratch/build
version=$("$bin/diffuse" --version)
[[ $version == "diffuse 2.1.0 (spmdkit "* ]] || fail "diffuse --version says: $version"
"$mpiexec" --oversubscribe -n 3 "$bin/diffuse" --steps 50 -q -o "$scratch/full.h5"
set +e
"$mpiexec" --oversubscribe -n 3 "$bin/diffuse" --steps 50 -q -o "$scratch/part.h5" \
           --test-signal-at-step 23 >/dev/null 2>&1
code=$?
set -e
[[ $code == 75 && -f $scratch/part.checkpoint.h5 && ! -e $scratch/part.h5 ]] ||
  fail "stopped diffuse: exit $code, or no checkpoint, or an output"
"$mpiexec" --oversubscribe -n 2 "$bin/diffuse" --steps 50 -q -o "$scratch/part.h5" \
           --restart "$scratch/part.checkpoint.h5"
"$h5diff" "$scratch/full.h5" "$scratch/part.h5" /fields/u /fields/u ||
  fail "diffuse restarted at 2 ranks differs from the uninterrupted run"
[[ ! -e $scratch/part.checkpoint.h5 ]] || fail "the checkpoint outlived the complete run"
h5dump -a /program "$scratch/full.h5" | grep -q '"diffuse"' || fail "no program attribute"
h5dump -a /program_version "$scratch/full.h5" | grep -q '"2.1.0"' || fail "no program version"
out=$(cd "$scratch" && "$mpiexec" --oversubscribe -n 3 "$bin/squares" --count 1000 --json)
grep -q '"sum_of_squares":333833500' <<<"$out" || fail "squares gave: $out"
[[ ! -e $scratch/squares.h5.journal ]] || fail "the farm's journal outlived the complete run"
h5dump -d /tasks/square -s 999 -c 1 "$scratch/squares.h5" | grep -q '1000000' ||
  fail "squares.h5 /tasks/square does not end with 1000^2"
# The installed app finds its installed library (RPATH relative to the prefix).
"$mpiexec" --oversubscribe -n 2 "$scratch/prefix/bin/spmd-info" --json | grep -q '"ranks":2'
rm -rf "$scratch"
echo "downstream project built and ran against the installed spmdkit"
