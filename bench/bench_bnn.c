/* What a Bayesian network (Bayes by backprop, core/nn/vi.c) costs per training epoch against the
 * plain network: same data, same 122,006-weight trunk, same batch, same loss, same epochs.
 *
 * Usage: OPENBLAS_NUM_THREADS=1 bench_bnn [train_rows] [epochs_per_piece] [repeats]
 *
 * Issue 13's goal: a BNN epoch costs at most 3x a plain one. Each repeat trains the plain
 * network, then the BNN (point head, HSC loss), then the BNN with a one-component mixture-density
 * head (NLL), for `epochs_per_piece` epochs each, back to back, and takes each one's fastest epoch:
 * the machine may be shared, and contention only ever slows an epoch down. The ratio of a
 * repeat compares pieces run seconds apart; the figure is the median ratio over repeats with
 * its min..max. The per-batch extra work of the BNN is then timed piece by piece (best of 50):
 * the weight noise, w = mu + sigma eps, the mu/rho backward, and Adam over the doubled arena. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/adam.h"
#include "nn/train.h"
#include "nn/vi.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    double last, best;
} epoch_clock;

static void time_epoch(void *ctx, const pz_epoch_info *info)
{
    (void)info;
    epoch_clock *c = ctx;
    double t = now(), dt = t - c->last;
    if (dt < c->best) c->best = dt;
    c->last = t;
}

/* Scaled features in [0, 1) and z from a smooth function of them (as bench_nn's, pre-scaled). */
static void synth(size_t n, unsigned seed, float *x, float *z)
{
    for (size_t r = 0; r < n; r++) {
        float m[5];
        for (int j = 0; j < 5; j++) {
            seed = seed * 1664525u + 1013904223u;
            m[j] = 19.0f + 6.0f * ((seed >> 8) / 16777216.0f);
            x[r * 5 + j] = (m[j] - 19.0f) / 6.0f;
        }
        z[r] = 0.8f + 0.25f * tanhf(m[0] - m[1]) + 0.1f * (m[2] - 22.0f);
    }
}

/* The fastest epoch of a fresh network with this head, trained for `epochs`. */
static double best_epoch(pz_net_head head, const pz_data *tr, const pz_data *va, long epochs)
{
    pz_err err;
    int hidden[4] = {200, 200, 200, 200};
    pz_net *net = pz_net_new_head(5, hidden, 4, 1, &head, &err);
    pz_net_init_glorot(net, 1);
    if (head.bayes) pz_vi_init_rho(net, PZ_VI_SIGMA_INIT);
    epoch_clock clock = {now(), 1e30};
    pz_train_cfg cfg = {.adam = PZ_ADAM_DEFAULTS, .batch_size = 100, .epochs = epochs, .patience = 1000000,
                        .loss = head.kind == PZ_HEAD_MDN ? PZ_LOSS_NLL : PZ_LOSS_HSC, .seed = 1,
                        .on_epoch = time_epoch, .ctx = &clock};
    cfg.adam.lr = 5e-4;
    pz_history h = {0};
    long best;
    clock.last = now();
    if (pz_train(net, tr, va, &cfg, &h, &best, &err)) pz_die("bench_bnn", &err, 1);
    pz_history_free(&h);
    pz_net_free(net);
    return clock.best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ratio, int n)
{
    qsort(ratio, (size_t)n, sizeof *ratio, cmp_double);
    double med = n % 2 ? ratio[n / 2] : 0.5 * (ratio[n / 2 - 1] + ratio[n / 2]);
    printf("ratio   %-28s median %.2fx, min..max %.2fx..%.2fx over %d repeats (goal <= 3x)\n", what, med, ratio[0],
           ratio[n - 1], n);
}

/* Best of 50 of one per-batch piece of the BNN's extra work, in milliseconds. */
#define TIME_PIECE(best, stmt)                                                                                         \
    do {                                                                                                               \
        best = 1e30;                                                                                                   \
        for (int rep_ = 0; rep_ < 50; rep_++) {                                                                        \
            double t0_ = now();                                                                                        \
            stmt;                                                                                                      \
            if (now() - t0_ < best) best = now() - t0_;                                                                \
        }                                                                                                              \
        best *= 1e3;                                                                                                   \
    } while (0)

