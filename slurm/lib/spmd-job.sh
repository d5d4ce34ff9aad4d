# Sourced by the spmdkit job scripts (slurm/*.sbatch). Finds the apps, picks the launcher,
# forwards the stop signal to the app and requeues the job when the app checkpointed (exit 75).
#
# Knobs (environment variables, exported at submission -- sbatch passes the environment on):
#   SPMD_ROOT       the spmdkit checkout (default: the submission directory)
#   SPMD_BIN        where the spmd-* programs are (default: $SPMD_ROOT/build/release/bin)
#   SPMD_LAUNCHER   srun or mpirun (default: srun --mpi=pmix when Slurm offers PMIx, else mpirun)
#   SPMD_ARGS       extra arguments of the app, e.g. "--nx 512 --steps 1000"
#   SPMD_CONFIG     a TOML file of the app's options (--config); command-line values win
#   SPMD_OUTPUT     the output file (default: $SLURM_SUBMIT_DIR/results/APP-$SLURM_JOB_ID.h5)
#   SPMD_OMPI_IO    Open MPI's MPI-IO layer: romio321 (what spmdkit picks under Open MPI 4: it
#                   reports write errors such as a full disk) or ompio
set -uo pipefail

SPMD_ROOT=${SPMD_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
SPMD_BIN=${SPMD_BIN:-$SPMD_ROOT/build/release/bin}
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
[[ -n "${SPMD_OMPI_IO:-}" ]] && export OMPI_MCA_io="$SPMD_OMPI_IO"

# spmd_job_output APP: the output path of this job (stable across requeues: same job id).
spmd_job_output() {
  echo "${SPMD_OUTPUT:-${SLURM_SUBMIT_DIR:-$PWD}/results/$1-${SLURM_JOB_ID:-local}.h5}"
}

# spmd_job_resume_args APP OUTPUT: what continues an earlier run of this output: heat's latest
# checkpoint on a restarted job, the journal of the master-worker apps (always: they start afresh
# when there is none).
spmd_job_resume_args() {
  case "$1" in
    heat)
      local checkpoint="${2%.*}.checkpoint.h5"
      if (( ${SLURM_RESTART_COUNT:-0} > 0 )) && [[ -f "$checkpoint" ]]; then
        echo "--restart $checkpoint"
      fi ;;
    fib|crawl|farm) echo "--resume" ;;
  esac
}

# spmd_job_launcher: the command that starts one process per task of the allocation.
spmd_job_launcher() {
  local choice=${SPMD_LAUNCHER:-}
  if [[ -z "$choice" ]]; then
    if srun --mpi=list 2>&1 | grep -q pmix; then choice=srun; else choice=mpirun; fi
  fi
  case "$choice" in
    srun) echo "srun --mpi=pmix --kill-on-bad-exit=1" ;;
    mpirun) echo "mpirun -np ${SLURM_NTASKS:-1}" ;;
    *) echo "spmd-job: SPMD_LAUNCHER must be srun or mpirun, not '$choice'" >&2; return 2 ;;
  esac
}

# spmd_job_run APP ARGS...: runs spmd-APP on the allocation. SIGUSR1 (sent by --signal=B:USR1@N
# before the time limit) and SIGTERM (scancel) are passed to the app as SIGUSR1: it checkpoints
# (or flushes its journal) and exits 75. After SIGUSR1 the job requeues itself and, restarted,
# continues from its checkpoint or journal; after SIGTERM it ends (a cancelled job stays
# cancelled): resubmitting it with the same SPMD_OUTPUT continues.
spmd_job_run() {
  local app=$1
  shift
  local program="$SPMD_BIN/spmd-$app"
  [[ -x "$program" ]] || { echo "spmd-job: $program not found (set SPMD_ROOT or SPMD_BIN)" >&2; exit 2; }
  local launcher
  launcher=$(spmd_job_launcher) || exit 2
  local extra=()
  [[ -n "${SPMD_CONFIG:-}" ]] && extra+=(--config "$SPMD_CONFIG")
  # shellcheck disable=SC2206  # SPMD_ARGS is a list of words on purpose
  [[ -n "${SPMD_ARGS:-}" ]] && extra+=($SPMD_ARGS)
  echo "spmd-job: job ${SLURM_JOB_ID:-?} restart ${SLURM_RESTART_COUNT:-0} on ${SLURM_JOB_NODELIST:-?}:" \
       "$launcher $program $* ${extra[*]}"
  $launcher "$program" "$@" "${extra[@]}" &
  local child=$!
  local stop=""
  trap 'stop=USR1; echo "spmd-job: SIGUSR1 (time limit near): asking spmd-'"$app"' to checkpoint"; kill -USR1 '"$child"' 2>/dev/null' USR1
  trap 'stop=TERM; echo "spmd-job: SIGTERM: asking spmd-'"$app"' to checkpoint and stop"; kill -USR1 '"$child"' 2>/dev/null' TERM
  local rc
  while true; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break  # wait was interrupted by a signal: the app still runs
  done
  trap - USR1 TERM
  if [[ $rc -eq 75 && "$stop" == TERM ]]; then
    echo "spmd-job: spmd-$app stopped on SIGTERM (exit 75): not requeued; resubmit to continue"
    exit "$rc"
  fi
  if [[ $rc -eq 75 && -n "${SLURM_JOB_ID:-}" ]]; then
    echo "spmd-job: spmd-$app checkpointed (exit 75): requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  echo "spmd-job: spmd-$app exited with $rc"
  exit "$rc"
}
