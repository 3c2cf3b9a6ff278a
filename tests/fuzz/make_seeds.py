#!/usr/bin/python3
"""Write the small FITS and HDF5 seed files of tests/fuzz/{fits,hdf5}/ (run with Debian's python3:
/usr/bin/python3 tests/fuzz/make_seeds.py [layouts]). Seeds are valid tables covering every column type and
null convention the readers handle, plus damaged copies (truncated, bit-flipped, lying headers)
so the fuzzer starts next to the interesting error paths. The files are committed; rerun
this only to change them (HDF5 object headers carry timestamps, so bytes differ per run)."""
import os
import numpy as np
import h5py
from astropy.io import fits

HERE = os.path.dirname(os.path.abspath(__file__))
FITS_DIR = os.path.join(HERE, "fits")
H5_DIR = os.path.join(HERE, "hdf5")


def fits_table(path, nrows=3, extra=()):
    nan = np.float32("nan")
    cols = [
        fits.Column(name="ID", format="K", array=np.arange(1, nrows + 1)),
        fits.Column(name="ra", format="D", unit="deg", array=np.linspace(150.0, 150.2, nrows)),
        fits.Column(name="i_cmodel_mag", format="E", unit="mag",
                    array=np.array([21.5, nan, np.inf, -99.0, 99.0][:nrows] + [22.0] * max(0, nrows - 5), dtype="f4")),
        fits.Column(name="lp_zPDF", format="E", array=np.linspace(0.1, 3.0, nrows).astype("f4")),
        fits.Column(name="name", format="8A", array=np.array([b"g%d" % i for i in range(nrows)])),
        fits.Column(name="FLAG_COMBINED", format="I", null=-1, array=np.array([0, -1, 1][:nrows] + [0] * max(0, nrows - 3))),
        fits.Column(name="lp_type", format="J", null=-99, array=np.array([0, -9, -99][:nrows] + [0] * max(0, nrows - 3))),
        fits.Column(name="good", format="L", array=np.array([True, False, True][:nrows] + [True] * max(0, nrows - 3))),
        fits.Column(name="u16", format="I", bzero=32768, array=np.array([0, 1, 65535][:nrows] + [7] * max(0, nrows - 3), dtype="u2")),
        fits.Column(name="byte", format="B", array=np.arange(nrows, dtype="u1")),
    ] + list(extra)
    hdu = fits.BinTableHDU.from_columns(cols)
    hdu.header["EXTNAME"] = "TABLE"
    if extra:  # a general TSCAL/TZERO column (read as f64) on the last integer column
        hdu.header["TSCAL10"] = 0.5
        hdu.header["TZERO10"] = 10.0
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def fits_seeds():
    os.makedirs(FITS_DIR, exist_ok=True)
    p = os.path.join(FITS_DIR, "valid.fits")
    fits_table(p)
    good = open(p, "rb").read()
    fits_table(os.path.join(FITS_DIR, "vector_scaled.fits"), 2, [
        fits.Column(name="vec", format="2E", array=np.ones((2, 2), dtype="f4")),
    ])
    fits_table(os.path.join(FITS_DIR, "empty_table.fits"), 0)
    write(os.path.join(FITS_DIR, "truncated_data.fits"), good[: len(good) - 2000])
    write(os.path.join(FITS_DIR, "truncated_header.fits"), good[: 2880 + 1000])
    write(os.path.join(FITS_DIR, "primary_only.fits"), good[:2880])
    # Header lies: more rows than the data holds, a row width that disagrees with TFORMs,
    # a duplicated column name, a TFORM cfitsio cannot parse.
    def patch(name, old, new):
        assert good.count(old) >= 1, old
        write(os.path.join(FITS_DIR, name), good.replace(old, new.ljust(len(old)), 1))
    patch("naxis2_huge.fits", b"NAXIS2  =                    3", b"NAXIS2  =          99999999999")
    patch("naxis1_wrong.fits", b"NAXIS1  =                   42", b"NAXIS1  =                   41")
    patch("dup_ttype.fits", b"TTYPE2  = 'ra      '", b"TTYPE2  = 'ID      '")
    patch("bad_tform.fits", b"TFORM3  = 'E       '", b"TFORM3  = 'Z       '")
    patch("tform_wide.fits", b"TFORM5  = '8A      '", b"TFORM5  = '99999999A'")
    flipped = bytearray(good)
    for k in range(2880 + 40, len(flipped), 997):
        flipped[k] ^= 0x5A
    write(os.path.join(FITS_DIR, "bitflip.fits"), bytes(flipped))
    write(os.path.join(FITS_DIR, "not_fits.fits"), b"SIMPLE  = F\n" + b"x" * 100)


