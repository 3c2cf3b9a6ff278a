#!/usr/bin/env bash
# pzflow's Slurm executor against a real Slurm: munged, slurmctld and slurmd started here with a
# generated slurm.conf (tests/slurm/cluster.sh), no accounting. Checks:
#   1. the quick pipeline and the survey pipeline (both at reduced sizes: the survey's 16,384
#      rows in 4 parts, its models trained as quick's, so cache hits) through Slurm give
#      byte-identical results to a local run;
#   2. fault cases on a small pipeline of sleeping toy stages (a foreach of 3 and a join), each
#      ending with every committed result intact and a rerun that completes with nothing run
#      twice: scancel of a running job; a job over its time limit; slurmctld stopped for 30 s
#      during a run; pzflow killed (SIGKILL) mid-run and restarted; Ctrl-C (scancel, exit 130).
# Wall time ~3 min, mostly waits: the 30 s outage, and Slurm's time limit (whole minutes).
# Exits 77 (ctest: skipped), printing why, only when the daemons cannot start on this machine.
# Every daemon is stopped at the end, also on failure (trap).
#   usage: tests/slurm/run.sh SOURCE_DIR BIN_DIR
set -u
SRC=$(cd "$1" && pwd)
BIN=$(cd "$2" && pwd)
. "$SRC/tests/slurm/cluster.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/pz-slurm.XXXXXX")
cluster=$T/cluster
finish() {
  rc=$?
  cluster_stop
  if [ $rc -eq 0 ] || [ $rc -eq 77 ]; then rm -rf "$T" "$cluster"; else echo "slurm test: kept $T and $cluster for a look"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*"
  echo "--- last lines of slurmctld.log:"; tail -5 "$cluster/log/slurmctld.log" 2>/dev/null
  exit 1
}
step() { echo "== $*"; }

