/* The bad-input catalogue (docs/hostile.md), as tests: each hostile file or pipeline goes
 * through the real `pzflow` binary or stage executable, exactly as a user would run it, and
 * the test checks the exit status and the one line the user sees. A crash (signal, sanitizer
 * report) fails every case. Inputs: tests/py/hostile_inputs.py, plus the fuzz regression files
 * of tests/fuzz/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"

static char *dir;

/* The error line: the last line starting with "pzflow" (the program's name). Cut errors add
 * the expression and a caret on the lines after it (see core/photoz/cuts.h). */
static const char *error_line(const char *out, char *buf, size_t bufsz)
{
    buf[0] = 0;
    for (const char *p = out; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, "pzflow", 6) == 0) snprintf(buf, bufsz, "%.*s", (int)(n < bufsz ? n : bufsz - 1), p);
        p = nl ? nl + 1 : NULL;
    }
    return buf;
}

/* A signal, a sanitizer report, or (under scripts/valgrind.sh, whose --error-exitcode is 99)
 * a memcheck error in the stage: bad input must never get there, even when it fails anyway. */
static int crashed(int rc, const char *out)
{
    static const char *const signs[] = {"Sanitizer", "runtime error", "buffer overflow", "Segmentation",
                                        "Invalid read", "Invalid write", "uninitialised", "definitely lost", NULL};
    for (int i = 0; out && signs[i]; i++)
        if (strstr(out, signs[i])) return 1;
    return rc >= 128 || rc == 99;
}

/* Run a shell command in the test directory; the output is returned (malloc'd). */
static char *run(int *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0) abort();
    va_end(ap);
    char *out = NULL;
    *rc = pzt_run(dir, &out, "%s", cmd);
    free(cmd);
    return out ? out : pz_xstrdup("");
}

/* Write spec `name`.json and run pzflow-`stage` on it. */
static char *stage(int *rc, const char *stage, const char *name, const char *params, const char *inputs,
                   const char *outputs)
{
    char *spec = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"%s\", \"threads\": 1, \"params\": %s, "
                              "\"inputs\": %s, \"outputs\": %s}\n", name, params, inputs, outputs);
    char *path = pz_xasprintf("%s/%s.json", dir, name);
    CU_ASSERT_EQUAL(pzt_write_file(path, spec), 0);
    char *out = run(rc, "'%s/pzflow-%s' '%s.json' 2>&1", pzt_bin_dir(), stage, name);
    free(spec), free(path);
    return out;
}

/* A failure the user sees as one line holding `needle`: exit status 1..127, no crash, and the
 * program's last line of output is the error. */
static void expect_error(int rc, char *out, const char *needle)
{
    char line[PZ_ERR_MAX * 2];
    error_line(out, line, sizeof line);
    int ok = rc > 0 && !crashed(rc, out) && strstr(line, needle) != NULL;
    if (!ok) fprintf(stderr, "\n[rc %d, wanted '%s' in the error line of:]\n%s\n", rc, needle, out);
    CU_ASSERT_TRUE(ok);
    free(out);
}

/* A documented handling: exit status 0 and `needle` somewhere in the output. */
static void expect_ok(int rc, char *out, const char *needle)
{
    int ok = rc == 0 && strstr(out, needle) != NULL;
    if (!ok) fprintf(stderr, "\n[rc %d, wanted '%s' in:]\n%s\n", rc, needle, out);
    CU_ASSERT_TRUE(ok);
    free(out);
}

static void write_in_dir(const char *name, const char *text)
{
    char *p = pz_xasprintf("%s/%s", dir, name);
    CU_ASSERT_EQUAL(pzt_write_file(p, text), 0);
    free(p);
}

/* --- pipeline files ---------------------------------------------------------------------- */

