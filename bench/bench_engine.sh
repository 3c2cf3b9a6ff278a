#!/usr/bin/env bash
# Engine benchmarks (not a test):
#  1. no-op `pzflow run` on a generated 500-stage pipeline vs `snakemake -n` on the equivalent
#     Snakefile, in the same run (hyperfine when installed, else a timing loop);
#  2. hashing a 1 GB file from the page cache: pzflow's XXH3-128 vs md5sum / sha256sum / xxhsum.
# Usage: bench/bench_engine.sh [build-dir]   (default: build). Needs ~1.1 GB in $TMPDIR.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
bin="$build/bin"
[ -x "$bin/pzflow" ] && [ -x "$bin/pzflow-toy-copy" ] || { echo "build first: cmake --build $build" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/pzbench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
N=500

# --- 1. a 500-stage pipeline: 10 chains of 50, each fed by one external file ---------------------
cd "$work"
{
  echo "stages:"
  for c in $(seq 0 9); do
    echo "seed $c" > "in$c.txt"
    for s in $(seq 0 49); do
      echo "  s${c}_${s}:"
      echo "    run: pzflow-toy-copy"
      echo "    params: {suffix: \"$c.$s\", steps: 0}"
      if [ "$s" = 0 ]; then echo "    inputs: {x: in$c.txt}"; else echo "    inputs: {x: s${c}_$((s-1))/out}"; fi
      echo "    outputs: [out]"
    done
  done
} > p.yaml
{
  for c in $(seq 0 9); do
    for s in $(seq 0 49); do
      if [ "$s" = 0 ]; then in="in$c.txt"; else in="out/s${c}_$((s-1))"; fi
      printf 'rule s%s_%s:\n    input: "%s"\n    output: "out/s%s_%s"\n    params: suffix="%s.%s"\n    shell: "cat {input} > {output} && echo {params.suffix} >> {output}"\n\n' \
        "$c" "$s" "$in" "$c" "$s" "$c" "$s"
    done
  done
} > Snakefile
targets=$(for c in $(seq 0 9); do printf 'out/s%s_49 ' "$c"; done)
echo "rule all:
    input: $(for c in $(seq 0 9); do printf '"out/s%s_49", ' "$c"; done)
" | cat - Snakefile > Snakefile.all && mv Snakefile.all Snakefile

echo "== first run of the $N-stage pipeline (pzflow -j 2) =="
/usr/bin/time -f "%e s" "$bin/pzflow" run p.yaml -j 2 | tail -1
have_snakemake=0
if command -v snakemake >/dev/null; then
  have_snakemake=1
  snakemake -j 2 --quiet >/dev/null 2>&1 || snakemake --cores 2 --quiet >/dev/null 2>&1 || have_snakemake=0
fi
sleep 0.2
"$bin/pzflow" run p.yaml | tail -1

echo "== no-op check: pzflow run vs snakemake -n ($N stages) =="
if command -v hyperfine >/dev/null; then
  cmds=("$bin/pzflow run p.yaml")
  [ $have_snakemake = 1 ] && cmds+=("snakemake -n --quiet")
  hyperfine -N --warmup 3 --min-runs 10 --export-json times.json "${cmds[@]}" >/dev/null 2>&1 || \
    hyperfine --warmup 3 --min-runs 10 --export-json times.json "${cmds[@]}" >/dev/null
  /usr/bin/python3 - <<'PY'
import json
r = json.load(open("times.json"))["results"]
for x in r:
    print(f"  {x['command'][:40]:40s} mean {x['mean']*1000:8.1f} ms  (min {x['min']*1000:.1f}, sd {x['stddev']*1000:.1f})")
if len(r) == 2:
    print(f"  ratio snakemake / pzflow: {r[1]['mean'] / r[0]['mean']:.0f}x")
PY
else
  t0=$(date +%s.%N); for i in $(seq 10); do "$bin/pzflow" run p.yaml >/dev/null; done; t1=$(date +%s.%N)
  pz=$(echo "($t1 - $t0) * 100" | bc -l); echo "  pzflow run (no-op): $pz ms"
  if [ $have_snakemake = 1 ]; then
    t0=$(date +%s.%N); for i in $(seq 3); do snakemake -n --quiet >/dev/null 2>&1; done; t1=$(date +%s.%N)
    sm=$(echo "($t1 - $t0) * 1000 / 3" | bc -l); echo "  snakemake -n: $sm ms; ratio $(echo "$sm / $pz" | bc -l)"
  fi
fi

# --- 2. hashing 1 GB from the page cache ----------------------------------------------------------
echo "== hashing a 1 GB file from the page cache =="
head -c 1000000000 /dev/urandom > big.bin
cat big.bin > /dev/null
rate() { # command...; prints GB/s of the best of 3
  local best=999
  for i in 1 2 3; do
    local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
    best=$(echo "if ($t1 - $t0 < $best) $t1 - $t0 else $best" | bc -l)
  done
  printf "  %-28s %6.2f GB/s (%.3f s)\n" "$1" "$(echo "1 / $best" | bc -l)" "$best"
}
rate "$build/bin/bench_hash" big.bin
command -v xxhsum >/dev/null && rate xxhsum -H2 big.bin
rate md5sum big.bin
rate sha256sum big.bin
