#!/bin/sh
# Ingest benchmark: pzflow-ingest-cosmos2020 (reads the ~37 needed columns of a COSMOS2020
# CLASSIC-layout FITS, applies corrections, writes HDF5) vs astropy Table.read + the same column
# selection, same file, same run. Reports wall time and peak RSS (GNU time -v) and the ratios.
#
#   bench/bench_ingest.sh [NROWS=1720700] [BUILD_DIR=build] [WORK_DIR=/tmp/pzflow-bench-ingest]
#
# The input is made by bench_ingest_gen from the real 754-column header; it is kept between runs.
# Both readers run with the file in the page cache (it is read once first), so the comparison is
# of the readers, not of the disk.
set -eu
NROWS=${1:-1720700}
BUILD=${2:-build}
WORK=${3:-/tmp/pzflow-bench-ingest}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TSV=${PZ_COSMOS_TSV:-$SRC/schemas/cosmos2020_classic_columns.tsv}
mkdir -p "$WORK"
FITS="$WORK/cosmos2020_classic_$NROWS.fits"
[ -s "$FITS" ] || "$BUILD/bin/bench_ingest_gen" "$TSV" "$FITS" "$NROWS"
cat "$FITS" > /dev/null

cat > "$WORK/spec.json" <<JSON
{"pzflow_spec": 1, "stage": "ingest-cosmos2020", "threads": 1, "params": {},
 "inputs": {"catalog": "$FITS"}, "outputs": {"catalog": "$WORK/out.fits"}}
JSON
COLS="ID ALPHA_J2000 DELTA_J2000 FLAG_HSC FLAG_COMBINED EBV_MW total_off2 lp_type lp_zBEST lp_zPDF lp_zPDF_l68 lp_zPDF_u68 lp_zMinChi2 lp_chi2_best lp_chis lp_NbFilt ez_z_phot"
for b in g r i z y; do for q in MAG MAGERR FLUX FLUXERR; do COLS="$COLS HSC_${b}_${q}_APER2"; done; done
cat > "$WORK/astropy_read.py" <<PYEOF
import sys
from astropy.table import Table
t = Table.read(sys.argv[1], hdu=1)
t = t[sys.argv[2].split()]
print(len(t), len(t.colnames))
PYEOF

. "$SRC/bench/measure.sh"
P=$(measure pzflow "$BUILD/bin/pzflow-ingest-cosmos2020" "$WORK/spec.json")
A=$(measure astropy "$PY" "$WORK/astropy_read.py" "$FITS" "$COLS")
echo "rows=$NROWS file_bytes=$(stat -c %s "$FITS")"
echo "$P" | awk '{printf "pzflow-ingest-cosmos2020: %.2f s, peak RSS %.0f MB\n", $2, $3/1024}'
echo "$A" | awk '{printf "astropy Table.read+select: %.2f s, peak RSS %.0f MB\n", $2, $3/1024}'
echo "$P $A" | awk '{printf "speed-up %.1fx, memory ratio pzflow/astropy %.3f\n", $5/$2, $3/$6}'
head -c 300 "$WORK/pzflow.out"; echo
