/* The mock population: cosmology, luminosity-function sampling, stars and the COSMOS field. */
#include "mock/mock_population.h"

#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define C_KMS 299792.458
#define COSMO_NZ 4001
#define COSMO_ZMAX 8.0
#define SR_PER_DEG2 (M_PI * M_PI / (180.0 * 180.0))

/* ---- cosmology: flat LCDM, comoving distance tabulated once with GSL quadrature ---- */

struct pz_mock_cosmo {
    double h0, om;
    double dc[COSMO_NZ]; /* comoving distance, Mpc, at z = i * COSMO_ZMAX / (COSMO_NZ-1) */
};

static double inv_e(double z, void *par)
{
    double om = *(const double *)par;
    return 1.0 / sqrt(om * pow(1 + z, 3) + 1 - om);
}

pz_mock_cosmo *pz_mock_cosmo_new(double h0, double omega_m)
{
    pz_mock_cosmo *c = pz_xcalloc(1, sizeof *c);
    c->h0 = h0;
    c->om = omega_m;
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(256);
    gsl_function fn = {inv_e, &c->om};
    double dz = COSMO_ZMAX / (COSMO_NZ - 1), acc = 0;
    for (int i = 1; i < COSMO_NZ; i++) {
        double r, e;
        gsl_integration_qag(&fn, (i - 1) * dz, i * dz, 0, 1e-10, 256, GSL_INTEG_GAUSS21, ws, &r, &e);
        acc += r;
        c->dc[i] = acc * C_KMS / h0;
    }
    gsl_integration_workspace_free(ws);
    return c;
}

void pz_mock_cosmo_free(pz_mock_cosmo *c) { free(c); }

static double comoving(const pz_mock_cosmo *c, double z)
{
    double x = z / COSMO_ZMAX * (COSMO_NZ - 1);
    if (x <= 0) return 0;
    int i = (int)x;
    if (i >= COSMO_NZ - 1) return c->dc[COSMO_NZ - 1];
    double f = x - i;
    return c->dc[i] * (1 - f) + c->dc[i + 1] * f;
}

double pz_mock_distmod(const pz_mock_cosmo *c, double z)
{
    double dl = comoving(c, z) * (1 + z); /* Mpc */
    return 5 * log10(dl * 1e5);           /* 5 log10(D_L / 10 pc) */
}

double pz_mock_dvdz(const pz_mock_cosmo *c, double z)
{
    double d = comoving(c, z);
    return C_KMS / c->h0 * d * d * inv_e(z, (void *)&c->om);
}

double pz_mock_dang_kpc(const pz_mock_cosmo *c, double z) { return comoving(c, z) / (1 + z) * 1e3; }

/* ---- luminosity-function sampler ---- */

#define SZ_STEP 0.01
#define SM_STEP 0.05

struct pz_mock_sampler {
    const pz_mock_params *p;
    const pz_mock_kgrid *kg;
    const pz_mock_cosmo *c;
    double m_lim;
    int nz, nm;
    size_t ncell;
    double *cdf;          /* cumulative weight over cells [class][iz][im] */
    double total;         /* sum of weights: galaxies per sr in the proposal */
    double accept;        /* acceptance of the magnitude cut (pilot estimate) */
    double *pilot_mi;     /* sorted true i of the pilot's accepted galaxies */
    size_t npilot;
};

/* Schechter LF in magnitudes for a class at redshift z (per Mpc^3 per mag). */
static double schechter(const pz_mock_params *p, int cls, double absmag, double z)
{
    double phistar = cls == PZ_OBJ_RED ? p->lf_red_phistar : p->lf_blue_phistar;
    double mstar0 = cls == PZ_OBJ_RED ? p->lf_red_mstar : p->lf_blue_mstar;
    double alpha = cls == PZ_OBJ_RED ? p->lf_red_alpha : p->lf_blue_alpha;
    double q = cls == PZ_OBJ_RED ? p->lf_red_q : p->lf_blue_q;
    double pe = cls == PZ_OBJ_RED ? p->lf_red_p : p->lf_blue_p;
    double zs = fmin(z, p->lf_z_sat);
    double mstar = mstar0 - q * zs;
    double phi = phistar * pow(1 + zs, pe);
    if (z > p->lf_z_sat) phi *= pow((1 + z) / (1 + p->lf_z_sat), p->lf_highz_index);
    double x = pow(10, 0.4 * (mstar - absmag));
    return 0.4 * M_LN10 * phi * pow(x, alpha + 1) * exp(-x);
}

