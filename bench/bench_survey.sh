#!/usr/bin/env bash
# The no-op check of pipelines/survey.yaml over 1,000 parts (issue 14; not a test).
#   bench/bench_survey.sh [build-dir] [parts]     (defaults: build, 1000)
# Runs survey.yaml once at toy size (quick's training shrunk; 16-row parts, so the first run is
# mostly the engine starting 3,000 predictions), then measures the no-op `pzflow run` and
# `pzflow status`: wall time (hyperfine when installed, else the best of 10), CPU time and
# instructions (perf stat, callgrind), system calls (strace -c). With snakemake installed, also
# `snakemake -n` on the equivalent Snakefile (partition -> 3 x parts predictions -> 3 merges),
# the peer, in the same run. Figures: docs/benchmarks.md, "Survey catalogues in parts".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
parts="${2:-1000}"
bin="$build/bin"
[ -x "$bin/pzflow" ] && [ -x "$bin/pzflow-partition" ] || { echo "build first: cmake --build $build" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/pzsurvey.XXXXXX")"
trap 'rm -rf "$work"' EXIT

args=(pipelines/survey.yaml -C "$work/cache" --set "workspace=$work/results"
      --set vars.n_cosmos=3000 --set vars.n_galaxiesml=1500 --set vars.epochs=2 --set vars.patience=1
      --set vars.rows_per_part=16 --set "vars.survey_rows=$((16 * parts))" --set "vars.parts=range(0, $parts)")
cd "$root"
echo "== first run: survey.yaml with $parts parts ($((3 * parts)) predictions) =="
/usr/bin/time -f "%e s" "$bin/pzflow" run "${args[@]}" -j 2 | tail -1
"$bin/pzflow" run "${args[@]}" | tail -1

best_of_10() {
  local best=999999 t0 t1 ms
  for _ in $(seq 10); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000 )); [ "$ms" -lt "$best" ] && best=$ms
  done
  printf '%d.%03d ms' $((best / 1000)) $((best % 1000))
}

for cmd in run status; do
  echo "== no-op pzflow $cmd =="
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --min-runs 20 "$bin/pzflow $cmd ${args[*]@Q}" 2>/dev/null | grep -E "Time|Range" || true
  fi
  echo "  best of 10 (wall): $(best_of_10 "$bin/pzflow" "$cmd" "${args[@]}")"
  if command -v perf >/dev/null; then
    perf stat -e task-clock -r 10 "$bin/pzflow" "$cmd" "${args[@]}" 2>&1 >/dev/null | grep -E "task-clock|elapsed" | sed 's/^/  /'
  fi
  if command -v valgrind >/dev/null; then
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin/pzflow" "$cmd" "${args[@]}" 2>&1 >/dev/null |
      grep -E "refs" | sed 's/^==[0-9]*== */  instructions: /'
  fi
  if command -v strace >/dev/null; then
    strace -c -f "$bin/pzflow" "$cmd" "${args[@]}" 2>&1 >/dev/null | awk '/total/ {print "  system calls: " $4}'
  fi
done

if command -v snakemake >/dev/null; then
  echo "== peer: snakemake -n on the same graph =="
  mkdir -p "$work/sm" && cd "$work/sm"
  echo "x" > catalog
  {
    printf 'P = range(%d)\nM = ["base", "tl", "combo"]\n' "$parts"
    printf 'rule all:\n    input: expand("merge-{m}", m=M)\n'
    printf 'rule partition:\n    input: "catalog"\n    output: expand("part/{p}", p=P)\n    shell: "for f in {output}; do cp {input} $f; done"\n'
    printf 'rule predict:\n    input: "part/{p}"\n    output: "pred/{m}/{p}"\n    shell: "cp {input} {output}"\n'
    printf 'rule merge:\n    input: lambda w: expand("pred/{m}/{p}", m=w.m, p=P)\n    output: "merge-{m}"\n    shell: "cat {input} > {output}"\n'
  } > Snakefile
  snakemake --cores 2 --quiet >/dev/null 2>&1 || true
  echo "  snakemake -n, best of 10 (wall): $(best_of_10 snakemake -n --quiet)"
fi
