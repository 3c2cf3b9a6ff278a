/* The mock survey catalogue (mock_survey.h): blocks of detected objects, made in parallel and
 * appended in block order through the table writer. */
#include "mock/mock_survey.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_hsc.h"
#include "mock/mock_population.h"

/* Objects fainter than the 5-sigma depth plus this are (almost) never detected at S/N 5: one
 * magnitude fainter needs a +3 sigma fluctuation (0.1%). Drawing deeper only costs time. */
#define DRAW_DEPTH_MARGIN 1.0

typedef struct survey_model {
    const pz_mock_params *p;
    const pz_survey_opts *o;
    const pz_mock_kgrid *kg;
    pz_mock_sampler *gal;
    double star_fraction, m_lim, d5[PZ_NBANDS];
    double sin_lo, sin_hi;      /* uniform in sin(dec) over the stripe: uniform on the sphere */
} survey_model;

typedef struct block_cols {
    int64_t *id;
    double *ra, *dec, *z;
    float *mag[PZ_NBANDS], *magsig[PZ_NBANDS];
} block_cols;

/* Columns of the catalogue, in file order; `rows` rows, zero-filled. */
static pz_table *new_block_table(size_t rows, block_cols *c)
{
    pz_table *t = pz_table_new(rows);
    pz_column *col = pz_table_add(t, "object_id", PZ_I64, 0);
    c->id = col->data;
    col = pz_table_add(t, "ra", PZ_F64, 0);
    col->unit = pz_xstrdup("deg");
    c->ra = col->data;
    col = pz_table_add(t, "dec", PZ_F64, 0);
    col->unit = pz_xstrdup("deg");
    c->dec = col->data;
    char name[48];
    for (int b = 0; b < PZ_NBANDS; b++) {
        snprintf(name, sizeof name, "%s_cmodel_mag", pz_band_names[b]);
        col = pz_table_add(t, name, PZ_F32, 0);
        col->unit = pz_xstrdup("mag");
        c->mag[b] = col->data;
        snprintf(name, sizeof name, "%s_cmodel_magsigma", pz_band_names[b]);
        col = pz_table_add(t, name, PZ_F32, 0);
        col->unit = pz_xstrdup("mag");
        c->magsig[b] = col->data;
    }
    col = pz_table_add(t, "z_true", PZ_F64, 0);
    col->desc = pz_xstrdup("mock truth: the object's redshift (0 for stars); a real catalogue has no such column");
    c->z = col->data;
    pz_table_set_attr(t, "description", "mock HSC-Wide-like survey catalogue (pzflow-mock-survey; not real data)");
    return t;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* One object, drawn until it is detected: galaxy or star in their sky proportions, a position
 * in the stripe, Galactic extinction, HSC-Wide CModel photometry. */
static void draw_detected(const survey_model *m, gsl_rng *rng, pz_mock_obj *obj, pz_mock_hscphot *ph, size_t *drawn)
{
    const pz_survey_opts *o = m->o;
    for (;;) {
        ++*drawn;
        if (gsl_rng_uniform(rng) < m->star_fraction) pz_mock_draw_star(m->p, m->kg, m->p->star_mag_bright, m->m_lim, rng, obj);
        else pz_mock_draw_galaxy(m->gal, rng, obj);
        obj->dec = asin(m->sin_lo + gsl_rng_uniform(rng) * (m->sin_hi - m->sin_lo)) * (180 / M_PI);
        obj->ra = o->ra0 + (gsl_rng_uniform(rng) - 0.5) * o->ra_width;
        pz_mock_apply_mw(m->p, obj);
        pz_mock_hsc_measure(m->p, obj, m->d5, rng, ph);
        if (ph->fluxerr[2] > 0 && ph->flux[2] / ph->fluxerr[2] >= m->p->hsc_det_snr) return;
    }
}

typedef struct block_job {
    const survey_model *m;
    size_t block, rows;         /* which block, and how many of its rows to make */
    pz_table *t;
    size_t stars, drawn;
} block_job;

static void *make_block(void *arg)
{
    block_job *j = arg;
    const survey_model *m = j->m;
    block_cols c;
    j->t = new_block_table(j->rows, &c);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)mix64(mix64((uint64_t)m->o->seed) ^ (uint64_t)j->block));
    for (size_t i = 0; i < j->rows; i++) {
        pz_mock_obj obj;
        pz_mock_hscphot ph;
        draw_detected(m, rng, &obj, &ph, &j->drawn);
        uint64_t serial = (uint64_t)j->block * PZ_SURVEY_BLOCK + i + 1;
        c.id[i] = pz_mock_hsc_object_id(obj.ra, obj.dec, serial);
        c.ra[i] = obj.ra;
        c.dec[i] = obj.dec;
        c.z[i] = obj.cls == PZ_OBJ_STAR ? 0.0 : obj.z;
        j->stars += obj.cls == PZ_OBJ_STAR;
        for (int b = 0; b < PZ_NBANDS; b++) {
            c.mag[b][i] = (float)ph.mag[b];
            c.magsig[b][i] = (float)ph.magerr[b];
        }
    }
    gsl_rng_free(rng);
    return NULL;
}