static void class_t_range(const pz_mock_params *p, int cls, double *lo, double *hi)
{
    if (cls == PZ_OBJ_RED) { *lo = 0; *hi = p->red_t_max; }
    else { *lo = 0.15; *hi = 1; }
}

static void draw_type_dust(const pz_mock_params *p, int cls, double z, gsl_rng *rng, double *t, double *ebv)
{
    if (cls == PZ_OBJ_RED) {
        *t = gsl_rng_uniform(rng) * p->red_t_max;
        *ebv = fabs(gsl_ran_gaussian_ziggurat(rng, p->red_ebv_mean * sqrt(M_PI / 2)));
    } else {
        double mean = p->blue_t_mean0 + p->blue_t_zslope * fmin(z, p->lf_z_sat);
        *t = fmin(1.0, fmax(0.15, mean + p->blue_t_sigma * gsl_ran_gaussian_ziggurat(rng, 1.0)));
        *ebv = gsl_ran_exponential(rng, p->blue_ebv_mean);
    }
    if (*ebv > p->ebv_max) *ebv = p->ebv_max;
}

static size_t cell_index(const pz_mock_sampler *s, int cls, int iz, int im)
{
    return ((size_t)cls * s->nz + iz) * s->nm + im;
}

/* Proposal weights phi dV dz dM; cells that cannot reach m_lim for any type and dust are 0. */
static void fill_weights(pz_mock_sampler *s)
{
    const pz_mock_params *p = s->p;
    double acc = 0;
    for (int cls = 0; cls < 2; cls++) {
        double tlo, thi;
        class_t_range(p, cls, &tlo, &thi);
        for (int iz = 0; iz < s->nz; iz++) {
            double z0 = p->zmin + iz * SZ_STEP, z1 = z0 + SZ_STEP, zc = z0 + SZ_STEP / 2;
            double kmin = fmin(pz_mock_kcorr_min_i(s->kg, z0, tlo, thi),
                               fmin(pz_mock_kcorr_min_i(s->kg, zc, tlo, thi), pz_mock_kcorr_min_i(s->kg, z1, tlo, thi)));
            double dm = pz_mock_distmod(s->c, z0), dv = pz_mock_dvdz(s->c, zc) * SZ_STEP;
            for (int im = 0; im < s->nm; im++) {
                double m0 = p->lf_mbright + im * SM_STEP;
                double w = 0;
                /* 0.3 mag of margin covers K varying inside a cell. */
                if (m0 + dm + kmin - 0.3 < s->m_lim) w = schechter(p, cls, m0 + SM_STEP / 2, zc) * dv * SM_STEP;
                acc += w;
                s->cdf[cell_index(s, cls, iz, im)] = acc;
            }
        }
    }
    s->total = acc;
}

