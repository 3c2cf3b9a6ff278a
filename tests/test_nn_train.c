/* Training-level behaviour of the network library: it learns a known smooth function, frozen
 * layers stay bit-for-bit frozen, training is deterministic, and the model file round-trips
 * (and is readable by h5py with the expected 122,006 weights). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "nn/net.h"
#include "nn/predict.h"
#include "nn/scaler.h"
#include "nn/train.h"
#include "support/pztest.h"

static const char *FEATURES[5] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag", "y_cmodel_mag"};

/* The known function: smooth in the magnitudes, z in about [0.25, 1.35]. */
static float truth(const float *m)
{
    return 0.8f + 0.25f * tanhf(m[0] - m[1]) + 0.1f * (m[2] - 22.0f);
}

static unsigned lcg(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* n rows of magnitudes in [19, 25] (raw, unscaled) and their z. */
static void synth(size_t n, unsigned seed, float **x, float **y)
{
    *x = malloc(sizeof(float) * n * 5);
    *y = malloc(sizeof(float) * n);
    for (size_t r = 0; r < n; r++) {
        for (int j = 0; j < 5; j++) (*x)[r * 5 + j] = 19.0f + 6.0f * (lcg(&seed) / 16777216.0f);
        (*y)[r] = truth(*x + r * 5);
    }
}

typedef struct {
    float *xtr, *ytr, *xva, *yva;
    size_t ntr, nva;
    pz_scaler scaler;
} dataset;

static void make_data(dataset *d, size_t ntr, size_t nva)
{
    d->ntr = ntr;
    d->nva = nva;
    synth(ntr, 1, &d->xtr, &d->ytr);
    synth(nva, 2, &d->xva, &d->yva);
    pz_scaler_fit(&d->scaler, d->xtr, ntr, 5);
    pz_scaler_apply(&d->scaler, d->xtr, ntr);
    pz_scaler_apply(&d->scaler, d->xva, nva);
}

static void free_data(dataset *d)
{
    free(d->xtr), free(d->ytr), free(d->xva), free(d->yva);
    pz_scaler_free(&d->scaler);
}

static pz_net *default_net(unsigned long seed)
{
    pz_err err;
    int hidden[4] = {200, 200, 200, 200};
    pz_net *net = pz_net_new(5, hidden, 4, 1, &err);
    pz_net_init_glorot(net, seed);
    return net;
}

static pz_train_cfg cfg_for(pz_loss_kind loss, long epochs)
{
    pz_train_cfg c = {.adam = PZ_ADAM_DEFAULTS, .batch_size = 100, .epochs = epochs, .patience = 10, .loss = loss,
                      .seed = 42};
    c.adam.lr = 5e-4;
    return c;
}

static double rms_error(pz_net *net, const float *x, const float *y, size_t n)
{
    pz_net_ws *ws = pz_net_ws_new(net, (int)n);
    memcpy(ws->act[0], x, sizeof(float) * n * 5);
    pz_net_forward(net, ws, (int)n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (ws->out[i] - y[i]) * (ws->out[i] - y[i]);
    pz_net_ws_free(ws);
    return sqrt(s / n);
}

static void test_learns_known_function(void)
{
    dataset d;
    make_data(&d, 3000, 600);
    pz_data tr = {d.xtr, d.ytr, d.ntr}, va = {d.xva, d.yva, d.nva};
    double spread = 0, mean = 0;
    for (size_t i = 0; i < d.nva; i++) mean += d.yva[i] / d.nva;
    for (size_t i = 0; i < d.nva; i++) spread += (d.yva[i] - mean) * (d.yva[i] - mean) / d.nva;
    pz_loss_kind kinds[2] = {PZ_LOSS_MSE, PZ_LOSS_HSC};
    for (int k = 0; k < 2; k++) {
        pz_net *net = default_net(3);
        pz_train_cfg cfg = cfg_for(kinds[k], 25);
        pz_history h = {0};
        long best = 0;
        pz_err err;
        CU_ASSERT_EQUAL_FATAL(pz_train(net, &tr, &va, &cfg, &h, &best, &err), 0);
        double rms = rms_error(net, d.xva, d.yva, d.nva);
        fprintf(stderr, "[%s: %zu epochs, best %ld, val rms %.4f (label std %.3f)] ", pz_loss_name(kinds[k]), h.n,
                best, rms, sqrt(spread));
        /* Stated tolerance: RMS error on held-out rows below 0.02 (label std is ~0.25). */
        CU_ASSERT_TRUE(rms < 0.02);
        CU_ASSERT_TRUE(best >= 1 && (size_t)best <= h.n);
        CU_ASSERT_TRUE(h.val_loss[best - 1] <= h.val_loss[0]);
        /* The restored weights are the best epoch's: re-evaluating gives its validation loss. */
        pz_net_ws *ws = pz_net_ws_new(net, PZ_EVAL_CHUNK);
        CU_ASSERT_DOUBLE_EQUAL(pz_eval_loss(net, ws, &va, kinds[k]), h.val_loss[best - 1], 1e-9);
        pz_net_ws_free(ws);
        pz_history_free(&h);
        pz_net_free(net);
    }
    free_data(&d);
}

static void test_early_stopping(void)
{
    /* A learning rate this large makes the validation loss stall at once; with patience 2 the
     * run must stop after best + 2 epochs, not run all 50. */
    dataset d;
    make_data(&d, 400, 100);
    pz_data tr = {d.xtr, d.ytr, d.ntr}, va = {d.xva, d.yva, d.nva};
    pz_net *net = default_net(4);
    pz_train_cfg cfg = cfg_for(PZ_LOSS_HSC, 50);
    cfg.adam.lr = 0.5;
    cfg.patience = 2;
    pz_history h = {0};
    long best = 0;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_train(net, &tr, &va, &cfg, &h, &best, &err), 0);
    CU_ASSERT_TRUE(h.n < 50);
    CU_ASSERT_EQUAL((long)h.n, best + 2);
    for (size_t e = 0; e < h.n; e++) CU_ASSERT_TRUE(h.val_loss[e] >= h.val_loss[best - 1]);
    pz_history_free(&h);
    pz_net_free(net);
    free_data(&d);
}

static void test_frozen_layers_stay_frozen(void)
{
    dataset d;
    make_data(&d, 500, 100);
    pz_data tr = {d.xtr, d.ytr, d.ntr}, va = {d.xva, d.yva, d.nva};
    pz_net *net = default_net(5);
    float *before = malloc(sizeof(float) * net->nparams);
    memcpy(before, net->params, sizeof(float) * net->nparams);
    uint8_t frozen[5] = {1, 1, 0, 0, 0}; /* dense_1, dense_2 */
    pz_train_cfg cfg = cfg_for(PZ_LOSS_HSC, 2);
    cfg.frozen = frozen;
    pz_history h = {0};
    long best = 0;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_train(net, &tr, &va, &cfg, &h, &best, &err), 0);
    for (int l = 0; l < net->nlayers; l++) {
        size_t off = net->w[l] - net->params, n = (size_t)net->din[l] * net->dout[l] + net->dout[l];
        int same = memcmp(before + off, net->params + off, n * sizeof(float)) == 0;
        CU_ASSERT_EQUAL(same, frozen[l]);
    }
    /* Freezing everything is refused. */
    uint8_t all[5] = {1, 1, 1, 1, 1};
    cfg.frozen = all;
    CU_ASSERT_EQUAL(pz_train(net, &tr, &va, &cfg, &h, &best, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "frozen"));
    free(before);
    pz_history_free(&h);
    pz_net_free(net);
    free_data(&d);
}

