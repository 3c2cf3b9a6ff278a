/* The mock sky: SED physics units, parameter handling, the files read back by astropy/h5py
 * (tests/py/check_mock_sky.py: layout, units, TNULL, cuts, photo-z scatter, colours, counts),
 * and byte-identical output for the same seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_lephare.h"
#include "mock/mock_sed.h"
#include "support/pztest.h"

static void test_igm_and_dust(void)
{
    /* Madau (1995): no absorption redward of Lyalpha, strong in the Lyalpha forest at z=4, and
     * the blanketing grows with redshift. */
    CU_ASSERT_DOUBLE_EQUAL(pz_mock_igm_transmission(1216 * 5.0 + 50, 4.0, 1.0), 1.0, 1e-12);
    double t4 = pz_mock_igm_transmission(1100 * 5.0, 4.0, 1.0), t3 = pz_mock_igm_transmission(1100 * 4.0, 3.0, 1.0);
    CU_ASSERT(t4 < 0.6 && t4 > 0.2);
    CU_ASSERT(t3 > t4);
    CU_ASSERT(pz_mock_igm_transmission(850 * 5.0, 4.0, 1.0) < 0.05);
    /* Calzetti: k rises to the blue; k(V) ~ R_V by construction of the law near 5500 A. */
    CU_ASSERT(pz_mock_calzetti_k(1500, 4.05) > pz_mock_calzetti_k(5500, 4.05));
    CU_ASSERT_DOUBLE_EQUAL(pz_mock_calzetti_k(5500, 4.05), 4.05, 0.3);
}

static void test_sed_break_and_colours(void)
{
    pz_mock_params p;
    pz_mock_params_default(&p);
    /* The break: flux just above 4000 A exceeds flux below it by ~d4000 for an elliptical. */
    double ratio = pz_mock_continuum(&p, 0, 4150) / pz_mock_continuum(&p, 0, 3850);
    CU_ASSERT(ratio > 1.6 && ratio < 2.6);
    CU_ASSERT_EQUAL(pz_mock_continuum(&p, 0.5, 900), 0.0);
    CU_ASSERT(pz_mock_band_trans(&p, 2, 7700) > 0.99 && pz_mock_band_trans(&p, 2, 6000) < 1e-3);
    pz_err err;
    pz_mock_kgrid *kg = pz_mock_kgrid_build(&p, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kg);
    double k0[PZ_NBANDS], k4[PZ_NBANDS], sb[PZ_NBANDS], k8[PZ_NBANDS];
    pz_mock_kcorr(kg, 0.02, 0, 0, k0);
    pz_mock_kcorr(kg, 0.4, 0, 0, k4);
    pz_mock_kcorr(kg, 0.8, 0, 0, k8);
    pz_mock_kcorr(kg, 0.02, 1, 0, sb);
    /* z=0 elliptical g-r ~0.75 (SDSS red sequence); starburst much bluer; the break reddens
     * g-r by z=0.4 and r-i by z=0.8. */
    CU_ASSERT_DOUBLE_EQUAL(k0[0] - k0[1], 0.75, 0.1);
    CU_ASSERT(sb[0] - sb[1] < k0[0] - k0[1] - 0.3);
    CU_ASSERT(k4[0] - k4[1] > k0[0] - k0[1] + 0.4);
    CU_ASSERT(k8[1] - k8[2] > k0[1] - k0[2] + 0.6);
    /* Dust reddens. */
    double kd[PZ_NBANDS];
    pz_mock_kcorr(kg, 0.5, 0.6, 0.4, kd);
    double kn[PZ_NBANDS];
    pz_mock_kcorr(kg, 0.5, 0.6, 0, kn);
    CU_ASSERT(kd[0] - kd[2] > kn[0] - kn[2] + 0.2);
    pz_mock_kgrid_free(kg);
}

