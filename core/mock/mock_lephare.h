/* A LePhare-like photometric-redshift measurement for mock COSMOS2020 objects.
 *
 * Not a template fit: the error distribution is drawn from what Weaver et al. (2022, ApJS 258,
 * 11, Sect. 7 and Fig. 13-14) measured for COSMOS2020 CLASSIC against spectroscopic redshifts:
 * sigma_NMAD ~ 0.01 (1+z) at i < 22.5 growing to a few per cent near i ~ 25, and an outlier
 * fraction from ~1% (bright) to ~10% (faint). Outliers are either Lyman/Balmer break confusions
 * (the classic degeneracy) or broad failures. The true redshift enters only through this model. */
#ifndef PZ_MOCK_LEPHARE_H
#define PZ_MOCK_LEPHARE_H

#include <gsl/gsl_rng.h>
#include "mock/mock_population.h"

typedef struct pz_mock_photoz {
    double zbest, zpdf, l68, u68, zminchi2, chi2_best, zp2, chi2_2, chis, lp_mask;
    long type, nbfilt;
    float ez_z_phot;
    long ez_nusefilt;
} pz_mock_photoz;

/* sigma_NMAD/(1+z) and outlier fraction of the model at true i magnitude m. */
double pz_mock_lp_sigma(const pz_mock_params *p, double m);
double pz_mock_lp_eta(const pz_mock_params *p, double m);

void pz_mock_lephare(const pz_mock_params *p, const pz_mock_obj *o, int flag_combined, gsl_rng *rng, pz_mock_photoz *out);

#endif
