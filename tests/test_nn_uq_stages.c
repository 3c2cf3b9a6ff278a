/* p(z) from the stage executables, run as the scheduler runs them: train with a mixture-density
 * head and as a Bayesian network, fine-tune a plain network into a Bayesian one, predict (the
 * p(z) columns of the predictions contract), combine a seed ensemble with pzflow-ensemble; and
 * one clear error for each param combination that cannot work. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "support/pztest.h"
#include "table/table.h"

static char *dir;

/* The galaxies table (pzt_galaxies, label specz_redshift) as `name`. */
static void make_table(const char *name, size_t n, unsigned seed)
{
    pz_table *t = pzt_galaxies(n, seed, "specz_redshift");
    pzt_write_fixture(dir, name, t);
    pz_table_free(t);
}

#define run_stage(exe, name, out, ...) pzt_run_stage(dir, exe, name, out, __VA_ARGS__)

#define SMALL "\"label\": \"specz_redshift\", \"epochs\": 4, \"hidden\": [16, 16]"

static int train(const char *name, const char *params, const char *model)
{
    char *out = NULL;
    int rc = run_stage("train", name, &out,
                       "\"params\": {" SMALL ", %s}, \"inputs\": {\"train\": \"tr.h5\", \"validation\": \"va.h5\"}, "
                       "\"outputs\": {\"model\": \"%s\"}",
                       params, model);
    free(out);
    return rc;
}

static int predict(const char *model, const char *preds)
{
    char *out = NULL;
    int rc = run_stage("predict", "predict", &out,
                       "\"params\": {\"label\": \"specz_redshift\"}, \"inputs\": {\"model\": \"%s\", \"table\": "
                       "\"te.h5\"}, \"outputs\": {\"predictions\": \"%s\"}",
                       model, preds);
    free(out);
    return rc;
}

/* Python check on a predictions file: K components, weights sum to 1, z_pred the mixture mean. */
static int check_pdf(const char *preds, int K)
{
    char *out = NULL;
    int rc = pzt_run(dir, &out,
                     "%s -c \"import numpy as np; from astropy.table import Table;"
                     "f = Table.read('%s'); a = {k.lower(): v for k, v in f.meta.items()};"
                     "assert a['pdf'] == 'gaussian_mixture' and int(a['pdf_ncomp']) == %d, a;"
                     "col = lambda n: np.asarray(f[n]);"
                     "w = np.array([col('pdf_weight_%%d' %% k) for k in range(%d)]);"
                     "m = np.array([col('pdf_mean_%%d' %% k) for k in range(%d)]);"
                     "s = np.array([col('pdf_std_%%d' %% k) for k in range(%d)]);"
                     "assert np.allclose(w.sum(0), 1, atol=1e-4) and (s > 0).all(), (w.sum(0), s.min());"
                     "assert np.allclose((w * m).sum(0), col('z_pred'), atol=1e-4);"
                     "assert (col('object_id') == %lld + np.arange(len(col('z_pred')))).all()\"",
                     pzt_python(), preds, K, K, K, K, PZT_FIRST_ID);
    if (rc) fprintf(stderr, "%s\n", out);
    free(out);
    return rc;
}

static void test_mdn_head_stage(void)
{
    CU_ASSERT_EQUAL_FATAL(train("train-mdn", "\"head\": \"mdn\", \"components\": 2, \"seed\": 1", "mdn.h5"), 0);
    char *path = pz_xasprintf("%s/mdn.h5", dir);
    pz_err err;
    pz_model *m = pz_model_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(m->loss, "nll");
    CU_ASSERT_EQUAL(m->net->head.ncomp, 2);
    pz_model_free(m);
    free(path);
    CU_ASSERT_EQUAL_FATAL(predict("mdn.h5", "pred-mdn.h5"), 0);
    CU_ASSERT_EQUAL(check_pdf("pred-mdn.h5", 2), 0);
}

