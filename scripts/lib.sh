# Shared by scripts/setup, test, demo, bench (sourced, not run).
set -euo pipefail
SPMD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPMD_JOBS=$(nproc 2>/dev/null || echo 2)

# Open MPI refuses to run as root unless told; CI containers and fresh machines run as root.
# More ranks than cores is allowed (tests use 4 ranks on 2 cores) and idle ranks yield the CPU.
spmd_mpi_environment() {
  if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
  # PMIx needs a network interface; on a bare container only lo may exist, and it must be up.
  if command -v ip >/dev/null && ! ip link show lo 2>/dev/null | grep -q 'UP'; then
    ip link set lo up 2>/dev/null || true
  fi
}

# For the test runs of scripts/test and scripts/hardening, on top of spmd_mpi_environment:
# - SPMD_TEST_JOBS tests at once, twice the cores by default: the tests mostly wait (mpirun
#   start-up, servers, deadlines; measured: 25% CPU at one test per core), and each declares the
#   processors its ranks need (PROCESSORS), so heavy ones still do not pile up;
# - no grace between mpirun's SIGTERM and SIGKILL of the ranks of a job that has already failed
#   (odls_base_sigkill_timeout, 1 s by default): ~2 s off each of ~100 runs that end in an
#   error. Only for tests: a user's mpirun keeps the grace (a rank stopping on SIGTERM may still
#   be writing its checkpoint), and tests of stopping on a signal send it to the ranks themselves.
spmd_test_environment() {
  spmd_mpi_environment
  export OMPI_MCA_odls_base_sigkill_timeout=${OMPI_MCA_odls_base_sigkill_timeout:-0}
  SPMD_TEST_JOBS=${SPMD_TEST_JOBS:-$((2 * SPMD_JOBS))}
}

# spmd_build PRESET [TARGET] [cmake -D args...]: configure (once) and build.
spmd_build() {
  local preset=$1 target=${2:-all}
  shift 2 || shift $#
  echo "== configure ($preset)"
  cmake -S "$SPMD_ROOT" --preset "$preset" "$@" >/dev/null
  echo "== build ($preset, target $target, $SPMD_JOBS jobs)"
  cmake --build "$SPMD_ROOT/build/$preset" --target "$target" --parallel "$SPMD_JOBS"
}

# A step's heading, with the seconds since the outermost script started (where CI time goes).
export SPMD_START_SECONDS=${SPMD_START_SECONDS:-$(date +%s)}
spmd_step() { printf '\n== %s  [+%ss]\n' "$*" "$(($(date +%s) - SPMD_START_SECONDS))"; }