static void test_pipeline_files(void)
{
    int rc;
    write_in_dir("good.yaml", "stages:\n  a:\n    run: pzflow-toy-const\n    params: {text: hello}\n    outputs: [out]\n");
    write_in_dir("bad.yaml", "stages:\n  a: {run: pzflow-toy-const, outputs: [x]\n  b: 1\n");
    write_in_dir("cycle.yaml", "stages:\n  a:\n    run: pzflow-toy-copy\n    inputs: {in: b/x}\n    outputs: [x]\n"
                               "  b:\n    run: pzflow-toy-copy\n    inputs: {in: a/x}\n    outputs: [x]\n");
    write_in_dir("missing.yaml", "stages:\n  a:\n    run: pzflow-toy-copy\n    inputs: {in: data/missing.txt}\n"
                                 "    outputs: [x]\n");
    const char *pz = pzt_bin_dir();
    /* A finished result first: no bad pipeline may lose it (same cache, cache/ next to the files). */
    expect_ok(rc, run(&rc, "'%s/pzflow' run good.yaml 2>&1", pz), "1 ran");
    expect_error(rc, run(&rc, "'%s/pzflow' run bad.yaml 2>&1", pz),
                 "pzflow: bad.yaml:3:3: YAML syntax error: did not find expected ',' or '}'");
    expect_error(rc, run(&rc, "'%s/pzflow' run cycle.yaml 2>&1", pz), "pzflow: cycle.yaml:2:3: cycle: a -> b -> a");
    expect_error(rc, run(&rc, "'%s/pzflow' run nothere.yaml 2>&1", pz),
                 "pzflow: nothere.yaml: cannot open: No such file or directory");
    expect_error(rc, run(&rc, "'%s/pzflow' run missing.yaml 2>&1", pz),
                 "pzflow: missing.yaml:4:18: input 'in' of stage 'a': missing file 'data/missing.txt'");
    expect_ok(rc, run(&rc, "'%s/pzflow' run good.yaml 2>&1", pz), "0 ran, 1 up to date");
}

/* --- FITS catalogues through pzflow-ingest-hsc ------------------------------------------- */

static char *ingest_with(int *rc, const char *name, const char *file, const char *params)
{
    char *in = pz_xasprintf("{\"catalog\": \"%s\"}", file), *outs = pz_xasprintf("{\"catalog\": \"%s.h5\"}", name);
    char *out = stage(rc, "ingest-hsc", name, params, in, outs);
    free(in), free(outs);
    return out;
}

static char *ingest(int *rc, const char *name, const char *file)
{
    return ingest_with(rc, name, file, "{}");
}

static void test_fits_files(void)
{
    int rc;
    expect_ok(rc, ingest(&rc, "ing_good", "hsc_good.fits"), "hsc_good.fits: 6 rows, 18 columns; missing values: none");
    expect_error(rc, ingest(&rc, "ing_trunc", "hsc_truncated.fits"),
                 "pzflow-ingest-hsc: hsc_truncated.fits: truncated: the table needs 9144 bytes, the file has 8740");
    expect_error(rc, ingest(&rc, "ing_cuthead", "hsc_cuthead.fits"),
                 "hsc_cuthead.fits: truncated: the file ends inside the header of HDU 1");
    expect_error(rc, ingest(&rc, "ing_type", "hsc_wrongtype.fits"),
                 "hsc_wrongtype.fits (schema hsc_pdr2): mistyped 1 column: g_cmodel_mag (str, expected f32)");
    write_in_dir("text.fits", "this is not a FITS file\n");
    expect_error(rc, ingest(&rc, "ing_text", "text.fits"), "text.fits: neither a FITS nor an HDF5 file");
    expect_error(rc, ingest(&rc, "ing_h5", "gml_train.h5"), "gml_train.h5 (schema hsc_pdr2): missing 12 columns: ra, dec,");
    expect_error(rc, ingest(&rc, "ing_none", "nothere.fits"), "nothere.fits: cannot open: No such file or directory");
    /* The fuzz regression files that crashed cfitsio: a clear error now. */
    char *f = pz_xasprintf("%s/tests/fuzz/fits/crash-ttype-unquoted.fits", pzt_source_dir());
    expect_error(rc, ingest(&rc, "ing_fuzz1", f), "HDU 1: header keyword TTYPE4   does not hold a quoted string");
    free(f);
    f = pz_xasprintf("%s/tests/fuzz/fits/crash-naxis2-garbage.fits", pzt_source_dir());
    expect_error(rc, ingest(&rc, "ing_fuzz2", f), "HDU 1: header card 5 holds non-ASCII bytes (corrupt file?)");
    free(f);
}

