/* Parametric SEDs and synthetic HSC photometry (see mock_sed.h for the model). */
#include "mock/mock_sed.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

const char *const pz_band_names[PZ_NBANDS] = {"g", "r", "i", "z", "y"};

/* Log-wavelength sampling: 0.2% steps (10 A at 5000 A) resolve the breaks and band edges; the
 * redshift grid steps by two wavelength steps so a redshift is an exact index shift. */
#define DLNL 0.002
#define ZSTEP_SHIFT 2
#define LAM_OBS_MIN 3500.0
#define LAM_OBS_MAX 11500.0
#define GRID_ZMAX 7.0
#define NT 21                 /* type steps of 0.05 */
#define ND 13                 /* E(B-V) steps of ebv_max/12 */
#define NTEFF 191             /* star temperatures 2500..12000 K step 50 */

struct pz_mock_kgrid {
    int nk, nt, nd;
    double ebv_step;
    float *k;                 /* [((ik*NT + it)*ND + id)*5 + b] */
    float star[NTEFF][PZ_NBANDS];
};

static const double line_lam[] = {1215.67, 3727.4, 4861.3, 4958.9, 5006.8, 6562.8};
enum { L_LYA, L_OII, L_HB, L_O3A, L_O3B, L_HA, NLINES };

static double anchor_interp(const double a[4], double t)
{
    if (t <= 0) return a[0];
    if (t >= 1) return a[3];
    double u = t * 3;
    int i = (int)u;
    if (i > 2) i = 2;
    double f = u - i;
    return a[i] * (1 - f) + a[i + 1] * f;
}

double pz_mock_continuum(const pz_mock_params *p, double t, double lam)
{
    if (lam < 912.0) return 0; /* galaxies are opaque to ionising photons */
    const double buv[4] = {p->sed_e_beta_uv, p->sed_sbc_beta_uv, p->sed_scd_beta_uv, p->sed_sb_beta_uv};
    const double d4[4] = {p->sed_e_d4000, p->sed_sbc_d4000, p->sed_scd_d4000, p->sed_sb_d4000};
    const double bop[4] = {p->sed_e_beta_opt, p->sed_sbc_beta_opt, p->sed_scd_beta_opt, p->sed_sb_beta_opt};
    const double bbo[4] = {p->sed_e_beta_bo, p->sed_sbc_beta_bo, p->sed_scd_beta_bo, p->sed_sb_beta_bo};
    double beta_uv = anchor_interp(buv, t), d4000 = anchor_interp(d4, t), beta_opt = anchor_interp(bop, t);
    double beta_bo = anchor_interp(bbo, t);
    /* The break moves from 4000 A (metal absorption of old stars) to the 3646 A Balmer edge
     * (A stars) as the population gets younger. */
    double lam_b = 4000.0 - 350.0 * t, width = 50.0;
    /* Above the break: one slope up to 5500 A (line blanketing of the blue optical), another beyond. */
    double ln_red = (lam < 5500.0 ? beta_bo : beta_opt) * log(lam / 5500.0);
    double ln_blue = beta_bo * log(lam_b / 5500.0) - log(d4000) + beta_uv * log(lam / lam_b);
    double s = 1.0 / (1.0 + exp(-(lam - lam_b) / width));
    return exp(s * ln_red + (1 - s) * ln_blue);
}

double pz_mock_calzetti_k(double lam, double rv)
{
    double x = lam / 1e4; /* micron */
    if (x >= 0.63) {
        double k = 2.659 * (-1.857 + 1.040 / x) + rv;
        return k > 0 ? k : 0;
    }
    if (x >= 0.12) return 2.659 * (-2.156 + 1.509 / x - 0.198 / (x * x) + 0.011 / (x * x * x)) + rv;
    /* Below 1200 A extend linearly with the slope between 1100 and 1200 A. */
    double k12 = pz_mock_calzetti_k(1200.0, rv), k11 = 2.659 * (-2.156 + 1.509 / 0.11 - 0.198 / 0.0121 + 0.011 / 0.001331) + rv;
    return k12 + (k11 - k12) * (0.12 - x) / 0.01;
}

