/* The train, fine-tune and predict stage executables, run as the scheduler runs them (a spec
 * file in a scratch directory): end to end, NN-Combo, fine-tuning with frozen layers,
 * determinism of the model bytes, and one clear error for each kind of bad input. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "nn/model.h"
#include "nn/stage.h"
#include "util/sbuf.h"
#include "support/pztest.h"
#include "table/table.h"

static char *dir;

/* The galaxies table (pzt_galaxies) as `name`, with NaN in g_cmodel_mag on its first `nan_rows`
 * rows, and without `skip_col` (NULL: every column). */
static void make_table(const char *name, size_t n, unsigned seed, const char *label, size_t nan_rows,
                       const char *skip_col)
{
    pz_table *t = pzt_galaxies(n, seed, label);
    float *g = pz_table_col(t, "g_cmodel_mag")->data;
    for (size_t r = 0; r < nan_rows && r < n; r++) g[r] = NAN;
    if (skip_col) pz_table_drop(t, skip_col);
    pzt_write_fixture(dir, name, t);
    pz_table_free(t);
}

/* Write spec `name` (JSON body after "threads") and run stage `exe`; returns the exit status. */
#define run_stage(exe, name, out, ...) pzt_run_stage(dir, exe, name, out, __VA_ARGS__)

static int expect_error(const char *exe, const char *name, const char *needle, const char *fmt, const char *a)
{
    char *out = NULL;
    int rc = run_stage(exe, name, &out, fmt, a);
    int found = out && strstr(out, needle) != NULL;
    if (rc == 0 || !found) fprintf(stderr, "\n[%s: rc %d, wanted '%s' in:]\n%s\n", name, rc, needle, out);
    free(out);
    return rc != 0 && found;
}

#define TRAIN_IO "\"inputs\": {\"train\": \"tr.h5\", \"validation\": \"va.h5\"}, \"outputs\": {\"model\": \"%s\"}"

static void test_train_then_predict(void)
{
    char *out = NULL;
    int rc = run_stage("train", "train", &out, "\"params\": {\"label\": \"specz_redshift\", \"epochs\": 12, \"seed\": 1}, " TRAIN_IO,
                       "base.h5");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* One line per epoch, and the NaN rows were dropped with a report naming the column. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "epoch 12 train_loss"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "dropped 5 of 2000 rows with non-finite or sentinel values (g_cmodel_mag: 5)"));
    /* Progress counts epochs against the maximum with the early-stopping countdown, and the
     * last epoch shows as done. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "@progress 0.0833 epoch 1/12, stop in <="));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "@progress 1.0000 epoch 12/12, stopped, best val "));
    free(out);
    rc = run_stage("train", "train", &out,
                   "\"params\": {\"label\": \"specz_redshift\", \"epochs\": 500, \"patience\": 1, \"seed\": 1}, "
                   TRAIN_IO, "early.h5");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* the countdown carries the time it takes at the epochs' pace so far */
    const char *bound = strstr(out, "/500, stop in <=1 (~");
    CU_ASSERT_PTR_NOT_NULL(bound);
    CU_ASSERT_PTR_NOT_NULL(bound && strstr(bound, "s), val "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/500, stopped, best val "));
    CU_ASSERT_PTR_NULL(strstr(out, "epoch 500/500"));
    free(out);
    rc = run_stage("predict", "predict", &out,
                   "\"params\": {\"label\": \"specz_redshift\", \"chunk_rows\": 700}, \"inputs\": {\"model\": "
                   "\"base.h5\", \"table\": \"te.h5\"}, \"outputs\": {\"predictions\": \"pred.h5\"}");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    /* The predictions contract: object_id int64 (exact), z_pred float32, z_true float64. */
    char *path = pz_xasprintf("%s/pred.h5", dir);
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->nrows, 2500);
    pz_column *id = pz_table_col(t, "object_id"), *zp = pz_table_col(t, "z_pred"), *zt = pz_table_col(t, "z_true");
    CU_ASSERT_FATAL(id && zp && zt);
    CU_ASSERT_EQUAL(id->type, PZ_I64);
    CU_ASSERT_EQUAL(zp->type, PZ_F32);
    CU_ASSERT_EQUAL(zt->type, PZ_F64);
    CU_ASSERT_EQUAL(((int64_t *)id->data)[2499], PZT_FIRST_ID + 2499);
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "pzflow_provenance")); /* provenance: in the run record */
    /* The model's seed (1) travels with its predictions... */
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "seed") ? pz_table_attr(t, "seed") : "", "1");
    double s = 0;
    size_t nan = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double d = pz_col_f64(zp, r) - pz_col_f64(zt, r);
        if (isnan(d)) nan++;
        else s += d * d;
    }
    CU_ASSERT_EQUAL(nan, 3); /* te.h5 has 3 rows with a NaN magnitude */
    fprintf(stderr, "[test rms %.4f] ", sqrt(s / (t->nrows - nan)));
    CU_ASSERT_TRUE(sqrt(s / (t->nrows - nan)) < 0.05);
    pz_table_free(t);
    free(path);
    /* ...and evaluate labels the per-seed rows with it, not with the list position 0. */
    rc = run_stage("evaluate", "evaluate-seed", &out,
                   "\"params\": {\"groups\": [{\"model\": \"NN-Base\", \"test\": \"T\", \"input\": \"preds\"}]}, "
                   "\"inputs\": {\"preds\": [\"pred.h5\"]}, \"outputs\": {\"metrics\": \"metrics.h5\", \"table\": "
                   "\"metrics.md\"}");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    path = pz_xasprintf("%s/metrics.h5", dir);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    pz_column *seed = pz_table_col(t, "seed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
    size_t ones = 0, others = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        int64_t v = ((int64_t *)seed->data)[r];
        if (v == 1) ones++;
        else if (v != -1) others++; /* -1: rows aggregated over seeds */
    }
    CU_ASSERT_TRUE(ones > 0);
    CU_ASSERT_EQUAL(others, 0);
    pz_table_free(t);
    free(path);
}