/* --- bad values: NaN, +-inf, sentinels, empty tables, duplicate ids ------------------------ */

static char *cuts(int *rc, const char *name, const char *table, const char *cuts_json)
{
    char *params = pz_xasprintf("{\"cuts\": %s}", cuts_json), *in = pz_xasprintf("{\"table\": \"%s\"}", table);
    char *outs = pz_xasprintf("{\"table\": \"%s.h5\", \"cutflow\": \"%s.md\"}", name, name);
    char *out = stage(rc, "quality-cuts", name, params, in, outs);
    free(params), free(in), free(outs);
    return out;
}

static char *train(int *rc, const char *name, const char *table, const char *extra)
{
    char *params = pz_xasprintf("{\"label\": \"specz_redshift\", \"epochs\": 1, \"seed\": 1%s}", extra);
    char *in = pz_xasprintf("{\"train\": \"%s\", \"validation\": \"gml_val.h5\"}", table);
    char *outs = pz_xasprintf("{\"model\": \"%s.h5\"}", name);
    char *out = stage(rc, "train", name, params, in, outs);
    free(params), free(in), free(outs);
    return out;
}

static char *predict(int *rc, const char *name, const char *table)
{
    char *in = pz_xasprintf("{\"model\": \"model.h5\", \"table\": \"%s\"}", table);
    char *outs = pz_xasprintf("{\"predictions\": \"%s.h5\"}", name);
    char *out = stage(rc, "predict", name, "{\"label\": \"specz_redshift\"}", in, outs);
    free(in), free(outs);
    return out;
}

static long rows_of(const char *name)
{
    char *p = pz_xasprintf("%s/%s", dir, name);
    pz_err err;
    pz_colinfo *cols = NULL;
    size_t ncols = 0;
    long n = -1;
    if (pz_table_info_any(p, 0, &cols, &ncols, &n, &err) == 0) pz_colinfo_free(cols, ncols);
    free(p);
    return n;
}

static void test_nonfinite(void)
{
    int rc;
    /* NaN and +-inf all count as missing in the ingest summary (and stay as they are). */
    expect_ok(rc, ingest(&rc, "ing_nonfinite", "hsc_nonfinite.fits"),
              "hsc_nonfinite.fits: 6 rows, 18 columns; missing values: g_cmodel_mag 3\n");
    expect_ok(rc, cuts(&rc, "qc_nonfinite", "ing_nonfinite.h5", "[\"isfinite(g_cmodel_mag)\"]"),
              "| 1 | `isfinite(g_cmodel_mag)` | 3 | 3 | 50.00 |");
    CU_ASSERT_EQUAL(rows_of("qc_nonfinite.h5"), 3);
    expect_ok(rc, train(&rc, "model", "gml_train.h5", ""), "stopped after 1 epochs");
    expect_ok(rc, train(&rc, "tr_inf", "gml_inf.h5", ""),
              "gml_inf.h5: dropped 2 of 300 rows with non-finite or sentinel values (g_cmodel_mag: 2, specz_redshift: 1)");
    expect_error(rc, train(&rc, "tr_inf_strict", "gml_inf.h5", ", \"drop_nonfinite\": false"),
                 "gml_inf.h5: column 'g_cmodel_mag' has 2 non-finite or sentinel values (of 300 rows)");
    expect_ok(rc, predict(&rc, "pr_inf", "gml_inf.h5"), "300 rows predicted; flags: 292 ok, 2 non-finite (1), 0 sentinel (2), 6 outside the training range (4); 2 rows without a prediction (z_pred NaN)");
}