double pz_mock_igm_transmission(double lam_obs, double z, double scale)
{
    /* Madau (1995, ApJ 441, 18): Lyman-series blanketing A_j (lam/lam_j)^3.46 between lam_j and
     * lam_j (1+z), plus the mean photoelectric optical depth below the redshifted Lyman limit. */
    static const double lam_j[4] = {1215.67, 1025.72, 972.537, 949.743};
    static const double a_j[4] = {3.6e-3, 1.7e-3, 1.2e-3, 9.3e-4};
    double tau = 0;
    for (int j = 0; j < 4; j++)
        if (lam_obs < lam_j[j] * (1 + z) && lam_obs > lam_j[j]) tau += a_j[j] * pow(lam_obs / lam_j[j], 3.46);
    double xc = lam_obs / 911.75, xe = 1 + z;
    if (xc < xe && xc > 1) {
        tau += 0.25 * pow(xc, 3) * (pow(xe, 0.46) - pow(xc, 0.46)) + 9.4 * pow(xc, 1.5) * (pow(xe, 0.18) - pow(xc, 0.18)) -
               0.7 * pow(xc, 3) * (pow(xc, -1.32) - pow(xe, -1.32)) - 0.023 * (pow(xe, 1.68) - pow(xc, 1.68));
    }
    return exp(-scale * (tau > 0 ? tau : 0));
}

static double tophat(double lam, double center, double width, double edge)
{
    double lo = center - width / 2, hi = center + width / 2;
    return 1.0 / ((1 + exp(-(lam - lo) / edge)) * (1 + exp((lam - hi) / edge)));
}

double pz_mock_band_trans(const pz_mock_params *p, int b, double lam)
{
    const double *cw = &p->band_g_center; /* centre, width pairs in g,r,i,z,y order */
    return tophat(lam, cw[2 * b], cw[2 * b + 1], p->band_edge);
}

/* Equivalent width (rest, A) of each line for type t at redshift z. */
static void line_ews(const pz_mock_params *p, double t, double z, double ew[NLINES])
{
    const double ha[4] = {p->sed_e_ew_ha, p->sed_sbc_ew_ha, p->sed_scd_ew_ha, p->sed_sb_ew_ha};
    double evol = pow(1 + fmin(z, p->ew_evol_zcap), p->ew_evol_index);
    double ew_ha = anchor_interp(ha, t) * evol;
    double o3hb = p->line_o3hb_e + (p->line_o3hb_sb - p->line_o3hb_e) * t;
    ew[L_HA] = ew_ha;
    ew[L_HB] = p->line_hb_ha * ew_ha;
    ew[L_OII] = p->line_oii_ha * ew_ha;
    ew[L_O3B] = o3hb * ew[L_HB];
    ew[L_O3A] = ew[L_O3B] / 2.98;
    ew[L_LYA] = p->line_lya_sb * t * t;
}

typedef struct {
    int no, nr, smax;          /* observed / rest grid sizes, largest shift */
    double *lam_obs, *lam_rest;
    double *w[PZ_NBANDS];      /* T(lam) lam^2 dlnl / N_b on the observed grid */
    int lo[PZ_NBANDS], hi[PZ_NBANDS];
    double norm[PZ_NBANDS];    /* N_b = sum T dlnl */
} obs_grid;

