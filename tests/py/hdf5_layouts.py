"""HDF5 table layouts for tests/test_hdf5_layouts.c, written and read by the standard tools
(run with Debian's /usr/bin/python3: h5py, numpy, astropy).

  make DIR      write DIR/group.h5 (columns in /photometry and /photometry/deep, nothing at the
                root but a group), DIR/compound.h5 (an h5py structured array in /cat, plus a
                PyTables/pandas-like /df/table), DIR/astropy.h5 (astropy's own writer: units,
                descriptions, a masked integer column, table meta), DIR/two_tables.h5
                (two compound datasets at the root), DIR/bad_header.h5 (a header that is not YAML)
  read FILE     print what astropy Table.read(FILE) gives, one fact per line
"""
import sys
import warnings

import numpy as np


def make(d):
    import h5py
    from astropy.table import Column, MaskedColumn, Table

    with h5py.File(d + "/group.h5", "w") as f:
        g = f.create_group("photometry")
        g["object_id"] = np.array([11, 12, 13], dtype=np.int64)
        g["mag_g"] = np.array([21.0, 22.0, 23.0], dtype=np.float32)
        g["mag_g"].attrs["unit"] = "mag"
        g["MAG_R"] = np.array([20.5, 21.5, 22.5], dtype=np.float32)
        g.attrs["survey"] = "made by h5py"
        deep = g.create_group("deep")
        deep["z"] = np.array([0.1, 0.2, 0.3])
        f.create_group("meta")
    rec = np.zeros(4, dtype=[("id", "<i8"), ("ra", "<f8"), ("mag_i", "<f4"), ("flag", "<i2"), ("name", "S5"),
                             ("good", "?"), ("vec", "<f4", (3,))])
    rec["id"] = [1, 2, 3, 4]
    rec["ra"] = [150.0, 150.25, 150.5, 150.75]
    rec["mag_i"] = [20.0, 21.0, np.nan, 23.0]
    rec["flag"] = [0, -1, 2, 3]
    rec["name"] = [b"a", b"bb", b"ccc", b"dddd"]
    rec["good"] = [True, False, True, False]
    with h5py.File(d + "/compound.h5", "w") as f:
        f["cat"] = rec
        f["cat"].attrs["origin"] = "h5py structured array"
        df = f.create_group("df")
        df.create_dataset("table", data=rec[["id", "ra"]], chunks=(2,))
        df.create_group("_i_table")
    t = Table()
    t["z"] = Column(np.array([0.5, 1.5], dtype="f8"), unit="mag", description="a magnitude")
    t["n"] = MaskedColumn(np.array([7, 8], dtype="i4"), mask=[False, True], description="a count")
    t["s"] = np.array([b"xy", b"z"])
    t.meta["seed"] = "3"
    t.meta["pipeline"] = "astropy"
    t.write(d + "/astropy.h5", path="data", serialize_meta=True, overwrite=True)
    with h5py.File(d + "/two_tables.h5", "w") as f:
        f["a"] = rec[["id"]]
        f["b"] = rec[["ra"]]
    with h5py.File(d + "/bad_header.h5", "w") as f:
        f["t"] = rec[["id"]]
        f["t.__table_column_meta__"] = np.array([b"datatype: [", b"- {name: id"])


def read(path):
    from astropy.table import Table

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no table found", no dropped-meta warning
        t = Table.read(path)
    print("columns", list(t.colnames))
    print("rows", len(t))
    for c in t.colnames:
        col = t[c]
        print("col", c, col.dtype.str, col.unit, col.description, getattr(col, "mask", None) is not None and
              bool(np.any(col.mask)))
    for k, v in t.meta.items():
        print("meta", k, repr(v))
    print("first", " ".join(str(t[c][0]) for c in t.colnames))


if __name__ == "__main__":
    {"make": make, "read": read}[sys.argv[1]](sys.argv[2])
