"""astropy peer of bench_xmatch: time match_coordinates_sky on the same arrays, and check that
pzflow's nearest-neighbour matches (match_nearest.i64 from bench_xmatch) are the same.

Usage (Debian's python, which has astropy): /usr/bin/python3 bench_xmatch.py DIR RADIUS_ARCSEC [fits]
With "fits", also writes DIR/left.fits and DIR/right.fits for STILTS."""
import sys
import time

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord, match_coordinates_sky


def main():
    d, radius = sys.argv[1], float(sys.argv[2])
    ra1, dec1 = np.fromfile(f"{d}/ra1.f64"), np.fromfile(f"{d}/dec1.f64")
    ra2, dec2 = np.fromfile(f"{d}/ra2.f64"), np.fromfile(f"{d}/dec2.f64")
    best = best_cpu = None
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        c1 = SkyCoord(ra=ra1 * u.deg, dec=dec1 * u.deg)
        c2 = SkyCoord(ra=ra2 * u.deg, dec=dec2 * u.deg)
        idx, sep, _ = match_coordinates_sky(c1, c2)
        ok = sep <= radius * u.arcsec
        t, c = time.perf_counter() - t0, time.process_time() - c0
        best = t if best is None else min(best, t)
        best_cpu = c if best_cpu is None else min(best_cpu, c)
    matched = int(ok.sum())
    ours = np.fromfile(f"{d}/match_nearest.i64", dtype=np.int64)
    theirs = np.where(ok, idx, -1)
    differ = int((ours != theirs).sum())
    print(f"astropy seconds={best:.3f} cpu_seconds={best_cpu:.3f} matched={matched} differ_from_pzflow_nearest={differ}")
    if len(sys.argv) > 3 and sys.argv[3] == "fits":
        from astropy.table import Table
        Table({"ra": ra1, "dec": dec1}).write(f"{d}/left.fits", overwrite=True)
        Table({"ra": ra2, "dec": dec2}).write(f"{d}/right.fits", overwrite=True)


if __name__ == "__main__":
    main()
