/* The three ingest stages run as executables on small catalogues in the real layouts
 * (tests/py/table_make_ingest.py), with corrections checked against numbers worked by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "photoz/ingest.h"

static char *dir;

static void make_inputs(void)
{
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/table_make_ingest.py %s", pzt_python(), pzt_source_dir(), dir);
    if (rc) fprintf(stderr, "%s\n", out ? out : "");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
}

/* Write a spec and run pzflow-<stage>; returns the exit status, output in *log. */
static int run_stage(const char *stage, const char *params, const char *inputs, const char *outputs, char **log)
{
    char *spec = pz_xasprintf("%s/%s.json", dir, stage);
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"%s\", \"threads\": 1, \"params\": %s, "
                              "\"inputs\": %s, \"outputs\": %s}\n", stage, params, inputs, outputs);
    pzt_write_file(spec, text);
    int rc = pzt_run(dir, log, "%s/pzflow-%s %s", pzt_bin_dir(), stage, spec);
    free(text);
    free(spec);
    return rc;
}

static pz_table *read_out(const char *name)
{
    char *p = pz_xasprintf("%s/%s", dir, name);
    pz_table *t = NULL;
    pz_err err;
    if (pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err) < 0) fprintf(stderr, "%s\n", err.msg);
    free(p);
    return t;
}

static double val(const pz_table *t, const char *col, size_t row)
{
    const pz_column *c = pz_table_col(t, col);
    return c ? pz_col_f64(c, row) : -12345;
}

/* Row 0: HSC_g_MAG_APER2 = 22.0, total_off2 = -0.1, EBV_MW = 0.02 (k_g = 3.69, k_r = 2.715):
 *   g_mag = 22.0 - 0.1 - 3.69*0.02 = 21.8262;  r_mag = 22.25 - 0.1 - 2.715*0.02 = 22.0957;
 *   g_flux = 10^(-0.4 (21.8262 - 23.9)) = 6.75336 uJy (was 5.75440). */
static void test_cosmos_classic_defaults(void)
{
    make_inputs();
    char *log = NULL;
    char *in = pz_xasprintf("{\"catalog\": \"%s/cosmos.fits\"}", dir);
    int rc = run_stage("ingest-cosmos2020", "{}", in, "{\"catalog\": \"c.h5\"}", &log);
    if (rc) fprintf(stderr, "%s\n", log);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "ingest-cosmos2020: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "cosmos.fits: 3 rows, 37 columns; missing values: g_mag 1, g_flux 1, g_fluxerr 1, lp_type 1, lp_zBEST 1, lp_NbFilt 1"));
    free(log);
    pz_table *t = read_out("c.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_mag", 0), 21.8262, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "r_mag", 0), 22.0957, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_flux", 0), 6.75336, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_fluxerr", 0), 0.675336, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_magerr", 0), 0.05, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_mag", 2), 24.0, 1e-6); /* EBV 0, total_off 0: unchanged */
    CU_ASSERT_TRUE(isnan(val(t, "g_mag", 1)));
    CU_ASSERT_TRUE(isnan(val(t, "lp_type", 1)));
    CU_ASSERT_DOUBLE_EQUAL(val(t, "lp_type", 0), 0, 0);
    CU_ASSERT_TRUE(isnan(val(t, "lp_NbFilt", 2)));
    CU_ASSERT_EQUAL(pz_table_col(t, "id")->type, PZ_I64);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "id", 2), 103, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "dec", 1), 2.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "lp_zPDF_u68", 1), 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "ez_z_phot", 2), 1.25, 1e-6);
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "ra")->unit, "deg");
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "pzflow_provenance")); /* provenance: in the run record */
    CU_ASSERT_PTR_NOT_NULL(strstr(pz_table_attr(t, "pzflow_corrections"), "aperture aper2; aperture-to-total added"));
    pz_table_free(t);
    free(in);
}

/* zeropoint: 21.8262 - 0.128 = 21.6982. aper3: 21.7 - 0.05 - 0.0738 = 21.5762. auto: no offset,
 * 21.5 - 0.0738 = 21.4262. FARMER (the AUTO values, no suffix): 21.4262 as well. */
