#include "nn/mdn.h"

#include <math.h>

#include "nn/net.h"

#define LOG_SQRT_2PI 0.91893853320467274178

int pz_mdn_width(int ncomp)
{
    return ncomp == 1 ? 2 : 3 * ncomp;
}

double pz_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double pz_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* Log mixture weights from the logits (log-softmax; all 0 for one component). */
static void log_weights(const float *row, int K, double *lw)
{
    if (K == 1) {
        lw[0] = 0.0;
        return;
    }
    const float *logit = row + 2 * K;
    double mx = logit[0], sum = 0.0;
    for (int k = 1; k < K; k++)
        if (logit[k] > mx) mx = logit[k];
    for (int k = 0; k < K; k++) sum += exp(logit[k] - mx);
    double lse = mx + log(sum);
    for (int k = 0; k < K; k++) lw[k] = logit[k] - lse;
}

void pz_mdn_mixture(const float *row, int ncomp, double *weight, double *mean, double *std)
{
    double lw[PZ_MDN_MAX_COMPONENTS];
    log_weights(row, ncomp, lw);
    for (int k = 0; k < ncomp; k++) {
        weight[k] = exp(lw[k]);
        mean[k] = row[k];
        std[k] = pz_softplus(row[ncomp + k]) + PZ_MDN_STD_FLOOR;
    }
}

/* One row: the NLL, and when g is not NULL its gradient (times scale) with respect to the row. */
static double row_nll(const float *row, int K, double y, float *g, double scale)
{
    double lw[PZ_MDN_MAX_COMPONENTS], a[PZ_MDN_MAX_COMPONENTS], u[PZ_MDN_MAX_COMPONENTS],
        s[PZ_MDN_MAX_COMPONENTS];
    log_weights(row, K, lw);
    double mx = -INFINITY;
    for (int k = 0; k < K; k++) {
        s[k] = pz_softplus(row[K + k]) + PZ_MDN_STD_FLOOR;
        u[k] = (y - row[k]) / s[k];
        a[k] = lw[k] - 0.5 * u[k] * u[k] - log(s[k]) - LOG_SQRT_2PI;
        if (a[k] > mx) mx = a[k];
    }
    double sum = 0.0;
    for (int k = 0; k < K; k++) sum += exp(a[k] - mx);
    double lse = mx + log(sum);
    if (g)
        for (int k = 0; k < K; k++) {
            double resp = exp(a[k] - lse); /* responsibility of component k for this label */
            g[k] = (float)(scale * -resp * u[k] / s[k]);
            g[K + k] = (float)(scale * resp * (1.0 - u[k] * u[k]) / s[k] * pz_sigmoid(row[K + k]));
            if (K > 1) g[2 * K + k] = (float)(scale * (exp(lw[k]) - resp));
        }
    return -lse;
}

double pz_mdn_nll(const float *out, int ncomp, const float *truth, size_t n, float *grad, double grad_scale)
{
    int w = pz_mdn_width(ncomp);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += row_nll(out + i * w, ncomp, truth[i], grad ? grad + i * w : NULL, grad_scale);
    return sum;
}
