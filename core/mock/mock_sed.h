/* Parametric galaxy SEDs, HSC band passes and synthetic photometry for the mock sky.
 *
 * A galaxy SED is a stellar continuum with a 4000 A / Balmer break whose amplitude and position
 * depend on a continuous type t (0 = elliptical ... 1 = starburst), a UV power law, no flux
 * below the Lyman limit, Calzetti attenuation E(B-V), emission lines ([OII], Hbeta, [OIII],
 * Halpha, Lyalpha) with equivalent widths by type, and Madau (1995) mean IGM absorption.
 *
 * Synthetic photometry is precomputed on a (ln(1+z), t, E(B-V)) grid: the grid stores the
 * K-correction K_b = m_b - M_B - DM(z) of each HSC band relative to the rest-frame B band the
 * luminosity function is defined in. Wavelengths are sampled on a log grid so redshifting is an
 * index shift, which makes the whole grid cost tens of milliseconds. */
#ifndef PZ_MOCK_SED_H
#define PZ_MOCK_SED_H

#include "mock/mock_params.h"

#define PZ_NBANDS 5
extern const char *const pz_band_names[PZ_NBANDS]; /* "g","r","i","z","y" */

typedef struct pz_mock_kgrid pz_mock_kgrid;

pz_mock_kgrid *pz_mock_kgrid_build(const pz_mock_params *p, pz_err *err);
void pz_mock_kgrid_free(pz_mock_kgrid *g);
/* K_b for all five bands at (z, t, ebv); inputs are clamped to the grid. */
void pz_mock_kcorr(const pz_mock_kgrid *g, double z, double t, double ebv, double k[PZ_NBANDS]);
/* Smallest K_i over all t in [tlo, thi] and E(B-V) in [0, ebv_max] at redshift z (for the
 * rejection sampler's bound). */
double pz_mock_kcorr_min_i(const pz_mock_kgrid *g, double z, double tlo, double thi);
/* AB colour m_b - m_i of a blackbody star of temperature teff (K). */
void pz_mock_star_colours(const pz_mock_kgrid *g, double teff, double c[PZ_NBANDS]);

/* Exposed for tests and docs: the rest-frame SED (f_lambda, arbitrary units, continuum plus
 * nothing else) and the Madau IGM transmission at observed wavelength lam_obs for source z. */
double pz_mock_continuum(const pz_mock_params *p, double t, double lam_rest);
double pz_mock_igm_transmission(double lam_obs, double z, double scale);
double pz_mock_calzetti_k(double lam_rest, double rv);
/* Band transmission of band b (0..4) at wavelength lam (A). */
double pz_mock_band_trans(const pz_mock_params *p, int b, double lam);

#endif
