/* p(z) per galaxy from the network: a mixture-density head learns a known, x-dependent noise
 * level; a Bayesian network (Bayes by backprop) is less sure where it saw no data; both are
 * deterministic and round-trip through the model file; the predictions table carries the
 * mixture in the contract's columns. Layer-level gradient checks are in test_nn_layers.c. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "nn/net.h"
#include "nn/predict.h"
#include "nn/train.h"
#include "nn/vi.h"
#include "support/pztest.h"
#include "table/table.h"

static const char *FEATURES[2] = {"a", "b"};

static unsigned lcg(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static double u01(unsigned *s)
{
    return (lcg(s) + 0.5) / 16777216.0;
}

static double normal(unsigned *s)
{
    return sqrt(-2.0 * log(u01(s))) * cos(6.283185307179586 * u01(s));
}

/* The toy: two features in [lo, hi) (already scaled), z = 0.5 + 0.3 a + noise of std 0.02 + 0.1 a. */
static double noise_std(double a)
{
    return 0.02 + 0.1 * a;
}

static void toy(size_t n, unsigned seed, double lo, double hi, float **x, float **y)
{
    *x = malloc(sizeof(float) * n * 2);
    *y = malloc(sizeof(float) * n);
    for (size_t r = 0; r < n; r++) {
        double a = lo + (hi - lo) * u01(&seed), b = u01(&seed);
        (*x)[2 * r] = (float)a;
        (*x)[2 * r + 1] = (float)b;
        (*y)[r] = (float)(0.5 + 0.3 * a + noise_std(a) * normal(&seed));
    }
}