/* Blocks [first, first + n) at once, one thread each, appended in order. */
static int write_batch(pz_table_writer *w, const survey_model *m, size_t first, size_t n, size_t rows_total,
                       pz_survey_stats *st, pz_err *err)
{
    block_job *jobs = pz_xcalloc(n, sizeof *jobs);
    pthread_t *tid = pz_xcalloc(n, sizeof *tid);
    int *started = pz_xcalloc(n, sizeof *started);
    for (size_t k = 0; k < n; k++) {
        size_t start = (first + k) * PZ_SURVEY_BLOCK, left = rows_total - start;
        jobs[k] = (block_job){.m = m, .block = first + k, .rows = left < PZ_SURVEY_BLOCK ? left : PZ_SURVEY_BLOCK};
        started[k] = k > 0 && pthread_create(&tid[k], NULL, make_block, &jobs[k]) == 0;
    }
    for (size_t k = 0; k < n; k++)
        if (!started[k]) make_block(&jobs[k]); /* the first here; any thread that could not start too */
    for (size_t k = 0; k < n; k++)
        if (started[k]) pthread_join(tid[k], NULL);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        if (rc == 0) rc = pz_table_writer_append(w, jobs[k].t, err);
        st->rows += jobs[k].rows;
        st->stars += jobs[k].stars;
        st->drawn += jobs[k].drawn;
        pz_table_free(jobs[k].t);
    }
    free(jobs);
    free(tid);
    free(started);
    return rc;
}

static int check_opts(const pz_survey_opts *o, pz_err *err)
{
    if (o->n_rows < 0) return pz_errf(err, "n_rows must be >= 0, got %ld", o->n_rows);
    if (!(o->ra_width > 0 && o->ra_width <= 360)) return pz_errf(err, "ra_width must be in (0, 360], got %g", o->ra_width);
    if (!(o->dec_width > 0) || !(fabs(o->dec0) + o->dec_width / 2 <= 90))
        return pz_errf(err, "the stripe dec %g +- %g/2 must lie within [-90, 90]", o->dec0, o->dec_width);
    return 0;
}

int pz_mock_survey_write(const char *path, const pz_mock_params *phys, const pz_survey_opts *o, pz_survey_stats *st,
                         pz_err *err)
{
    memset(st, 0, sizeof *st);
    if (check_opts(o, err) < 0) return -1;
    survey_model m = {.p = phys, .o = o};
    pz_mock_hsc_depths(phys, "wide", m.d5);
    m.m_lim = m.d5[2] + DRAW_DEPTH_MARGIN;
    m.sin_lo = sin((o->dec0 - o->dec_width / 2) * (M_PI / 180));
    m.sin_hi = sin((o->dec0 + o->dec_width / 2) * (M_PI / 180));
    pz_mock_kgrid *kg = pz_mock_kgrid_build(phys, err);
    if (!kg) return -1;
    m.kg = kg;
    pz_mock_cosmo *cosmo = pz_mock_cosmo_new(phys->h0, phys->omega_m);
    m.gal = pz_mock_sampler_new(phys, kg, cosmo, m.m_lim, err);
    int rc = m.gal ? 0 : -1;
    pz_table_writer *w = NULL;
    if (rc == 0) {
        double dgal = pz_mock_sampler_density(m.gal), dstar = pz_mock_star_density(phys, phys->star_mag_bright, m.m_lim);
        m.star_fraction = dstar / (dstar + dgal);
        block_cols unused;
        pz_table *proto = new_block_table(0, &unused);
        w = pz_table_writer_open(path, o->format, proto, err);
        pz_table_free(proto);
        rc = w ? 0 : -1;
    }
    size_t rows = (size_t)o->n_rows, nblocks = (rows + PZ_SURVEY_BLOCK - 1) / PZ_SURVEY_BLOCK;
    size_t batch = o->threads > 1 ? (size_t)o->threads : 1;
    for (size_t b = 0; rc == 0 && b < nblocks; b += batch) {
        rc = write_batch(w, &m, b, b + batch < nblocks ? batch : nblocks - b, rows, st, err);
        if (rc == 0 && o->progress) o->progress(o->ctx, st->rows);
    }
    if (w) {
        pz_err close_err; /* after a failed append, that failure is the one to report */
        if (pz_table_writer_close(w, rc == 0 ? err : &close_err) < 0) rc = -1;
    }
    pz_mock_sampler_free(m.gal);
    pz_mock_cosmo_free(cosmo);
    pz_mock_kgrid_free(kg);
    return rc;
}
