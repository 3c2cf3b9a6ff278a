#!/bin/sh
# End-to-end prediction benchmark (issue 12): `pzflow predict` on a FITS catalogue of NROWS rows
# (read, flag, predict, write FITS) against
#   - bench_nn's prediction rate (the network alone, in memory), measured in the same run, and
#   - the obvious peer, astropy Table.read + PyTorch forward + astropy Table.write
#     (bench/bench_predict_peer.py), on the same file in the same run.
# Wall time and peak RSS (GNU time -v) of each. THREADS threads on both sides of the comparison
# (pzflow's --threads row workers, PyTorch's and BLAS's threads); by default the online cores,
# which is what a user of either gets by default. bench_nn always runs on one thread, so the 70%
# bar is read on a THREADS=1 run.
# Like for like in batch too: the peer runs twice, in 4096-row batches (pzflow's forward block)
# and in 65536-row batches (pzflow's read/write chunk), and the speed-up is against the faster.
# (In 65536-row batches a 200-wide layer's activations are 52 MB, out of cache: on one thread the
# peer is 1.7-2.1x slower than in 4096-row batches.)
#
#   bench/bench_predict.sh [NROWS=1000000] [BUILD_DIR=build] [WORK_DIR=/tmp/pzflow-bench-predict] [THREADS=nproc]
#
# The inputs (bench_predict_gen) are made once per NROWS and kept; delete WORK_DIR afterwards
# (10^8 rows are 2.8 GB). The catalogue is read once first, so every side reads it from the
# page cache. PZ_BENCH_NO_PEER=1 skips the peer (e.g. to measure memory alone).
set -eu
NROWS=${1:-1000000}
BUILD=${2:-build}
WORK=${3:-/tmp/pzflow-bench-predict}
THREADS=${4:-$(nproc)}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS PZ_BENCH_THREADS=$THREADS
mkdir -p "$WORK"
CAT="$WORK/catalog_$NROWS.fits"
MODEL="$WORK/model.h5"
[ -s "$CAT" ] && [ -s "$MODEL" ] || "$BUILD/bin/bench_predict_gen" "$NROWS" "$MODEL" "$CAT"
cat "$CAT" > /dev/null

. "$SRC/bench/measure.sh"
# The network alone: bench_nn's prediction rate (best of three passes over 10^6 in-memory rows).
NN=$("$BUILD/bin/bench_nn" 2000 1 1000000 2>/dev/null | awk '/pzflow  predict:.*samples/ {print $3; exit}')
P=$(measure pzflow "$BUILD/bin/pzflow" predict "$MODEL" "$CAT" -o "$WORK/pred.fits" --threads "$THREADS")
echo "rows=$NROWS file_bytes=$(stat -c %s "$CAT") threads=$THREADS load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench_nn prediction (network alone, in memory): $NN rows/s"
echo "$P $NROWS $NN" | awk '{printf "pzflow predict: %.2f s = %.0f rows/s = %.0f%% of bench_nn; peak RSS %.0f MB\n", $2, $4/$2, 100*$4/$2/$5, $3/1024}'
grep -h "pzflow predict:" "$WORK/pzflow.time" | head -1
if [ "${PZ_BENCH_NO_PEER:-0}" != 1 ]; then
    best=
    for batch in 4096 65536; do
        A=$(PZ_BENCH_BATCH=$batch measure "peer$batch" "$PY" "$SRC/bench/bench_predict_peer.py" "$MODEL" "$CAT" "$WORK/peer.fits")
        echo "$A $NROWS $batch" | awk '{printf "astropy + PyTorch, %d-row batches: %.2f s = %.0f rows/s; peak RSS %.0f MB\n", $5, $2, $4/$2, $3/1024}'
        [ -z "$best" ] || [ "$(echo "$A $best" | awk '{print ($2 < $5)}')" = 1 ] && best=$A
    done
    echo "$P $best" | awk '{printf "speed-up %.2fx against the faster peer (%s), memory ratio pzflow/peer %.3f\n", $5/$2, $4, $3/$6}'
    # Same network, same numbers: the peer's z_pred agrees with pzflow's.
    "$PY" -c "
from astropy.table import Table; import numpy as np, sys
a = Table.read('$WORK/pred.fits', memmap=True)[:1000000]; b = Table.read('$WORK/peer.fits', memmap=True)[:1000000]
d = np.nanmax(np.abs(np.asarray(a['z_pred'], float) - np.asarray(b['z_pred'], float)))
print('max |z_pred(pzflow) - z_pred(peer)| = %.2g' % d); sys.exit(1 if d > 1e-3 else 0)"
fi
rm -f "$WORK/pred.fits" "$WORK/peer.fits"