/* A small trunk with the given head, trained on the toy over a in [lo, hi). */
static pz_model *train_toy(pz_net_head head, double lo, double hi, long epochs, unsigned long seed)
{
    float *xtr, *ytr, *xva, *yva;
    toy(4000, 1, lo, hi, &xtr, &ytr);
    toy(800, 2, lo, hi, &xva, &yva);
    int hidden[2] = {32, 32};
    pz_err err;
    pz_net *net = pz_net_new_head(2, hidden, 2, 1, &head, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    pz_net_init_glorot(net, seed);
    if (head.bayes) pz_vi_init_rho(net, PZ_VI_SIGMA_INIT);
    pz_train_cfg cfg = {.adam = PZ_ADAM_DEFAULTS, .batch_size = 100, .epochs = epochs, .patience = epochs,
                        .loss = head.kind == PZ_HEAD_MDN ? PZ_LOSS_NLL : PZ_LOSS_MSE, .seed = seed};
    cfg.adam.lr = 3e-3;
    pz_data tr = {xtr, ytr, 4000}, va = {xva, yva, 800};
    pz_scaler unit;
    pz_scaler_init(&unit, 2);
    for (int j = 0; j < 2; j++) unit.min[j] = 0.0, unit.max[j] = 1.0; /* the toy is scaled already */
    pz_model *m = pz_model_new(net, FEATURES, 2, &unit);
    pz_scaler_free(&unit);
    m->seed = (long)seed;
    long best = 0;
    int rc = pz_train(net, &tr, &va, &cfg, &m->hist, &best, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    m->best_epoch = best;
    free(xtr), free(ytr), free(xva), free(yva);
    return m;
}

/* The model's p(z) at feature a (b = 0.5): mixture mean and standard deviation. */
static void pdf_at(const pz_model *m, double a, double *mean, double *std)
{
    pz_net_ws *ws = pz_net_ws_new(m->net, 8);
    int K = pz_model_pdf_ncomp(m);
    float x[2] = {(float)a, 0.5f}, z, w[16], mu[16], sd[16];
    pz_pdf_block pdf = {w, mu, sd, 1};
    pz_model_predict_pdf(m, ws, x, 1, &z, &pdf);
    double m1 = 0, m2 = 0;
    for (int k = 0; k < K; k++) {
        m1 += w[k] * mu[k];
        m2 += w[k] * ((double)sd[k] * sd[k] + (double)mu[k] * mu[k]);
    }
    *mean = m1;
    *std = sqrt(m2 - m1 * m1);
    CU_ASSERT_DOUBLE_EQUAL(z, m1, 1e-5); /* z_pred is the mixture mean */
    pz_net_ws_free(ws);
}

static void test_mdn_recovers_noise_level(void)
{
    pz_model *m = train_toy((pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 1}, 0.0, 1.0, 30, 5);
    double lo_mean, lo_std, hi_mean, hi_std;
    pdf_at(m, 0.1, &lo_mean, &lo_std);
    pdf_at(m, 0.9, &hi_mean, &hi_std);
    fprintf(stderr, "[std at a=0.1: %.4f (true %.3f), at a=0.9: %.4f (true %.3f)] ", lo_std, noise_std(0.1), hi_std,
            noise_std(0.9));
    /* Stated tolerance: each within 30% of the true noise, and the means within 0.02 of the truth. */
    CU_ASSERT_TRUE(fabs(lo_std / noise_std(0.1) - 1) < 0.3);
    CU_ASSERT_TRUE(fabs(hi_std / noise_std(0.9) - 1) < 0.3);
    CU_ASSERT_DOUBLE_EQUAL(lo_mean, 0.53, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(hi_mean, 0.77, 0.02);
    pz_model_free(m);
}

static void test_mdn_three_components_trains(void)
{
    pz_model *m = train_toy((pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 3}, 0.0, 1.0, 20, 6);
    double mean, std;
    pdf_at(m, 0.9, &mean, &std);
    fprintf(stderr, "[K=3 at a=0.9: mean %.3f std %.4f] ", mean, std);
    CU_ASSERT_DOUBLE_EQUAL(mean, 0.77, 0.03);
    CU_ASSERT_TRUE(fabs(std / noise_std(0.9) - 1) < 0.4);
    pz_model_free(m);
}

/* Trained on a in [0, 0.5) only, the Bayesian network's spread over weight samples is larger
 * far outside that range than inside it (a plain network has no such spread at all). */
static void test_bnn_wider_off_the_data(void)
{
    pz_model *m = train_toy((pz_net_head){.kind = PZ_HEAD_POINT, .ncomp = 1, .bayes = 1}, 0.0, 0.5, 30, 7);
    CU_ASSERT_EQUAL(pz_model_pdf_ncomp(m), 1);
    double in_mean, in_std, off_mean, off_std;
    pdf_at(m, 0.25, &in_mean, &in_std);
    pdf_at(m, 3.0, &off_mean, &off_std);
    fprintf(stderr, "[bnn spread in the data %.4f, off it %.4f] ", in_std, off_std);
    CU_ASSERT_TRUE(in_std > 0);
    /* Over training seeds 1..8 the ratio off/in ranges 2.7..3.4 (it was 2.3..3.9 with the earlier
     * normal generator, GSL's ziggurat): 3x sat inside that spread, 2x is below all of it. */
    CU_ASSERT_TRUE(off_std > 2 * in_std);
    CU_ASSERT_DOUBLE_EQUAL(in_mean, 0.575, 0.03);
    /* The posterior learned something: its scales moved from their initial value. */
    const float *rho = m->net->params + m->net->nweights;
    float r0 = (float)pz_vi_rho_of_sigma(PZ_VI_SIGMA_INIT);
    size_t moved = 0;
    for (size_t i = 0; i < m->net->nweights; i++) moved += rho[i] != r0;
    CU_ASSERT_TRUE(moved > m->net->nweights / 2);
    pz_model_free(m);
}

/* Same seed, same bytes: training, the model file and the predictions table with its p(z). */
static void test_bnn_mdn_deterministic_and_round_trips(void)
{
    pz_net_head h = {.kind = PZ_HEAD_MDN, .ncomp = 2, .bayes = 1};
    pz_model *a = train_toy(h, 0.0, 1.0, 3, 8), *b = train_toy(h, 0.0, 1.0, 3, 8);
    CU_ASSERT_EQUAL(a->net->nparams, b->net->nparams);
    CU_ASSERT_EQUAL(memcmp(a->net->params, b->net->params, sizeof(float) * a->net->nparams), 0);
    a->samples = b->samples = 8;
    char *dir = pzt_mkdtemp("nn_uq");
    char *pa = pz_xasprintf("%s/a.h5", dir), *pb = pz_xasprintf("%s/b.h5", dir), *tab = pz_xasprintf("%s/t.h5", dir),
         *oa = pz_xasprintf("%s/pa.h5", dir), *ob = pz_xasprintf("%s/pb.h5", dir);
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_model_save(pa, a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_model_save(pb, b, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(pa, pb));
    pz_model *r = pz_model_load(pa, &err);
    if (!r) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->net->head.kind, PZ_HEAD_MDN);
    CU_ASSERT_EQUAL(r->net->head.ncomp, 2);
    CU_ASSERT_EQUAL(r->net->head.bayes, 1);
    CU_ASSERT_EQUAL(r->samples, 8);
    CU_ASSERT_EQUAL(memcmp(r->net->params, a->net->params, sizeof(float) * a->net->nparams), 0);

    /* A table of 10 rows, one with a NaN feature, predicted by the loaded and the trained model.
     * Read in chunks of 3 rows: the weight samples are drawn once per run, not per chunk. */
    pz_table *t = pz_table_new(10);
    pz_column *ca = pz_table_add(t, "a", PZ_F32, 1), *cb = pz_table_add(t, "b", PZ_F32, 1);
    for (int i = 0; i < 10; i++) {
        ((float *)ca->data)[i] = i == 4 ? NAN : 0.1f * i;
        ((float *)cb->data)[i] = 0.5f;
    }
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(tab, t, &err), 0);
    pz_table_free(t);
    pz_predict_stats st;
    pz_predict_opts o = {.chunk_rows = 3};
    pz_source src = {tab, NULL};
    CU_ASSERT_EQUAL(pz_predict_source(r, &src, oa, PZ_FMT_HDF5, &o, &st, &err), 0);
    pz_predict_stats_free(&st);
    CU_ASSERT_EQUAL(pz_predict_source(a, &src, ob, PZ_FMT_HDF5, &o, &st, &err), 0);
    pz_predict_stats_free(&st);
    CU_ASSERT_TRUE(pzt_files_equal(oa, ob));
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import numpy as np; from astropy.table import Table; f = Table.read('%s');"
                     "assert f.meta['pdf'] == 'gaussian_mixture', f.meta['pdf'];"
                     "assert int(f.meta['pdf_ncomp']) == 2;"
                     "w = np.array([f['pdf_weight_%%d' %% k][:] for k in range(2)]);"
                     "m = np.array([f['pdf_mean_%%d' %% k][:] for k in range(2)]);"
                     "s = np.array([f['pdf_std_%%d' %% k][:] for k in range(2)]);"
                     "assert f['pdf_std_1'].dtype == np.float32;"
                     "ok = np.arange(10) != 4;"
                     "assert np.allclose(w[:, ok].sum(0), 1, atol=1e-5) and (s[:, ok] > 0).all();"
                     "assert np.allclose((w * m)[:, ok].sum(0), np.array(f['z_pred'])[ok], atol=1e-5);"
                     "assert np.isnan(w[:, 4]).all() and np.isnan(f['z_pred'][4]);"
                     "print('ok')\"",
                     pzt_python(), oa);
    if (rc) fprintf(stderr, "%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    pz_model_free(a), pz_model_free(b), pz_model_free(r);
    pzt_rmtree(dir);
    free(dir), free(pa), free(pb), free(tab), free(oa), free(ob);
}

/* A point, deterministic model writes no p(z) columns and no pdf attribute. */
static void test_point_model_writes_no_pdf(void)
{
    pz_model *m = train_toy(PZ_NET_HEAD_POINT, 0.0, 1.0, 1, 9);
    CU_ASSERT_EQUAL(pz_model_pdf_ncomp(m), 0);
    pz_model_free(m);
}

/* A model file whose head attributes do not fit its output layer, or name an unknown method, is
 * refused with the file's name (docs/bad-input.md). */
static void test_bad_head_attributes_refused(void)
{
    pz_model *m = train_toy((pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 1}, 0.0, 1.0, 1, 10);
    char *dir = pzt_mkdtemp("nn_uq"), *path = pz_xasprintf("%s/m.h5", dir);
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_model_save(path, m, &err), 0);
    const char *edits[2] = {"f.attrs['components'] = np.int64(2)", "f.attrs['method'] = 'mc'"};
    const char *wanted[2] = {"m.h5: the output layer has width 2, but a mixture-density head with 2 components has width 6",
                             "m.h5: unknown method 'mc' (known: deterministic, bnn)"};
    for (int i = 0; i < 2; i++) {
        char *out = NULL;
        CU_ASSERT_EQUAL(pzt_run(dir, &out, "cp m.h5 e.h5 && %s -c \"import h5py, numpy as np; f = h5py.File('e.h5', 'a'); %s\"",
                                pzt_python(), edits[i]), 0);
        free(out);
        char *edited = pz_xasprintf("%s/e.h5", dir);
        CU_ASSERT_PTR_NULL(pz_model_load(edited, &err));
        if (!strstr(err.msg, wanted[i] + 4)) fprintf(stderr, "[%s]\n", err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, wanted[i] + 4));
        free(edited);
    }
    pz_model_free(m);
    pzt_rmtree(dir);
    free(dir), free(path);
}

int main(void)
{
    openblas_set_num_threads(1); /* one thread: fixed sgemm order, and fair to the shared machine */
    pzt_suite("nn_uq", (pzt_case[]){{"mdn recovers a known noise level", test_mdn_recovers_noise_level},
                                    {"mdn with three components trains", test_mdn_three_components_trains},
                                    {"bnn is wider off the data", test_bnn_wider_off_the_data},
                                    {"bnn+mdn deterministic, round trip, pdf columns",
                                     test_bnn_mdn_deterministic_and_round_trips},
                                    {"point model has no pdf", test_point_model_writes_no_pdf},
                                    {"bad head attributes refused", test_bad_head_attributes_refused},
                                    {0}});
    return pzt_main();
}