static void test_photoz_model_grows_with_magnitude(void)
{
    pz_mock_params p;
    pz_mock_params_default(&p);
    CU_ASSERT_DOUBLE_EQUAL(pz_mock_lp_sigma(&p, 22.5), p.lp_sigma_m22, 1e-12);
    CU_ASSERT(pz_mock_lp_sigma(&p, 26) > pz_mock_lp_sigma(&p, 24));
    CU_ASSERT(pz_mock_lp_sigma(&p, 18) >= p.lp_sigma_floor);
    CU_ASSERT(pz_mock_lp_eta(&p, 20) < 0.02 && pz_mock_lp_eta(&p, 27) > 0.08);
}

static char *write_spec(const char *dir, const char *params)
{
    char *path = pz_xasprintf("%s/spec.json", dir);
    char *text = pz_xasprintf(
        "{\"pzflow_spec\":1,\"stage\":\"mock-sky\",\"threads\":1,\"params\":{%s},\"inputs\":{},"
        "\"outputs\":{\"cosmos2020\":\"c.fits\",\"hsc\":\"h.fits\",\"galaxiesml_training\":\"tr.h5\","
        "\"galaxiesml_validation\":\"va.h5\",\"galaxiesml_testing\":\"te.h5\",\"truth\":\"truth.fits\"}}",
        params);
    pzt_write_file(path, text);
    free(text);
    return path;
}

static int run_stage(const char *dir, const char *params, char **out)
{
    char *spec = write_spec(dir, params);
    int rc = pzt_run(dir, out, "'%s/pzflow-mock-sky' '%s' 2>stage.log; rc=$?; grep -v '^@progress' stage.log; exit $rc",
                     pzt_bin_dir(), spec);
    free(spec);
    return rc;
}

static void test_unknown_and_bad_params(void)
{
    char *dir = pzt_mkdtemp("mock_sky"), *out = NULL;
    CU_ASSERT_NOT_EQUAL(pzt_run(dir, &out, "echo '{}' > x; '%s/pzflow-mock-sky' x", pzt_bin_dir()), 0);
    free(out);
    CU_ASSERT_NOT_EQUAL(run_stage(dir, "\"n_cosmoss\": 10", &out), 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "unknown param 'n_cosmoss'"));
    free(out);
    CU_ASSERT_NOT_EQUAL(run_stage(dir, "\"layout\": \"tiny\"", &out), 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "param 'layout'"));
    free(out);
    CU_ASSERT_NOT_EQUAL(run_stage(dir, "\"lp_sigma_m25\": \"abc\"", &out), 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "lp_sigma_m25"));
    free(out);
    pzt_rmtree(dir);
    free(dir);
}

/* The stage reads its params through the table generated from PZ_MOCK_PARAMS (util/params.h);
 * with no params it gets exactly pz_mock_params_default, field by field. */
static void test_table_defaults_are_the_defaults(void)
{
    char *dir = pzt_mkdtemp("mock_sky");
    char *path = write_spec(dir, "");
    pz_err err;
    pz_spec *spec = pz_spec_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(spec);
    pz_mock_params from_table, dflt;
    CU_ASSERT_EQUAL(pz_mock_params_from_spec(&from_table, spec, &err), 0);
    pz_mock_params_default(&dflt);
    for (size_t i = 0; i < pz_mock_nparams; i++) {
        const pz_mock_paramdef *d = &pz_mock_paramdefs[i];
        const char *a = (const char *)&from_table + d->offset, *b = (const char *)&dflt + d->offset;
        int same = d->kind == 'L' ? *(const long *)a == *(const long *)b
                   : d->kind == 'D' ? *(const double *)a == *(const double *)b
                   : d->kind == 'B' ? *(const int *)a == *(const int *)b
                                    : !strcmp(*(const char *const *)a, *(const char *const *)b);
        if (!same) fprintf(stderr, "\nmock param %s: the table's default differs\n", d->name);
        CU_ASSERT_TRUE(same);
    }
    pz_spec_free(spec);
    free(path);
    pzt_rmtree(dir);
    free(dir);
}