static void test_cosmos_options(void)
{
    char *log = NULL;
    char *in = pz_xasprintf("{\"catalog\": \"%s/cosmos.fits\"}", dir);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-cosmos2020", "{\"zeropoint\": true}", in, "{\"catalog\": \"zp.h5\"}", &log), 0);
    free(log);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-cosmos2020", "{\"aperture\": \"aper3\"}", in, "{\"catalog\": \"a3.h5\"}", &log), 0);
    free(log);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-cosmos2020", "{\"aperture\": \"auto\"}", in, "{\"catalog\": \"au.h5\"}", &log), 0);
    free(log);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-cosmos2020", "{\"extinction\": false, \"aperture_to_total\": false}", in,
                                    "{\"catalog\": \"raw.h5\"}", &log), 0);
    free(log);
    free(in);
    in = pz_xasprintf("{\"catalog\": \"%s/farmer.fits\"}", dir);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-cosmos2020", "{\"schema\": \"farmer\"}", in, "{\"catalog\": \"f.h5\"}", &log), 0);
    free(log);
    const struct { const char *file; double g0; } want[] = {
        {"zp.h5", 21.6982}, {"a3.h5", 21.5762}, {"au.h5", 21.4262}, {"raw.h5", 22.0}, {"f.h5", 21.4262}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        pz_table *t = read_out(want[k].file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        CU_ASSERT_DOUBLE_EQUAL(val(t, "g_mag", 0), want[k].g0, 1e-5);
        pz_table_free(t);
    }

    /* bad param values and a FARMER file read as CLASSIC: one clear line, non-zero exit */
    CU_ASSERT_NOT_EQUAL(run_stage("ingest-cosmos2020", "{\"schema\": \"farmer\", \"aperture\": \"aper2\"}", in,
                                  "{\"catalog\": \"x.h5\"}", &log), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "has no variants, cannot select 'aper2'"));
    free(log);
    CU_ASSERT_NOT_EQUAL(run_stage("ingest-cosmos2020", "{\"aperure\": \"aper2\"}", in, "{\"catalog\": \"x.h5\"}", &log), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "unknown param 'aperure'"));
    free(log);
    CU_ASSERT_NOT_EQUAL(run_stage("ingest-cosmos2020", "{}", in, "{\"catalog\": \"x.h5\"}", &log), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "farmer.fits (schema cosmos2020_classic): missing 22 columns: FLAG_HSC, HSC_g_MAG_APER2,"));
    CU_ASSERT_FALSE(pzt_exists("x.h5"));
    free(log);
    free(in);
}

/* PDR3 names, extinction a_b = 0.1 (g) .. 0.5 (y): g 21.0 - 0.1 = 20.9, y row 1 22.0 - 0.5 = 21.5,
 * g flux 1000 * 10^(0.4*0.1) = 1096.478. */
static void test_hsc(void)
{
    char *log = NULL;
    char *in = pz_xasprintf("{\"catalog\": \"%s/hsc_pdr3.fits\"}", dir);
    int rc = run_stage("ingest-hsc", "{\"schema\": \"pdr3\", \"extinction\": true}", in, "{\"catalog\": \"h.h5\"}", &log);
    if (rc) fprintf(stderr, "%s\n", log);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "ingest-hsc: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "2 rows"));
    free(log);
    pz_table *t = read_out("h.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_cmodel_mag", 0), 20.9, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "y_cmodel_mag", 1), 21.5, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_cmodel_flux", 0), 1096.478, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "i_cmodel_magsigma", 1), 0.02, 1e-7);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(t, "object_id")->data)[1], 43158035740000002LL);
    pz_table_free(t);
    /* PDR2 schema on the PDR3 file: the renamed columns are reported */
    CU_ASSERT_NOT_EQUAL(run_stage("ingest-hsc", "{}", in, "{\"catalog\": \"h2.h5\"}", &log), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "missing 5 columns: g_cmodel_magsigma (did you mean 'g_cmodel_magerr'?), r_cmodel_magsigma (did you mean 'r_cmodel_magerr'?)"));
    free(log);
    free(in);
}

