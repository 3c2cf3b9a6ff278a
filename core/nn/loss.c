#include "nn/loss.h"

#include <string.h>

#include "nn/mdn.h"

int pz_loss_parse(const char *name, pz_loss_kind *out)
{
    if (!strcmp(name, "hsc")) *out = PZ_LOSS_HSC;
    else if (!strcmp(name, "mse")) *out = PZ_LOSS_MSE;
    else if (!strcmp(name, "nll")) *out = PZ_LOSS_NLL;
    else return -1;
    return 0;
}

const char *pz_loss_name(pz_loss_kind kind)
{
    return kind == PZ_LOSS_HSC ? "hsc" : kind == PZ_LOSS_MSE ? "mse" : "nll";
}

/* With u = dz/gamma: L = u^2/(1+u^2), dL/du = 2u/(1+u^2)^2, du/dp = 1/(gamma (1+t)). */
static double hsc(const float *pred, const float *truth, size_t n, float *grad, double grad_scale)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double onept = 1.0 + (double)truth[i];
        double u = ((double)pred[i] - truth[i]) / (onept * PZ_HSC_GAMMA);
        double q = 1.0 + u * u;
        sum += 1.0 - 1.0 / q;
        if (grad) grad[i] = (float)(grad_scale * 2.0 * u / (q * q) / (PZ_HSC_GAMMA * onept));
    }
    return sum;
}

static double mse(const float *pred, const float *truth, size_t n, float *grad, double grad_scale)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - truth[i];
        sum += d * d;
        if (grad) grad[i] = (float)(grad_scale * 2.0 * d);
    }
    return sum;
}

double pz_loss(pz_loss_kind kind, const float *pred, const float *truth, size_t n, float *grad, double grad_scale)
{
    return kind == PZ_LOSS_HSC ? hsc(pred, truth, n, grad, grad_scale) : mse(pred, truth, n, grad, grad_scale);
}

double pz_loss_out(pz_loss_kind kind, int ncomp, const float *out, const float *truth, size_t n, float *grad,
                   double grad_scale)
{
    if (kind == PZ_LOSS_NLL) return pz_mdn_nll(out, ncomp, truth, n, grad, grad_scale);
    return pz_loss(kind, out, truth, n, grad, grad_scale);
}
