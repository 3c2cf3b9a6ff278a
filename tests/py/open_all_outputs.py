"""Open every table under the given directories the way a user would, with no arguments:
astropy's Table.read(path) and STILTS's `stilts tpipe in=PATH`.

    open_all_outputs.py [--formats fits,csv,ecsv,hdf5] [--no-stilts] DIR...

Symbolic links are followed (a results folder links into the cache) and each file is opened
once. Tables are recognised by content (FITS, HDF5 signatures; "# %ECSV") or a .csv name; HDF5
model files (root attribute pzflow_format naming a model) are not tables and are skipped.

STILTS is asked only for the formats Debian's STILTS (3.4.7) reads: FITS by content and CSV
with ifmt=csv (STIL cannot tell CSV from other text); it has no ECSV or HDF5 handler. Prints
one line per table and exits 1 if any table fails to open or has no columns."""
import argparse
import os
import shutil
import subprocess
import sys

STILTS_FORMATS = {"fits": [], "csv": ["ifmt=csv"]}


def kind_of(path):
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"SIMPLE"):
        return "fits"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head.startswith(b"# %ECSV"):
        return "ecsv"
    if path.lower().endswith(".csv"):
        return "csv"
    return None


def is_model(path):
    import h5py
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("pzflow_format", b"")
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    return "model" in fmt


def tables_under(dirs, formats):
    seen = set()
    for top in dirs:
        for root, _, files in os.walk(top, followlinks=True):
            for name in sorted(files):
                path = os.path.join(root, name)
                real = os.path.realpath(path)
                if real in seen or not os.path.isfile(real):
                    continue
                seen.add(real)
                kind = kind_of(real)
                if kind is None or kind not in formats:
                    continue
                if kind == "hdf5" and is_model(real):
                    continue
                yield path, kind


def open_astropy(path):
    from astropy.table import Table
    t = Table.read(path)
    if not t.colnames:
        raise ValueError("no columns")
    return "%d rows, %d columns" % (len(t), len(t.colnames))


def open_stilts(path, kind):
    out = subprocess.run(["stilts", "tpipe", "in=" + path, *STILTS_FORMATS[kind], "omode=count"],
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0 or "columns: 0" in out.stdout:
        raise ValueError((out.stdout + out.stderr).strip().splitlines()[0:3])
    return out.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", default="fits,csv,ecsv,hdf5")
    ap.add_argument("--no-stilts", action="store_true")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    formats = set(a.formats.split(","))
    use_stilts = not a.no_stilts and shutil.which("stilts") is not None
    failed = 0
    count = 0
    for path, kind in tables_under(a.dirs, formats):
        count += 1
        checks = [("astropy", lambda: open_astropy(path))]
        if use_stilts and kind in STILTS_FORMATS:
            checks.append(("stilts", lambda: open_stilts(path, kind)))
        for tool, check in checks:
            try:
                print("ok   %-7s %-5s %s: %s" % (tool, kind, path, check()))
            except Exception as e:  # any failure to open is the finding
                failed += 1
                print("FAIL %-7s %-5s %s: %s" % (tool, kind, path, e))
    print("%d tables, %d failures%s" % (count, failed, "" if use_stilts else " (stilts not installed: astropy only)"))
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
