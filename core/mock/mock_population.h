/* The galaxy and star population of the mock sky: cosmology, luminosity-function sampling with
 * an apparent-magnitude limit, type mix and dust evolving with redshift, sizes, stars, and the
 * COSMOS field geometry (footprint, UltraVISTA region, bright-star masks, Galactic E(B-V)). */
#ifndef PZ_MOCK_POPULATION_H
#define PZ_MOCK_POPULATION_H

#include <gsl/gsl_rng.h>
#include <stdint.h>
#include "mock/mock_sed.h"

enum { PZ_OBJ_RED = 0, PZ_OBJ_BLUE = 1, PZ_OBJ_STAR = 2 };
enum {
    PZ_OF_XRAY = 1, PZ_OF_MASK_HSC = 2, PZ_OF_MASK_SUPCAM = 4, PZ_OF_OUT_UVISTA = 8, PZ_OF_UDEEP = 16
};

/* One true object: what nature put there, before any measurement. */
typedef struct pz_mock_obj {
    double ra, dec;
    float z, t, ebv, absmag;  /* redshift, SED type, stellar E(B-V), M_B (AB); stars: z = 0, t = Teff */
    float mag[PZ_NBANDS];     /* noiseless total AB magnitudes incl. Galactic extinction */
    float r_half;             /* intrinsic half-light radius, arcsec (0 for stars) */
    float ellip, pa, sersic;
    float ebv_mw;
    uint8_t cls, flags;
} pz_mock_obj;

typedef struct pz_mock_cosmo pz_mock_cosmo;
pz_mock_cosmo *pz_mock_cosmo_new(double h0, double omega_m);
void pz_mock_cosmo_free(pz_mock_cosmo *c);
double pz_mock_distmod(const pz_mock_cosmo *c, double z);
double pz_mock_dvdz(const pz_mock_cosmo *c, double z);   /* Mpc^3 per sr per unit z */
double pz_mock_dang_kpc(const pz_mock_cosmo *c, double z);

/* Galaxies brighter than m_lim in true i, drawn in proportion to phi(M,z) dV/dz. */
typedef struct pz_mock_sampler pz_mock_sampler;
pz_mock_sampler *pz_mock_sampler_new(const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_cosmo *c,
                                     double m_lim, pz_err *err);
void pz_mock_sampler_free(pz_mock_sampler *s);
/* Intrinsic galaxy (no position, no Galactic extinction). */
void pz_mock_draw_galaxy(const pz_mock_sampler *s, gsl_rng *rng, pz_mock_obj *o);
/* Surface density (per deg2) of galaxies brighter than the limit, and the fraction of them
 * brighter than m (estimated with a fixed-seed pilot sample, so deterministic). */
double pz_mock_sampler_density(const pz_mock_sampler *s);
double pz_mock_sampler_frac_brighter(const pz_mock_sampler *s, double m);

/* Stars: counts dN/dm ~ 10^(slope (m-20)), blackbody colours. */
double pz_mock_star_density(const pz_mock_params *p, double m_lo, double m_hi);
void pz_mock_draw_star(const pz_mock_params *p, const pz_mock_kgrid *kg, double m_lo, double m_hi, gsl_rng *rng,
                       pz_mock_obj *o);

/* Add Galactic extinction E(B-V)(ra,dec) to o->mag (HSC coefficients from formats.md). */
extern const double pz_mock_mw_k[PZ_NBANDS];
void pz_mock_apply_mw(const pz_mock_params *p, pz_mock_obj *o);

/* The COSMOS field: footprint box, UltraVISTA box and stripes, bright-star masks. */
typedef struct pz_mock_field pz_mock_field;
pz_mock_field *pz_mock_field_new(const pz_mock_params *p, gsl_rng *rng);
void pz_mock_field_free(pz_mock_field *f);
/* Uniform position in the footprint enlarged by margin_deg on each side; *in_core says whether
 * it is inside the footprint proper. */
void pz_mock_field_position(const pz_mock_field *f, double margin_deg, gsl_rng *rng, double *ra, double *dec, int *in_core);
uint8_t pz_mock_field_flags(const pz_mock_field *f, double ra, double dec);
int pz_mock_field_in_hsc_mask(const pz_mock_field *f, double ra, double dec);
/* Tangent-plane offsets (arcsec) of a position from the field's lower-left corner. */
void pz_mock_field_xy(const pz_mock_field *f, double ra, double dec, double *x, double *y);

/* Whole COSMOS population: n objects (galaxies and stars in their sky proportions), positions,
 * flags, Galactic extinction. *gal_sampler receives the det_mag sampler (caller frees). */
pz_mock_obj *pz_mock_cosmos_population(const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_cosmo *c,
                                       const pz_mock_field *f, gsl_rng *rng, pz_mock_sampler **gal_sampler,
                                       double *star_fraction, pz_err *err);

#endif