static void breakdown(void)
{
    pz_err err;
    int hidden[4] = {200, 200, 200, 200};
    pz_net_head h = {.kind = PZ_HEAD_POINT, .ncomp = 1, .bayes = 1};
    pz_net *net = pz_net_new_head(5, hidden, 4, 1, &h, &err);
    pz_net_init_glorot(net, 1);
    pz_vi_init_rho(net, PZ_VI_SIGMA_INIT);
    size_t nw = net->nweights;
    float *eps = pz_xmalloc(sizeof(float) * nw), *sig = pz_xmalloc(sizeof(float) * nw), *dsig = pz_xmalloc(sizeof(float) * nw),
          *w = pz_xmalloc(sizeof(float) * nw), *m = pz_xcalloc(2 * nw, sizeof(float)),
          *v = pz_xcalloc(2 * nw, sizeof(float));
    pz_vi_rng *r = pz_vi_rng_new(1);
    pz_adam_cfg adam = PZ_ADAM_DEFAULTS;
    double t_noise, t_sample, t_back, t_adam;
    TIME_PIECE(t_noise, pz_vi_normals(r, eps, nw));
    TIME_PIECE(t_sample, pz_vi_sample_forward(w, sig, dsig, net->params, net->params + nw, eps, nw));
    TIME_PIECE(t_back, pz_vi_backward(net->grads, net->grads + nw, net->grads, net->params, sig, dsig, eps, nw, 1e-5, 1.0));
    TIME_PIECE(t_adam, pz_adam_update(net->params + nw, net->grads + nw, m + nw, v + nw, nw, &adam, 1));
    printf("bnn extra per batch (%zu weights): noise %.3f ms, w = mu + sigma eps %.3f ms, mu/rho backward %.3f ms, "
           "Adam on rho %.3f ms\n",
           nw, t_noise, t_sample, t_back, t_adam);
    pz_vi_rng_free(r);
    free(eps), free(sig), free(dsig), free(w), free(m), free(v);
    pz_net_free(net);
}

int main(int argc, char **argv)
{
    size_t ntrain = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    long epochs = argc > 2 ? atol(argv[2]) : 2;
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    if (repeats < 1 || repeats > 1000 || epochs < 1 || ntrain < 100) {
        fprintf(stderr, "usage: bench_bnn [train_rows >= 100] [epochs_per_piece >= 1] [repeats 1..1000]\n");
        return 2;
    }
    openblas_set_num_threads(1);
    printf("OpenBLAS %s, core %s, 1 thread; %zu training rows, batch 100, %ld epochs per piece\n",
           openblas_get_config(), openblas_get_corename(), ntrain, epochs);
    size_t nval = 100, nall = ntrain + nval;
    float *x = pz_xmalloc(sizeof(float) * nall * 5), *z = pz_xmalloc(sizeof(float) * nall);
    synth(nall, 7, x, z);
    pz_data tr = {x, z, ntrain}, va = {x + ntrain * 5, z + ntrain, nval};
    double *r_bnn = pz_xmalloc(sizeof(double) * repeats), *r_mdn = pz_xmalloc(sizeof(double) * repeats);
    for (int k = 0; k < repeats; k++) {
        double plain = best_epoch(PZ_NET_HEAD_POINT, &tr, &va, epochs);
        double bnn = best_epoch((pz_net_head){.kind = PZ_HEAD_POINT, .ncomp = 1, .bayes = 1}, &tr, &va, epochs);
        double mdn = best_epoch((pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 1, .bayes = 1}, &tr, &va, epochs);
        printf("repeat %d: epoch plain %.3f s, bnn %.3f s, bnn+mdn %.3f s\n", k + 1, plain, bnn, mdn);
        fflush(stdout);
        r_bnn[k] = bnn / plain;
        r_mdn[k] = mdn / plain;
    }
    report("bnn / plain epoch:", r_bnn, repeats);
    report("bnn+mdn(K=1) / plain epoch:", r_mdn, repeats);
    breakdown();
    free(r_bnn), free(r_mdn), free(x), free(z);
    return 0;
}
