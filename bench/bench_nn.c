/* Training and prediction throughput of the pzflow network against PyTorch, same data, same run.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_nn [train_rows] [epochs] [predict_rows]
 *
 * 1. Measures single-core OpenBLAS sgemm peak with a large square product (2000^3).
 * 2. Generates a synthetic catalogue (five magnitudes, a smooth redshift), writes it to an HDF5
 *    table so the PyTorch script reads exactly the same numbers.
 * 3. pzflow: pz_train (the library the train stage uses: shuffling, gather, forward, HSC loss,
 *    backward, Adam; a 100-row validation pass per epoch) at batch 100, and pz_model_predict in
 *    4096-row blocks.
 * 4. Runs bench/bench_nn_torch.py (Debian's python3-torch) on the same file with one thread.
 * Prints samples/s for both, the ratio, and pzflow's FLOP rate as a fraction of the sgemm peak.
 * The machine may be shared, so every rate is the BEST of several timed pieces (each training
 * epoch separately, three prediction passes, five peak products, the peak measured before and
 * after) on both sides: contention only ever slows a piece down.
 * FLOPs counted: forward 2*sum(in*out) per row; training adds dW (2*in*out, every layer) and dX
 * (2*in*out, all but the first layer); element-wise work is not counted. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/model.h"
#include "nn/predict.h"
#include "nn/scaler.h"
#include "nn/train.h"
#include "table/table.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double sgemm_peak(void)
{
    int n = 2000;
    float *a = pz_xmalloc(sizeof(float) * n * n), *b = pz_xmalloc(sizeof(float) * n * n),
          *c = pz_xmalloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n); /* warm */
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double g = 2.0 * n * n * n / (now() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a), free(b), free(c);
    return best;
}

typedef struct {
    double last, best;
} epoch_clock;

/* Called at the end of every epoch (after its 100-row validation pass): keep the fastest. */
static void time_epoch(void *ctx, const pz_epoch_info *info)
{
    epoch_clock *c = ctx;
    double t = now(), dt = t - c->last;
    if (dt < c->best) c->best = dt;
    c->last = t;
}

static const char *FEATURES[5] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag", "y_cmodel_mag"};

/* Raw magnitudes x[n x 5] and z[n]; the same rows go to the HDF5 file for PyTorch. */
static void synth(size_t n, unsigned seed, float *x, float *z)
{
    for (size_t r = 0; r < n; r++) {
        for (int j = 0; j < 5; j++) {
            seed = seed * 1664525u + 1013904223u;
            x[r * 5 + j] = 19.0f + 6.0f * ((seed >> 8) / 16777216.0f);
        }
        float *m = x + r * 5;
        z[r] = 0.8f + 0.25f * tanhf(m[0] - m[1]) + 0.1f * (m[2] - 22.0f);
    }
}

static void write_table(const char *path, const float *x, const float *z, size_t n)
{
    pz_table *t = pz_table_new(n);
    for (int j = 0; j < 5; j++) {
        pz_column *c = pz_table_add(t, FEATURES[j], PZ_F32, 0);
        for (size_t r = 0; r < n; r++) ((float *)c->data)[r] = x[r * 5 + j];
    }
    pz_column *c = pz_table_add(t, "z", PZ_F32, 0);
    memcpy(c->data, z, sizeof(float) * n);
    pz_err err;
    if (pz_table_write_hdf5(path, t, &err)) pz_die("bench_nn", &err, 1);
    pz_table_free(t);
}

static double flops_per_row(const pz_net *net, int training)
{
    double f = 0;
    for (int l = 0; l < net->nlayers; l++) {
        double mm = 2.0 * net->din[l] * net->dout[l];
        f += mm;                         /* forward */
        if (training) f += mm + (l ? mm : 0); /* dW, and dX except the first layer */
    }
    return f;
}

