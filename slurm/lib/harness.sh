# Sourced by the Slurm harnesses of the tests (slurm/local/cluster: one node on localhost;
# slurm/cluster/lab: one node per simulated host): what both do the same way. They start munged,
# slurmctld and slurmd as plain processes with pid files, and stop only those.

# pidfile_alive FILE: the process recorded in FILE runs.
pidfile_alive() {
  [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_by_pidfile FILE: SIGTERM to the process recorded in FILE, SIGKILL if it is still there
# after 5 s; the file goes in any case.
stop_by_pidfile() {
  if pidfile_alive "$1"; then
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

# munge_key FILE: a new random munge key in FILE unless there is one.
munge_key() {
  if [[ ! -s "$1" ]]; then
    dd if=/dev/urandom of="$1" bs=1024 count=1 status=none
    chmod 0400 "$1"
  fi
}

# node_resources: this machine as slurmd counts it (CPUs, sockets, cores, threads, memory), for a
# NodeName line; the memory a little below the real value (above it, the node drains).
node_resources() {
  local node memory
  node=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
  sed "s/RealMemory=[0-9]*/RealMemory=$((memory * 9 / 10))/" <<<"$node"
}

# common_slurm_settings LOG_DIR: the slurm.conf lines both harnesses share: root daemons, munge,
# no cgroups, no accounting, a scheduler that starts jobs at once.
common_slurm_settings() {
  cat <<END_OF_SETTINGS
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$1/jobcomp.log
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
KillWait=5
MinJobAge=600
MailProg=/bin/true
ReturnToService=2
END_OF_SETTINGS
}
