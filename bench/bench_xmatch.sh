#!/bin/sh
# Cross-match benchmark: pzflow's zone index vs astropy match_coordinates_sky (and STILTS
# tmatch2 when Debian's stilts is installed), on the same random COSMOS-like field, same run.
#
#   bench/bench_xmatch.sh [BUILD_DIR] [N]      defaults: build, 1720700 (COSMOS2020 CLASSIC rows)
#
# Times are wall-clock, best of 3 (pzflow) / best of 2 (astropy) / one run (STILTS, JVM start-up
# included, as a user would run it). astropy's figure includes building the SkyCoord objects,
# because a user of it has to; pzflow's includes building its index.
set -e
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
N=${2:-1720700}
BIN=$BUILD/bin/bench_xmatch
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "bench_xmatch: build first ($BIN missing)" >&2; exit 1; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT INT TERM

echo "cross-match of $N x $N sources, radius 1\", $(nproc) cores"
"$BIN" gen "$DIR" "$N" 1
best1=$("$BIN" run "$DIR" 1.0 1 best 3)
best2=$("$BIN" run "$DIR" 1.0 2 best 3)
near1=$("$BIN" run "$DIR" 1.0 1 nearest 3)
echo "pzflow  $best1"
echo "pzflow  $best2"
echo "pzflow  $near1"
astro=$("$PY" "$SRC/bench/bench_xmatch.py" "$DIR" 1.0 fits)
echo "$astro"

secs() { echo "$1" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'; }
ta=$(secs "$astro")
for line in "$best1" "$best2" "$near1"; do
    t=$(secs "$line")
    echo "$line" | awk -v t="$t" -v ta="$ta" '{ printf "ratio astropy/pzflow (%s %s): %.1fx\n", $1, $2, ta / t }'
done

if command -v stilts >/dev/null 2>&1; then
    t0=$(date +%s.%N)
    if stilts tmatch2 in1="$DIR/left.fits" in2="$DIR/right.fits" matcher=sky values1='ra dec' values2='ra dec' \
        params=1 find=best join=1and2 out="$DIR/stilts.fits" >"$DIR/stilts.log" 2>&1; then
        t1=$(date +%s.%N)
        rows=$(stilts tpipe in="$DIR/stilts.fits" omode=count 2>/dev/null | sed -n 's/.*rows: *\([0-9]*\).*/\1/p')
        ts=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
        echo "stilts tmatch2 find=best seconds=$ts matched=$rows"
        echo "$ts $(secs "$best1")" | awk '{ printf "ratio stilts/pzflow (best, 1 thread): %.1fx\n", $1 / $2 }'
    else
        echo "stilts tmatch2 failed (skipped): $(tail -1 "$DIR/stilts.log")"
    fi
else
    echo "stilts not installed (apt-get install stilts): skipped"
fi
