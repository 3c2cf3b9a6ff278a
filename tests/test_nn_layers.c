/* Layers, losses and Adam of the network, checked against finite differences and hand-computed
 * values. Everything here is small and fast; training-level behaviour is in test_nn_train.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/adam.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/mdn.h"
#include "nn/net.h"
#include "nn/vi.h"
#include "support/pztest.h"

/* Deterministic values in (-1, 1), so failures reproduce. */
static float frand(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) / 8388608.0 - 1.0);
}

static void fill(float *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) v[i] = frand(&seed);
}

/* Scalar probe objective: L = sum_i out_i * r_i, so dL/dout = r exactly. */
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Central difference of L with respect to p[i], re-evaluating with `eval`. The step actually
 * taken (after float rounding) is used as the denominator. */
static double numgrad(float *p, size_t i, double (*eval)(void *), void *ctx)
{
    float orig = p[i], h = 1e-2f;
    p[i] = orig + h;
    float up = p[i];
    double lp = eval(ctx);
    p[i] = orig - h;
    float dn = p[i];
    double lm = eval(ctx);
    p[i] = orig;
    return (lp - lm) / ((double)up - dn);
}

static int close_enough(double analytic, double numeric)
{
    return fabs(analytic - numeric) <= 2e-3 * (1.0 + fabs(numeric));
}

/* ---- dense ---- */

typedef struct {
    int rows, nin, nout, relu;
    float *x, *w, *b, *out, *r;
} dense_case;

static double dense_eval(void *ctx)
{
    dense_case *c = ctx;
    if (c->relu) pz_dense_relu_forward(c->out, c->x, c->w, c->b, c->rows, c->nin, c->nout);
    else pz_dense_forward(c->out, c->x, c->w, c->b, c->rows, c->nin, c->nout);
    return dot(c->out, c->r, (size_t)c->rows * c->nout);
}

static void check_params(float *p, const float *g, size_t n, dense_case *c, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double num = numgrad(p, i, dense_eval, c);
        if (!close_enough(g[i], num)) {
            fprintf(stderr, "%s[%zu]: analytic %g numeric %g\n", what, i, g[i], num);
            CU_FAIL("gradient mismatch");
            return;
        }
    }
    CU_PASS("ok");
}

static void test_dense_gradients(void)
{
    dense_case c = {.rows = 7, .nin = 5, .nout = 4};
    size_t nx = 35, nw = 20, no = 28;
    c.x = malloc(sizeof(float) * nx);
    c.w = malloc(sizeof(float) * nw);
    c.b = malloc(sizeof(float) * 4);
    c.out = malloc(sizeof(float) * no);
    c.r = malloc(sizeof(float) * no);
    fill(c.x, nx, 1);
    fill(c.w, nw, 2);
    fill(c.b, 4, 3);
    fill(c.r, no, 4);
    float dx[35], dw[20], db[4];
    dense_eval(&c);
    pz_dense_backward(dx, dw, db, c.r, c.x, c.w, c.rows, c.nin, c.nout);
    check_params(c.x, dx, nx, &c, "dx");
    check_params(c.w, dw, nw, &c, "dw");
    check_params(c.b, db, 4, &c, "db");
    /* NULL gradient outputs are skipped, the others are unchanged. */
    float dx2[35];
    pz_dense_backward(dx2, NULL, NULL, c.r, c.x, c.w, c.rows, c.nin, c.nout);
    CU_ASSERT_EQUAL(memcmp(dx, dx2, sizeof dx), 0);
    free(c.x), free(c.w), free(c.b), free(c.out), free(c.r);
}

/* ---- relu, and the fused dense+relu against dense followed by relu ---- */

typedef struct {
    size_t n;
    float *x, *out, *r;
} relu_case;

static double relu_eval(void *ctx)
{
    relu_case *c = ctx;
    pz_relu_forward(c->out, c->x, c->n);
    return dot(c->out, c->r, c->n);
}

