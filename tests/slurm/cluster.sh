# A one-node Slurm cluster for the tests, private to one directory: sourced by tests/slurm/run.sh.
#   cluster_start DIR   munged, slurmctld and slurmd with a generated slurm.conf in DIR (own
#                       state, spool, logs, munge socket and ports); sets SLURM_CONF. Returns 1
#                       with CLUSTER_WHY set when the daemons cannot start here.
#   cluster_stop_ctld / cluster_start_ctld   stop and restart the controller alone (its state is
#                       kept in DIR/state, so running jobs are recovered)
#   cluster_stop        stop every daemon started (safe to call twice, and from a trap)
# No accounting (AccountingStorageType=none): pzflow must not need it.

cluster_pids=""

cluster_free_port() {
  # A port nothing listens on, from a range away from the usual services.
  p=$(( 20000 + ($$ * 7 + $1 * 131) % 20000 ))
  while ss -ltnH 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; do p=$((p + 1)); done
  echo $p
}

cluster_wait_for() { # seconds, command...: until the command succeeds
  t=$1; shift
  i=0
  while [ $i -lt $((t * 5)) ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2; i=$((i + 1))
  done
  return 1
}

cluster_start() {
  D=$1
  CLUSTER_WHY=""
  for b in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    if ! command -v $b >/dev/null 2>&1 && [ ! -x /usr/sbin/$b ]; then
      CLUSTER_WHY="$b is not installed (Debian packages slurm-wlm and munge; ./setup.sh installs them)"; return 1
    fi
  done
  PATH=$PATH:/usr/sbin
  mkdir -p "$D/state" "$D/spool" "$D/munge" "$D/log"
  chmod 700 "$D/munge"
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 400 "$D/munge/munge.key"
  munged --force --socket="$D/munge/munge.sock" --key-file="$D/munge/munge.key" \
    --pid-file="$D/munge/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/seed" \
    >"$D/log/munged.out" 2>&1 || { CLUSTER_WHY="munged does not start: $(tail -1 "$D/log/munged.out")"; return 1; }
  cluster_pids="$cluster_pids $(cat "$D/munge/munged.pid")"
  ctld_port=$(cluster_free_port 1)
  slurmd_port=$(cluster_free_port 2)
  # More CPUs than the machine has (config_overrides lets slurmd accept that): jobs that only
  # sleep, like the one waiting for its time limit, need not hold the others up.
  cpus=8
  user=$(id -un)
  cat >"$D/slurm.conf" <<CONF
ClusterName=pztest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=2
MinJobAge=120
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
MessageTimeout=5
NodeName=pznode NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=pznode Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$D/slurm.conf"
  cluster_dir=$D
  cluster_start_ctld -c || return 1
  slurmd -N pznode -f "$D/slurm.conf" >"$D/log/slurmd.out" 2>&1 ||
    { CLUSTER_WHY="slurmd does not start: $(tail -2 "$D/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"; return 1; }
  cluster_wait_for 5 test -s "$D/slurmd.pid"
  cluster_pids="$cluster_pids $(cat "$D/slurmd.pid")"
  if ! cluster_wait_for 30 sh -c "sinfo -h -o %T | grep -qx idle"; then
    CLUSTER_WHY="the node does not come up: $(sinfo -h -o '%T %E' 2>&1 | head -1); $(tail -2 "$D/log/slurmd.log" | tr '\n' ' ')"
    return 1
  fi
  return 0
}

cluster_start_ctld() { # [-c]: a clean start (no state to recover)
  D=$cluster_dir
  rm -f "$D/slurmctld.pid"
  slurmctld ${1:-} -f "$D/slurm.conf" >"$D/log/slurmctld.out" 2>&1 ||
    { CLUSTER_WHY="slurmctld does not start: $(tail -2 "$D/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"; return 1; }
  cluster_wait_for 10 test -s "$D/slurmctld.pid" || { CLUSTER_WHY="slurmctld wrote no pid file"; return 1; }
  ctld_pid=$(cat "$D/slurmctld.pid")
  cluster_pids="$cluster_pids $ctld_pid"
  cluster_wait_for 20 scontrol ping || { CLUSTER_WHY="slurmctld does not answer: $(tail -2 "$D/log/slurmctld.log" | tr '\n' ' ')"; return 1; }
}

cluster_stop_ctld() {
  kill "$ctld_pid" 2>/dev/null
  cluster_wait_for 10 sh -c "! kill -0 $ctld_pid"
}

cluster_stop() {
  for p in $cluster_pids; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in $cluster_pids; do kill -9 "$p" 2>/dev/null; done
  cluster_pids=""
}
