"""Three catalogues as other surveys publish them, for tests/test_ingest_e2e.c (issue 12, bar 1).

Usage: own_catalogues.py OUTDIR. The same 800 galaxies in each (a smooth colour-redshift relation
the network can learn), with -99 for "not measured" in a few magnitudes:
  group.h5   h5py: the columns in group /photometry (mag_{b}_lsst, z_spec, id); the root holds
             only an `id` dataset, so reading the root finds no magnitudes
  upper.fits astropy: primary, HDU 1 = META (a small unrelated table), HDU 2 = PHOT with the
             columns in upper case (ID, G_CMODEL_MAG, ..., Z_SPEC)
  plain.csv  a header line and the columns id,g,r,i,z,y,zspec"""
import sys
import numpy as np
from astropy.io import fits
from astropy.table import Table
import h5py

out = sys.argv[1]
bands = 'grizy'
n = 800
rng = np.random.default_rng(12)
z = rng.uniform(0.05, 1.5, n)
base = 20.0 + 2.5 * np.log10(1 + 3 * z) + rng.normal(0, 0.3, n)
mags = {b: (base + k * 0.3 * z + rng.normal(0, 0.02, n)).astype(np.float32) for k, b in enumerate(bands)}
mags['g'][[3, 40]] = -99.0  # not measured
mags['y'][7] = 99.0
ids = np.arange(1000, 1000 + n, dtype=np.int64)

with h5py.File(out + '/group.h5', 'w') as f:
    f['id'] = ids
    g = f.create_group('photometry')
    g['id'] = ids
    for b in bands:
        g['mag_%s_lsst' % b] = mags[b]
    g['z_spec'] = z

meta = Table({'NAME': ['pzflow test'], 'VERSION': [1]})
phot = Table()
phot['ID'] = ids
for b in bands:
    phot['%s_CMODEL_MAG' % b.upper()] = mags[b]
phot['Z_SPEC'] = z
hdus = fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(meta), fits.table_to_hdu(phot)])
hdus[1].name = 'META'
hdus[2].name = 'PHOT'
hdus.writeto(out + '/upper.fits', overwrite=True)

with open(out + '/plain.csv', 'w') as f:
    f.write('id,g,r,i,z,y,zspec\n')
    for k in range(n):
        f.write('%d,%s,%.6f\n' % (ids[k], ','.join('%.4f' % mags[b][k] for b in bands), z[k]))