static void test_sentinels(void)
{
    int rc;
    /* Ingest turns magnitudes outside (0, 50) into NaN (the HSC/COSMOS -99/99 convention) and
     * says so; an isfinite cut then removes them. */
    expect_ok(rc, ingest(&rc, "ing_sentinel", "hsc_sentinel.fits"),
              "hsc_sentinel.fits: 6 rows, 18 columns; missing values: g_cmodel_mag 2; "
              "magnitudes outside (0, 50) set to NaN: g_cmodel_mag 2\n");
    expect_ok(rc, cuts(&rc, "qc_sentinel", "ing_sentinel.h5", "[\"isfinite(g_cmodel_mag)\", \"0 < g_cmodel_mag < 50\"]"),
              "| 1 | `isfinite(g_cmodel_mag)` | 4 | 2 | 66.67 |\n| 2 | `0 < g_cmodel_mag < 50` | 4 | 0 | 66.67 |");
    CU_ASSERT_EQUAL(rows_of("qc_sentinel.h5"), 4);
    /* sentinels: keep leaves the values for a range cut, still counted in the summary */
    expect_ok(rc, ingest_with(&rc, "ing_sentinel_keep", "hsc_sentinel.fits", "{\"sentinels\": \"keep\"}"),
              "6 rows, 18 columns; missing values: none; magnitudes outside (0, 50) kept: g_cmodel_mag 2\n");
    expect_ok(rc, cuts(&rc, "qc_sentinel_keep", "ing_sentinel_keep.h5", "[\"isfinite(g_cmodel_mag)\", \"0 < g_cmodel_mag < 50\"]"),
              "| 2 | `0 < g_cmodel_mag < 50` | 4 | 2 | 66.67 |");
    /* a wider range takes -99 and 99 as values */
    expect_ok(rc, ingest_with(&rc, "ing_sentinel_range", "hsc_sentinel.fits", "{\"mag_range\": [-100, 100]}"),
              "hsc_sentinel.fits: 6 rows, 18 columns; missing values: none\n");
    expect_error(rc, ingest_with(&rc, "ing_badrange", "hsc_sentinel.fits", "{\"mag_range\": [50, 0]}"),
                 "pzflow-ingest-hsc: param 'mag_range': expected [low, high] with low < high, e.g. [0, 50]");
    expect_error(rc, ingest_with(&rc, "ing_badsent", "hsc_sentinel.fits", "{\"sentinels\": \"zero\"}"),
                 "param 'sentinels': 'zero' is not one of nan|keep");
}

static void test_empty(void)
{
    int rc;
    expect_ok(rc, ingest(&rc, "ing_empty", "hsc_empty.fits"), "hsc_empty.fits: 0 rows, 18 columns");
    expect_error(rc, cuts(&rc, "qc_empty", "ing_empty.h5", "[\"isfinite(g_cmodel_mag)\"]"),
                 "ing_empty.h5: the input table has no rows (nothing to cut)");
    expect_error(rc, train(&rc, "tr_empty", "gml_empty.h5", ""), "gml_empty.h5: no usable rows");
}

static void test_duplicate_ids(void)
{
    int rc;
    /* Ingest refuses repeated ids by default (they would land in both train and test after a
     * split); duplicates: drop keeps each id's first row. */
    expect_error(rc, ingest(&rc, "ing_dupid", "hsc_dupid.fits"),
                 "pzflow-ingest-hsc: hsc_dupid.fits: column object_id has 2 duplicated values (first: 7 at rows 1 "
                 "and 4); set duplicates: drop to keep the first occurrence");
    CU_ASSERT_EQUAL(rows_of("ing_dupid.h5"), -1);
    expect_ok(rc, ingest_with(&rc, "ing_dupid_drop", "hsc_dupid.fits", "{\"duplicates\": \"drop\"}"),
              "hsc_dupid.fits: 4 rows, 18 columns; missing values: none; dropped 2 rows repeating an earlier "
              "object_id (2 duplicated values, first: 7)\n");
    CU_ASSERT_EQUAL(rows_of("ing_dupid_drop.h5"), 4);
    expect_error(rc, ingest_with(&rc, "ing_dupid_bad", "hsc_dupid.fits", "{\"duplicates\": \"keep\"}"),
                 "param 'duplicates': 'keep' is not one of error|drop");
    /* Stages after ingest do not check again: predict keeps both rows. */
    expect_ok(rc, predict(&rc, "pr_dupid", "gml_dupid.h5"), "300 rows predicted");
}