int main(int argc, char **argv)
{
    size_t ntrain = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
    long epochs = argc > 2 ? atol(argv[2]) : 4;
    size_t npred = argc > 3 ? strtoul(argv[3], NULL, 10) : 200000;
    openblas_set_num_threads(1);
    printf("OpenBLAS %s, core %s, 1 thread\n", openblas_get_config(), openblas_get_corename());
    double peak = sgemm_peak();
    printf("sgemm peak (2000^3, 1 thread): %.1f GFLOP/s\n", peak);

    size_t nval = 100, nall = ntrain + nval;
    float *x = pz_xmalloc(sizeof(float) * nall * 5), *z = pz_xmalloc(sizeof(float) * nall);
    synth(nall, 7, x, z);
    const char *path = "/tmp/pzflow_bench_nn.h5";
    write_table(path, x, z, nall);

    pz_err err;
    int hidden[4] = {200, 200, 200, 200};
    pz_net *net = pz_net_new(5, hidden, 4, 1, &err);
    pz_net_init_glorot(net, 1);
    pz_scaler sc;
    pz_scaler_fit(&sc, x, ntrain, 5);
    pz_scaler_apply(&sc, x, nall);
    pz_data tr = {x, z, ntrain}, va = {x + ntrain * 5, z + ntrain, nval};
    epoch_clock clock = {now(), 1e30};
    pz_train_cfg cfg = {.adam = PZ_ADAM_DEFAULTS, .batch_size = 100, .epochs = epochs, .patience = 1000000,
                        .loss = PZ_LOSS_HSC, .seed = 1, .on_epoch = time_epoch, .ctx = &clock};
    cfg.adam.lr = 5e-4;
    pz_history h = {0};
    long best;
    clock.last = now();
    if (pz_train(net, &tr, &va, &cfg, &h, &best, &err)) pz_die("bench_nn", &err, 1);
    double ttrain = clock.best;
    double train_rate = (double)ntrain / ttrain;
    double train_gflops = train_rate * flops_per_row(net, 1) / 1e9;
    printf("pzflow  train:   %9.0f samples/s  (best of %ld epochs of %zu rows: %.2f s; final train loss %.5f)\n",
           train_rate, epochs, ntrain, ttrain, h.train_loss[h.n - 1]);
    printf("pzflow  train:   %.1f GFLOP/s = %.0f%% of sgemm peak\n", train_gflops, 100 * train_gflops / peak);

    /* Prediction on raw magnitudes (scaling included), 4096-row blocks. */
    float *px = pz_xmalloc(sizeof(float) * npred * 5), *pz = pz_xmalloc(sizeof(float) * npred),
          *pout = pz_xmalloc(sizeof(float) * npred);
    synth(npred, 11, px, pz);
    pz_model *m = pz_model_new(net, FEATURES, 5, &sc);
    pz_net_ws *ws = pz_net_ws_new(net, PZ_EVAL_CHUNK);
    pz_model_predict(m, ws, px, 8192, pout); /* warm */
    double tpred = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        pz_model_predict(m, ws, px, npred, pout);
        if (now() - t0 < tpred) tpred = now() - t0;
    }
    double pred_rate = npred / tpred, pred_gflops = pred_rate * flops_per_row(net, 0) / 1e9;
    printf("pzflow  predict: %9.0f samples/s  (best of 3 passes over %zu rows: %.3f s)\n", pred_rate, npred, tpred);
    printf("pzflow  predict: %.1f GFLOP/s = %.0f%% of sgemm peak\n", pred_gflops, 100 * pred_gflops / peak);
    fflush(stdout);

    char *cmd = pz_xasprintf("OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 %s/bench/bench_nn_torch.py %s "
                             "%zu %ld %zu",
                             PZ_SOURCE_DIR, path, ntrain, epochs, npred);
    FILE *p = popen(cmd, "r");
    double tt = 0, tp = 0;
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        sscanf(line, "torch   train: %lf", &tt);
        sscanf(line, "torch   predict: %lf", &tp);
    }
    if (!p || pclose(p) != 0 || tt <= 0 || tp <= 0) {
        fprintf(stderr, "bench_nn: the PyTorch run failed (%s)\n", cmd);
        return 1;
    }
    double peak2 = sgemm_peak();
    if (peak2 > peak) {
        printf("sgemm peak re-measured after the runs: %.1f GFLOP/s (used below)\n", peak2);
        peak = peak2;
    }
    printf("ratio   train:   pzflow/torch = %.2fx (goal >= 1.5x); %.0f%% of peak (goal >= 70%%)\n", train_rate / tt,
           100 * train_gflops / peak);
    printf("ratio   predict: pzflow/torch = %.2fx (goal >= 2x);   %.0f%% of peak (goal >= 70%%)\n", pred_rate / tp,
           100 * pred_gflops / peak);
    free(cmd);
    pz_net_ws_free(ws);
    pz_model_free(m);
    pz_scaler_free(&sc);
    pz_history_free(&h);
    free(x), free(z), free(px), free(pz), free(pout);
    remove(path);
    return 0;
}
