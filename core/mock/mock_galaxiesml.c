/* GalaxiesML mock: spectroscopic selection, published cuts, splits, HDF5 through the table library. */
#include "mock/mock_galaxiesml.h"

#include <gsl/gsl_randist.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_hsc.h"
#include "table/table.h"
#include "util/progress.h"

#define NMORPH 12
static const char *const morph_names[NMORPH] = {
    "ellipticity", "half_light_radius", "isophotal_area", "major_axis", "minor_axis", "peak_surface_brightness",
    "petro_rad", "pos_angle", "sersic_index", "central_image_pop_5px_rad", "central_image_pop_10px_rad",
    "central_image_pop_15px_rad"};
#define PIX 0.168   /* HSC coadd pixel, arcsec */
#define STAMP 64

enum { C_NONE, C_CMASS, C_VIPERS, C_DEEP2 };
typedef struct {
    const char *name;
    int band;        /* band of the magnitude limit (1 = r, 2 = i) */
    double lim, zerr; /* limit; redshift error / (1+z) */
    int colour;
} survey;

/* Published target selections (magnitude limits, colour cuts mapped onto g,r,i) and redshift
 * precisions; see docs/mock_sky.md for the papers. */
static const survey surveys[7] = {
    {"SDSS", 1, 17.77, 1.0e-4, C_NONE},   {"BOSS", 2, 19.9, 1.5e-4, C_CMASS}, {"GAMA", 1, 19.8, 3.3e-4, C_NONE},
    {"VIPERS", 2, 22.5, 4.7e-4, C_VIPERS}, {"DEEP2", 1, 24.1, 1.0e-4, C_DEEP2}, {"PRIMUS", 2, 23.0, 5.0e-3, C_NONE},
    {"VVDS", 2, 24.0, 5.0e-4, C_NONE}};
static const survey zcosmos = {"zCOSMOS", 2, 22.5, 3.7e-4, C_NONE};

/* Other HSC-Wide fields (centre RA, Dec, half size in deg). */
static const double wide_fields[6][3] = {{35, -4.5, 4}, {135, 1, 4}, {180, 0, 3}, {217.5, 0, 4}, {340, 1, 4}, {245, 43.5, 3}};

typedef struct {
    int64_t object_id, skymap_id;
    double ra, dec, specz, specz_err, specz_ra, specz_dec;
    float specz_mag_i, mag[PZ_NBANDS], magsig[PZ_NBANDS], morph[PZ_NBANDS][NMORPH];
    float flux_counts[PZ_NBANDS], sigma_pix, ellip, pa, noise[PZ_NBANDS];
    uint8_t flag;
    int overlap;
    char name[24], coord[48];
} gml_row;

static int selected(const survey *s, const pz_mock_hscphot *ph)
{
    double g = ph->mag[0], r = ph->mag[1], i = ph->mag[2], m = ph->mag[s->band];
    if (!(m < s->lim)) return 0;
    switch (s->colour) {
    case C_CMASS: {
        double dperp = (r - i) - (g - r) / 8;
        return i > 17.5 && dperp > 0.55 && i < 19.86 + 1.6 * (dperp - 0.8);
    }
    case C_VIPERS: return r - i > 0.45;
    case C_DEEP2: return (g - r < 2.45 * (r - i) - 0.2976) || (r - i > 1.1) || (g - r < 0.5);
    default: return 1;
    }
}

static double success_prob(const survey *s, double m)
{
    if (s->lim < 20) return 0.98;
    return 0.95 / (1 + exp((m - (s->lim - 0.3)) / 0.3));
}

/* The published GalaxiesML cuts (paper.md), row by row. */
static int passes_cuts(const gml_row *r)
{
    if (!(r->specz > 0.01 && r->specz < 4)) return 0;
    if (!(r->specz_err > 0 && r->specz_err < 1 && r->specz_err < 0.005 * (1 + r->specz))) return 0;
    if (!r->flag) return 0;
    for (int b = 0; b < PZ_NBANDS; b++)
        if (!(r->mag[b] > 0 && r->mag[b] < 50)) return 0;
    return r->specz_mag_i > 0 && r->specz_mag_i < 28;
}