static int draw_candidate(const pz_mock_sampler *s, gsl_rng *rng, pz_mock_obj *o)
{
    const pz_mock_params *p = s->p;
    double u = gsl_rng_uniform(rng) * s->total;
    size_t lo = 0, hi = s->ncell - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->cdf[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    int cls = (int)(lo / ((size_t)s->nz * s->nm));
    int iz = (int)(lo / s->nm % s->nz), im = (int)(lo % s->nm);
    double z = p->zmin + (iz + gsl_rng_uniform(rng)) * SZ_STEP;
    double absmag = p->lf_mbright + (im + gsl_rng_uniform(rng)) * SM_STEP;
    double t, ebv, k[PZ_NBANDS];
    draw_type_dust(p, cls, z, rng, &t, &ebv);
    pz_mock_kcorr(s->kg, z, t, ebv, k);
    double dm = pz_mock_distmod(s->c, z);
    if (absmag + dm + k[2] > s->m_lim) return 0;
    memset(o, 0, sizeof *o);
    o->z = (float)z;
    o->t = (float)t;
    o->ebv = (float)ebv;
    o->absmag = (float)absmag;
    o->cls = (uint8_t)cls;
    for (int b = 0; b < PZ_NBANDS; b++) o->mag[b] = (float)fmin(absmag + dm + k[b], 99.0);
    /* Sizes: r_e ~ L^slope (1+z)^index with log-normal scatter; Sersic n by class. */
    double r0 = cls == PZ_OBJ_RED ? p->size_red_kpc : p->size_blue_kpc;
    double zi = cls == PZ_OBJ_RED ? p->size_red_zindex : p->size_blue_zindex;
    double re_kpc = r0 * pow(10, -0.4 * p->size_lum_slope * (absmag + 21)) * pow(1 + z, zi) *
                    pow(10, p->size_scatter_dex * gsl_ran_gaussian_ziggurat(rng, 1.0));
    o->r_half = (float)(re_kpc / pz_mock_dang_kpc(s->c, z) * 206264.8);
    o->ellip = (float)(gsl_rng_uniform(rng) * (cls == PZ_OBJ_RED ? 0.4 : 0.7));
    o->pa = (float)(gsl_rng_uniform(rng) * 180.0);
    o->sersic = (float)fmax(0.5, (cls == PZ_OBJ_RED ? 4.0 : 1.0) * exp(0.25 * gsl_ran_gaussian_ziggurat(rng, 1.0)));
    return 1;
}

void pz_mock_draw_galaxy(const pz_mock_sampler *s, gsl_rng *rng, pz_mock_obj *o)
{
    while (!draw_candidate(s, rng, o)) {}
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

pz_mock_sampler *pz_mock_sampler_new(const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_cosmo *c,
                                     double m_lim, pz_err *err)
{
    pz_mock_sampler *s = pz_xcalloc(1, sizeof *s);
    s->p = p;
    s->kg = kg;
    s->c = c;
    s->m_lim = m_lim;
    s->nz = (int)ceil((p->zmax - p->zmin) / SZ_STEP);
    s->nm = (int)ceil((p->lf_mfaint - p->lf_mbright) / SM_STEP);
    s->ncell = (size_t)2 * s->nz * s->nm;
    s->cdf = pz_xmalloc(s->ncell * sizeof(double));
    fill_weights(s);
    if (!(s->total > 0)) {
        pz_mock_sampler_free(s);
        return pz_errf(err, "mock sky: no galaxy can be brighter than i=%.2f with these LF/redshift params", m_lim), NULL;
    }
    /* Pilot sample with a fixed seed: acceptance (for the surface density) and the magnitude
     * distribution (for rates defined per magnitude range, e.g. X-ray hosts). */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 20240601);
    size_t tries = 0, want = 20000;
    s->pilot_mi = pz_xmalloc(want * sizeof(double));
    pz_mock_obj o;
    while (s->npilot < want && tries < 50 * want) {
        tries++;
        if (draw_candidate(s, rng, &o)) s->pilot_mi[s->npilot++] = o.mag[2];
    }
    gsl_rng_free(rng);
    if (s->npilot < want / 10) {
        pz_mock_sampler_free(s);
        return pz_errf(err, "mock sky: magnitude cut i<%.2f accepts almost nothing (%zu of %zu draws)", m_lim,
                       (size_t)0, tries), NULL;
    }
    s->accept = (double)s->npilot / tries;
    qsort(s->pilot_mi, s->npilot, sizeof(double), cmp_double);
    return s;
}

void pz_mock_sampler_free(pz_mock_sampler *s)
{
    if (!s) return;
    free(s->cdf);
    free(s->pilot_mi);
    free(s);
}

double pz_mock_sampler_density(const pz_mock_sampler *s) { return s->total * s->accept * SR_PER_DEG2; }

double pz_mock_sampler_frac_brighter(const pz_mock_sampler *s, double m)
{
    size_t lo = 0, hi = s->npilot;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->pilot_mi[mid] < m) lo = mid + 1;
        else hi = mid;
    }
    return (double)lo / s->npilot;
}

/* ---- stars ---- */

double pz_mock_star_density(const pz_mock_params *p, double m_lo, double m_hi)
{
    double a = p->star_density_i20, s = p->star_count_slope * M_LN10;
    if (m_hi <= m_lo) return 0;
    return a / s * (exp(s * (m_hi - 20)) - exp(s * (m_lo - 20)));
}