static void test_relu_gradient(void)
{
    enum { N = 40 };
    float x[N], out[N], r[N], dx[N];
    fill(x, N, 5);
    fill(r, N, 6);
    /* Keep inputs away from the kink, where the finite difference straddles it. */
    for (int i = 0; i < N; i++)
        if (fabsf(x[i]) < 0.05f) x[i] = 0.3f;
    relu_case c = {N, x, out, r};
    relu_eval(&c);
    pz_relu_backward(dx, r, out, N);
    for (int i = 0; i < N; i++) CU_ASSERT_TRUE(close_enough(dx[i], numgrad(x, i, relu_eval, &c)));
    /* In place (dx aliasing dout), as the network uses it. */
    float g[N];
    memcpy(g, r, sizeof g);
    pz_relu_backward(g, g, out, N);
    CU_ASSERT_EQUAL(memcmp(g, dx, sizeof g), 0);
}

static void test_fused_dense_relu(void)
{
    dense_case c = {.rows = 6, .nin = 3, .nout = 5, .relu = 1};
    float x[18], w[15], b[5], out[30], ref[30], r[30];
    fill(x, 18, 7), fill(w, 15, 8), fill(b, 5, 9), fill(r, 30, 10);
    c.x = x, c.w = w, c.b = b, c.out = out, c.r = r;
    dense_eval(&c);
    pz_dense_forward(ref, x, w, b, 6, 3, 5);
    pz_relu_forward(ref, ref, 30);
    CU_ASSERT_EQUAL(memcmp(out, ref, sizeof out), 0);
}

/* ---- concat ---- */

typedef struct {
    int rows, na, nb;
    float *a, *b, *out, *r;
} cat_case;

static double cat_eval(void *ctx)
{
    cat_case *c = ctx;
    pz_concat_forward(c->out, c->a, c->na, c->b, c->nb, c->rows);
    return dot(c->out, c->r, (size_t)c->rows * (c->na + c->nb));
}

static void test_concat_gradient(void)
{
    float a[8], b[12], out[20], r[20], da[8], db[12];
    fill(a, 8, 11), fill(b, 12, 12), fill(r, 20, 13);
    cat_case c = {4, 2, 3, a, b, out, r};
    cat_eval(&c);
    CU_ASSERT_EQUAL(out[5], a[2]); /* row 1 starts with a's row 1 */
    CU_ASSERT_EQUAL(out[7], b[3]);
    pz_concat_backward(da, db, r, 2, 3, 4);
    for (int i = 0; i < 8; i++) CU_ASSERT_TRUE(close_enough(da[i], numgrad(a, i, cat_eval, &c)));
    for (int i = 0; i < 12; i++) CU_ASSERT_TRUE(close_enough(db[i], numgrad(b, i, cat_eval, &c)));
    float db2[12];
    pz_concat_backward(NULL, db2, r, 2, 3, 4);
    CU_ASSERT_EQUAL(memcmp(db, db2, sizeof db), 0);
}

/* ---- losses ---- */

typedef struct {
    pz_loss_kind kind;
    float *p, *t;
    size_t n;
} loss_case;

static double loss_eval(void *ctx)
{
    loss_case *c = ctx;
    return pz_loss(c->kind, c->p, c->t, c->n, NULL, 0) / c->n;
}

static void check_loss_gradient(pz_loss_kind kind)
{
    enum { N = 12 };
    float p[N], t[N], g[N];
    unsigned s = 17;
    for (int i = 0; i < N; i++) {
        t[i] = 0.1f + 1.5f * (frand(&s) + 1.0f);
        p[i] = t[i] + 0.4f * frand(&s);
    }
    loss_case c = {kind, p, t, N};
    pz_loss(kind, p, t, N, g, 1.0 / N);
    for (int i = 0; i < N; i++) {
        double num = numgrad(p, i, loss_eval, &c);
        if (!close_enough(g[i], num)) fprintf(stderr, "%s grad[%d] %g vs %g\n", pz_loss_name(kind), i, g[i], num);
        CU_ASSERT_TRUE(close_enough(g[i], num));
    }
}