static void morphology(const pz_mock_params *p, const pz_mock_obj *o, const pz_mock_hscphot *ph, gsl_rng *rng,
                       gml_row *r)
{
    double sp = p->psf_hsc / 2.3548, sg = o->r_half / 1.1774, st = sqrt(sp * sp + sg * sg);
    double e = o->ellip * sg * sg / (st * st); /* the PSF rounds small galaxies */
    r->sigma_pix = (float)(st / PIX);
    r->ellip = (float)e;
    r->pa = o->pa;
    for (int b = 0; b < PZ_NBANDS; b++) {
        double jitter = exp(0.03 * gsl_ran_gaussian_ziggurat(rng, 1.0));
        double hl = 1.1774 * st / PIX * jitter, major = hl / sqrt(1 - e), minor = major * (1 - e);
        float *m = r->morph[b];
        m[0] = (float)e;
        m[1] = (float)hl;
        m[2] = (float)(M_PI * 4 * major * minor);
        m[3] = (float)major;
        m[4] = (float)minor;
        m[5] = (float)(ph->mag[b] + 2.5 * log10(2 * M_PI * st * st)); /* mag/arcsec2 at the centre */
        m[6] = (float)(2.0 * hl);
        m[7] = o->pa;
        m[8] = o->sersic;
        for (int k = 0; k < 3; k++) {
            double rad = 5.0 * (k + 1) * PIX;
            m[9 + k] = (float)(1 - exp(-rad * rad / (2 * st * st))); /* flux fraction inside the radius */
        }
    }
}

static void make_row(const pz_mock_params *p, const survey *s, const pz_mock_obj *o, const pz_mock_hscphot *ph,
                     double ra, double dec, uint64_t serial, long seq, gsl_rng *rng, gml_row *r)
{
    memset(r, 0, sizeof *r);
    r->ra = ra;
    r->dec = dec;
    r->object_id = pz_mock_hsc_object_id(ra, dec, serial);
    int tract, px, py;
    pz_mock_hsc_tract_patch(ra, dec, &tract, &px, &py);
    r->skymap_id = (int64_t)tract * 10000 + px * 100 + py;
    double z = o->z;
    r->specz_err = s->zerr * (1 + z) * exp(0.3 * gsl_ran_gaussian_ziggurat(rng, 1.0));
    r->specz = z + r->specz_err * gsl_ran_gaussian_ziggurat(rng, 1.0);
    int failed = gsl_rng_uniform(rng) < p->spec_fail_fraction;
    if (failed) /* [OII] taken for Halpha or the reverse */
        r->specz = gsl_rng_uniform(rng) < 0.5 ? (1 + z) * 3727.4 / 6562.8 - 1 : (1 + z) * 6562.8 / 3727.4 - 1;
    r->flag = gsl_rng_uniform(rng) >= p->spec_inhomog_fraction && !(failed && gsl_rng_uniform(rng) < 0.5);
    r->specz_mag_i = (float)(o->mag[2] + p->spec_magi_sigma * gsl_ran_gaussian_ziggurat(rng, 1.0));
    r->specz_ra = o->ra + gsl_ran_gaussian_ziggurat(rng, 0.2 / 3600) / cos(o->dec * M_PI / 180);
    r->specz_dec = o->dec + gsl_ran_gaussian_ziggurat(rng, 0.2 / 3600);
    snprintf(r->name, sizeof r->name, "%s-%08ld", s->name, seq);
    snprintf(r->coord, sizeof r->coord, "(%.6f, %.6f)", ra, dec);
    for (int b = 0; b < PZ_NBANDS; b++) {
        r->mag[b] = (float)ph->mag[b];
        r->magsig[b] = (float)ph->magerr[b];
        r->flux_counts[b] = (float)(ph->flux[b] / 1e-29 * pow(10, 0.4 * (27 - 23.9))); /* zero point 27 */
        r->noise[b] = (float)(ph->fluxerr[b] / 1e-29 * pow(10, 0.4 * (27 - 23.9)));
    }
    morphology(p, o, ph, rng, r);
}