static void test_bnn_stage_and_fine_tune(void)
{
    CU_ASSERT_EQUAL_FATAL(
        train("train-bnn", "\"head\": \"mdn\", \"method\": \"bnn\", \"samples\": 4, \"seed\": 2", "bnn.h5"), 0);
    CU_ASSERT_EQUAL_FATAL(predict("bnn.h5", "pred-bnn.h5"), 0);
    CU_ASSERT_EQUAL(check_pdf("pred-bnn.h5", 1), 0);
    /* A plain network fine-tuned into a Bayesian one with a p(z) head. */
    CU_ASSERT_EQUAL_FATAL(train("train-plain", "\"seed\": 3", "plain.h5"), 0);
    char *out = NULL;
    int rc = run_stage("fine-tune", "tune-bnn", &out,
                       "\"params\": {\"label\": \"specz_redshift\", \"epochs\": 2, \"method\": \"bnn\", \"head\": "
                       "\"mdn\", \"samples\": 4}, \"inputs\": {\"model\": \"plain.h5\", \"train\": \"tr.h5\", "
                       "\"validation\": \"va.h5\"}, \"outputs\": {\"model\": \"tuned.h5\"}");
    free(out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *path = pz_xasprintf("%s/tuned.h5", dir);
    pz_err err;
    pz_model *m = pz_model_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->net->head.bayes, 1);
    CU_ASSERT_EQUAL(m->net->head.kind, PZ_HEAD_MDN);
    CU_ASSERT_EQUAL(m->samples, 4);
    pz_model_free(m);
    free(path);
    CU_ASSERT_EQUAL(predict("tuned.h5", "pred-tuned.h5"), 0);
    CU_ASSERT_EQUAL(check_pdf("pred-tuned.h5", 1), 0);
}

static void test_ensemble_stage(void)
{
    CU_ASSERT_EQUAL_FATAL(train("train-s4", "\"seed\": 4", "s4.h5"), 0);
    CU_ASSERT_EQUAL_FATAL(train("train-s5", "\"seed\": 5", "s5.h5"), 0);
    CU_ASSERT_EQUAL_FATAL(predict("s4.h5", "pred-s4.h5"), 0);
    CU_ASSERT_EQUAL_FATAL(predict("s5.h5", "pred-s5.h5"), 0);
    /* Two point members and one with two components: 1 + 1 + 2 = 4 components. */
    /* pred-mdn.h5 is the first test's */
    char *out = NULL;
    int rc = run_stage("ensemble", "ensemble", &out,
                       "\"params\": {}, \"inputs\": {\"predictions\": [\"pred-s4.h5\", \"pred-s5.h5\", "
                       "\"pred-mdn.h5\"]}, \"outputs\": {\"predictions\": \"ens.fits\"}");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "3 members, p(z) with 4 components"));
    free(out);
    CU_ASSERT_EQUAL(check_pdf("ens.fits", 4), 0);
    rc = run_stage("ensemble", "ensemble-g", &out,
                   "\"params\": {\"pdf\": \"gaussian\"}, \"inputs\": {\"predictions\": [\"pred-s4.h5\", "
                   "\"pred-s5.h5\"]}, \"outputs\": {\"predictions\": \"ens-g.fits\"}");
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    CU_ASSERT_EQUAL(check_pdf("ens-g.fits", 1), 0);
    /* The moment-matched Gaussian of two point members: mean of the two, spread from both the
     * members' difference and the kernel bandwidth. */
    pz_table *a = NULL, *b = NULL, *g = NULL;
    pz_err err;
    char *pa = pz_xasprintf("%s/pred-s4.h5", dir), *pb = pz_xasprintf("%s/pred-s5.h5", dir),
         *pg = pz_xasprintf("%s/ens-g.fits", dir);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(pa, 1, NULL, 0, 0, (size_t)-1, &a, &err) |
                              pz_table_read_any(pb, 1, NULL, 0, 0, (size_t)-1, &b, &err) |
                              pz_table_read_any(pg, 1, NULL, 0, 0, (size_t)-1, &g, &err),
                          0);
    for (size_t r = 0; r < 5; r++) {
        double za = pz_col_f64(pz_table_col(a, "z_pred"), r), zb = pz_col_f64(pz_table_col(b, "z_pred"), r);
        double h = fmax(1.06 * fabs(za - zb) / sqrt(2.0) * pow(2.0, -0.2), 1e-3);
        CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(g, "z_pred"), r), (za + zb) / 2, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(g, "pdf_std_0"), r),
                               sqrt((za - zb) * (za - zb) / 4 + h * h), 1e-5);
    }
    pz_table_free(a), pz_table_free(b), pz_table_free(g);
    free(pa), free(pb), free(pg);
}

