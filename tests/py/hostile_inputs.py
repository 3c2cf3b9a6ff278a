#!/usr/bin/python3
"""Hostile input files for tests/test_bad_input.c: `hostile_inputs.py DIR`.

HSC PDR2-layout FITS tables (what pzflow-ingest-hsc reads) and GalaxiesML-layout HDF5 tables
(what pzflow-train / pzflow-predict read), each with one kind of bad content:
  hsc_good.fits        6 clean rows
  hsc_nonfinite.fits   g_cmodel_mag NaN, +inf, -inf in rows 1-3
  hsc_sentinel.fits    g_cmodel_mag -99 and 99 in rows 1-2 (SQL-export style sentinels)
  hsc_dupid.fits       object_id 7 in rows 1 and 4, 9 in rows 3 and 5
  hsc_empty.fits       the layout with zero rows
  hsc_wrongtype.fits   g_cmodel_mag stored as an 8-character string column
  hsc_truncated.fits   hsc_good.fits cut inside the data
  hsc_cuthead.fits     hsc_good.fits cut inside the table header
  gml_{train,val,test,empty}.h5, gml_sentinel.h5, gml_inf.h5, gml_dupid.h5  for train/predict
  gml_heap.h5          a `unit` string whose global heap object has size 0 (HDF5 1.10.8 hangs)
  gml_enum.h5          a bool column whose enumeration type claims 1 GB (HDF5 1.10.8 SIGSEGVs)
  gml_label_neg.h5     labels -1 in rows 10, 20, 30; gml_const.h5: g_cmodel_mag constant
  gml_unequal.h5       specz_redshift one row shorter; gml_vector.h5: g_cmodel_mag of shape (300, 2)
  gmlfull_{good,sentinel}.h5  every galaxiesml-schema column; labels -1, -99, 99 in the second
  hsc_vector.fits      g_cmodel_mag as a 2E vector; hsc_dupname.fits: TTYPE4 renamed 'ra' (twice)
  fig2_attack.h5       a plot-data Figure 2 table whose model name is "NN\n!touch DIR/pwned\n#"
"""
import os
import sys
import numpy as np
import h5py
from astropy.io import fits

BANDS = "grizy"
out = sys.argv[1]