/* ---- generation ---- */

typedef struct {
    const pz_mock_params *p;
    const pz_mock_kgrid *kg;
    const pz_mock_cosmo *c;
    pz_mock_sampler *samplers[7];
    double d5[PZ_NBANDS];
    gsl_rng *rng;
    gml_row *rows;
    size_t n, cap, candidates;
    long seq;
} gen;

static int push(gen *g, const gml_row *r)
{
    g->candidates++;
    if (!passes_cuts(r)) return 0;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->rows = pz_xrealloc(g->rows, g->cap * sizeof *g->rows);
    }
    g->rows[g->n++] = *r;
    return 1;
}

static int overlap_rows(gen *g, const pz_mock_obj *objs, size_t n, size_t want)
{
    size_t *perm = pz_xmalloc((n ? n : 1) * sizeof *perm), got = 0;
    for (size_t i = 0; i < n; i++) perm[i] = i;
    if (n) gsl_ran_shuffle(g->rng, perm, n, sizeof *perm);
    for (size_t k = 0; k < n && got < want; k++) {
        const pz_mock_obj *o = &objs[perm[k]];
        if (o->cls == PZ_OBJ_STAR || o->mag[2] > zcosmos.lim + 0.5) continue;
        pz_mock_hscphot ph;
        pz_mock_hsc_measure(g->p, o, g->d5, g->rng, &ph);
        if (!selected(&zcosmos, &ph) || gsl_rng_uniform(g->rng) >= success_prob(&zcosmos, ph.mag[2])) continue;
        double ra, dec;
        pz_mock_hsc_position(g->p, o, perm[k] + 1, &ra, &dec); /* the object's position in hsc.fits */
        gml_row r;
        make_row(g->p, &zcosmos, o, &ph, ra, dec, perm[k] + 1, ++g->seq, g->rng, &r);
        r.overlap = 1;
        got += (size_t)push(g, &r);
    }
    free(perm);
    return (int)got;
}

static int wide_rows(gen *g, size_t want, pz_err *err)
{
    const pz_mock_params *p = g->p;
    const double *w = &p->spec_w_sdss; /* the seven spec_w_* params, in survey order */
    double wsum = 0;
    for (int s = 0; s < 7; s++) wsum += w[s];
    size_t got = 0, tries = 0, max_tries = 2000 * want + 100000;
    while (got < want) {
        if (++tries > max_tries)
            return pz_errf(err, "GalaxiesML mock: only %zu of %zu galaxies passed the selection and cuts after %zu draws "
                                "(check spec_w_* and the survey limits)", got, want, tries);
        double u = gsl_rng_uniform(g->rng) * wsum;
        int s = 0;
        while (s < 6 && u >= w[s]) u -= w[s++];
        if (!g->samplers[s]) {
            /* Galaxies brighter than the survey limit in i (r-limited surveys: i <= r for almost all). */
            g->samplers[s] = pz_mock_sampler_new(p, g->kg, g->c, surveys[s].lim + 0.3, err);
            if (!g->samplers[s]) return -1;
        }
        pz_mock_obj o;
        pz_mock_draw_galaxy(g->samplers[s], g->rng, &o);
        const double *fd = wide_fields[gsl_rng_uniform_int(g->rng, 6)];
        o.dec = fd[1] + (2 * gsl_rng_uniform(g->rng) - 1) * fd[2];
        o.ra = fd[0] + (2 * gsl_rng_uniform(g->rng) - 1) * fd[2] / cos(o.dec * M_PI / 180);
        o.ebv_mw = (float)(0.01 + 0.05 * gsl_rng_uniform(g->rng)); /* typical high-latitude foreground */
        for (int b = 0; b < PZ_NBANDS; b++) o.mag[b] += (float)(pz_mock_mw_k[b] * o.ebv_mw);
        pz_mock_hscphot ph;
        pz_mock_hsc_measure(p, &o, g->d5, g->rng, &ph);
        if (!selected(&surveys[s], &ph) || gsl_rng_uniform(g->rng) >= success_prob(&surveys[s], ph.mag[surveys[s].band]))
            continue;
        uint64_t serial = 100000000ULL + tries;
        double ra, dec;
        pz_mock_hsc_position(p, &o, serial, &ra, &dec);
        gml_row r;
        make_row(p, &surveys[s], &o, &ph, ra, dec, serial, ++g->seq, g->rng, &r);
        got += (size_t)push(g, &r);
        if (got % 4096 == 0) pz_progress(0.75 + 0.15 * (double)got / want, "galaxiesml: %zu/%zu", got, want);
    }
    return 0;
}

