"""Writes HDF5 tables whose data live in other files, for tests/test_h5links.c:
external link, external raw storage, virtual dataset; plus a soft link (allowed)."""
import sys
import numpy as np
import h5py

d = sys.argv[1]
z = np.linspace(0.1, 1.0, 10)
with h5py.File(f"{d}/target.h5", "w") as f:
    f["z"] = z
with h5py.File(f"{d}/elink.h5", "w") as f:
    f["ra"] = z
    f["z"] = h5py.ExternalLink("target.h5", "/z")
z.tofile(f"{d}/raw.bin")
with h5py.File(f"{d}/extstore.h5", "w") as f:
    f["ra"] = z
    f.create_dataset("z", shape=(10,), dtype="<f8", external=[("raw.bin", 0, 80)])
layout = h5py.VirtualLayout(shape=(10,), dtype="<f8")
layout[:] = h5py.VirtualSource(f"{d}/target.h5", "z", shape=(10,))
with h5py.File(f"{d}/vds.h5", "w") as f:
    f["ra"] = z
    f.create_virtual_dataset("z", layout)
with h5py.File(f"{d}/soft.h5", "w") as f:
    f["ra"] = z
    f["zz"] = z
    f["z"] = h5py.SoftLink("/zz")