static void test_loss_gradients(void)
{
    check_loss_gradient(PZ_LOSS_HSC);
    check_loss_gradient(PZ_LOSS_MSE);
}

static void test_loss_values(void)
{
    /* dz = (1.3 - 1.0)/2 = 0.15 -> u = 1 -> L = 1 - 1/2 = 0.5; a perfect prediction costs 0. */
    float p[2] = {1.3f, 0.7f}, t[2] = {1.0f, 0.7f};
    CU_ASSERT_DOUBLE_EQUAL(pz_loss(PZ_LOSS_HSC, p, t, 2, NULL, 0), 0.5, 1e-6);
    /* A catastrophic outlier costs at most 1. */
    float q = 50.0f, z = 0.1f;
    double big = pz_loss(PZ_LOSS_HSC, &q, &z, 1, NULL, 0);
    CU_ASSERT_TRUE(big < 1.0 && big > 0.999);
    CU_ASSERT_DOUBLE_EQUAL(pz_loss(PZ_LOSS_MSE, p, t, 2, NULL, 0), 0.09, 1e-6);
    pz_loss_kind k;
    CU_ASSERT_EQUAL(pz_loss_parse("hsc", &k), 0);
    CU_ASSERT_EQUAL(k, PZ_LOSS_HSC);
    CU_ASSERT_EQUAL(pz_loss_parse("mae", &k), -1);
}

/* ---- the whole network: backward against finite differences of the batch loss ---- */

typedef struct {
    pz_net *net;
    pz_net_ws *ws;
    float *x, *y;
    int rows;
    pz_loss_kind loss;
} net_case;

static double net_eval(void *ctx)
{
    net_case *c = ctx;
    memcpy(c->ws->act[0], c->x, sizeof(float) * c->rows * c->net->nin);
    pz_net_forward(c->net, c->ws, c->rows);
    return pz_loss_out(c->loss, c->net->head.ncomp, c->ws->out, c->y, c->rows, NULL, 0) / c->rows;
}