static void check_with_python(const char *dir, const char *layout)
{
    char *out = NULL;
    int rc = pzt_run(dir, &out, "'%s' -W ignore '%s/tests/py/check_mock_sky.py' '%s' %s '%s/schemas/cosmos2020_classic_columns.tsv'",
                     pzt_python(), pzt_source_dir(), dir, layout, pzt_source_dir());
    if (rc != 0) fprintf(stderr, "\n%s\n", out ? out : "");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "OK"));
    free(out);
}

static void test_full_layout_files(void)
{
    char *dir = pzt_mkdtemp("mock_sky"), *out = NULL;
    int rc = run_stage(dir, "\"seed\": 5, \"n_cosmos\": 20000, \"n_galaxiesml\": 3000, \"layout\": \"full\"", &out);
    if (rc) fprintf(stderr, "\n%s\n", out ? out : "");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    check_with_python(dir, "full");
    pzt_rmtree(dir);
    free(dir);
}

static void test_same_seed_same_bytes(void)
{
    char *a = pzt_mkdtemp("mock_sky"), *b = pzt_mkdtemp("mock_sky"), *c = pzt_mkdtemp("mock_sky"), *out = NULL;
    const char *params = "\"seed\": 9, \"n_cosmos\": 12000, \"n_galaxiesml\": 2000, \"hsc_depth\": \"udeep\"";
    CU_ASSERT_EQUAL_FATAL(run_stage(a, params, &out), 0);
    free(out);
    CU_ASSERT_EQUAL_FATAL(run_stage(b, params, &out), 0);
    free(out);
    CU_ASSERT_EQUAL_FATAL(run_stage(c, "\"seed\": 10, \"n_cosmos\": 12000, \"n_galaxiesml\": 2000, \"hsc_depth\": \"udeep\"", &out), 0);
    free(out);
    const char *files[] = {"c.fits", "h.fits", "tr.h5", "va.h5", "te.h5", "truth.fits"};
    for (size_t i = 0; i < 6; i++) {
        char *pa = pz_xasprintf("%s/%s", a, files[i]), *pb = pz_xasprintf("%s/%s", b, files[i]),
             *pc = pz_xasprintf("%s/%s", c, files[i]);
        CU_ASSERT_EQUAL(pzt_run(NULL, NULL, "cmp -s '%s' '%s'", pa, pb), 0);
        CU_ASSERT_NOT_EQUAL(pzt_run(NULL, NULL, "cmp -s '%s' '%s'", pa, pc), 0);
        free(pa); free(pb); free(pc);
    }
    check_with_python(a, "minimal");
    pzt_rmtree(a); pzt_rmtree(b); pzt_rmtree(c);
    free(a); free(b); free(c);
}

static void test_images(void)
{
    char *dir = pzt_mkdtemp("mock_sky"), *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_stage(dir, "\"n_cosmos\": 3000, \"n_galaxiesml\": 40, \"images\": true", &out), 0);
    free(out);
    int rc = pzt_run(dir, &out,
                     "'%s' -c \"import h5py,numpy as np; f=h5py.File('tr.h5'); im=f['image']; n=f['object_id'].shape[0];"
                     " assert im.shape==(n,5,64,64), im.shape; assert im.dtype==np.float32;"
                     " c=im[:,:,28:36,28:36].sum(); e=im[:,:,:8,:8].sum(); assert c>10*abs(e), (c,e); print('OK')\"",
                     pzt_python());
    if (rc) fprintf(stderr, "\n%s\n", out ? out : "");
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("mock_sky", (pzt_case[]){{"igm_and_dust", test_igm_and_dust},
                                       {"sed_break_and_colours", test_sed_break_and_colours},
                                       {"photoz_model", test_photoz_model_grows_with_magnitude},
                                       {"unknown_and_bad_params", test_unknown_and_bad_params},
                                       {"table defaults are the defaults", test_table_defaults_are_the_defaults},
                                       {"full_layout_files", test_full_layout_files},
                                       {"same_seed_same_bytes", test_same_seed_same_bytes},
                                       {"images", test_images},
                                       {0}});
    return pzt_main();
}