static pz_model *train_small(dataset *d, unsigned long seed, long epochs)
{
    pz_data tr = {d->xtr, d->ytr, d->ntr}, va = {d->xva, d->yva, d->nva};
    pz_net *net = default_net(seed);
    pz_model *m = pz_model_new(net, FEATURES, 5, &d->scaler);
    pz_train_cfg cfg = cfg_for(PZ_LOSS_HSC, epochs);
    cfg.seed = seed;
    pz_err err;
    CU_ASSERT_EQUAL(pz_train(net, &tr, &va, &cfg, &m->hist, &m->best_epoch, &err), 0);
    pz_model_set_str(&m->label, "specz_redshift");
    m->seed = (long)seed;
    m->batch_size = 100;
    m->learning_rate = 5e-4;
    return m;
}

static void test_deterministic_model_file(void)
{
    dataset d;
    make_data(&d, 500, 100);
    char *dir = pzt_mkdtemp("nn_train");
    char *a = pz_xasprintf("%s/a.h5", dir), *b = pz_xasprintf("%s/b.h5", dir), *c = pz_xasprintf("%s/c.h5", dir);
    pz_err err;
    pz_model *m1 = train_small(&d, 9, 3), *m2 = train_small(&d, 9, 3), *m3 = train_small(&d, 10, 3);
    CU_ASSERT_EQUAL(pz_model_save(a, m1, &err), 0);
    CU_ASSERT_EQUAL(pz_model_save(b, m2, &err), 0);
    CU_ASSERT_EQUAL(pz_model_save(c, m3, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    CU_ASSERT_FALSE(pzt_files_equal(a, c)); /* the seed matters */
    pz_model_free(m1), pz_model_free(m2), pz_model_free(m3);
    pzt_rmtree(dir);
    free(dir), free(a), free(b), free(c);
    free_data(&d);
}

static void test_model_round_trip(void)
{
    dataset d;
    make_data(&d, 300, 100);
    char *dir = pzt_mkdtemp("nn_train");
    char *path = pz_xasprintf("%s/m.h5", dir);
    pz_err err;
    pz_model *m = train_small(&d, 11, 2);
    pz_model_set_str(&m->frozen, "dense_1");
    pz_model_set_str(&m->units[0], "mag");
    pz_model_set_str(&m->corrections, "Galactic extinction a_{b} subtracted from cmodel magnitudes");
    const double sentinels[] = {-99, 99};
    pz_model_set_sentinels(m, sentinels, 2);
    CU_ASSERT_EQUAL_FATAL(pz_model_save(path, m, &err), 0);
    pz_model *r = pz_model_load(path, &err);
    if (!r) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->net->nparams, 122006);
    CU_ASSERT_EQUAL(memcmp(r->net->params, m->net->params, sizeof(float) * 122006), 0);
    CU_ASSERT_EQUAL(r->net->skip, 1);
    CU_ASSERT_EQUAL(r->nfeat, 5);
    for (int j = 0; j < 5; j++) {
        CU_ASSERT_STRING_EQUAL(r->features[j], FEATURES[j]);
        CU_ASSERT_EQUAL(r->scaler.min[j], m->scaler.min[j]);
        CU_ASSERT_EQUAL(r->scaler.max[j], m->scaler.max[j]);
    }
    CU_ASSERT_EQUAL(r->hist.n, m->hist.n);
    CU_ASSERT_EQUAL(r->hist.val_loss[1], m->hist.val_loss[1]);
    CU_ASSERT_EQUAL(r->best_epoch, m->best_epoch);
    CU_ASSERT_STRING_EQUAL(r->label, "specz_redshift");
    CU_ASSERT_STRING_EQUAL(r->loss, "hsc");
    CU_ASSERT_STRING_EQUAL(r->frozen, "dense_1");
    CU_ASSERT_EQUAL(r->seed, 11);
    /* What predict checks a catalogue against: units, corrections, the sentinel policy. */
    CU_ASSERT_STRING_EQUAL(r->units[0], "mag");
    CU_ASSERT_STRING_EQUAL(r->units[1], "");
    CU_ASSERT_STRING_EQUAL(r->corrections, "Galactic extinction a_{b} subtracted from cmodel magnitudes");
    CU_ASSERT_EQUAL_FATAL(r->nsentinels, 2);
    CU_ASSERT_EQUAL(r->sentinels[0], -99);
    CU_ASSERT_EQUAL(r->sentinels[1], 99);
    /* Predictions from the loaded model equal the original's, bit for bit. */
    pz_net_ws *ws = pz_net_ws_new(m->net, 64);
    float raw[5 * 3] = {20, 21, 22, 23, 24, 24, 23, 22, 21, 20, 22, 22, NAN, 22, 22}, p1[3], p2[3];
    CU_ASSERT_EQUAL(pz_model_predict(m, ws, raw, 3, p1), 1);
    CU_ASSERT_EQUAL(pz_model_predict(r, ws, raw, 3, p2), 1);
    CU_ASSERT_EQUAL(memcmp(p1, p2, sizeof(float) * 2), 0);
    CU_ASSERT_TRUE(isnan(p1[2]) && isnan(p2[2]));
    pz_net_ws_free(ws);

    /* h5py reads it: weight count, kernel layout, scaler, history; no provenance attribute (it is in the run record). */
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import h5py, json; f = h5py.File('%s', 'r');"
                     "n = sum(f['weights'][k][d].size for k in f['weights'] for d in ('kernel', 'bias'));"
                     "assert n == 122006 == f.attrs['n_weights'], n;"
                     "assert f['weights/dense_1/kernel'].shape == (5, 200);"
                     "assert f['weights/output/kernel'].shape == (205, 1);"
                     "assert list(f.attrs['layer_sizes']) == [5, 200, 200, 200, 200, 1];"
                     "assert [s.decode() for s in f['scaler/features'][:]][0] == 'g_cmodel_mag';"
                     "assert len(f['history/val_loss']) == f.attrs['epochs_run'] == 2;"
                     "assert 'pzflow_provenance' not in f.attrs and 'base_provenance' not in f.attrs;"
                     "print('ok')\"",
                     pzt_python(), path);
    if (rc) fprintf(stderr, "%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    /* Not a model: clear errors. */
    pz_model *bad = pz_model_load(dir, &err);
    CU_ASSERT_PTR_NULL(bad);
    char *missing = pz_xasprintf("%s/none.h5", dir);
    CU_ASSERT_PTR_NULL(pz_model_load(missing, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "none.h5"));
    pz_model_free(m), pz_model_free(r);
    pzt_rmtree(dir);
    free(dir), free(path), free(missing);
    free_data(&d);
}

/* A model file of format version 1 (before units, sentinels and corrections were recorded) still
 * loads, predicts the same numbers, and gets the default sentinel policy; a version from the
 * future is refused, naming the versions this pzflow reads. */
static void test_version_1_model_still_loads(void)
{
    dataset d;
    make_data(&d, 300, 100);
    char *dir = pzt_mkdtemp("nn_train");
    char *path = pz_xasprintf("%s/v1.h5", dir), *future = pz_xasprintf("%s/v9.h5", dir);
    pz_err err;
    pz_model *m = train_small(&d, 12, 2);
    pz_model_set_str(&m->units[0], "mag");
    CU_ASSERT_EQUAL_FATAL(pz_model_save(path, m, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_model_save(future, m, &err), 0);
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import h5py; f = h5py.File('%s', 'r+'); del f['inputs']; del f.attrs['corrections'];"
                     "f.attrs['pzflow_format_version'] = 1; f.close();"
                     "f = h5py.File('%s', 'r+'); f.attrs['pzflow_format_version'] = 9\"",
                     pzt_python(), path, future);
    if (rc) fprintf(stderr, "%s\n", out);
    free(out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    pz_model *r = pz_model_load(path, &err);
    if (!r) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->units[0], "");
    CU_ASSERT_STRING_EQUAL(r->corrections, "");
    CU_ASSERT_EQUAL_FATAL(r->nsentinels, pz_model_ndefault_sentinels);
    CU_ASSERT_EQUAL(r->sentinels[2], -99);
    pz_net_ws *ws = pz_net_ws_new(m->net, 64);
    float raw[5 * 2] = {20, 21, 22, 23, 24, 24, 23, 22, 21, 20}, p1[2], p2[2];
    pz_model_predict(m, ws, raw, 2, p1);
    pz_model_predict(r, ws, raw, 2, p2);
    CU_ASSERT_EQUAL(memcmp(p1, p2, sizeof p1), 0);
    pz_net_ws_free(ws);
    CU_ASSERT_PTR_NULL(pz_model_load(future, &err));
    CU_ASSERT_TRUE(pzt_has(err.msg, "unsupported model format version 9 (this pzflow reads versions 1 to 3)"));
    pz_model_free(m), pz_model_free(r);
    pzt_rmtree(dir);
    free(dir), free(path), free(future);
    free_data(&d);
}

int main(void)
{
    openblas_set_num_threads(1); /* one thread: fixed sgemm order, and fair to the shared machine */
    pzt_suite("nn_train", (pzt_case[]){{"learns a known function", test_learns_known_function},
                                       {"early stopping", test_early_stopping},
                                       {"frozen layers stay frozen", test_frozen_layers_stay_frozen},
                                       {"deterministic model file", test_deterministic_model_file},
                                       {"model round trip + h5py", test_model_round_trip},
                                       {"a version-1 model file still loads", test_version_1_model_still_loads},
                                       {0}});
    return pzt_main();
}