static void obs_grid_init(obs_grid *g, const pz_mock_params *p, int nk)
{
    g->no = (int)(log(LAM_OBS_MAX / LAM_OBS_MIN) / DLNL) + 1;
    g->smax = (nk - 1) * ZSTEP_SHIFT;
    g->nr = g->no + g->smax;
    g->lam_obs = pz_xmalloc(g->no * sizeof(double));
    g->lam_rest = pz_xmalloc(g->nr * sizeof(double));
    for (int j = 0; j < g->no; j++) g->lam_obs[j] = LAM_OBS_MIN * exp(j * DLNL);
    for (int i = 0; i < g->nr; i++) g->lam_rest[i] = LAM_OBS_MIN * exp((i - g->smax) * DLNL);
    for (int b = 0; b < PZ_NBANDS; b++) {
        g->w[b] = pz_xcalloc(g->no, sizeof(double));
        g->norm[b] = 0;
        g->lo[b] = g->no;
        g->hi[b] = 0;
        for (int j = 0; j < g->no; j++) {
            double tr = pz_mock_band_trans(p, b, g->lam_obs[j]);
            if (tr < 1e-6) continue;
            g->norm[b] += tr * DLNL;
            g->w[b][j] = tr * g->lam_obs[j] * g->lam_obs[j] * DLNL;
            if (j < g->lo[b]) g->lo[b] = j;
            if (j >= g->hi[b]) g->hi[b] = j + 1;
        }
        for (int j = 0; j < g->no; j++) g->w[b][j] /= g->norm[b];
    }
}

static void obs_grid_free(obs_grid *g)
{
    free(g->lam_obs);
    free(g->lam_rest);
    for (int b = 0; b < PZ_NBANDS; b++) free(g->w[b]);
}

/* Band average of the rest-frame B reference band (I_ref) at rest: continuum part and line
 * part for EWs without redshift evolution (the evolution factor multiplies the latter). */
static void ref_flux(const pz_mock_params *p, double t, double ebv, double *cont_part, double *line_part)
{
    double num = 0, norm = 0;
    for (double lam = p->ref_center - p->ref_width; lam <= p->ref_center + p->ref_width; lam += 2.0) {
        double tr = tophat(lam, p->ref_center, p->ref_width, p->band_edge);
        double f = pz_mock_continuum(p, t, lam) * pow(10, -0.4 * pz_mock_calzetti_k(lam, p->calzetti_rv) * ebv);
        num += f * tr * lam * 2.0;
        norm += tr / lam * 2.0;
    }
    double ew[NLINES], lines = 0;
    line_ews(p, t, 0.0, ew); /* (1+0)^index = 1 */
    for (int l = 0; l < NLINES; l++) {
        if (l == L_LYA) continue; /* far outside B; its EW does not evolve */
        double lam = line_lam[l];
        double cont = pz_mock_continuum(p, t, lam) * pow(10, -0.4 * pz_mock_calzetti_k(lam, p->calzetti_rv) * ebv);
        lines += ew[l] * cont * tophat(lam, p->ref_center, p->ref_width, p->band_edge) * lam;
    }
    *cont_part = num / norm;
    *line_part = lines / norm;
}

/* Everything that does not depend on redshift, computed once per (type, E(B-V)). */
typedef struct {
    double *cont, *att;                 /* [it][nr], [id][nr] on the rest grid */
    double ref_cont[NT][ND], ref_line[NT][ND];
    double line_cont[NT][ND][NLINES];  /* attenuated continuum at each line */
} rest_tables;

static void rest_tables_init(rest_tables *r, const pz_mock_params *p, const obs_grid *og, double ebv_step)
{
    r->cont = pz_xmalloc((size_t)NT * og->nr * sizeof(double));
    r->att = pz_xmalloc((size_t)ND * og->nr * sizeof(double));
    for (int it = 0; it < NT; it++)
        for (int i = 0; i < og->nr; i++) r->cont[(size_t)it * og->nr + i] = pz_mock_continuum(p, it / (NT - 1.0), og->lam_rest[i]);
    for (int id = 0; id < ND; id++)
        for (int i = 0; i < og->nr; i++)
            r->att[(size_t)id * og->nr + i] = pow(10, -0.4 * pz_mock_calzetti_k(og->lam_rest[i], p->calzetti_rv) * id * ebv_step);
    for (int it = 0; it < NT; it++)
        for (int id = 0; id < ND; id++) {
            double t = it / (NT - 1.0), ebv = id * ebv_step;
            ref_flux(p, t, ebv, &r->ref_cont[it][id], &r->ref_line[it][id]);
            for (int l = 0; l < NLINES; l++)
                r->line_cont[it][id][l] = pz_mock_continuum(p, t, line_lam[l]) *
                                          pow(10, -0.4 * pz_mock_calzetti_k(line_lam[l], p->calzetti_rv) * ebv);
        }
}

