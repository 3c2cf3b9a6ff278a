"""The peer of `pzflow predict` in bench/bench_predict.sh: what a user would write with astropy
and PyTorch (Debian's python3-torch) -- Table.read the catalogue, scale the features with the
model's scaler, run the same network (weights read from pzflow's model file with h5py) in
batches, write object_id and z_pred with Table.write.

usage: bench_predict_peer.py MODEL.h5 CATALOG.fits OUT.fits
  PZ_BENCH_THREADS: PyTorch threads (1); PZ_BENCH_BATCH: rows a batch (65536)"""
import os
import sys

import h5py
import numpy as np
import torch
from astropy.table import Table

torch.set_num_threads(int(os.environ.get("PZ_BENCH_THREADS", "1")))
model_path, catalog, out = sys.argv[1:4]
with h5py.File(model_path, "r") as f:
    names = f.attrs["layer_names"]
    names = (names.decode() if isinstance(names, bytes) else names).split(",")
    layers = [(torch.from_numpy(f["weights"][n]["kernel"][:]), torch.from_numpy(f["weights"][n]["bias"][:]))
              for n in names]
    skip = bool(f.attrs["skip"])
    features = [s.decode() for s in f["scaler/features"][:]]
    lo = f["scaler/min"][:].astype(np.float32)
    span = (f["scaler/max"][:] - f["scaler/min"][:]).astype(np.float32)

t = Table.read(catalog)
x = np.stack([np.asarray(t[c], dtype=np.float32) for c in features], axis=1)
x = (x - lo) / span
z = np.empty(len(t), dtype=np.float32)
batch = int(os.environ.get("PZ_BENCH_BATCH", "65536"))
with torch.no_grad():
    for s in range(0, len(t), batch):
        xb = torch.from_numpy(x[s:s + batch])
        h = xb
        for kernel, bias in layers[:-1]:
            h = torch.relu(torch.addmm(bias, h, kernel))
        if skip:
            h = torch.cat([xb, h], dim=1)
        kernel, bias = layers[-1]
        z[s:s + batch] = torch.addmm(bias, h, kernel)[:, 0].numpy()
Table({"object_id": t["object_id"], "z_pred": z}).write(out, overwrite=True)
print(len(t), "rows")