static void test_bad_cuts(void)
{
    int rc;
    expect_error(rc, cuts(&rc, "qc_typo", "ing_good.h5", "[\"g_cmodel_mag < 30\", \"i_cmodel_mg > 0\"]"),
                 "cut 2 'i_cmodel_mg > 0': column 1: unknown column 'i_cmodel_mg' (did you mean 'i_cmodel_mag'?)");
    size_t n = 3000;
    char *chain = pz_xmalloc(2 * n + 16), *p = chain;
    p += sprintf(p, "[\"");
    for (size_t i = 0; i < n; i++) p += sprintf(p, i ? "+1" : "1");
    sprintf(p, " > 0\"]");
    expect_error(rc, cuts(&rc, "qc_long", "ing_good.h5", chain),
                 "1+...': column 2000: cut too long: more than 2000 numbers, names and operators");
    free(chain);
}

static void test_corrupt_hdf5(void)
{
    int rc;
    char *f = pz_xasprintf("%s/tests/fuzz/hdf5/truncated.h5", pzt_source_dir());
    char *out = predict(&rc, "pr_trunc", f);
    CU_ASSERT_PTR_NULL(strstr(out, "()")); /* no empty reason when HDF5 gives none */
    expect_error(rc, out, "truncated.h5: not an HDF5 file or truncated");
    free(f);
    f = pz_xasprintf("%s/tests/fuzz/hdf5/bitflip.h5", pzt_source_dir());
    out = predict(&rc, "pr_flip", f);
    /* pz_die leaves with _exit: HDF5's at-exit notice no longer follows the error line */
    CU_ASSERT_PTR_NULL(strstr(out, "infinite loop closing library"));
    expect_error(rc, out, "bitflip.h5: cannot list the root group (file corrupt or truncated?)");
    free(f);
    /* predict reads FITS too; this catalogue lacks the model's label column, and says so by name */
    expect_error(rc, predict(&rc, "pr_fits", "hsc_good.fits"), "hsc_good.fits: label column 'specz_redshift' not in the table");
    /* A 1.6 KB file whose dataspace claims 2^40 rows: refused before any allocation (it used to
     * abort the stage asking for 4 TB). */
    f = pz_xasprintf("%s/tests/fuzz/hdf5/crash-rows-2e40.h5", pzt_source_dir());
    expect_error(rc, cuts(&rc, "qc_huge", f, "[\"i_cmodel_mag < 30\"]"),
                 "crash-rows-2e40.h5: dataset 'i_cmodel_mag' declares 1099511627776 rows of 4 bytes that the file "
                 "does not hold (corrupt, truncated or never written)");
    free(f);
    /* HDF5 1.10.8 itself would hang on the first and SIGSEGV on the second: refused before it can */
    expect_error(rc, cuts(&rc, "qc_heap", "gml_heap.h5", "[\"i_cmodel_mag < 30\"]"),
                 "gml_heap.h5: corrupt global heap collection at byte ");
    expect_error(rc, cuts(&rc, "qc_enum", "gml_enum.h5", "[\"i_cmodel_mag < 30\"]"),
                 "gml_enum.h5: object 'flag' is corrupt: its header holds an enumeration datatype whose size "
                 "differs from its base type's; HDF5 would crash reading it");
    /* a chunk dimension of zero: HDF5 1.10.8 divides by it in H5Dopen2 (SIGFPE; h5py dies too).
     * Found by a CI fuzz pass on another machine (issue 17, part 0). */
    f = pz_xasprintf("%s/tests/fuzz/hdf5/hdf5-layout-fpe.h5", pzt_source_dir());
    expect_error(rc, cuts(&rc, "qc_layout", f, "[\"i_cmodel_mag < 30\"]"),
                 "hdf5-layout-fpe.h5: object 'i_cmodel_mag' is corrupt: its header holds a chunked layout whose "
                 "chunk dimensions overrun their message; HDF5 would crash reading it");
    free(f);
}

/* --- issue 17: training that diverges, redshift labels, damaged models ------------------- */

