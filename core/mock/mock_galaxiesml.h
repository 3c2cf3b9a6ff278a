/* GalaxiesML (Do et al. 2024) in its HDF5 layout, from the mock population: spectroscopic
 * galaxies of other HSC-Wide fields selected as real spectroscopic surveys select them, plus a
 * part inside COSMOS (the same galaxies as the COSMOS2020 mock, at their HSC positions), the
 * published cuts applied and the published split proportions. */
#ifndef PZ_MOCK_GALAXIESML_H
#define PZ_MOCK_GALAXIESML_H

#include "mock/mock_population.h"

typedef struct pz_mock_gml_stats {
    size_t n_split[3];     /* training, validation, testing */
    size_t n_overlap;      /* rows that are COSMOS2020 mock objects */
    size_t n_candidates;   /* spectroscopic targets before the cuts */
} pz_mock_gml_stats;

/* paths[3]: training, validation, testing. objs/n: the COSMOS population (for the overlap). */
int pz_mock_write_galaxiesml(const char *const paths[3], const pz_mock_params *p, const pz_mock_kgrid *kg,
                             const pz_mock_cosmo *c, const pz_mock_obj *objs, size_t n, const char *provenance,
                             pz_mock_gml_stats *st, pz_err *err);

#endif