static void test_galaxiesml(void)
{
    char *log = NULL;
    char *in = pz_xasprintf("{\"training\": \"%s/gml_training.hdf5\", \"validation\": \"%s/gml_validation.hdf5\", "
                            "\"testing\": \"%s/gml_testing.hdf5\"}", dir, dir, dir);
    int rc = run_stage("ingest-galaxiesml", "{}", in,
                       "{\"training\": \"tr.h5\", \"validation\": \"va.h5\", \"testing\": \"te.h5\"}", &log);
    if (rc) fprintf(stderr, "%s\n", log);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "ingest-galaxiesml: validation "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "gml_testing.hdf5: 3 rows"));
    free(log);
    pz_table *t = read_out("tr.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 4);
    CU_ASSERT_EQUAL(pz_table_col(t, "specz_flag_homogeneous")->type, PZ_BOOL);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "specz_flag_homogeneous", 1), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "specz_redshift", 3), 0.9, 1e-6);
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(t, "specz_name")->data + 2 * pz_table_col(t, "specz_name")->width, "spec2", 5), 0);
    CU_ASSERT_PTR_NULL(pz_table_col(t, "g_half_light_radius")); /* no pass-through by default */
    CU_ASSERT_PTR_NULL(pz_table_col(t, "image"));
    pz_table_free(t);

    /* any file through a mapping, with pass-through of other numeric columns */
    free(in);
    in = pz_xasprintf("{\"catalog\": \"%s/gml_testing.hdf5\"}", dir);
    rc = run_stage("ingest-galaxiesml", "{\"passthrough\": true, \"mapping\": {\"specz_mag_i\": \"i_cmodel_mag\"}}", in,
                   "{\"catalog\": \"any.h5\"}", &log);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(log);
    t = read_out("any.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "specz_mag_i", 0), 21.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(val(t, "g_half_light_radius", 2), 1.5, 1e-6);
    pz_table_free(t);
    free(in);
}

/* The survey stages are presets of pzflow-ingest: the generic stage with the preset's schema
 * writes the same bytes (docs/ingest.md). */
static void test_generic_ingest_with_a_preset_schema_gives_the_preset_bytes(void)
{
    char *log = NULL, *in = pz_xasprintf("{\"catalog\": \"%s/gml_training.hdf5\"}", dir);
    CU_ASSERT_EQUAL_FATAL(run_stage("ingest-galaxiesml", "{}", in, "{\"catalog\": \"preset.h5\"}", &log), 0);
    free(log);
    int rc = run_stage("ingest", "{\"schema\": \"galaxiesml\"}", in, "{\"catalog\": \"generic.h5\"}", &log);
    if (rc) fprintf(stderr, "%s\n", log);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(log, "ingest: "));
    free(log);
    char *a = pz_xasprintf("%s/preset.h5", dir), *b = pz_xasprintf("%s/generic.h5", dir);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b), free(in);
}

/* pz_ingest_check on in-memory tables: duplicated ids compared exactly as int64 (17-digit HSC
 * ids differing in the last digit are distinct, a double would merge them), `id` used when
 * there is no `object_id`, null ids ignored, the reported "first" being the duplicate whose
 * first row comes earliest, drop keeping each id's first row. */
static void test_check_duplicates(void)
{
    const int64_t ids[] = {43158035740000001LL, 43158035740000002LL, 5, 9, 5, 9, 43158035740000002LL, 77, 77};
    size_t n = sizeof ids / sizeof ids[0];
    pz_table *t = pz_table_new(n);
    pz_column *c = pz_table_add(t, "id", PZ_I64, 0);
    memcpy(c->data, ids, sizeof ids);
    c->null = pz_xcalloc(n, 1);
    c->null[7] = c->null[8] = 1; /* 77 twice, but null: not a value */
    pz_column *g = pz_table_add(t, "g_mag", PZ_F32, 0);
    for (size_t r = 0; r < n; r++) pz_col_set_f64(g, r, 20.0 + (double)r);
    pz_ingest_checks chk = PZ_INGEST_CHECKS_DEFAULT;
    pz_err err = {{0}};
    CU_ASSERT_EQUAL(pz_ingest_check(&t, "cat.fits", &chk, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "cat.fits: column id has 3 duplicated values (first: 43158035740000002 at rows 1 "
                                    "and 6); set duplicates: drop to keep the first occurrence");
    CU_ASSERT_EQUAL(t->nrows, n);
    chk.drop_duplicates = 1;
    CU_ASSERT_EQUAL_FATAL(pz_ingest_check(&t, "cat.fits", &chk, &err), 0);
    CU_ASSERT_EQUAL_FATAL(t->nrows, 6);
    const double want_g[] = {20, 21, 22, 23, 27, 28}; /* rows 4, 5, 6 dropped, in order */
    for (size_t r = 0; r < 6; r++) CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_mag"), r), want_g[r], 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "pzflow_ingest_checks"),
                           "dropped 3 rows repeating an earlier id (3 duplicated values, first: 43158035740000002)");
    /* the result has unique ids: a second pass finds nothing */
    chk.drop_duplicates = 0;
    CU_ASSERT_EQUAL(pz_ingest_check(&t, "cat.fits", &chk, &err), 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "pzflow_ingest_checks"), "none");
    pz_table_free(t);
}