static void test_diverging_training(void)
{
    int rc;
    /* 3 of 300 labels at -1 ("no redshift"): the HSC loss divides by 1 + z; training used to run
     * every epoch on NaN, restore the random initial weights and exit 0 */
    expect_error(rc, train(&rc, "tr_label_neg", "gml_label_neg.h5", ""),
                 "pzflow-train: training stopped: epoch 1, batch 1: the loss gradient is NaN; first bad value: "
                 "label -1 at training row 30 (the HSC loss divides by 1 + z)");
    expect_error(rc, train(&rc, "tr_lr_huge", "gml_train.h5", ", \"lr\": 1e6"),
                 "pzflow-train: training stopped: epoch 1, batch 3: the loss gradient is NaN with every label and "
                 "feature usable: the weights diverged (learning rate 1e+06 too high?)");
    /* a run that learns nothing after epoch 1 ends, but says so */
    expect_ok(rc, stage(&rc, "train", "tr_stuck", "{\"label\": \"specz_redshift\", \"seed\": 1, \"lr\": 1e6, \"hidden\": [8], "
                          "\"epochs\": 10, \"patience\": 3}", "{\"train\": \"gml_train.h5\", \"validation\": \"gml_val.h5\"}",
                          "{\"model\": \"tr_stuck.h5\"}"),
              "pzflow-train: warning: the validation loss never improved on epoch 1 (4 epochs run, best val_loss "
              "1.000000); the model holds epoch 1's weights: check lr (1e+06) and the labels");
    char *p = pz_xasprintf("%s/tr_stuck.h5", dir);
    CU_ASSERT_TRUE(pzt_exists(p));
    free(p);
    expect_error(rc, train(&rc, "tr_const", "gml_const.h5", ""),
                 "pzflow-train: input 'train': the scaler of feature 'g_cmodel_mag' is degenerate (min = max = 21)");
}

static char *ingest_gml(int *rc, const char *name, const char *file, const char *params)
{
    char *in = pz_xasprintf("{\"training\": \"%s\"}", file), *outs = pz_xasprintf("{\"training\": \"%s.h5\"}", name);
    char *out = stage(rc, "ingest-galaxiesml", name, params, in, outs);
    free(in), free(outs);
    return out;
}

static void test_label_ranges(void)
{
    int rc;
    expect_ok(rc, ingest_gml(&rc, "ing_gml_good", "gmlfull_good.h5", "{}"),
              "ingest-galaxiesml: training gmlfull_good.h5: 20 rows, 17 columns; missing values: none");
    expect_error(rc, ingest_gml(&rc, "ing_gml_sentinel", "gmlfull_sentinel.h5", "{}"),
                 "pzflow-ingest-galaxiesml: gmlfull_sentinel.h5: label column specz_redshift has 3 values outside "
                 "(0, 10) (first: -1 at row 2); a \"no redshift\" sentinel? cut those rows, or set label_range: "
                 "[low, high] to keep them and cut after ingest");
    expect_ok(rc, ingest_gml(&rc, "ing_gml_wide", "gmlfull_sentinel.h5", "{\"label_range\": [-100, 100]}"),
              "ingest-galaxiesml: training gmlfull_sentinel.h5: 8 rows, 17 columns");
    expect_error(rc, ingest_gml(&rc, "ing_gml_badrange", "gmlfull_good.h5", "{\"label_range\": [10, 0]}"),
                 "pzflow-ingest-galaxiesml: param 'label_range': expected [low, high] with low < high, e.g. [0, 10]");
}

static char *predict_with(int *rc, const char *name, const char *model)
{
    char *in = pz_xasprintf("{\"model\": \"%s\", \"table\": \"gml_test.h5\"}", model);
    char *outs = pz_xasprintf("{\"predictions\": \"%s.h5\"}", name);
    char *out = stage(rc, "predict", name, "{\"label\": \"specz_redshift\"}", in, outs);
    free(in), free(outs);
    return out;
}

