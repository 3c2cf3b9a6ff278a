/* Your own catalogue in (issue 12, bar 1): a catalogue with its columns in an HDF5 group, a FITS
 * file with upper-case names in its second HDU and a CSV file each go through pzflow-ingest ->
 * train -> `pzflow predict`, read where they are (no copy, no rename outside pzflow). The files are made
 * by tests/py/own_catalogues.py; the same 800 galaxies are in each, with -99/99 "not measured"
 * magnitudes. And the errors a user meets on the way: reading the wrong group or HDU says where
 * the columns are, a misspelt column gets a did-you-mean. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"

static char *dir;

static void make_catalogues(void)
{
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/own_catalogues.py %s", pzt_python(), pzt_source_dir(), dir);
    if (rc) fprintf(stderr, "%s\n", out ? out : "");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
}

/* ingest (params as given) -> two-way split -> train; predict is the command, run_and_check. */
static char *branch(const char *name, const char *catalog, const char *ingest_params)
{
    return pz_xasprintf("  ingest-%s:\n"
                        "    run: pzflow-ingest\n"
                        "    params: %s\n"
                        "    inputs: {catalog: %s}\n"
                        "    outputs: [catalog]\n"
                        "  split-%s:\n"
                        "    run: pzflow-split\n"
                        "    params: {seed: 3, fractions: {train: 0.8, validation: 0.2}}\n"
                        "    inputs: {table: ingest-%s/catalog}\n"
                        "    outputs: [train, validation]\n"
                        "  train-%s:\n"
                        "    run: pzflow-train\n"
                        "    params: {label: specz_redshift, epochs: 30, patience: 30, hidden: [32, 32], seed: 1}\n"
                        "    inputs: {train: split-%s/train, validation: split-%s/validation}\n"
                        "    outputs: [model]\n",
                        name, ingest_params, catalog, name, name, name, name, name);
}

/* `pzflow run NAME.yaml` of one branch; the exit status, output in *out. */
static int run_branch(const char *name, const char *catalog, const char *ingest_params, char **out)
{
    char *stages = branch(name, catalog, ingest_params);
    char *yaml = pz_xasprintf("stages:\n%s", stages), *path = pz_xasprintf("%s/%s.yaml", dir, name);
    CU_ASSERT_EQUAL(pzt_write_file(path, yaml), 0);
    int rc = pzt_run(dir, out, "'%s/pzflow' run %s.yaml -C cache 2>&1", pzt_bin_dir(), name);
    if (rc) fprintf(stderr, "\n%s\n", *out ? *out : "");
    free(stages), free(yaml), free(path);
    return rc;
}

/* The first file in results/<pipeline>/<stage>/ whose name starts with `output` (a result may
 * carry an extension). */
static pz_table *read_result(const char *pipeline, const char *stage, const char *output)
{
    char *out = NULL;
    pzt_run(dir, &out, "ls -d results/%s/%s/%s* 2>/dev/null | head -1 | tr -d '\\n'", pipeline, stage, output);
    pz_table *t = NULL;
    pz_err err;
    char *path = pz_xasprintf("%s/%s", dir, out ? out : "");
    pz_source src = {path, NULL};
    if (!out || !out[0] || pz_table_read_src(&src, NULL, 0, 0, (size_t)-1, &t, &err) < 0)
        fprintf(stderr, "%s/%s/%s: %s\n", pipeline, stage, output, out && out[0] ? err.msg : "no such result");
    free(path);
    free(out);
    return t;
}

/* What every branch must give: 800 predictions, in input order with their ids, NaN for the rows
 * whose magnitude was -99 or 99 (rows 3, 40: g; row 7: y), and redshifts that follow the truth
 * (rms well below the spread of the labels, ~0.42). */
static void check_predictions(const char *path)
{
    pz_table *p = NULL;
    pz_err err;
    if (pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &p, &err) < 0) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nrows, 800);
    const pz_column *z = pz_table_col(p, "z_pred"), *truth = pz_table_col(p, "z_true"), *id = pz_table_col(p, "object_id");
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(truth);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(id, 5), 1005, 0);
    CU_ASSERT_TRUE(isnan(pz_col_f64(z, 3)) && isnan(pz_col_f64(z, 40)) && isnan(pz_col_f64(z, 7)));
    double sum = 0;
    size_t n = 0;
    for (size_t r = 0; r < p->nrows; r++) {
        double d = pz_col_f64(z, r) - pz_col_f64(truth, r);
        if (isfinite(d)) sum += d * d, n++;
    }
    CU_ASSERT_EQUAL(n, 797);
    double rms = sqrt(sum / (double)(n ? n : 1));
    if (!(rms < 0.25)) fprintf(stderr, "%s: rms %.3f\n", path, rms);
    CU_ASSERT_TRUE(rms < 0.25);
    pz_table_free(p);
}

/* A branch that must run through, then `pzflow predict MODEL CATALOG -o OUT` (the command bar 1
 * names; it was the pzflow-predict stage, which is the same program: test_nn_stages) of the
 * trained model on the ingested catalogue, then check_predictions. Returns 0 when it did. */
static int run_and_check(const char *name, const char *catalog, const char *ingest_params)
{
    char *out = NULL;
    int rc = run_branch(name, catalog, ingest_params, &out);
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    if (rc) return rc;
    rc = pzt_run(dir, &out, "'%s/pzflow' predict results/%s/train-%s/model.h5 results/%s/ingest-%s/catalog.fits -o "
                            "%s-predictions.fits --label specz_redshift --id object_id 2>&1",
                 pzt_bin_dir(), name, name, name, name, name);
    if (rc) fprintf(stderr, "\n%s\n", out ? out : "");
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    char *path = pz_xasprintf("%s/%s-predictions.fits", dir, name);
    if (rc == 0) check_predictions(path);
    free(path);
    return rc;
}