static void check_net_head(int skip, pz_loss_kind loss, pz_net_head head)
{
    pz_err err;
    int hidden[2] = {6, 4};
    pz_net *net = pz_net_new_head(3, hidden, 2, skip, &head, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    pz_net_init_glorot(net, 5);
    for (int l = 0; l < net->nlayers; l++) fill(net->b[l], net->dout[l], 40 + l); /* nonzero biases */
    for (int l = 0; l < net->nlayers; l++)
        for (int j = 0; j < net->dout[l]; j++) net->b[l][j] = 0.3f + 0.2f * net->b[l][j];
    float x[24], y[8];
    fill(x, 24, 21);
    for (int i = 0; i < 8; i++) y[i] = 0.5f + 0.1f * i;
    net_case c = {net, pz_net_ws_new(net, 8), x, y, 8, loss};
    net_eval(&c);
    pz_loss_out(loss, net->head.ncomp, c.ws->out, y, 8, c.ws->dout, 1.0 / 8);
    pz_net_backward(net, c.ws, 8, NULL);
    float *g = malloc(sizeof(float) * net->nparams);
    memcpy(g, net->grads, sizeof(float) * net->nparams);
    int bad = 0;
    for (size_t i = 0; i < net->nparams; i++) {
        double num = numgrad(net->params, i, net_eval, &c);
        if (!close_enough(g[i], num) && bad++ < 5) fprintf(stderr, "param %zu: %g vs %g\n", i, g[i], num);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(g);
    pz_net_ws_free(c.ws);
    pz_net_free(net);
}

static void check_net(int skip, pz_loss_kind loss)
{
    check_net_head(skip, loss, PZ_NET_HEAD_POINT);
}

static void test_network_gradient(void)
{
    check_net(1, PZ_LOSS_MSE);
    check_net(0, PZ_LOSS_MSE);
    check_net(1, PZ_LOSS_HSC);
}

static void test_default_weight_count(void)
{
    pz_err err;
    int hidden[4] = {200, 200, 200, 200};
    pz_net *net = pz_net_new(5, hidden, 4, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    /* 5*200+200 + 3*(200*200+200) + (205+1) */
    CU_ASSERT_EQUAL(net->nparams, 122006);
    CU_ASSERT_EQUAL(pz_net_layer_index(net, "dense_1"), 0);
    CU_ASSERT_EQUAL(pz_net_layer_index(net, "output"), 4);
    CU_ASSERT_EQUAL(pz_net_layer_index(net, "dense_9"), -1);
    /* Glorot bound for the 200x200 layers: sqrt(6/400). */
    pz_net_init_glorot(net, 1);
    float lim = sqrtf(6.0f / 400.0f), mx = 0;
    for (int i = 0; i < 40000; i++) mx = fmaxf(mx, fabsf(net->w[1][i]));
    CU_ASSERT_TRUE(mx <= lim && mx > 0.95f * lim);
    for (int j = 0; j < 200; j++) CU_ASSERT_EQUAL(net->b[0][j], 0.0f);
    pz_net_free(net);
    CU_ASSERT_PTR_NULL(pz_net_new(5, hidden, 0, 1, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hidden layers"));
}

/* ---- mixture-density head ---- */

typedef struct {
    int K, rows;
    float *out, *y;
} mdn_case;

static double mdn_eval(void *ctx)
{
    mdn_case *c = ctx;
    return pz_mdn_nll(c->out, c->K, c->y, c->rows, NULL, 0);
}

/* dNLL/d(means, raw scales, logits) against finite differences, for one and for three components. */
static void test_mdn_gradient(void)
{
    for (int K = 1; K <= 3; K += 2) {
        int w = pz_mdn_width(K), rows = 4;
        float out[4 * 9], y[4] = {0.1f, 0.8f, 1.5f, 0.4f}, g[4 * 9];
        fill(out, (size_t)rows * w, 60 + K);
        mdn_case c = {K, rows, out, y};
        pz_mdn_nll(out, K, y, rows, g, 1.0);
        int bad = 0;
        for (int i = 0; i < rows * w; i++) {
            double num = numgrad(out, (size_t)i, mdn_eval, &c);
            if (!close_enough(g[i], num) && bad++ < 5) fprintf(stderr, "K=%d out[%d]: %g vs %g\n", K, i, g[i], num);
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
}

/* One component: the NLL is -log N(y; mean, softplus(raw) + floor), by hand. */
static void test_mdn_values(void)
{
    float out[2] = {0.5f, 0.0f}, y = 0.8f;
    double s = log(2.0) + PZ_MDN_STD_FLOOR, u = 0.3 / s;
    CU_ASSERT_DOUBLE_EQUAL(pz_mdn_nll(out, 1, &y, 1, NULL, 0), 0.5 * u * u + log(s) + 0.5 * log(2 * M_PI), 1e-6);
    /* A label 1e4 standard deviations away gives a large finite loss, not log(0). */
    float far = 1e4f * (float)s;
    double nll = pz_mdn_nll(out, 1, &far, 1, NULL, 0);
    CU_ASSERT_TRUE(isfinite(nll) && nll > 1e7);
    /* Three components with equal logits: weights 1/3 each, stds floored above 0. */
    float three[9] = {0, 1, 2, -30, -30, -30, 0.7f, 0.7f, 0.7f};
    double wt[3], mu[3], sd[3];
    pz_mdn_mixture(three, 3, wt, mu, sd);
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_DOUBLE_EQUAL(wt[k], 1.0 / 3, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(mu[k], k, 1e-12);
        CU_ASSERT_TRUE(sd[k] >= PZ_MDN_STD_FLOOR);
    }
}

static void test_mdn_network_gradient(void)
{
    check_net_head(1, PZ_LOSS_NLL, (pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 1});
    check_net_head(1, PZ_LOSS_NLL, (pz_net_head){.kind = PZ_HEAD_MDN, .ncomp = 3});
}

/* ---- variational (Bayes by backprop) layer ---- */

/* Probe objective of the VI layer for fixed noise: L = sum_i r_i w_i + s KL, w = mu + softplus(rho) eps. */
typedef struct {
    size_t n;
    float *mu, *rho, *eps, *r, *w, *sigma, *dsigma;
    double s, prior;
} vi_case;

static double vi_eval(void *ctx)
{
    vi_case *c = ctx;
    pz_vi_sample_forward(c->w, c->sigma, c->dsigma, c->mu, c->rho, c->eps, c->n);
    return dot(c->w, c->r, c->n) + c->s * pz_vi_kl(c->mu, c->rho, c->n, c->prior);
}

static void test_vi_gradient(void)
{
    enum { N = 12 };
    float mu[N], rho[N], eps[N], r[N], w[N], sigma[N], dsigma[N], dmu[N], drho[N];
    fill(mu, N, 70), fill(eps, N, 71), fill(r, N, 72), fill(rho, N, 73);
    for (int i = 0; i < N; i++) rho[i] = -3.0f + 3.5f * rho[i]; /* sigma from 0.003 to 0.9, rho of both signs */
    vi_case c = {N, mu, rho, eps, r, w, sigma, dsigma, 0.25, 0.5};
    vi_eval(&c);
    pz_vi_backward(dmu, drho, r, mu, sigma, dsigma, eps, N, c.s, c.prior);
    for (int i = 0; i < N; i++) {
        double nm = numgrad(mu, (size_t)i, vi_eval, &c), nr = numgrad(rho, (size_t)i, vi_eval, &c);
        if (!close_enough(dmu[i], nm)) fprintf(stderr, "dmu[%d]: %g vs %g\n", i, dmu[i], nm);
        if (!close_enough(drho[i], nr)) fprintf(stderr, "drho[%d]: %g vs %g\n", i, drho[i], nr);
        CU_ASSERT_TRUE(close_enough(dmu[i], nm) && close_enough(drho[i], nr));
    }
}

/* The KL of one weight, by hand; zero when the posterior is the prior. */
static void test_vi_kl_values(void)
{
    float mu = 0.3f, rho = (float)pz_vi_rho_of_sigma(0.2);
    double kl = log(1.0 / 0.2) + (0.04 + 0.09) / 2.0 - 0.5;
    CU_ASSERT_DOUBLE_EQUAL(pz_vi_kl(&mu, &rho, 1, 1.0), kl, 1e-5);
    float zero = 0.0f, unit = (float)pz_vi_rho_of_sigma(1.0);
    CU_ASSERT_DOUBLE_EQUAL(pz_vi_kl(&zero, &unit, 1, 1.0), 0.0, 1e-6);
}

/* The normal draws (Box-Muller on xoshiro128++, vi.c): the law's moments and its central 68.27%
 * over 2^21 draws (5-sigma tolerances of each estimate), nothing beyond the documented 5.77; the
 * same seed gives the same bytes, however the draws are cut into calls. */
static void test_vi_normals(void)
{
    enum { N = 1 << 21 };
    float *z = malloc(sizeof(float) * N), *again = malloc(sizeof(float) * N);
    pz_vi_rng *r = pz_vi_rng_new(42);
    pz_vi_normals(r, z, N);
    pz_vi_rng_free(r);
    double m1 = 0, m2 = 0, m4 = 0, in1 = 0, biggest = 0;
    for (size_t i = 0; i < N; i++) {
        double v = z[i];
        m1 += v, m2 += v * v, m4 += v * v * v * v, in1 += fabs(v) < 1.0;
        biggest = fabs(v) > biggest ? fabs(v) : biggest;
    }
    m1 /= N, m2 /= N, m4 /= N, in1 /= N;
    double se = 1.0 / sqrt((double)N);
    CU_ASSERT_DOUBLE_EQUAL(m1, 0.0, 5 * se);
    CU_ASSERT_DOUBLE_EQUAL(m2, 1.0, 5 * sqrt(2.0) * se);
    CU_ASSERT_DOUBLE_EQUAL(m4, 3.0, 5 * sqrt(96.0) * se);
    CU_ASSERT_DOUBLE_EQUAL(in1, 0.682689, 5 * sqrt(0.6827 * 0.3173) * se);
    CU_ASSERT_TRUE(biggest > 4.5 && biggest <= 5.77);
    r = pz_vi_rng_new(42);
    size_t cuts[4] = {7, 100, 16, N - 123}, at = 0;
    for (int k = 0; k < 4; k++) pz_vi_normals(r, again + at, cuts[k]), at += cuts[k];
    pz_vi_rng_free(r);
    CU_ASSERT_EQUAL(memcmp(z, again, sizeof(float) * N), 0);
    r = pz_vi_rng_new(43);
    pz_vi_normals(r, again, 64);
    pz_vi_rng_free(r);
    CU_ASSERT_NOT_EQUAL(memcmp(z, again, sizeof(float) * 64), 0);
    free(z), free(again);
}

/* sigma = softplus(rho) and its derivative sigmoid(rho) from vi.c's polynomials, against libm in
 * double, over the scales a posterior can have (sigma from 1e-9 to 20). */
static void test_vi_softplus(void)
{
    enum { N = 4001 };
    float *rho = malloc(sizeof(float) * N), *mu = calloc(N, sizeof(float)), *eps = malloc(sizeof(float) * N),
          *w = malloc(sizeof(float) * N), *sg = malloc(sizeof(float) * N), *dsg = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) rho[i] = -20.0f + 40.0f * (float)i / (N - 1), eps[i] = 1.0f;
    pz_vi_sample_forward(w, sg, dsg, mu, rho, eps, N);
    double worst = 0, worst_d = 0;
    for (int i = 0; i < N; i++) {
        double x = rho[i], sp = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)), d = 1.0 / (1.0 + exp(-x));
        worst = fmax(worst, fabs(sg[i] - sp) / sp);
        worst_d = fmax(worst_d, fabs(dsg[i] - d) / d);
        CU_ASSERT_EQUAL(w[i], sg[i]);
    }
    CU_ASSERT_TRUE(worst < 1e-6);
    CU_ASSERT_TRUE(worst_d < 1e-6);
    if (worst >= 1e-6 || worst_d >= 1e-6) fprintf(stderr, "softplus rel. error %g, sigmoid %g\n", worst, worst_d);
    free(rho), free(mu), free(eps), free(w), free(sg), free(dsg);
}

/* A Bayesian network's gradient through the sampled weights is the plain network's gradient
 * at those weights: forward_at/backward_at with an arena equal to params match forward/backward. */
static void test_forward_at_matches_forward(void)
{
    pz_err err;
    int hidden[2] = {6, 4};
    pz_net_head h = {.kind = PZ_HEAD_MDN, .ncomp = 2, .bayes = 1};
    pz_net *net = pz_net_new_head(3, hidden, 2, 1, &h, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    CU_ASSERT_EQUAL(net->nparams, 2 * net->nweights);
    CU_ASSERT_EQUAL(net->nout, 6);
    pz_net_init_glorot(net, 9);
    float *copy = malloc(sizeof(float) * net->nweights), *g = malloc(sizeof(float) * net->nweights);
    memcpy(copy, net->params, sizeof(float) * net->nweights);
    pz_net_ws *ws = pz_net_ws_new(net, 5);
    fill(ws->act[0], 15, 80);
    pz_net_forward(net, ws, 5);
    float out[30];
    memcpy(out, ws->out, sizeof out);
    pz_net_forward_at(net, copy, ws, 5);
    CU_ASSERT_EQUAL(memcmp(out, ws->out, sizeof out), 0);
    fill(ws->dout, 30, 81);
    pz_net_backward(net, ws, 5, NULL);
    pz_net_backward_at(net, copy, g, ws, 5, NULL);
    CU_ASSERT_EQUAL(memcmp(g, net->grads, sizeof(float) * net->nweights), 0);
    free(copy), free(g);
    pz_net_ws_free(ws);
    pz_net_free(net);
}

/* ---- Adam ---- */

static void test_adam_by_hand(void)
{
    /* lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7, w0 = 0.5, gradients 0.2 then -0.1:
     * t=1: m = 0.02, v = 4e-5, alpha = 1e-3*sqrt(1-0.999)/(1-0.9) = 3.16227766e-4,
     *      w = 0.5 - alpha*0.02/(sqrt(4e-5)+1e-7) = 0.49900001581
     * t=2: m = 0.9*0.02 + 0.1*(-0.1) = 0.008, v = 0.999*4e-5 + 0.001*0.01 = 4.996e-5,
     *      alpha = 1e-3*sqrt(1-0.999^2)/(1-0.9^2) = 2.35316725e-4,
     *      w = 0.49900001581 - alpha*0.008/(sqrt(4.996e-5)+1e-7) = 0.49873368254 */
    pz_adam_cfg cfg = PZ_ADAM_DEFAULTS;
    CU_ASSERT_DOUBLE_EQUAL(pz_adam_alpha(&cfg, 1), 3.16227766e-4, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pz_adam_alpha(&cfg, 2), 2.35316725e-4, 1e-12);
    float w = 0.5f, m = 0, v = 0, g = 0.2f;
    pz_adam_update(&w, &g, &m, &v, 1, &cfg, 1);
    CU_ASSERT_DOUBLE_EQUAL(m, 0.02, 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(v, 4e-5, 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(w, 0.49900001581, 1e-7);
    g = -0.1f;
    pz_adam_update(&w, &g, &m, &v, 1, &cfg, 2);
    CU_ASSERT_DOUBLE_EQUAL(w, 0.49873368254, 1e-7);
}

static void test_adam_vector_path_matches_scalar(void)
{
    /* 19 values: two 8-wide blocks and a scalar tail; each element must equal a lone update. */
    enum { N = 19 };
    float w[N], g[N], m[N], v[N];
    fill(w, N, 31), fill(g, N, 32), fill(m, N, 33), fill(v, N, 34);
    for (int i = 0; i < N; i++) v[i] = fabsf(v[i]) * 1e-3f;
    float w1[N], m1[N], v1[N];
    memcpy(w1, w, sizeof w), memcpy(m1, m, sizeof m), memcpy(v1, v, sizeof v);
    pz_adam_cfg cfg = PZ_ADAM_DEFAULTS;
    pz_adam_update(w, g, m, v, N, &cfg, 7);
    for (int i = 0; i < N; i++) {
        pz_adam_update(&w1[i], &g[i], &m1[i], &v1[i], 1, &cfg, 7);
        CU_ASSERT_EQUAL(memcmp(&w[i], &w1[i], sizeof(float)), 0);
    }
}

int main(void)
{
    pzt_suite("nn_layers", (pzt_case[]){{"dense gradients", test_dense_gradients},
                                        {"relu gradient", test_relu_gradient},
                                        {"fused dense+relu", test_fused_dense_relu},
                                        {"concat gradient", test_concat_gradient},
                                        {"loss gradients", test_loss_gradients},
                                        {"loss values", test_loss_values},
                                        {"network gradient", test_network_gradient},
                                        {"default weight count 122006", test_default_weight_count},
                                        {"mdn loss gradient", test_mdn_gradient},
                                        {"mdn loss values", test_mdn_values},
                                        {"mdn network gradient", test_mdn_network_gradient},
                                        {"vi layer gradient", test_vi_gradient},
                                        {"vi kl values", test_vi_kl_values},
                                        {"vi normal draws: law and determinism", test_vi_normals},
                                        {"vi softplus and sigmoid against libm", test_vi_softplus},
                                        {"forward_at matches forward", test_forward_at_matches_forward},
                                        {"adam by hand", test_adam_by_hand},
                                        {"adam vector path", test_adam_vector_path_matches_scalar},
                                        {0}});
    return pzt_main();
}
