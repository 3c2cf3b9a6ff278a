"""Open every table under the given directories the way a user would, with no arguments:
astropy's Table.read(path) and STILTS's `stilts tpipe in=PATH omode=count`.

    open_all_outputs.py [--astropy-only FORMAT,...] DIR...

Symbolic links are followed (a results folder links into the cache) and each file is opened
once. What a file is comes from its content, never a list of names:
  - tables: FITS and HDF5 by signature, ECSV by its "# %ECSV" line, CSV by a .csv name;
  - not tables, so not opened: HDF5 models (root attribute pzflow_format naming a model), qp
    ensembles (HDF5 groups /meta and /data, qp's layout), files in GalaxiesML's own layout (one
    HDF5 root dataset per column, no table dataset: the mock sky's stand-ins for that survey's
    release, which the ingest must read as the survey ships it; pzflow's own HDF5 tables are in
    astropy's layout, a compound dataset), and everything else (PNG, SVG, Markdown,
    JSON, DOT: no table signature).
Every table must open in both tools: Debian 12's STILTS (3.4.7) reads FITS (by content) and CSV
(by the .csv name) with no format argument, and has no ECSV or HDF5 handler, so a pipeline
table in either format is a failure. --astropy-only names formats checked with astropy alone,
for tests of the writers of those formats. Without `stilts` installed, STILTS is skipped with
the reason printed. Prints one line per file and exits 1 if any table fails to open or has no
columns, or if there is no table at all."""
import argparse
import os
import shutil
import subprocess
import sys


def kind_of(path, real):
    with open(real, "rb") as f:
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


def hdf5_non_table(path):
    """What an HDF5 file is when it is not a table, or None for a table."""
    import h5py
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("pzflow_format", b"")
        fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
        if "model" in fmt:
            return "model (%s)" % fmt
        if isinstance(f.get("meta"), h5py.Group) and isinstance(f.get("data"), h5py.Group):
            return "qp ensemble"
        datasets = [v for v in f.values() if isinstance(v, h5py.Dataset)]
        if datasets and len(datasets) == len(f) and all(d.dtype.names is None for d in datasets):
            return "GalaxiesML's own layout (one root dataset per column, no table dataset)"
    return None


def files_under(dirs):
    seen = set()
    for top in dirs:
        for root, _, files in os.walk(top, followlinks=True):
            for name in sorted(files):
                path = os.path.join(root, name)
                real = os.path.realpath(path)
                if real in seen or not os.path.isfile(real):
                    continue
                seen.add(real)
                yield path, real


def open_astropy(path):
    from astropy.table import Table
    t = Table.read(path)
    if not t.colnames:
        raise ValueError("no columns")
    return "%d rows, %d columns" % (len(t), len(t.colnames))


def open_stilts(path):
    out = subprocess.run(["stilts", "tpipe", "in=" + path, "omode=count"], capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0 or "columns: 0" in out.stdout:
        raise ValueError(" ".join((out.stdout + out.stderr).strip().splitlines()[0:3]))
    return out.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--astropy-only", default="", help="formats checked with astropy alone (e.g. ecsv,hdf5)")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    astropy_only = set(filter(None, a.astropy_only.split(",")))
    stilts = shutil.which("stilts") is not None
    if not stilts:
        print("stilts is not installed (setup.sh installs it): tables are checked with astropy only")
    failed = count = 0
    for path, real in files_under(a.dirs):
        kind = kind_of(path, real)  # a CSV is told by its name: the link's, not the cache object's
        not_table = hdf5_non_table(real) if kind == "hdf5" else None
        if kind is None or not_table:
            print("--   not a table %s: %s" % (path, not_table or "no table signature"))
            continue
        count += 1
        checks = [("astropy", open_astropy)]
        if stilts and kind not in astropy_only:
            checks.append(("stilts", open_stilts))
        for tool, check in checks:
            try:
                print("ok   %-7s %-5s %s: %s" % (tool, kind, path, check(path)))
            except Exception as e:  # any failure to open is the finding
                failed += 1
                print("FAIL %-7s %-5s %s: %s" % (tool, kind, path, e))
    print("%d tables, %d failures%s" % (count, failed, "" if stilts else " (astropy only: stilts not installed)"))
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