#define BANDS "bands: [g, r, i, z, y]"
#define SENTINELS "null: [-99, 99]"

static void test_a_catalogue_in_an_hdf5_group_goes_through_ingest_train_and_predict(void)
{
    make_catalogues();
    run_and_check("h5", "group.h5",
                  "{at: /photometry, " BANDS ", columns: {object_id: id, specz_redshift: z_spec, "
                  "\"{b}_cmodel_mag\": {name: \"mag_{b}_lsst\", unit: mag, " SENTINELS "}}}");
}

static void test_upper_case_fits_names_in_the_second_hdu_go_through_ingest_train_and_predict(void)
{
    char *out = NULL;
    if (run_and_check("fits", "upper.fits",
                      "{at: PHOT, " BANDS ", columns: {object_id: id, specz_redshift: z_spec, "
                      "\"{b}_cmodel_mag\": {" SENTINELS "}}}"))
        return;
    pz_table *t = read_result("fits", "ingest-fits", "catalog");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL(pz_table_col(t, "g_cmodel_mag")); /* canonical names, not the file's */
    CU_ASSERT_PTR_NULL(pz_table_col(t, "G_CMODEL_MAG"));
    pz_table_free(t);

    /* the same HDU by number reads the same table */
    char *yaml = pz_xasprintf("stages:\n  ingest-fits:\n    run: pzflow-ingest\n"
                              "    params: {at: 2, " BANDS ", columns: {object_id: id, specz_redshift: z_spec, "
                              "\"{b}_cmodel_mag\": {" SENTINELS "}}}\n"
                              "    inputs: {catalog: upper.fits}\n    outputs: [catalog]\n");
    char *path = pz_xasprintf("%s/fits2.yaml", dir);
    pzt_write_file(path, yaml);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "'%s/pzflow' run fits2.yaml -C cache 2>&1", pzt_bin_dir()), 0);
    free(out);
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "cmp results/fits/ingest-fits/catalog* results/fits2/ingest-fits/catalog*"), 0);
    free(out), free(yaml), free(path);
}

static void test_a_csv_file_goes_through_ingest_train_and_predict(void)
{
    run_and_check("csv", "plain.csv",
                  "{" BANDS ", columns: {object_id: id, specz_redshift: zspec, "
                  "\"{b}_cmodel_mag\": {name: \"{b}\", " SENTINELS "}}}");
}

/* A branch that must fail in its ingest, with every one of `needles` (NULL-terminated) in the output. */
static void expect_ingest_error(const char *name, const char *catalog, const char *params, const char *const *needles)
{
    char *out = NULL;
    CU_ASSERT_NOT_EQUAL(run_branch(name, catalog, params, &out), 0);
    for (const char *const *n = needles; *n; n++) CU_ASSERT_TRUE(pzt_has(out, *n));
    free(out);
}

/* A user who has not looked inside the file yet. */
static void test_reading_the_root_says_which_group_has_the_columns(void)
{
    expect_ingest_error("h5root", "group.h5", "{" BANDS ", columns: {\"{b}_cmodel_mag\": \"mag_{b}_lsst\"}}",
                        (const char *[]){"group.h5 (inline mapping): missing 5 columns: mag_g_lsst, mag_r_lsst",
                                         "those columns are in /photometry of the file: read ",
                                         "group.h5:/photometry (param at: /photometry)", NULL});
}

static void test_reading_the_first_hdu_says_which_hdu_has_the_columns(void)
{
    expect_ingest_error("fits1", "upper.fits", "{" BANDS ", columns: {\"{b}_cmodel_mag\": {}}}",
                        (const char *[]){"missing 5 columns: g_cmodel_mag, r_cmodel_mag", "it has: NAME, VERSION",
                                         "those columns are in PHOT of the file: read ",
                                         "upper.fits[PHOT] (param at: PHOT)", NULL});
}

static void test_a_misspelt_column_gets_a_did_you_mean(void)
{
    expect_ingest_error("typo", "group.h5", "{at: /photometry, columns: {specz_redshift: z_spce}}",
                        (const char *[]){"group.h5:/photometry (inline mapping): missing 1 column: z_spce "
                                         "(did you mean 'z_spec'?)",
                                         NULL});
}

int main(void)
{
    dir = pzt_mkdtemp("ingest-e2e");
    pzt_suite("your own catalogue", (pzt_case[]){
        {"a catalogue in an HDF5 group goes through ingest, train and predict",
         test_a_catalogue_in_an_hdf5_group_goes_through_ingest_train_and_predict},
        {"upper-case FITS names in the second HDU go through ingest, train and predict",
         test_upper_case_fits_names_in_the_second_hdu_go_through_ingest_train_and_predict},
        {"a CSV file goes through ingest, train and predict", test_a_csv_file_goes_through_ingest_train_and_predict},
        {"reading the root says which group has the columns", test_reading_the_root_says_which_group_has_the_columns},
        {"reading the first HDU says which HDU has the columns",
         test_reading_the_first_hdu_says_which_hdu_has_the_columns},
        {"a misspelt column gets a did-you-mean", test_a_misspelt_column_gets_a_did_you_mean},
        {0}});
    return pzt_main();
}
