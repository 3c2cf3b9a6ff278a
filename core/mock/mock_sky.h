/* The mock sky: one seeded population written as COSMOS2020 CLASSIC (FITS), the HSC PDR2 object
 * table of the field (FITS), GalaxiesML training/validation/testing (HDF5) and, optionally, a
 * truth table (HDF5: true redshift, class, noiseless magnitudes) for tests and diagnostics.
 * Any path may be NULL to skip that output. See docs/mock_sky.md. */
#ifndef PZ_MOCK_SKY_H
#define PZ_MOCK_SKY_H

#include <stddef.h>
#include "mock/mock_params.h"

typedef struct pz_mock_paths {
    const char *cosmos, *hsc, *gml[3], *truth;
} pz_mock_paths;

typedef struct pz_mock_stats {
    size_t n_cosmos, n_hsc, n_gml[3], n_overlap, n_spec_candidates;
    double star_fraction, galaxy_density_deg2;
    double seconds_population, seconds_cosmos, seconds_hsc, seconds_gml;
} pz_mock_stats;

/* provenance: JSON for the files' headers (PZPROV / pzflow_provenance), or NULL for none. The
 * stage passes NULL: a cached output holds only what its params determine (provenance is in the
 * run record, `pzflow provenance FILE`). */
int pz_mock_sky_run(const pz_mock_params *p, const pz_mock_paths *paths, const char *provenance, pz_mock_stats *st,
                    pz_err *err);

#endif