static void fill_kgrid(pz_mock_kgrid *kg, const pz_mock_params *p, const obs_grid *og)
{
    rest_tables *r = pz_xmalloc(sizeof *r);
    rest_tables_init(r, p, og, kg->ebv_step);
    double *igm = pz_xmalloc(og->no * sizeof(double));
    double *prod = pz_xmalloc(og->no * sizeof(double));
    for (int ik = 0; ik < kg->nk; ik++) {
        double opz = exp(ik * ZSTEP_SHIFT * DLNL), z = opz - 1;
        double evol = pow(1 + fmin(z, p->ew_evol_zcap), p->ew_evol_index);
        int shift = ik * ZSTEP_SHIFT;
        for (int j = 0; j < og->no; j++) igm[j] = pz_mock_igm_transmission(og->lam_obs[j], z, p->igm_scale);
        /* Per band and line: observed transmission x IGM x (1+z) lam_obs / N_b. */
        double lw[PZ_NBANDS][NLINES];
        for (int l = 0; l < NLINES; l++) {
            double lo = line_lam[l] * opz, tigm = pz_mock_igm_transmission(lo, z, p->igm_scale);
            for (int b = 0; b < PZ_NBANDS; b++) lw[b][l] = opz * pz_mock_band_trans(p, b, lo) * lo * tigm / og->norm[b];
        }
        for (int it = 0; it < NT; it++) {
            double t = it / (NT - 1.0), ew[NLINES];
            line_ews(p, t, z, ew);
            const double *c = r->cont + (size_t)it * og->nr + og->smax - shift; /* c[j]: continuum at lam_obs[j]/(1+z) */
            for (int id = 0; id < ND; id++) {
                const double *a = r->att + (size_t)id * og->nr + og->smax - shift;
                double iref = r->ref_cont[it][id] + evol * r->ref_line[it][id];
                for (int j = 0; j < og->no; j++) prod[j] = c[j] * a[j] * igm[j];
                for (int b = 0; b < PZ_NBANDS; b++) {
                    double s = 0;
                    for (int j = og->lo[b]; j < og->hi[b]; j++) s += prod[j] * og->w[b][j];
                    for (int l = 0; l < NLINES; l++) s += ew[l] * r->line_cont[it][id][l] * lw[b][l];
                    double k = s > 0 ? -2.5 * log10(s / (opz * iref)) : 99.0;
                    kg->k[((size_t)(ik * NT + it) * ND + id) * PZ_NBANDS + b] = (float)fmin(k, 99.0);
                }
            }
        }
    }
    free(r->cont);
    free(r->att);
    free(r);
    free(igm);
    free(prod);
}

static void fill_stars(pz_mock_kgrid *kg, const obs_grid *og)
{
    const double hc_k = 1.438777e8; /* h c / k in A K */
    for (int s = 0; s < NTEFF; s++) {
        double teff = 2500.0 + 50.0 * s, flux[PZ_NBANDS];
        for (int b = 0; b < PZ_NBANDS; b++) {
            flux[b] = 0;
            for (int j = og->lo[b]; j < og->hi[b]; j++) {
                double lam = og->lam_obs[j];
                flux[b] += og->w[b][j] / (pow(lam / 5000.0, 5) * expm1(hc_k / (lam * teff)));
            }
        }
        for (int b = 0; b < PZ_NBANDS; b++) kg->star[s][b] = (float)(-2.5 * log10(flux[b] / flux[2]));
    }
}