/* ---- writing ---- */

static pz_table *rows_table(const gml_row *rows, const size_t *idx, size_t n, const char *prov)
{
    pz_table *t = pz_table_new(n);
#define COLUMN(nm, ty, w, expr)                                                  \
    do {                                                                         \
        pz_column *c = pz_table_add(t, nm, ty, w);                               \
        for (size_t k = 0; k < n; k++) {                                         \
            const gml_row *r = &rows[idx[k]];                                    \
            expr;                                                                \
        }                                                                        \
        (void)c;                                                                 \
    } while (0)
    COLUMN("object_id", PZ_I64, 0, ((int64_t *)c->data)[k] = r->object_id);
    COLUMN("ra", PZ_F64, 0, ((double *)c->data)[k] = r->ra);
    COLUMN("dec", PZ_F64, 0, ((double *)c->data)[k] = r->dec);
    COLUMN("coord", PZ_STR, 48, memcpy((char *)c->data + k * 48, r->coord, 48));
    COLUMN("skymap_id", PZ_I64, 0, ((int64_t *)c->data)[k] = r->skymap_id);
    COLUMN("specz_redshift", PZ_F64, 0, ((double *)c->data)[k] = r->specz);
    COLUMN("specz_redshift_err", PZ_F64, 0, ((double *)c->data)[k] = r->specz_err);
    COLUMN("specz_mag_i", PZ_F64, 0, ((double *)c->data)[k] = r->specz_mag_i);
    COLUMN("specz_ra", PZ_F64, 0, ((double *)c->data)[k] = r->specz_ra);
    COLUMN("specz_dec", PZ_F64, 0, ((double *)c->data)[k] = r->specz_dec);
    COLUMN("specz_flag_homogeneous", PZ_BOOL, 0, ((uint8_t *)c->data)[k] = r->flag);
    COLUMN("specz_name", PZ_STR, 24, memcpy((char *)c->data + k * 24, r->name, 24));
    char nm[64];
    for (int b = 0; b < PZ_NBANDS; b++) {
        snprintf(nm, sizeof nm, "%s_cmodel_mag", pz_band_names[b]);
        COLUMN(nm, PZ_F32, 0, ((float *)c->data)[k] = r->mag[b]);
        snprintf(nm, sizeof nm, "%s_cmodel_magsigma", pz_band_names[b]);
        COLUMN(nm, PZ_F32, 0, ((float *)c->data)[k] = r->magsig[b]);
    }
    for (int b = 0; b < PZ_NBANDS; b++)
        for (int m = 0; m < NMORPH; m++) {
            snprintf(nm, sizeof nm, "%s_%s", pz_band_names[b], morph_names[m]);
            COLUMN(nm, PZ_F32, 0, ((float *)c->data)[k] = r->morph[b][m]);
        }
#undef COLUMN
    if (prov) pz_table_set_attr(t, "pzflow_provenance", prov);
    return t;
}