# Unix socket paths are limited to 107 bytes: a deep build directory gets the cluster in /tmp.
cluster=$T/cluster
if [ ${#cluster} -gt 60 ]; then cluster=$(mktemp -d /tmp/pz-slurm-cluster.XXXXXX); fi
if ! cluster_start "$cluster"; then
  echo "slurm test skipped: $CLUSTER_WHY"
  exit 77
fi
step "one-node Slurm up ($(sinfo -h -o '%P %D %c %T' | head -1))"

export PZFLOW_SLURM_POLL=0.5 PZFLOW_SLURM_RETRY=120
pz() { "$BIN/pzflow" "$@"; }
[ "${PZ_SLURM_ONLY_FAULTS:-}" ] && skip_quick=1 || skip_quick=""

# ---- 2. fault cases ---------------------------------------------------------------------------
mkdir -p "$T/toy"
cat >"$T/toy/p.yaml" <<'YAML'
stages:
  slow:
    run: pzflow-toy-copy
    foreach: [1, 2, 3]
    params: {suffix: "s${item}", sleep_ms: "${sleep}", steps: 1}
    outputs: [out]
    resources: {cpus: 1, time: "${limit}"}
  join:
    run: pzflow-toy-copy
    params: {steps: 0}
    inputs: {parts: "slow[*]/out"}
    outputs: [out]
vars: {sleep: 5000, limit: "10:00"}
YAML
TOY=$T/toy
toy() { (cd "$TOY" && pz run p.yaml --executor slurm "$@"); }
# In the background, as pzflow itself ($! is its pid, for the signals below).
toy_bg() { (cd "$TOY" && exec "$BIN/pzflow" run p.yaml --executor slurm) >"$1" 2>&1 & }

# Each committed result holds what its stage writes.
check_intact() {
  for i in 1 2 3; do
    l="$TOY/results/p/slow/$i/out"
    if [ -e "$l" ]; then [ "$(cat "$l")" = "s$i" ] || fail "slow/$i/out holds '$(cat "$l")'"; fi
  done
  l="$TOY/results/p/join/out"
  if [ -e "$l" ]; then [ "$(cat "$l")" = "$(printf 's1\ns2\ns3\n')" ] || fail "join/out holds '$(cat "$l")'"; fi
}
# A rerun completes running exactly `want` stages, the rest up to date; then a third run is a no-op.
rerun_completes() { # want
  out=$(toy 2>&1) || { echo "$out" | tail -20; fail "the rerun failed"; }
  echo "$out" | grep -q "^pzflow: $1 ran, $((4 - $1)) up to date" || { echo "$out" | tail -5; fail "the rerun did not run exactly $1 stage(s)"; }
  out=$(toy 2>&1); echo "$out" | grep -q "^pzflow: 0 ran, 4 up to date" || fail "a third run was not a no-op: $out"
  check_intact
  [ -e "$TOY/results/p/join/out" ] || fail "no join/out after the rerun"
}
wait_for() { # seconds, what, command...
  t=$1; what=$2; shift 2
  cluster_wait_for "$t" "$@" || fail "waited $t s for $what"
}
# Job arrays of the foreach submitted since the case began (Slurm keeps ended jobs 120 s).
arrays_submitted() { squeue -h -r -t all -o '%F %j' | awk -v b="$base" '$2 == "pzflow-slow" && $1 > b {print $1}' | sort -u | wc -l; }
fresh() {
  rm -rf "$TOY/cache" "$TOY/results"
  base=$(squeue -h -t all -o %F | sort -n | tail -1); base=${base:-0}
}

# The time limit case runs in the background from the start: Slurm's limits are whole minutes,
# checked every 30 s, so the job (1 minute, sleeping 150 s) is killed 60-90 s in.
mkdir -p "$T/limit"
cp "$T/toy/p.yaml" "$T/limit/p.yaml"
(cd "$T/limit" && pz run p.yaml --executor slurm --set vars.limit=1 --set vars.sleep=150000 >"$T/f2.out" 2>&1;
 echo $? >"$T/f2.rc") &
limit_pid=$!

# ---- 1. the quick and survey pipelines: Slurm == local, byte for byte -------------------------
# Both pipelines share a local cache and a Slurm cache, so the survey's models (quick's stages at
# the same sizes) are cache hits on each side and only its own stages run.
SIZES=(--set vars.n_cosmos=4000 --set vars.n_galaxiesml=2000 --set vars.epochs=4 --set vars.patience=2 --name small)
# Runs PIPELINE locally and through Slurm (caches $T/local, $T/slurm; results $T/<label>-local,
# $T/<label>-slurm), then compares every result link's bytes. Extra args: more --set.
same_through_slurm() { # label pipeline min-results [args...]
  local label=$1 pipeline=$2 min=$3 n=0 f
  shift 3
  step "$label pipeline, local"
  (cd "$SRC" && pz run "$pipeline" -C "$T/local" --set "workspace=$T/$label-local" "${SIZES[@]}" "$@" -j 2 \
    >"$T/$label-local.out" 2>&1) || { tail -20 "$T/$label-local.out"; fail "local $label run failed"; }
  step "$label pipeline, through Slurm"
  (cd "$SRC" && pz run "$pipeline" -C "$T/slurm" --set "workspace=$T/$label-slurm" "${SIZES[@]}" "$@" \
    --executor slurm >"$T/$label-slurm.out" 2>&1) || { tail -20 "$T/$label-slurm.out"; fail "$label run through Slurm failed"; }
  grep -q "^pzflow: [1-9][0-9]* ran" "$T/$label-slurm.out" || fail "the $label run through Slurm ran nothing"
  while IFS= read -r f; do
    cmp -s "$T/$label-local@small/$f" "$T/$label-slurm@small/$f" || fail "$f differs between the local and the Slurm $label run"
    n=$((n + 1))
  done < <(cd "$T/$label-local@small" && find . -type l | sort)
  [ $n -ge "$min" ] || fail "only $n $label results compared"
  step "$n $label results byte-identical ($(grep -o '[0-9]* ran' "$T/$label-slurm.out") through Slurm)"
}
if [ -z "$skip_quick" ]; then
  same_through_slurm quick pipelines/quick.yaml 20
  grep -q " 0 up to date" "$T/quick-slurm.out" || fail "the Slurm quick run did not run everything"
  same_through_slurm survey pipelines/survey.yaml 20 --set vars.rows_per_part=4096 --set vars.survey_rows=16384 \
    --set 'vars.parts=range(0, 4)'
  for s in mock-survey partition 'survey-tl\[3\]' merge-combo; do
    grep -q "done $s " "$T/survey-slurm.out" || fail "the Slurm survey run did not run $s"
  done
fi

# Starts the toy pipeline in the background from an empty cache ($pid: pzflow's pid, its output
# in OUT) and waits until its foreach is submitted (the array's job files are there).
start_toy() { # out
  fresh
  toy_bg "$1"
  pid=$!
  wait_for 60 "the array's job files" sh -c "[ \$(ls '$TOY'/cache/slurm/*/job 2>/dev/null | wc -l) -ge 3 ]"
}

step "fault: scancel of a running job"
start_toy "$T/f1.out"
victim=$(cat "$TOY"/cache/slurm/*/job | sort | head -1)
wait_for 60 "job $victim to run" sh -c "squeue -h -r -t R -o %i | grep -qx $victim"
scancel "$victim"
wait $pid; rc=$?
[ $rc -eq 1 ] || { tail "$T/f1.out"; fail "pzflow exited $rc after a scancel (want 1)"; }
grep -q "CANCELLED" "$T/f1.out" || { tail "$T/f1.out"; fail "the failure does not give Slurm's reason"; }
check_intact
before=$(ls "$TOY"/cache/runs | wc -l)
[ "$before" -eq 2 ] || fail "$before stages committed after the scancel (want the 2 others)"
rerun_completes 2
step "ok: reported as '$(grep -o 'CANCELLED AT [^*]*' "$T/f1.out" | head -1)'; rerun ran 2"

step "fault: slurmctld stopped for 30 s during a run"
start_toy "$T/f3.out"
cluster_stop_ctld
sleep 30
cluster_start_ctld || fail "slurmctld does not come back: $CLUSTER_WHY"
wait $pid; rc=$?
[ $rc -eq 0 ] || { tail -20 "$T/f3.out"; fail "pzflow exited $rc across a 30 s controller outage"; }
grep -q "failed\|refused" "$T/f3.out" || fail "pzflow did not notice the outage (the test did not test it)"
check_intact
[ "$(arrays_submitted)" -le 1 ] || fail "the foreach was submitted more than once"
rerun_completes 0
step "ok: $(grep -c 'asking again\|trying again' "$T/f3.out") retried calls, 4 committed"

step "fault: pzflow killed (SIGKILL) mid-run, then restarted"
start_toy "$T/f4.out"
kill -9 $pid
wait $pid 2>/dev/null
out=$(toy 2>&1) || { echo "$out" | tail -20; fail "the restarted run failed"; }
echo "$out" | grep -q "reattached" || fail "the restarted run did not reattach: $out"
echo "$out" | grep -q "^pzflow: 4 ran" || fail "the restarted run did not finish the 4 stages: $out"
[ "$(arrays_submitted)" -eq 1 ] || fail "the foreach was submitted $(arrays_submitted) times"
check_intact
rerun_completes 0
step "ok: reattached, one array submitted"

step "Ctrl-C: scancel and exit 130"
start_toy "$T/f5.out"
ids=$(cat "$TOY"/cache/slurm/*/job | tr '\n' ' ')
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { tail "$T/f5.out"; fail "pzflow exited $rc on SIGINT (want 130)"; }
for id in $ids; do
  wait_for 30 "job $id to be cancelled" sh -c "! squeue -h -r -t PD,R -o %i | grep -qx $id"
done
check_intact
rerun_completes 4
step "ok"

step "fault: a job over its time limit"
wait $limit_pid
rc=$(cat "$T/f2.rc")
[ "$rc" -eq 1 ] || { tail "$T/f2.out"; fail "pzflow exited $rc for jobs past their time limit (want 1)"; }
grep -q "TIME LIMIT" "$T/f2.out" || { tail "$T/f2.out"; fail "the failure does not say TIME LIMIT"; }
TOY=$T/limit
check_intact
rerun_completes 4
step "ok: reported as '$(grep -o 'CANCELLED AT [^*]*TIME LIMIT' "$T/f2.out" | head -1)'"

echo "slurm test: all passed"
exit 0
