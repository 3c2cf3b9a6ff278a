#!/usr/bin/env bash
# Peak memory of every stage of a pipelines/survey.yaml run (issue 14; not a test: the 10^7-row
# run takes a while and writes ~2 GB into the cache).
#   bench/survey_memory.sh [build-dir] [cache-dir] [extra pzflow args...]
# Runs `pzflow run pipelines/survey.yaml -j 2` and samples /proc every 0.1 s: for each stage
# process (pzflow-*) its VmHWM, the kernel's record of the process's peak resident set (it only
# grows, so a sample taken late in a process's life has its peak; a process shorter than 0.1 s
# may be missed). Prints, per executable, the number of processes seen and the largest and
# median peak, then pzflow's own peak (/usr/bin/time). Figures: docs/benchmarks.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
cache="${2:-$root/cache}"
shift $(( $# < 2 ? $# : 2 ))
bin="$build/bin"
log="$(mktemp "${TMPDIR:-/tmp}/pzmem.XXXXXX")"
trap 'rm -f "$log" "$log.time"' EXIT
cd "$root"
/usr/bin/time -f "pzflow itself: %M kB peak, %e s wall" -o "$log.time" \
  "$bin/pzflow" run pipelines/survey.yaml -j 2 -C "$cache" "$@" &
runner=$!
while kill -0 "$runner" 2>/dev/null; do
  for st in /proc/[0-9]*/status; do
    name=$(awk '/^Name:/ {print $2}' "$st" 2>/dev/null) || continue
    case "$name" in pzflow-*)
      hwm=$(awk '/^VmHWM:/ {print $2}' "$st" 2>/dev/null) || continue
      pid=${st#/proc/}; echo "${pid%/status} $name ${hwm:-0}" >> "$log" ;;
    esac
  done
  sleep 0.1
done
wait "$runner" || { echo "pzflow run failed" >&2; exit 1; }
# per process: its largest sample; per executable: count, max, median (kB)
sort -k1,1n -k3,3n "$log" | awk '{peak[$1" "$2] = $3} END {for (k in peak) print k, peak[k]}' |
  awk '{print $2, $3}' | sort -k1,1 -k2,2n |
  awk '{n[$1]++; v[$1, n[$1]] = $2; if ($2 > m[$1]) m[$1] = $2}
       END {printf "%-22s %6s %12s %12s\n", "stage executable", "runs", "max peak", "median peak";
            for (e in n) printf "%-22s %6d %9.1f MB %9.1f MB\n", e, n[e], m[e] / 1024, v[e, int((n[e] + 1) / 2)] / 1024}'
cat "$log.time"