/* Copies of model.h5 (trained by test_nonfinite) damaged by tests/py/damaged_models.py. */
static void test_damaged_models(void)
{
    int rc;
    char *out = NULL;
    rc = pzt_run(dir, &out, "%s %s/tests/py/damaged_models.py model.h5 .", pzt_python(), pzt_source_dir());
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    expect_error(rc, predict_with(&rc, "pr_nanweight", "model_nanweight.h5"),
                 "pzflow-predict: model_nanweight.h5: weights/dense_1/kernel[1][2] is nan: a model with non-finite "
                 "weights predicts garbage");
    expect_error(rc, predict_with(&rc, "pr_flatscaler", "model_flatscaler.h5"),
                 "pzflow-predict: model_flatscaler.h5: the scaler of feature 'g_cmodel_mag' is degenerate (min = max =");
    expect_error(rc, predict_with(&rc, "pr_activation", "model_activation.h5"),
                 "pzflow-predict: model_activation.h5: unknown activation 'gelu' (pzflow's network uses relu)");
}

/* --- issue 17: columns of unequal length, one name twice, vectors ------------------------- */

static void test_column_shapes(void)
{
    int rc;
    const char *unequal = "gml_unequal.h5: columns of unequal length: 'specz_redshift' has 299 rows, 'g_cmodel_mag' "
                          "has 300 (a table's columns must all have the same number of rows)";
    expect_error(rc, train(&rc, "tr_unequal", "gml_unequal.h5", ""), unequal);        /* columns by name */
    expect_error(rc, cuts(&rc, "qc_unequal", "gml_unequal.h5", "[\"specz_redshift > 0\"]"), unequal); /* all */
    expect_error(rc, train(&rc, "tr_vector", "gml_vector.h5", ""),
                 "gml_vector.h5: dataset 'g_cmodel_mag' is not a table column: its shape is (300, 2), where a column "
                 "of one scalar per row, shape (N) or (N,1), is expected");
    expect_error(rc, ingest(&rc, "ing_dupname", "hsc_dupname.fits"),
                 "pzflow-ingest-hsc: hsc_dupname.fits: columns 2 and 4 are both named 'ra' (TTYPE2, TTYPE4); pzflow "
                 "will not choose one silently: rename one of them");
    expect_error(rc, ingest(&rc, "ing_vector", "hsc_vector.fits"),
                 "pzflow-ingest-hsc: hsc_vector.fits: column 'g_cmodel_mag' is a vector (repeat 2: 2 values per row), "
                 "where a scalar column is expected");
}

/* --- issue 17: text reaching gnuplot ------------------------------------------------------ */

static void test_plot_labels(void)
{
    int rc;
    /* fig2_attack.h5's model name is "NN\n!touch <dir>/pwned\n#": gnuplot used to run the touch */
    expect_error(rc, stage(&rc, "plot", "plot_attack", "{}", "{\"fig2\": \"fig2_attack.h5\"}",
                           "{\"fig2.svg\": \"plot_attack.svg\"}"),
                 "fig2: input column 'model' row 0: 'NN\\n!touch ");
    char *p = pz_xasprintf("%s/pwned", dir);
    CU_ASSERT_FALSE(pzt_exists(p));
    free(p);
}

int main(void)
{
    dir = pzt_mkdtemp("bad_input");
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/hostile_inputs.py %s", pzt_python(), pzt_source_dir(), dir);
    if (rc) fprintf(stderr, "hostile_inputs.py: %s\n", out ? out : "");
    free(out);
    if (rc) return 1;
    pzt_suite("bad_input", (pzt_case[]){{"pipeline files: malformed, cycle, missing", test_pipeline_files},
                                        {"FITS: truncated, wrong type, corrupt header", test_fits_files},
                                        {"NaN and +-inf magnitudes", test_nonfinite},
                                        {"-99 / 99 sentinels", test_sentinels},
                                        {"empty tables", test_empty},
                                        {"duplicate object_id", test_duplicate_ids},
                                        {"bad cuts", test_bad_cuts},
                                        {"corrupt HDF5", test_corrupt_hdf5},
                                        {"training that diverges", test_diverging_training},
                                        {"redshift labels at ingest", test_label_ranges},
                                        {"damaged model files", test_damaged_models},
                                        {"column shapes and names", test_column_shapes},
                                        {"plot labels that would run commands", test_plot_labels},
                                        {0}});
    rc = pzt_main();
    if (rc == 0) pzt_rmtree(dir);
    free(dir);
    return rc;
}