pz_mock_kgrid *pz_mock_kgrid_build(const pz_mock_params *p, pz_err *err)
{
    pz_mock_kgrid *kg = pz_xcalloc(1, sizeof *kg);
    kg->nk = (int)(log(1 + GRID_ZMAX) / (ZSTEP_SHIFT * DLNL)) + 2;
    kg->nt = NT;
    kg->nd = ND;
    kg->ebv_step = p->ebv_max / (ND - 1);
    kg->k = pz_xmalloc((size_t)kg->nk * NT * ND * PZ_NBANDS * sizeof(float));
    obs_grid og;
    obs_grid_init(&og, p, kg->nk);
    for (int b = 0; b < PZ_NBANDS; b++)
        if (og.norm[b] <= 0) {
            obs_grid_free(&og);
            pz_mock_kgrid_free(kg);
            return pz_errf(err, "band %s: empty band pass (check band_%s_center/width)", pz_band_names[b], pz_band_names[b]),
                   NULL;
        }
    fill_kgrid(kg, p, &og);
    fill_stars(kg, &og);
    obs_grid_free(&og);
    return kg;
}

void pz_mock_kgrid_free(pz_mock_kgrid *g)
{
    if (!g) return;
    free(g->k);
    free(g);
}

static void locate(double x, int n, int *i, double *f)
{
    if (x <= 0) { *i = 0; *f = 0; return; }
    if (x >= n - 1) { *i = n - 2; *f = 1; return; }
    *i = (int)x;
    *f = x - *i;
}

void pz_mock_kcorr(const pz_mock_kgrid *g, double z, double t, double ebv, double k[PZ_NBANDS])
{
    int ik, it, id;
    double fk, ft, fd;
    locate(log1p(z) / (ZSTEP_SHIFT * DLNL), g->nk, &ik, &fk);
    locate(t * (NT - 1), NT, &it, &ft);
    locate(ebv / g->ebv_step, ND, &id, &fd);
    for (int b = 0; b < PZ_NBANDS; b++) k[b] = 0;
    for (int c = 0; c < 8; c++) {
        int dk = c & 1, dt = (c >> 1) & 1, dd = (c >> 2) & 1;
        double w = (dk ? fk : 1 - fk) * (dt ? ft : 1 - ft) * (dd ? fd : 1 - fd);
        if (w == 0) continue;
        const float *v = g->k + ((size_t)((ik + dk) * NT + it + dt) * ND + id + dd) * PZ_NBANDS;
        for (int b = 0; b < PZ_NBANDS; b++) k[b] += w * v[b];
    }
}

double pz_mock_kcorr_min_i(const pz_mock_kgrid *g, double z, double tlo, double thi)
{
    int ik;
    double fk;
    locate(log1p(z) / (ZSTEP_SHIFT * DLNL), g->nk, &ik, &fk);
    int t0 = (int)floor(tlo * (NT - 1)), t1 = (int)ceil(thi * (NT - 1));
    if (t0 < 0) t0 = 0;
    if (t1 > NT - 1) t1 = NT - 1;
    double m = DBL_MAX;
    for (int dk = 0; dk < 2; dk++)
        for (int it = t0; it <= t1; it++)
            for (int id = 0; id < ND; id++) {
                double v = g->k[((size_t)((ik + dk) * NT + it) * ND + id) * PZ_NBANDS + 2];
                if (v < m) m = v;
            }
    return m;
}

void pz_mock_star_colours(const pz_mock_kgrid *g, double teff, double c[PZ_NBANDS])
{
    int i;
    double f;
    locate((teff - 2500.0) / 50.0, NTEFF, &i, &f);
    for (int b = 0; b < PZ_NBANDS; b++) c[b] = g->star[i][b] * (1 - f) + g->star[i + 1][b] * f;
}
