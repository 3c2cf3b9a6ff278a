#!/bin/sh
# Reproducer, issue 17 part 3: a model name holding "\n!touch FILE\n#" made pzflow-plot's gnuplot
# run `touch FILE` and the stage exit 0. Usage: tests/repro/plot_shell.sh [BUILD_DIR] (default
# build). Passes (exit 0) when the stage refuses the label with one error line and FILE was not
# created; fails (exit 1) when the command ran or the stage reported success.
set -u
build=$(cd "${1:-build}" && pwd) || exit 2
py=/usr/bin/python3   # Debian's, with h5py
work=$(mktemp -d "${TMPDIR:-/tmp}/pz-repro-plot.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
canary="$work/pwned"
cd "$work" || exit 2
# A plot-data Figure 2 table whose model name is the attack (what plot-data writes for a
# `predictions: [{model: ...}]` entry given through the pipeline file or --set).
"$py" - "$canary" <<'PY' || exit 2
import sys, h5py, numpy as np
label = ("NN\n!touch " + sys.argv[1] + "\n#").encode()
with h5py.File("fig2.h5", "w") as f:
    f["model"] = np.array([label] * 4, dtype="S%d" % len(label))
    f["z_true_lo"] = np.array([0, 0, 1, 1], dtype="f8"); f["z_true_hi"] = f["z_true_lo"][:] + 1
    f["z_pred_lo"] = np.array([0, 1, 0, 1], dtype="f8"); f["z_pred_hi"] = f["z_pred_lo"][:] + 1
    f["count"] = np.array([1, 2, 3, 4], dtype="f8")
PY
cat > spec.json <<JSON
{"pzflow_spec": 1, "stage": "plot", "threads": 1, "params": {},
 "inputs": {"fig2": "$work/fig2.h5"}, "outputs": {"fig2.svg": "$work/fig2.svg"}}
JSON
"$build/bin/pzflow-plot" spec.json > out.txt 2>&1
rc=$?
cat out.txt
if [ -e "$canary" ]; then echo "FAIL: the label ran a shell command (created $canary); stage exit $rc"; exit 1; fi
if [ "$rc" -eq 0 ]; then echo "FAIL: the stage accepted the label (exit 0)"; exit 1; fi
if ! grep -q "holds a newline" out.txt; then echo "FAIL: exit $rc without the expected error"; exit 1; fi
echo "PASS: label refused (exit $rc), no command ran"