static int expect_error(const char *exe, const char *name, const char *needle, const char *body)
{
    char *out = NULL;
    int rc = pzt_run_stage(dir, exe, name, &out, "%s", body);
    int found = out && strstr(out, needle) != NULL;
    if (rc == 0 || !found) fprintf(stderr, "\n[%s: rc %d, wanted '%s' in:]\n%s\n", name, rc, needle, out);
    free(out);
    return rc != 0 && found;
}

static void test_clear_errors(void)
{
    CU_ASSERT_TRUE(expect_error("train", "bad-loss", "param 'loss' is 'hsc', but a mixture-density head trains on",
                                "\"params\": {" SMALL ", \"head\": \"mdn\", \"loss\": \"hsc\"}, "
                                "\"inputs\": {\"train\": \"tr.h5\", \"validation\": \"va.h5\"}, "
                                "\"outputs\": {\"model\": \"x.h5\"}"));
    CU_ASSERT_TRUE(expect_error("train", "bad-comp", "param 'components' is 3, but a point head has no mixture",
                                "\"params\": {" SMALL ", \"components\": 3}, "
                                "\"inputs\": {\"train\": \"tr.h5\", \"validation\": \"va.h5\"}, "
                                "\"outputs\": {\"model\": \"x.h5\"}"));
    CU_ASSERT_TRUE(expect_error("ensemble", "not-preds", "no column 'z_pred'",
                                "\"params\": {}, \"inputs\": {\"predictions\": [\"pred-s4.h5\", \"va.h5\"]}, "
                                "\"outputs\": {\"predictions\": \"x.h5\"}"));
    /* Members must predict the same rows: predictions of another table are refused. */
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_stage("predict", "predict-va", &out,
                                    "\"params\": {}, \"inputs\": {\"model\": \"s4.h5\", \"table\": \"va.h5\"}, "
                                    "\"outputs\": {\"predictions\": \"pred-va.h5\"}"),
                          0);
    free(out);
    CU_ASSERT_TRUE(expect_error("ensemble", "bad-rows", "300 rows, but pred-s4.h5 has 400 (ensemble members must",
                                "\"params\": {}, \"inputs\": {\"predictions\": [\"pred-s4.h5\", \"pred-va.h5\"]}, "
                                "\"outputs\": {\"predictions\": \"x.h5\"}"));
}

int main(void)
{
    dir = pzt_mkdtemp("nn_uq_stages");
    make_table("tr.h5", 1500, 1);
    make_table("va.h5", 300, 2);
    make_table("te.h5", 400, 3);
    pzt_suite("nn_uq_stages", (pzt_case[]){{"mdn head: train, predict, p(z) columns", test_mdn_head_stage},
                                           {"bnn: train, fine-tune from a plain model, predict",
                                            test_bnn_stage_and_fine_tune},
                                           {"ensemble of point and mdn members", test_ensemble_stage},
                                           {"clear errors", test_clear_errors},
                                           {0}});
    int rc = pzt_main();
    pzt_rmtree(dir);
    free(dir);
    return rc;
}