def h5_table(path, nrows=3, extra=None, track_order=True):
    with h5py.File(path, "w", libver=("earliest", "v108"), track_order=track_order) as f:
        f.create_dataset("object_id", data=np.arange(nrows, dtype="i8") + 10**17)
        mags = np.array([21.5, np.nan, np.inf, -99.0, 99.0][:nrows], dtype="f4")
        f.create_dataset("i_cmodel_mag", data=mags).attrs["unit"] = "mag"
        f.create_dataset("specz_redshift", data=np.linspace(0.1, 2.0, nrows))
        f.create_dataset("name", data=np.array([[b"g%d" % i] for i in range(nrows)], dtype="S8"))
        f.create_dataset("flag", data=np.array([True, False, True][:nrows]))
        d = f.create_dataset("count", data=np.array([1, -2147483648, 3][:nrows], dtype="i4"))
        d.attrs["null_value"] = np.int32(-2147483648)
        f.create_dataset("u16", data=np.arange(nrows, dtype="u2"))
        f.attrs["pzflow_provenance"] = '{"stage":"seed"}'
        if extra:
            extra(f)


def h5_seeds():
    os.makedirs(H5_DIR, exist_ok=True)
    p = os.path.join(H5_DIR, "valid.h5")
    h5_table(p)
    good = open(p, "rb").read()

    def odd(f):
        f.create_dataset("image", data=np.zeros((3, 2, 2), dtype="f4"))
        f.create_dataset("short", data=np.zeros(2))
        f.create_dataset("vlen", data=["a", "bb", "ccc"], dtype=h5py.string_dtype())
        f.create_dataset("cplx", data=np.zeros(3, dtype="c8"))
        f.create_group("sub").create_dataset("x", data=np.zeros(3))
        f.create_dataset("scalar", data=1.0)
    h5_table(os.path.join(H5_DIR, "odd_shapes.h5"), extra=odd, track_order=False)
    h5_table(os.path.join(H5_DIR, "empty.h5"), nrows=0)
    with h5py.File(os.path.join(H5_DIR, "chunked.h5"), "w", libver=("earliest", "v108")) as f:
        f.create_dataset("i_cmodel_mag", data=np.arange(40, dtype="f4"), chunks=(8,), compression="gzip")
        f.create_dataset("object_id", data=np.arange(40, dtype="i8"), chunks=(16,), shuffle=True)
    write(os.path.join(H5_DIR, "truncated.h5"), good[: len(good) // 2])
    write(os.path.join(H5_DIR, "superblock_only.h5"), good[:96])
    flipped = bytearray(good)
    for k in range(200, len(flipped), 331):
        flipped[k] ^= 0xA5
    write(os.path.join(H5_DIR, "bitflip.h5"), bytes(flipped))
    write(os.path.join(H5_DIR, "not_hdf5.h5"), b"\x89HDF\r\n\x1a\n" + b"\0" * 64)


def h5_layout_seeds():
    """The table layouts beyond the root group (issue 12): columns in a nested group, and a
    compound dataset with astropy's YAML header and a masked column. The fuzz harness reads
    them by their places (/photometry, /photometry/deep, /data) as well as by default."""
    from astropy.table import MaskedColumn, Table
    with h5py.File(os.path.join(H5_DIR, "layout-group.h5"), "w", track_order=True) as f:
        g = f.create_group("photometry", track_order=True)
        g["object_id"] = np.arange(1, 4, dtype="i8")
        g["i_cmodel_mag"] = np.array([21.5, np.nan, 22.0], dtype="f4")
        g["i_cmodel_mag"].attrs["unit"] = "mag"
        g["name"] = np.array([[b"a"], [b"bb"], [b"ccc"]])
        g.create_group("deep")["specz_redshift"] = np.array([0.1, 0.2, 0.3])
        g.attrs["survey"] = "seed"
    t = Table()
    t["object_id"] = MaskedColumn(np.arange(1, 4, dtype="i8"), mask=[False, True, False])
    t["i_cmodel_mag"] = np.array([21.5, np.nan, 22.0], dtype="f4")
    t["i_cmodel_mag"].unit = "mag"
    t["i_cmodel_mag"].description = "i-band magnitude"
    t["name"] = np.array([b"a", b"bb", b"ccc"])
    t["good"] = np.array([True, False, True])
    t.meta["pdf"] = "gaussian_mixture"
    t.write(os.path.join(H5_DIR, "layout-compound.h5"), path="data", serialize_meta=True, overwrite=True)


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["layouts"]:  # only the layout seeds (the others keep their bytes)
        h5_layout_seeds()
        sys.exit(0)
    fits_seeds()
    h5_seeds()
    h5_layout_seeds()