def hsc(name, n=6, g=None, ids=None, g_format="E"):
    ids = np.arange(n, dtype=np.int64) + 43158035740000001 if ids is None else ids
    cols = [fits.Column(name="object_id", format="K", array=ids),
            fits.Column(name="ra", format="D", array=np.linspace(150.0, 150.1, n)),
            fits.Column(name="dec", format="D", array=np.linspace(2.0, 2.1, n))]
    for k, b in enumerate(BANDS):
        mag = np.full(n, 21.0 + k * 0.1, dtype=np.float32)
        if b == "g" and g is not None:
            mag = g
        fmt = g_format if b == "g" else "E"
        cols += [fits.Column(name="a_" + b, format="E", array=np.full(n, 0.05, dtype=np.float32)),
                 fits.Column(name=b + "_cmodel_mag", format=fmt, array=mag),
                 fits.Column(name=b + "_cmodel_magsigma", format="E", array=np.full(n, 0.02, dtype=np.float32))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(
        os.path.join(out, name), overwrite=True)


def gml(name, n, seed, g_override=None, ids=None):
    rng = np.random.default_rng(seed)
    m = rng.uniform(19.0, 25.0, size=(n, 5)).astype(np.float32)
    if g_override:
        for row, v in g_override.items():
            m[row, 0] = v
    with h5py.File(os.path.join(out, name), "w") as f:
        f["object_id"] = np.arange(n, dtype=np.int64) + 1000 if ids is None else ids
        for k, b in enumerate(BANDS):
            f[b + "_cmodel_mag"] = m[:, k]
        f["specz_redshift"] = (0.8 + 0.25 * np.tanh(m[:, 0] - m[:, 1])).astype(np.float64)


hsc("hsc_good.fits")
hsc("hsc_nonfinite.fits", g=np.array([21.0, np.nan, np.inf, -np.inf, 21.0, 21.0], dtype=np.float32))
hsc("hsc_sentinel.fits", g=np.array([21.0, -99.0, 99.0, 21.0, 21.0, 21.0], dtype=np.float32))
hsc("hsc_dupid.fits", ids=np.array([6, 7, 8, 9, 7, 9], dtype=np.int64))
hsc("hsc_empty.fits", n=0)
hsc("hsc_wrongtype.fits", g=np.array([b"21.0"] * 6), g_format="8A")
good = open(os.path.join(out, "hsc_good.fits"), "rb").read()
with open(os.path.join(out, "hsc_truncated.fits"), "wb") as f:
    f.write(good[:len(good) - 2880 + 100])   # headers, then 100 of the 504 bytes of rows

with open(os.path.join(out, "hsc_cuthead.fits"), "wb") as f:
    f.write(good[:2880 + 1000])

gml("gml_train.h5", 600, 1)
gml("gml_val.h5", 200, 2)
gml("gml_test.h5", 300, 3)
gml("gml_sentinel.h5", 600, 1, g_override={5: -99.0, 6: 99.0})
gml("gml_inf.h5", 300, 3, g_override={4: np.inf, 9: np.nan})
gml("gml_empty.h5", 0, 4)
gml("gml_dupid.h5", 300, 3, ids=np.array([1000, 1000] + list(range(1002, 1300)), dtype=np.int64))


def patched(src, dst, find, offset, data):
    """dst: src with `data` written at `offset` bytes past the first match of regex `find`."""
    import re
    raw = bytearray(open(os.path.join(out, src), "rb").read())
    at = re.search(find, bytes(raw), re.S).start() + offset
    raw[at:at + len(data)] = data
    open(os.path.join(out, dst), "wb").write(bytes(raw))


with h5py.File(os.path.join(out, "gml_heap_src.h5"), "w") as f:
    f["object_id"] = np.arange(5, dtype=np.int64)
    f["i_cmodel_mag"] = np.full(5, 21.0, dtype=np.float32)
    f["i_cmodel_mag"].attrs["unit"] = "mag"
    f["flag"] = np.array([True, False, True, True, False])
# the first heap object (16 bytes past "GCOL", 1, 3 reserved, 8-byte size) becomes all zeros
patched("gml_heap_src.h5", "gml_heap.h5", rb"GCOL\x01", 16, bytes(16))
# the bool enumeration (class 8, 2 members, size 1, then its 1-byte base) gets size 2^30 + 1
patched("gml_heap_src.h5", "gml_enum.h5", rb"[\x08\x18]\x02\x00\x00\x01\x00\x00\x00[\x00\x10]", 4,
        b"\x01\x00\x00\x40")


# ---- issue 17: diverging training, redshift labels, damaged models, column shapes, plot text ----
def edited(src, dst, **cols):
    """dst: a copy of the HDF5 table src with the named datasets replaced by the given arrays."""
    import shutil
    shutil.copy(os.path.join(out, src), os.path.join(out, dst))
    with h5py.File(os.path.join(out, dst), "r+") as f:
        for name, data in cols.items():
            del f[name]
            f[name] = data


z_train = h5py.File(os.path.join(out, "gml_train.h5"), "r")["specz_redshift"][:]
z_neg = z_train[:300].copy()
z_neg[[10, 20, 30]] = -1.0                      # a "no redshift" sentinel in 3 of 300 labels
gml("gml_label_src.h5", 300, 1)
edited("gml_label_src.h5", "gml_label_neg.h5", specz_redshift=z_neg)
edited("gml_label_src.h5", "gml_const.h5", g_cmodel_mag=np.full(300, 21.0, dtype=np.float32))
edited("gml_label_src.h5", "gml_unequal.h5", specz_redshift=z_train[:299])
edited("gml_label_src.h5", "gml_vector.h5", g_cmodel_mag=np.full((300, 2), 21.0, dtype=np.float32))


def galaxiesml_full(name, z):
    """A table with every column the galaxiesml schema requires (what pzflow-ingest-galaxiesml reads)."""
    n = len(z)
    rng = np.random.default_rng(5)
    with h5py.File(os.path.join(out, name), "w") as f:
        f["object_id"] = np.arange(n, dtype=np.int64) + 1
        f["ra"] = np.linspace(150.0, 150.1, n)
        f["dec"] = np.linspace(2.0, 2.1, n)
        for b in BANDS:
            f[b + "_cmodel_mag"] = rng.uniform(19.0, 25.0, n).astype(np.float32)
            f[b + "_cmodel_magsigma"] = np.full(n, 0.02, dtype=np.float32)
        f["specz_redshift"] = np.asarray(z, dtype=np.float64)
        f["specz_redshift_err"] = np.full(n, 1e-4)
        f["specz_mag_i"] = np.full(n, 21.0, dtype=np.float32)
        f["specz_flag_homogeneous"] = np.ones(n, dtype=bool)


galaxiesml_full("gmlfull_good.h5", np.linspace(0.1, 2.0, 20))
galaxiesml_full("gmlfull_sentinel.h5", [0.5, 0.7, -1.0, 0.9, -99.0, 1.2, 99.0, 0.3])

hsc("hsc_vector.fits", g=np.full((6, 2), 21.0, dtype=np.float32), g_format="2E")
patched("hsc_good.fits", "hsc_dupname.fits", rb"TTYPE4  = 'a_g     '", 0, b"TTYPE4  = 'ra      '")

# Figure 2's table from plot-data, its model name carrying a shell command for gnuplot.
attack = ("NN\n!touch " + os.path.join(out, "pwned") + "\n#").encode()
with h5py.File(os.path.join(out, "fig2_attack.h5"), "w") as f:
    f["model"] = np.array([attack] * 4, dtype="S%d" % len(attack))
    f["z_true_lo"] = np.array([0, 0, 1, 1], dtype="f8")
    f["z_true_hi"] = np.array([1, 1, 2, 2], dtype="f8")
    f["z_pred_lo"] = np.array([0, 1, 0, 1], dtype="f8")
    f["z_pred_hi"] = np.array([1, 2, 1, 2], dtype="f8")
    f["count"] = np.array([1, 2, 3, 4], dtype="f8")