void pz_mock_draw_star(const pz_mock_params *p, const pz_mock_kgrid *kg, double m_lo, double m_hi, gsl_rng *rng,
                       pz_mock_obj *o)
{
    double s = p->star_count_slope * M_LN10, u = gsl_rng_uniform(rng);
    double mi = 20 + log(exp(s * (m_lo - 20)) + u * (exp(s * (m_hi - 20)) - exp(s * (m_lo - 20)))) / s;
    /* Faint high-latitude stars: halo turn-off stars and K/M dwarfs (rough Besancon-like mix). */
    double v = gsl_rng_uniform(rng), teff;
    if (v < 0.45) teff = 5200 + 1300 * gsl_rng_uniform(rng);
    else if (v < 0.9) teff = 2900 + 1600 * gsl_rng_uniform(rng);
    else teff = 6500 + 3000 * gsl_rng_uniform(rng);
    double col[PZ_NBANDS];
    pz_mock_star_colours(kg, teff, col);
    memset(o, 0, sizeof *o);
    o->cls = PZ_OBJ_STAR;
    o->t = (float)teff;
    for (int b = 0; b < PZ_NBANDS; b++) o->mag[b] = (float)(mi + col[b]);
}

/* formats.md: k(HSC g,r,i,z,y) used by COSMOS2020 for F * 10^(0.4 k EBV). */
const double pz_mock_mw_k[PZ_NBANDS] = {3.69, 2.715, 2.0, 1.515, 1.298};

static double ebv_at(const pz_mock_params *p, double ra, double dec)
{
    /* A smooth foreground: gradient plus a gentle ripple (the SFD map varies on degree scales). */
    return p->ebv_mw_mean + p->ebv_mw_gradient * (dec - p->field_dec) +
           0.002 * sin(2.1 * (ra - p->field_ra)) * cos(1.7 * (dec - p->field_dec));
}

void pz_mock_apply_mw(const pz_mock_params *p, pz_mock_obj *o)
{
    o->ebv_mw = (float)ebv_at(p, o->ra, o->dec);
    for (int b = 0; b < PZ_NBANDS; b++) o->mag[b] += (float)(pz_mock_mw_k[b] * o->ebv_mw);
}

/* ---- the COSMOS field ---- */

typedef struct { double ra, dec, r_deg; } mask_circle;

struct pz_mock_field {
    double ra0, dec0, half_dec, half_ra, cosd;
    double uv_half_dec, uv_half_ra;
    double stripe_w; /* ultra-deep stripe width, deg of RA; 4 stripes */
    mask_circle *hsc, *sup;
    size_t nhsc, nsup;
};

static mask_circle *draw_masks(const pz_mock_params *p, const pz_mock_field *f, double density, gsl_rng *rng, size_t *n)
{
    double area = 4 * (f->half_dec + 0.1) * (f->half_ra + 0.1) * f->cosd;
    *n = gsl_ran_poisson(rng, density * area);
    mask_circle *m = pz_xmalloc((*n ? *n : 1) * sizeof *m);
    for (size_t i = 0; i < *n; i++) {
        m[i].ra = f->ra0 + (2 * gsl_rng_uniform(rng) - 1) * (f->half_ra + 0.1);
        m[i].dec = f->dec0 + (2 * gsl_rng_uniform(rng) - 1) * (f->half_dec + 0.1);
        double lr = log(p->mask_rmin_arcsec) + gsl_rng_uniform(rng) * log(p->mask_rmax_arcsec / p->mask_rmin_arcsec);
        m[i].r_deg = exp(lr) / 3600.0;
    }
    return m;
}

pz_mock_field *pz_mock_field_new(const pz_mock_params *p, gsl_rng *rng)
{
    pz_mock_field *f = pz_xcalloc(1, sizeof *f);
    f->ra0 = p->field_ra;
    f->dec0 = p->field_dec;
    f->cosd = cos(p->field_dec * M_PI / 180);
    double side = sqrt(p->field_area_deg2);
    f->half_dec = side / 2;
    f->half_ra = side / 2 / f->cosd;
    double s = sqrt(p->uvista_area_fraction);
    f->uv_half_dec = f->half_dec * s;
    f->uv_half_ra = f->half_ra * s;
    f->stripe_w = 2 * f->uv_half_ra * p->udeep_fraction / 4;
    f->hsc = draw_masks(p, f, p->mask_density_deg2, rng, &f->nhsc);
    f->sup = draw_masks(p, f, p->mask_density_deg2 * p->supcam_extra_mask, rng, &f->nsup);
    return f;
}

void pz_mock_field_free(pz_mock_field *f)
{
    if (!f) return;
    free(f->hsc);
    free(f->sup);
    free(f);
}

