#!/usr/bin/env bash
# Peak memory of every stage of a pipelines/survey.yaml run (issue 14; not a test: the 10^7-row
# run takes a while and writes ~2 GB into the cache).
#   bench/survey_memory.sh [build-dir] [cache-dir] [extra pzflow args...]
# Runs `pzflow run pipelines/survey.yaml -j 2` and samples /proc every 0.1 s. Only the stage
# processes count: the processes descended from that pzflow (its children, the stage
# executables, and anything they start), never pzflow itself nor any other process on the
# machine (another run's pzflow-predict is not this run's). For each, VmHWM, the kernel's record
# of the process's peak resident set (it only grows, so a sample taken late in a process's life
# has its peak; a process shorter than 0.1 s may be missed), and its stage: the scratch folder
# it runs in (<cache>/tmp/<pzflow pid>.<instance>.XXXXXX, cache.h), "survey-base_17_" for
# survey-base[17]. Prints per stage (a foreach family as one line: survey-base[*]) the processes
# seen and the largest and median peak, then pzflow's own peak (/usr/bin/time), apart.
# Figures: docs/benchmarks.md, "Survey catalogues in parts".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
cache="${2:-$root/cache}"
shift $(( $# < 2 ? $# : 2 ))
bin="$build/bin"
log="$(mktemp "${TMPDIR:-/tmp}/pzmem.XXXXXX")"
trap 'rm -f "$log" "$log.time"' EXIT
cd "$root"
/usr/bin/time -f "pzflow itself (not a stage): %M kB peak, %e s wall" -o "$log.time" \
  "$bin/pzflow" run pipelines/survey.yaml -j 2 -C "$cache" "$@" &
runner=$!

# "pid stage-instance peak-kB" for every process below pzflow (the child of `time`).
sample() {
  local pids
  pids=$(ps -e -o pid=,ppid= | awk -v top="$runner" '
      {parent[$1] = $2}
      END {for (p in parent) {
             if (parent[p] == top) continue # pzflow itself
             for (q = parent[p]; (q in parent) && q != top; q = parent[q]) {}
             if (q == top) print p
           }}')
  for p in $pids; do
    local cwd hwm
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) && [ -n "$hwm" ] || continue # none: exiting
    local dir=${cwd##*/} # <pzflow pid>.<instance>.XXXXXX
    case "$dir" in [0-9]*.*.*) ;; *) continue ;; esac
    dir=${dir#*.}; echo "$p ${dir%.*} $hwm"
  done
}
while kill -0 "$runner" 2>/dev/null; do
  sample >> "$log"
  sleep 0.1
done
wait "$runner" || { echo "pzflow run failed" >&2; exit 1; }
# per process: its largest sample; per stage (instances "name_<n>_" as one family "name[*]"):
# processes, max, median (kB)
sort -k1,1n -k3,3n "$log" | awk '{peak[$1] = $3; stage[$1] = $2} END {for (p in peak) print stage[p], peak[p]}' |
  sed -E 's/_[0-9]+_ /[*] /' | sort -k1,1 -k2,2n |
  awk '{n[$1]++; v[$1, n[$1]] = $2; if ($2 > m[$1]) m[$1] = $2}
       END {for (e in n) printf "%-22s %9d %9.1f MB %9.1f MB\n", e, n[e], m[e] / 1024, v[e, int((n[e] + 1) / 2)] / 1024}' |
  sort | { printf "%-22s %9s %12s %12s\n" stage processes "max peak" "median peak"; cat; }
cat "$log.time"
