#!/usr/bin/python3
"""Damaged copies of a trained pzflow model for tests/test_bad_input.c: `damaged_models.py MODEL DIR`.
  model_nanweight.h5  one kernel weight of the first dense layer set to NaN
  model_flatscaler.h5 scaler/max of the first feature equal to its scaler/min (min == max)
  model_activation.h5 root attribute activation = "gelu" (the network only implements relu)
"""
import os
import shutil
import sys
import h5py
import numpy as np

src, out = sys.argv[1], sys.argv[2]


def copy(name):
    dst = os.path.join(out, name)
    shutil.copy(src, dst)
    return h5py.File(dst, "r+")


with copy("model_nanweight.h5") as f:
    layer = sorted(f["weights"].keys())[0]
    k = f["weights"][layer]["kernel"]
    w = k[...]
    w[1, 2] = np.nan
    k[...] = w
with copy("model_flatscaler.h5") as f:
    mx = f["scaler/max"][...]
    mx[0] = f["scaler/min"][0]
    f["scaler/max"][...] = mx
with copy("model_activation.h5") as f:
    del f.attrs["activation"]
    f.attrs["activation"] = "gelu"
