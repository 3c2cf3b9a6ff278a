/* HSC PDR2 object table of the mock COSMOS field, and the HSC measurement model shared with the
 * GalaxiesML writer: CModel fluxes with noise from 5-sigma depths, extendedness, flags, tract /
 * patch / object_id, and a per-object astrometric offset that is a pure function of (seed,
 * serial) so the same galaxy has the same HSC position in every file. */
#ifndef PZ_MOCK_HSC_H
#define PZ_MOCK_HSC_H

#include <gsl/gsl_rng.h>
#include <stdint.h>
#include "mock/mock_population.h"

typedef struct pz_mock_hscphot {
    double flux[PZ_NBANDS], fluxerr[PZ_NBANDS]; /* erg/s/cm2/Hz, as PDR2 */
    double mag[PZ_NBANDS], magerr[PZ_NBANDS];   /* NaN where flux <= 0 */
    double ext[PZ_NBANDS];
    uint8_t cmodel_flag[PZ_NBANDS];
} pz_mock_hscphot;

/* 5-sigma point-source depths for "wide" or "udeep". */
void pz_mock_hsc_depths(const pz_mock_params *p, const char *depth, double d5[PZ_NBANDS]);
/* Measure one object (total magnitudes in o->mag, size o->r_half) at the given depths. */
void pz_mock_hsc_measure(const pz_mock_params *p, const pz_mock_obj *o, const double d5[PZ_NBANDS], gsl_rng *rng,
                         pz_mock_hscphot *out);
/* HSC position of object `serial`: true position plus a deterministic astrometric offset. */
void pz_mock_hsc_position(const pz_mock_params *p, const pz_mock_obj *o, uint64_t serial, double *ra, double *dec);
/* Rings skymap of ~1.7 deg tracts with 9x9 patches (an approximation of the HSC skymap). */
void pz_mock_hsc_tract_patch(double ra, double dec, int *tract, int *px, int *py);
int64_t pz_mock_hsc_object_id(double ra, double dec, uint64_t serial);
/* Deterministic uniform in [0,1) from (seed, serial, salt) (splitmix64). */
double pz_mock_hash_uniform(long seed, uint64_t serial, uint64_t salt);

/* Write hsc.fits for the COSMOS objects plus a margin population (drawn with `gal` and the star
 * fraction), with blends, losses and detection at hsc_depth. *nrows receives the row count. */
int pz_mock_write_hsc(const char *path, const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_field *f,
                      const pz_mock_sampler *gal, double star_fraction, const pz_mock_obj *objs, size_t n,
                      const char *provenance, size_t *nrows, pz_err *err);

#endif