void pz_mock_field_position(const pz_mock_field *f, double margin, gsl_rng *rng, double *ra, double *dec, int *in_core)
{
    double hd = f->half_dec + margin, hr = f->half_ra + margin / f->cosd;
    double s0 = sin((f->dec0 - hd) * M_PI / 180), s1 = sin((f->dec0 + hd) * M_PI / 180);
    *dec = asin(s0 + gsl_rng_uniform(rng) * (s1 - s0)) * 180 / M_PI;
    *ra = f->ra0 + (2 * gsl_rng_uniform(rng) - 1) * hr;
    *in_core = fabs(*dec - f->dec0) <= f->half_dec && fabs(*ra - f->ra0) <= f->half_ra;
}

static int in_masks(const mask_circle *m, size_t n, double ra, double dec, double cosd)
{
    for (size_t i = 0; i < n; i++) {
        double dd = dec - m[i].dec;
        if (fabs(dd) > m[i].r_deg) continue;
        double dr = (ra - m[i].ra) * cosd;
        if (dr * dr + dd * dd < m[i].r_deg * m[i].r_deg) return 1;
    }
    return 0;
}

int pz_mock_field_in_hsc_mask(const pz_mock_field *f, double ra, double dec)
{
    return in_masks(f->hsc, f->nhsc, ra, dec, f->cosd);
}

uint8_t pz_mock_field_flags(const pz_mock_field *f, double ra, double dec)
{
    uint8_t fl = 0;
    if (in_masks(f->hsc, f->nhsc, ra, dec, f->cosd)) fl |= PZ_OF_MASK_HSC;
    if (fl || in_masks(f->sup, f->nsup, ra, dec, f->cosd)) fl |= PZ_OF_MASK_SUPCAM; /* HSC holes are Suprime-Cam holes too */
    double dra = ra - f->ra0;
    if (fabs(dec - f->dec0) > f->uv_half_dec || fabs(dra) > f->uv_half_ra) fl |= PZ_OF_OUT_UVISTA;
    else {
        /* Four equally spaced ultra-deep stripes across RA (UltraVISTA DR4 layout). */
        double pitch = 2 * f->uv_half_ra / 4, x = fmod(dra + f->uv_half_ra, pitch);
        if (x < f->stripe_w) fl |= PZ_OF_UDEEP;
    }
    return fl;
}

void pz_mock_field_xy(const pz_mock_field *f, double ra, double dec, double *x, double *y)
{
    *x = (f->ra0 + f->half_ra - ra) * f->cosd * 3600; /* RA grows to the east = left */
    *y = (dec - (f->dec0 - f->half_dec)) * 3600;
}

pz_mock_obj *pz_mock_cosmos_population(const pz_mock_params *p, const pz_mock_kgrid *kg, const pz_mock_cosmo *c,
                                       const pz_mock_field *f, gsl_rng *rng, pz_mock_sampler **gal_sampler,
                                       double *star_fraction, pz_err *err)
{
    pz_mock_sampler *s = pz_mock_sampler_new(p, kg, c, p->det_mag, err);
    if (!s) return NULL;
    double dgal = pz_mock_sampler_density(s), dstar = pz_mock_star_density(p, p->star_mag_bright, p->det_mag);
    double fstar = dstar / (dstar + dgal);
    /* X-ray hosts: Chandra density over the density of galaxies bright enough to host them. */
    double dbright = dgal * pz_mock_sampler_frac_brighter(s, p->xray_mag_max);
    double pxray = dbright > 0 ? fmin(1.0, p->xray_density_deg2 / dbright) : 0;
    size_t n = (size_t)p->n_cosmos;
    pz_mock_obj *objs = pz_xmalloc(n * sizeof *objs);
    for (size_t i = 0; i < n; i++) {
        pz_mock_obj *o = &objs[i];
        if (gsl_rng_uniform(rng) < fstar) pz_mock_draw_star(p, kg, p->star_mag_bright, p->det_mag, rng, o);
        else pz_mock_draw_galaxy(s, rng, o);
        int core;
        pz_mock_field_position(f, 0, rng, &o->ra, &o->dec, &core);
        o->flags = pz_mock_field_flags(f, o->ra, o->dec);
        if (o->cls != PZ_OBJ_STAR && o->mag[2] < p->xray_mag_max && gsl_rng_uniform(rng) < pxray) o->flags |= PZ_OF_XRAY;
        pz_mock_apply_mw(p, o);
    }
    *gal_sampler = s;
    *star_fraction = fstar;
    return objs;
}