/* Postage stamps: PSF-convolved elliptical Gaussians (counts, zero point 27) plus sky noise. */
static int write_images(const char *path, const gml_row *rows, const size_t *idx, size_t n, gsl_rng *rng, pz_err *err)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return pz_errf(err, "%s: cannot reopen to add images", path);
    hsize_t dims[4] = {n, PZ_NBANDS, STAMP, STAMP};
    hid_t space = H5Screate_simple(4, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t ds = H5Dcreate2(f, "image", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = ds < 0 ? pz_errf(err, "%s: cannot create dataset 'image'", path) : 0;
    float *img = pz_xmalloc(PZ_NBANDS * STAMP * STAMP * sizeof(float));
    for (size_t k = 0; k < n && !rc; k++) {
        const gml_row *r = &rows[idx[k]];
        double s = r->sigma_pix, q = 1 - r->ellip, th = r->pa * M_PI / 180, ct = cos(th), st = sin(th);
        for (int b = 0; b < PZ_NBANDS; b++) {
            double flux = r->flux_counts[b], sky = r->noise[b] / (2 * sqrt(M_PI) * (0.7 / 2.3548 / PIX));
            double norm = flux / (2 * M_PI * s * s * q);
            for (int y = 0; y < STAMP; y++)
                for (int x = 0; x < STAMP; x++) {
                    double dx = x - STAMP / 2 + 0.5, dy = y - STAMP / 2 + 0.5;
                    double u = dx * ct + dy * st, v = (-dx * st + dy * ct) / q;
                    img[(b * STAMP + y) * STAMP + x] =
                        (float)(norm * exp(-(u * u + v * v) / (2 * s * s)) + gsl_ran_gaussian_ziggurat(rng, sky));
                }
        }
        hsize_t start[4] = {k, 0, 0, 0}, count[4] = {1, PZ_NBANDS, STAMP, STAMP};
        hid_t mspace = H5Screate_simple(4, count, NULL);
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
        if (H5Dwrite(ds, H5T_NATIVE_FLOAT, mspace, space, H5P_DEFAULT, img) < 0)
            rc = pz_errf(err, "%s: writing image %zu failed", path, k);
        H5Sclose(mspace);
    }
    free(img);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (H5Fclose(f) < 0 && !rc) rc = pz_errf(err, "%s: closing after images failed", path);
    return rc;
}

int pz_mock_write_galaxiesml(const char *const paths[3], const pz_mock_params *p, const pz_mock_kgrid *kg,
                             const pz_mock_cosmo *c, const pz_mock_obj *objs, size_t n, const char *provenance,
                             pz_mock_gml_stats *st, pz_err *err)
{
    gen g = {.p = p, .kg = kg, .c = c};
    pz_mock_hsc_depths(p, "wide", g.d5);
    g.rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g.rng, (unsigned long)p->seed * 7919 + 37);
    size_t total = (size_t)p->n_galaxiesml;
    size_t want_ov = (size_t)llround(p->cosmos_overlap_fraction * total);
    int rc = 0;
    size_t got_ov = (size_t)overlap_rows(&g, objs, n, want_ov);
    if (wide_rows(&g, total - got_ov, err) < 0) rc = -1;
    for (int s = 0; s < 7; s++) pz_mock_sampler_free(g.samplers[s]);
    /* Published split proportions 204,573 / 40,914 / 40,914 of 286,401, rows shuffled first. */
    size_t *idx = pz_xmalloc((g.n ? g.n : 1) * sizeof *idx);
    for (size_t i = 0; i < g.n; i++) idx[i] = i;
    if (g.n) gsl_ran_shuffle(g.rng, idx, g.n, sizeof *idx);
    size_t ntr = (size_t)llround((double)g.n * 204573.0 / 286401.0), nva = (size_t)llround((double)g.n * 40914.0 / 286401.0);
    size_t cut[4] = {0, ntr, ntr + nva, g.n};
    for (int sp = 0; sp < 3 && !rc; sp++) {
        size_t m = cut[sp + 1] - cut[sp];
        pz_table *t = rows_table(g.rows, idx + cut[sp], m, provenance);
        if (pz_table_write_hdf5_columns(paths[sp], t, err) < 0) rc = -1;
        else if (p->images && write_images(paths[sp], g.rows, idx + cut[sp], m, g.rng, err) < 0) rc = -1;
        pz_table_free(t);
        st->n_split[sp] = m;
    }
    st->n_overlap = got_ov;
    st->n_candidates = g.candidates;
    free(idx);
    free(g.rows);
    gsl_rng_free(g.rng);
    return rc;
}
