#!/bin/sh
# Reproducer, issue 17 part 2: training that diverges reported success. Two runs of pzflow-train
# on a 300-row GalaxiesML-layout table: (a) 3 labels set to -1 (a "no redshift" sentinel), (b) clean
# labels with lr 1e6. Before the fix both printed "best epoch 0, val_loss 0.000000" and exited 0
# with the initial random weights. Usage: tests/repro/train_nan.sh [BUILD_DIR] (default build).
# Passes (exit 0) when both runs exit 1 with a "training stopped: epoch E, batch B" line.
set -u
build=$(cd "${1:-build}" && pwd) || exit 2
py=/usr/bin/python3   # Debian's, with h5py
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-repro-train.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
"$py" - <<'PY' || exit 2
import h5py, numpy as np
def table(name, n, seed, bad_rows=()):
    rng = np.random.default_rng(seed)
    m = rng.uniform(19.0, 25.0, size=(n, 5)).astype(np.float32)
    z = (0.8 + 0.25 * np.tanh(m[:, 0] - m[:, 1])).astype(np.float64)
    z[list(bad_rows)] = -1.0
    with h5py.File(name, "w") as f:
        for k, b in enumerate("grizy"):
            f[b + "_cmodel_mag"] = m[:, k]
        f["specz_redshift"] = z
table("train_sentinel.h5", 300, 1, bad_rows=(10, 20, 30))
table("train.h5", 300, 1)
table("val.h5", 100, 2)
PY
fails=0
run() { # name train_table lr
  cat > "$1.json" <<JSON
{"pzflow_spec": 1, "stage": "$1", "threads": 1,
 "params": {"label": "specz_redshift", "epochs": 20, "patience": 5, "lr": $3},
 "inputs": {"train": "$work/$2", "validation": "$work/val.h5"}, "outputs": {"model": "$work/$1.model.h5"}}
JSON
  "$build/bin/pzflow-train" "$1.json" > "$1.out" 2>&1
  rc=$?
  grep -v "^@progress" "$1.out" | tail -n 2
  if [ "$rc" -eq 1 ] && grep -q "training stopped: epoch [0-9]*, batch [0-9]*" "$1.out"; then
    echo "PASS ($1): exit 1 with the epoch and batch named"
  else
    echo "FAIL ($1): exit $rc, no 'training stopped' error"; fails=$((fails + 1))
  fi
}
run labels_minus_one train_sentinel.h5 5e-4
run lr_1e6 train.h5 1e6
[ "$fails" -eq 0 ]