/* Survey catalogues come as FITS: predict reads the same table from a FITS file (written here by
 * astropy, big-endian, NaN kept) in chunks and must give exactly the HDF5 run's predictions. */
static void test_predict_from_fits(void)
{
    char *out = NULL;
    int rc = pzt_run(dir, &out,
                     "'%s' -c \"from astropy.table import Table; Table.read('te.h5').write('te.fits', overwrite=True)\" 2>&1",
                     pzt_python());
    if (rc) fprintf(stderr, "\n%s\n", out);
    free(out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    rc = run_stage("predict", "predict-fits", &out,
                   "\"params\": {\"label\": \"specz_redshift\", \"chunk_rows\": 700}, \"inputs\": {\"model\": "
                   "\"base.h5\", \"table\": \"te.fits\"}, \"outputs\": {\"predictions\": \"pred_fits.h5\"}");
    CU_ASSERT_TRUE(pzt_has(out, "2500 rows predicted; flags: ") && pzt_has(out, " 3 non-finite (1), 0 sentinel (2)"));
    free(out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    pz_table *a = NULL, *b = NULL;
    pz_err err;
    char *pa = pz_xasprintf("%s/pred.h5", dir), *pb = pz_xasprintf("%s/pred_fits.h5", dir);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(pa, 0, NULL, 0, 0, (size_t)-1, &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(pb, 0, NULL, 0, 0, (size_t)-1, &b, &err), 0);
    CU_ASSERT_EQUAL_FATAL(a->nrows, b->nrows);
    const char *cols[] = {"object_id", "z_pred", "z_true"};
    for (size_t k = 0; k < 3; k++) {
        pz_column *ca = pz_table_col(a, cols[k]), *cb = pz_table_col(b, cols[k]);
        CU_ASSERT_FATAL(ca && cb && ca->type == cb->type);
        CU_ASSERT_EQUAL(memcmp(ca->data, cb->data, a->nrows * pz_coltype_size(ca->type)), 0);
    }
    pz_table_free(a), pz_table_free(b);
    free(pa), free(pb);
    /* A file that is neither format gets one line naming it. */
    CU_ASSERT_TRUE(expect_error("predict", "bad-format", "predict.json: neither a FITS nor an HDF5 file",
                                "\"inputs\": {\"model\": \"base.h5\", \"table\": \"%s\"}, \"outputs\": "
                                "{\"predictions\": \"p.h5\"}",
                                "predict.json"));
}

static void test_deterministic(void)
{
    const char *fmt = "\"params\": {\"label\": \"specz_redshift\", \"epochs\": 2, \"seed\": 5}, " TRAIN_IO;
    CU_ASSERT_EQUAL_FATAL(run_stage("train", "det1", NULL, fmt, "det1.h5"), 0);
    CU_ASSERT_EQUAL_FATAL(run_stage("train", "det1", NULL, fmt, "det2.h5"), 0);
    char *a = pz_xasprintf("%s/det1.h5", dir), *b = pz_xasprintf("%s/det2.h5", dir);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b);
}

static void test_combo(void)
{
    char *out = NULL;
    int rc = run_stage("train", "combo", &out,
                       "\"params\": {\"label\": [\"specz_redshift\", \"lp_zPDF\"], \"epochs\": 2}, \"inputs\": "
                       "{\"train\": [\"tr.h5\", \"tz.h5\"], \"validation\": [\"va.h5\", \"tz.h5\"]}, \"outputs\": "
                       "{\"model\": \"combo.h5\"}");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "input 'train': 2995 rows from 2 tables"));
    free(out);
    CU_ASSERT_TRUE(expect_error("train", "combo-bad", "lists 2 labels but input 'validation' has 1 table",
                                "\"params\": {\"label\": [\"specz_redshift\", \"lp_zPDF\"]}, \"inputs\": "
                                "{\"train\": [\"tr.h5\", \"tz.h5\"], \"validation\": \"va.h5\"}, \"outputs\": "
                                "{\"model\": \"%s\"}",
                                "x.h5"));
}