/* Magnitudes (names ending in _mag) outside (0, 50): counted per column, NaN by default, kept
 * with keep_sentinels; *_magerr and other columns untouched; NaN/inf not counted again. */
static void test_check_sentinels(void)
{
    const double g[] = {-99, 99, 21, 0, 50, NAN, INFINITY, 49.9};
    size_t n = sizeof g / sizeof g[0];
    pz_table *t = pz_table_new(n);
    pz_column *gm = pz_table_add(t, "g_cmodel_mag", PZ_F32, 0);
    pz_column *ge = pz_table_add(t, "g_magerr", PZ_F32, 0);
    pz_column *rm = pz_table_add(t, "r_mag", PZ_F64, 0);
    for (size_t r = 0; r < n; r++) {
        pz_col_set_f64(gm, r, g[r]);
        pz_col_set_f64(ge, r, -99);
        pz_col_set_f64(rm, r, r == 2 ? 99 : 22);
    }
    pz_ingest_checks chk = PZ_INGEST_CHECKS_DEFAULT;
    chk.keep_sentinels = 1;
    pz_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(pz_ingest_check(&t, "x.h5", &chk, &err), 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "pzflow_ingest_checks"),
                           "magnitudes outside (0, 50) kept: g_cmodel_mag 4, r_mag 1");
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_cmodel_mag"), 0), -99, 0);
    chk.keep_sentinels = 0;
    CU_ASSERT_EQUAL_FATAL(pz_ingest_check(&t, "x.h5", &chk, &err), 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "pzflow_ingest_checks"),
                           "magnitudes outside (0, 50) set to NaN: g_cmodel_mag 4, r_mag 1");
    gm = pz_table_col(t, "g_cmodel_mag");
    for (size_t r = 0; r < n; r++) {
        double v = pz_col_f64(gm, r);
        if (r == 2 || r == 7) CU_ASSERT_DOUBLE_EQUAL(v, g[r], 1e-5);
        if (r < 2 || r == 3 || r == 4 || r == 5) CU_ASSERT_TRUE(isnan(v));
    }
    CU_ASSERT_TRUE(isinf(pz_col_f64(gm, 6)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_magerr"), 0), -99, 0);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "r_mag"), 2)));
    char *line = pz_ingest_summary(t);
    CU_ASSERT_STRING_EQUAL(line, "8 rows, 3 columns; missing values: g_cmodel_mag 6, r_mag 1; "
                                 "magnitudes outside (0, 50) set to NaN: g_cmodel_mag 4, r_mag 1");
    free(line);
    pz_table_free(t);
}

int main(void)
{
    dir = pzt_mkdtemp("ingest");
    pzt_suite("ingest", (pzt_case[]){{"cosmos_classic_defaults", test_cosmos_classic_defaults},
                                     {"cosmos_options", test_cosmos_options},
                                     {"hsc", test_hsc},
                                     {"galaxiesml", test_galaxiesml},
                                     {"generic ingest with a preset schema gives the preset bytes",
                                      test_generic_ingest_with_a_preset_schema_gives_the_preset_bytes},
                                     {"check_duplicates", test_check_duplicates},
                                     {"check_sentinels", test_check_sentinels},
                                     {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(dir);
    free(dir);
    return rc;
}
