/* Mock sky orchestration: build the SED grid and the population once, then each output. */
#include "mock/mock_sky.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock/mock_cosmos_fits.h"
#include "mock/mock_galaxiesml.h"
#include "mock/mock_hsc.h"
#include "table/table.h"
#include "util/progress.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_truth(const char *path, const pz_mock_obj *objs, size_t n, const char *prov, pz_err *err)
{
    pz_table *t = pz_table_new(n);
    pz_column *id = pz_table_add(t, "ID", PZ_I64, 0), *z = pz_table_add(t, "z_true", PZ_F64, 0);
    pz_column *cls = pz_table_add(t, "class", PZ_I16, 0), *ty = pz_table_add(t, "sed_type", PZ_F32, 0);
    pz_column *ebv = pz_table_add(t, "ebv", PZ_F32, 0), *mb = pz_table_add(t, "absmag_B", PZ_F32, 0);
    pz_column *rh = pz_table_add(t, "r_half", PZ_F32, 0), *xr = pz_table_add(t, "is_xray", PZ_BOOL, 0);
    pz_column *mag[PZ_NBANDS];
    char nm[32];
    for (int b = 0; b < PZ_NBANDS; b++) {
        snprintf(nm, sizeof nm, "mag_true_%s", pz_band_names[b]);
        mag[b] = pz_table_add(t, nm, PZ_F32, 0);
    }
    rh->unit = pz_xstrdup("arcsec");
    for (size_t i = 0; i < n; i++) {
        const pz_mock_obj *o = &objs[i];
        ((int64_t *)id->data)[i] = (int64_t)i + 1;
        ((double *)z->data)[i] = o->cls == PZ_OBJ_STAR ? 0 : o->z;
        ((int16_t *)cls->data)[i] = o->cls;
        ((float *)ty->data)[i] = o->t;
        ((float *)ebv->data)[i] = o->ebv;
        ((float *)mb->data)[i] = o->absmag;
        ((float *)rh->data)[i] = o->r_half;
        ((uint8_t *)xr->data)[i] = !!(o->flags & PZ_OF_XRAY);
        for (int b = 0; b < PZ_NBANDS; b++) ((float *)mag[b]->data)[i] = o->mag[b];
    }
    if (prov) pz_table_set_attr(t, "pzflow_provenance", prov);
    pz_table_set_attr(t, "description", "mock sky truth for cosmos2020 rows (ID matches); class 0 quiescent, 1 star-forming, 2 star");
    int rc = pz_stage_table_write(path, t, err);
    pz_table_free(t);
    return rc;
}

int pz_mock_sky_run(const pz_mock_params *p, const pz_mock_paths *paths, const char *prov, pz_mock_stats *st,
                    pz_err *err)
{
    memset(st, 0, sizeof *st);
    double t0 = now();
    pz_mock_kgrid *kg = pz_mock_kgrid_build(p, err);
    if (!kg) return -1;
    pz_mock_cosmo *c = pz_mock_cosmo_new(p->h0, p->omega_m);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)p->seed * 7919 + 1);
    pz_mock_field *f = pz_mock_field_new(p, rng);
    pz_mock_sampler *gal = NULL;
    pz_progress(0.05, "population");
    pz_mock_obj *objs = pz_mock_cosmos_population(p, kg, c, f, rng, &gal, &st->star_fraction, err);
    int rc = objs ? 0 : -1;
    size_t n = (size_t)p->n_cosmos;
    if (!rc) st->galaxy_density_deg2 = pz_mock_sampler_density(gal);
    double t1 = now();
    st->seconds_population = t1 - t0;
    if (!rc && paths->cosmos) {
        rc = pz_mock_write_cosmos(paths->cosmos, p, f, objs, n, prov, err);
        st->n_cosmos = n;
    }
    double t2 = now();
    st->seconds_cosmos = t2 - t1;
    if (!rc && paths->hsc) rc = pz_mock_write_hsc(paths->hsc, p, kg, f, gal, st->star_fraction, objs, n, prov, &st->n_hsc, err);
    double t3 = now();
    st->seconds_hsc = t3 - t2;
    if (!rc && paths->gml[0] && paths->gml[1] && paths->gml[2]) {
        pz_mock_gml_stats gs = {{0}, 0, 0};
        rc = pz_mock_write_galaxiesml(paths->gml, p, kg, c, objs, n, prov, &gs, err);
        for (int s = 0; s < 3; s++) st->n_gml[s] = gs.n_split[s];
        st->n_overlap = gs.n_overlap;
        st->n_spec_candidates = gs.n_candidates;
    }
    st->seconds_gml = now() - t3;
    if (!rc && paths->truth) rc = write_truth(paths->truth, objs, n, prov, err);
    pz_progress(1.0, "mock sky written");
    free(objs);
    pz_mock_sampler_free(gal);
    pz_mock_field_free(f);
    gsl_rng_free(rng);
    pz_mock_cosmo_free(c);
    pz_mock_kgrid_free(kg);
    return rc;
}