static void test_fine_tune(void)
{
    char *out = NULL;
    int rc = run_stage("fine-tune", "tune", &out,
                       "\"params\": {\"label\": \"lp_zPDF\", \"epochs\": 2, \"freeze\": [\"dense_1\", \"dense_2\"]}, "
                       "\"inputs\": {\"model\": \"base.h5\", \"train\": \"tz.h5\", \"validation\": \"tz.h5\"}, "
                       "\"outputs\": {\"model\": \"tl.h5\"}");
    if (rc) fprintf(stderr, "%s\n", out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    char *bp = pz_xasprintf("%s/base.h5", dir), *tp = pz_xasprintf("%s/tl.h5", dir);
    pz_err err;
    pz_model *base = pz_model_load(bp, &err), *tl = pz_model_load(tp, &err);
    CU_ASSERT_FATAL(base && tl);
    const pz_net *a = base->net, *b = tl->net;
    for (int l = 0; l < a->nlayers; l++) {
        size_t n = (size_t)a->din[l] * a->dout[l] + a->dout[l];
        int same = memcmp(a->w[l], b->w[l], n * sizeof(float)) == 0;
        CU_ASSERT_EQUAL(same, l < 2);
    }
    /* The base scaler is kept, not refitted on the new data. */
    for (int j = 0; j < 5; j++) CU_ASSERT_EQUAL(base->scaler.min[j], tl->scaler.min[j]);
    CU_ASSERT_STRING_EQUAL(tl->frozen, "dense_1,dense_2");
    CU_ASSERT_DOUBLE_EQUAL(tl->learning_rate, 1e-4, 1e-12);
    pz_model_free(base), pz_model_free(tl);
    free(bp), free(tp);
    CU_ASSERT_TRUE(expect_error("fine-tune", "tune-bad", "no layer 'dense_9' (layers: dense_1, dense_2, dense_3, "
                                                         "dense_4, output)",
                                "\"params\": {\"label\": \"lp_zPDF\", \"freeze\": [\"%s\"]}, \"inputs\": {\"model\": "
                                "\"base.h5\", \"train\": \"tz.h5\", \"validation\": \"tz.h5\"}, \"outputs\": "
                                "{\"model\": \"x.h5\"}",
                                "dense_9"));
}

static void test_bad_inputs(void)
{
    const char *train_with = "\"params\": {\"label\": \"specz_redshift\", \"epochs\": 1%s}, " TRAIN_IO;
    char fmt[512];
    /* Missing feature column. */
    snprintf(fmt, sizeof fmt,
             "\"params\": {\"label\": \"specz_redshift\"}, \"inputs\": {\"train\": \"%%s\", \"validation\": "
             "\"va.h5\"}, \"outputs\": {\"model\": \"x.h5\"}");
    CU_ASSERT_TRUE(expect_error("train", "bad-missing", "missing 1 column: r_cmodel_mag", fmt, "nor.h5"));
    /* Empty table. */
    CU_ASSERT_TRUE(expect_error("train", "bad-empty", "empty.h5: no usable rows", fmt, "empty.h5"));
    /* NaN features refused when dropping is off: names the column and the count. */
    snprintf(fmt, sizeof fmt, train_with, ", \"drop_nonfinite\": false", "%s");
    CU_ASSERT_TRUE(expect_error("train", "bad-nan", "column 'g_cmodel_mag' has 5 non-finite or sentinel values (of 2000 rows)",
                                fmt, "x.h5"));
    /* Unknown param, missing label. */
    snprintf(fmt, sizeof fmt, train_with, ", \"learning_rate\": 0.1", "%s");
    CU_ASSERT_TRUE(expect_error("train", "bad-param", "unknown param 'learning_rate'", fmt, "x.h5"));
    CU_ASSERT_TRUE(expect_error("train", "bad-label", "param 'label' is required",
                                "\"params\": {}, " TRAIN_IO, "x.h5"));
    /* Predict: the model's features are not in the table. */
    CU_ASSERT_TRUE(expect_error("predict", "bad-pred",
                                "the model's feature 'r_cmodel_mag' is not in the table",
                                "\"inputs\": {\"model\": \"base.h5\", \"table\": \"%s\"}, \"outputs\": "
                                "{\"predictions\": \"p.h5\"}",
                                "nor.h5"));
    CU_ASSERT_TRUE(expect_error("predict", "bad-model", "not an HDF5 file",
                                "\"inputs\": {\"model\": \"%s\", \"table\": \"te.h5\"}, \"outputs\": "
                                "{\"predictions\": \"p.h5\"}",
                                "det1.json"));
}

static void collect_line(void *ctx, const char *line)
{
    pz_sb_printf(ctx, "%s\n", line);
}

/* The library never prints (util/err.h): called in process, training writes nothing to stdout;
 * its per-epoch lines reach the caller's log callback and how it ended comes back as the summary,
 * which pzflow-train's main prints (test_train_then_predict reads them in its output). */
static void test_the_training_library_prints_nothing_itself(void)
{
    char *spec_path = pz_xasprintf("%s/inproc.json", dir), *captured = pz_xasprintf("%s/inproc.stdout", dir);
    char *json = pz_xasprintf("{\"stage\": \"t\", \"params\": {\"label\": \"specz_redshift\", \"epochs\": 3, "
                              "\"hidden\": [8]}, \"inputs\": {\"train\": \"%s/tr.h5\", \"validation\": "
                              "\"%s/va.h5\"}, \"outputs\": {\"model\": \"%s/inproc.h5\"}}",
                              dir, dir, dir);
    CU_ASSERT_EQUAL_FATAL(pzt_write_file(spec_path, json), 0);
    pz_err err;
    pz_spec *spec = pz_spec_load(spec_path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(spec);
    pz_sbuf log = {0};
    spec->log = collect_line;
    spec->log_ctx = &log;
    const pz_stage_def *d = &pz_nn_train_stage;
    void *params = calloc(1, d->params_size);
    char *summary = NULL;
    fflush(stdout);
    int saved = dup(1), fd = open(captured, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    int rc = pz_params_read(spec, d->params, params, &err) || d->run(spec, params, &summary, &err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved), close(fd);
    CU_ASSERT_EQUAL(rc, 0);
    size_t printed = 99;
    free(pzt_read_file(captured, &printed));
    CU_ASSERT_EQUAL(printed, 0);
    CU_ASSERT_PTR_NOT_NULL(log.p && strstr(log.p, "pzflow-train: epoch 3 train_loss"));
    CU_ASSERT_PTR_NOT_NULL(log.p && strstr(log.p, "input 'train': 1995 rows from 1 table"));
    CU_ASSERT_PTR_NOT_NULL(summary && strstr(summary, "pzflow-train: stopped after 3 epochs"));
    pz_params_release(d->params, params);
    free(params), free(summary), free(log.p), free(json), free(captured), free(spec_path);
    pz_spec_free(spec);
}

int main(void)
{
    dir = pzt_mkdtemp("nn_stages");
    make_table("tr.h5", 2000, 1, "specz_redshift", 5, NULL);
    make_table("va.h5", 400, 2, "specz_redshift", 0, NULL);
    make_table("te.h5", 2500, 3, "specz_redshift", 3, NULL);
    make_table("tz.h5", 1000, 4, "lp_zPDF", 0, NULL);
    make_table("nor.h5", 100, 5, "specz_redshift", 0, "r_cmodel_mag");
    make_table("empty.h5", 0, 6, "specz_redshift", 0, NULL);
    pzt_suite("nn_stages", (pzt_case[]){{"train then predict", test_train_then_predict},
                                        {"predict from a FITS table", test_predict_from_fits},
                                        {"deterministic model bytes", test_deterministic},
                                        {"combo: several tables, own labels", test_combo},
                                        {"fine-tune with frozen layers", test_fine_tune},
                                        {"bad inputs give clear errors", test_bad_inputs},
                                        {"the training library prints nothing itself", test_the_training_library_prints_nothing_itself},
                                        {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(dir);
    free(dir);
    return rc;
}
