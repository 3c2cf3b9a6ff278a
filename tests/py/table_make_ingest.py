"""Small catalogues for tests/test_ingest.c, in the real layouts (astropy FITS, h5py HDF5).

Usage: table_make_ingest.py OUTDIR. Values are chosen so the corrections can be checked by hand
(see the comments in test_ingest.c)."""
import sys
import numpy as np
from astropy.io import fits
from astropy.table import Table, Column
import h5py

out = sys.argv[1]
bands = 'grizy'

# COSMOS2020 CLASSIC subset: 3 rows. Row 0 is the hand-checked one, row 1 has a non-detection
# in g (NaN) and a TNULL lp_type, row 2 has EBV_MW = 0 and total_off2 = 0.
t = Table()
t['ID'] = np.array([101, 102, 103], dtype=np.int64)
t['ALPHA_J2000'] = Column([150.1, 150.2, 150.3], unit='deg')
t['DELTA_J2000'] = Column([2.1, 2.2, 2.3], unit='deg')
t['FLAG_HSC'] = np.array([0, 1, 0], dtype=np.int16)
t['FLAG_COMBINED'] = np.array([0, 1, 0], dtype=np.int16)
t['EBV_MW'] = np.array([0.02, 0.03, 0.0])
for b in bands:
    for ap, d in (('APER2', 0.0), ('APER3', -0.3), ('AUTO', -0.5)):
        mag = np.array([22.0, 23.0, 24.0], dtype=np.float32) + {'g': 0, 'r': 1, 'i': 2, 'z': 3, 'y': 4}[b] * 0.25 + d
        flux = (10 ** (-0.4 * (mag - 23.9))).astype(np.float32)
        if b == 'g':
            mag[1] = np.nan
            flux[1] = np.nan
        t['HSC_%s_FLUX_%s' % (b, ap)] = Column(flux, unit='uJy')
        t['HSC_%s_FLUXERR_%s' % (b, ap)] = Column((flux * 0.1).astype(np.float32), unit='uJy')
        t['HSC_%s_MAG_%s' % (b, ap)] = Column(mag, unit='mag')
        t['HSC_%s_MAGERR_%s' % (b, ap)] = Column(np.full(3, 0.05, dtype=np.float32), unit='mag')
t['total_off2'] = Column(np.array([-0.1, -0.2, 0.0], dtype=np.float32), unit='mag')
t['total_off3'] = Column(np.array([-0.05, -0.1, 0.0], dtype=np.float32), unit='mag')
t['lp_zBEST'] = np.array([0.5, np.nan, 1.2])
t['lp_type'] = np.array([0, -99, 0], dtype=np.int64)
for n, v in (('lp_zPDF', [0.5, 0.9, 1.2]), ('lp_zPDF_l68', [0.45, 0.8, 1.1]), ('lp_zPDF_u68', [0.55, 1.0, 1.3]),
             ('lp_zMinChi2', [0.49, 0.91, 1.19]), ('lp_chi2_best', [1.0, 2.0, 3.0]), ('lp_chis', [5.0, 1.0, 9.0])):
    t[n] = np.array(v)
t['lp_NbFilt'] = np.array([30, 28, -99], dtype=np.int64)
t['ez_z_phot'] = np.array([0.52, 0.88, 1.25], dtype=np.float32)
hdu = fits.BinTableHDU(t, name='PHASE3CATALOG')
for n in ('lp_type', 'lp_NbFilt'):
    hdu.header['TNULL%d' % (t.colnames.index(n) + 1)] = -99
fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(out + '/cosmos.fits', overwrite=True)

# The same as FARMER (no aperture suffix, no total_off).
f = Table()
for n in ('ID', 'ALPHA_J2000', 'DELTA_J2000', 'FLAG_COMBINED', 'EBV_MW', 'lp_type', 'lp_zPDF', 'lp_zPDF_l68',
          'lp_zPDF_u68', 'lp_zMinChi2', 'lp_chi2_best', 'lp_chis', 'lp_NbFilt'):
    f[n] = t[n]
for b in bands:
    for q in ('FLUX', 'FLUXERR', 'MAG', 'MAGERR'):
        f['HSC_%s_%s' % (b, q)] = t['HSC_%s_%s_AUTO' % (b, q)]
hdu = fits.BinTableHDU(f)
hdu.header['TNULL%d' % (f.colnames.index('lp_type') + 1)] = -99
fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(out + '/farmer.fits', overwrite=True)

# HSC PDR3 export: 2 rows, extinction a_b = 0.1 * (band index + 1).
h = Table()
h['object_id'] = np.array([43158035740000001, 43158035740000002], dtype=np.int64)
h['ra'] = [150.1, 150.2]
h['dec'] = [2.1, 2.2]
for k, b in enumerate(bands):
    h['a_' + b] = np.full(2, 0.1 * (k + 1), dtype=np.float32)
    h[b + '_cmodel_mag'] = np.array([21.0, 22.0], dtype=np.float32)
    h[b + '_cmodel_magerr'] = np.array([0.01, 0.02], dtype=np.float32)
    h[b + '_cmodel_flux'] = np.array([1000.0, 400.0])
    h[b + '_cmodel_fluxerr'] = np.array([10.0, 8.0])
    h[b + '_extendedness_value'] = np.array([1.0, 0.0], dtype=np.float32)
h.write(out + '/hsc_pdr3.fits', overwrite=True)

# GalaxiesML: three split files the way h5py writes them (strings (N,1), bool, images).
for split, n in (('training', 4), ('validation', 2), ('testing', 3)):
    with h5py.File('%s/gml_%s.hdf5' % (out, split), 'w') as g:
        g['object_id'] = np.arange(n, dtype=np.int64) + 1000
        g['ra'] = np.linspace(150, 151, n)
        g['dec'] = np.linspace(2, 3, n)
        for b in bands:
            g[b + '_cmodel_mag'] = np.full(n, 21.0, dtype=np.float32)
            g[b + '_cmodel_magsigma'] = np.full(n, 0.02, dtype=np.float32)
            g[b + '_half_light_radius'] = np.full(n, 1.5, dtype=np.float32)
        g['specz_redshift'] = np.linspace(0.1, 0.9, n).astype(np.float32)
        g['specz_redshift_err'] = np.full(n, 0.001, dtype=np.float32)
        g['specz_mag_i'] = np.full(n, 21.1, dtype=np.float32)
        g['specz_flag_homogeneous'] = np.arange(n) % 2 == 0
        g['specz_name'] = np.array([[b'spec%d' % i] for i in range(n)])
        g['image'] = np.zeros((n, 5, 8, 8), dtype=np.float32)
