#include "nn/pdf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/mdn.h"
#include "nn/vi.h"

int pz_model_pdf_ncomp(const pz_model *m)
{
    const pz_net_head *h = &m->net->head;
    return h->kind == PZ_HEAD_MDN || h->bayes ? h->ncomp : 0;
}

/* Weight sample s of the posterior, drawn once per workspace from the model's seed. */
static void draw_posterior(const pz_model *m, pz_net_ws *ws)
{
    const pz_net *net = m->net;
    size_t nw = net->nweights;
    ws->ndraws = (int)m->samples;
    ws->draws = pz_xmalloc(sizeof(float) * nw * (size_t)ws->ndraws);
    ws->moments = pz_xmalloc(sizeof(double) * (size_t)ws->cap * net->head.ncomp * 3);
    float *eps = pz_xmalloc(sizeof(float) * nw), *sigma = pz_xmalloc(sizeof(float) * nw);
    pz_vi_rng *r = pz_vi_rng_new((unsigned long)(m->seed >= 0 ? m->seed : 0) + 2);
    for (int s = 0; s < ws->ndraws; s++) {
        pz_vi_normals(r, eps, nw);
        pz_vi_sample_forward(ws->draws + (size_t)s * nw, sigma, NULL, net->params, net->params + nw, eps, nw);
    }
    pz_vi_rng_free(r);
    free(eps);
    free(sigma);
}

/* Row r of the network output as K components (a point head: its value, std 0). */
static void row_mixture(const pz_net *net, const float *out, int r, double *w, double *mu, double *sd)
{
    if (net->head.kind == PZ_HEAD_MDN) {
        pz_mdn_mixture(out + (size_t)r * net->nout, net->head.ncomp, w, mu, sd);
        return;
    }
    w[0] = 1.0;
    mu[0] = out[r];
    sd[0] = 0.0;
}

static double mixture_mean(const float *w, const float *mu, int K)
{
    double z = 0.0;
    for (int k = 0; k < K; k++) z += (double)w[k] * mu[k];
    return z;
}

/* S forwards; moments[(r K + k) 3 + {0,1,2}] = sums over samples of w, w mu, w (sd^2 + mu^2). */
static void bayes_moments(const pz_model *m, pz_net_ws *ws, int rows)
{
    const pz_net *net = m->net;
    int K = net->head.ncomp;
    memset(ws->moments, 0, sizeof(double) * (size_t)rows * K * 3);
    for (int s = 0; s < ws->ndraws; s++) {
        pz_net_forward_at(net, ws->draws + (size_t)s * net->nweights, ws, rows);
        for (int r = 0; r < rows; r++) {
            double w[PZ_MDN_MAX_COMPONENTS], mu[PZ_MDN_MAX_COMPONENTS], sd[PZ_MDN_MAX_COMPONENTS];
            row_mixture(net, ws->out, r, w, mu, sd);
            for (int k = 0; k < K; k++) {
                double *acc = ws->moments + ((size_t)r * K + k) * 3;
                acc[0] += w[k];
                acc[1] += w[k] * mu[k];
                acc[2] += w[k] * (sd[k] * sd[k] + mu[k] * mu[k]);
            }
        }
    }
}

static void bayes_forward(const pz_model *m, pz_net_ws *ws, int rows, float *z, const pz_pdf_block *pdf)
{
    if (!ws->draws) draw_posterior(m, ws);
    bayes_moments(m, ws, rows);
    int K = m->net->head.ncomp;
    for (int r = 0; r < rows; r++) {
        float w[PZ_MDN_MAX_COMPONENTS], mu[PZ_MDN_MAX_COMPONENTS], sd[PZ_MDN_MAX_COMPONENTS];
        for (int k = 0; k < K; k++) {
            const double *acc = ws->moments + ((size_t)r * K + k) * 3;
            double mean = acc[0] > 0 ? acc[1] / acc[0] : 0.0;
            double var = acc[0] > 0 ? acc[2] / acc[0] - mean * mean : 0.0;
            w[k] = (float)(acc[0] / ws->ndraws);
            mu[k] = (float)mean;
            sd[k] = (float)sqrt(var > 0 ? var : 0.0);
        }
        z[r] = (float)mixture_mean(w, mu, K);
        for (int k = 0; pdf && k < K; k++) {
            pdf->weight[k * pdf->stride + r] = w[k];
            pdf->mean[k * pdf->stride + r] = mu[k];
            pdf->std[k * pdf->stride + r] = sd[k];
        }
    }
}

void pz_model_forward_pdf(const pz_model *m, pz_net_ws *ws, int rows, float *z, const pz_pdf_block *pdf)
{
    const pz_net *net = m->net;
    if (net->head.bayes) {
        bayes_forward(m, ws, rows, z, pdf);
        return;
    }
    pz_net_forward(net, ws, rows);
    if (net->head.kind == PZ_HEAD_POINT) {
        memcpy(z, ws->out, sizeof(float) * rows);
        return;
    }
    int K = net->head.ncomp;
    for (int r = 0; r < rows; r++) {
        double w[PZ_MDN_MAX_COMPONENTS], mu[PZ_MDN_MAX_COMPONENTS], sd[PZ_MDN_MAX_COMPONENTS];
        pz_mdn_mixture(ws->out + (size_t)r * net->nout, K, w, mu, sd);
        double zr = 0.0;
        for (int k = 0; k < K; k++) {
            zr += w[k] * mu[k];
            if (!pdf) continue;
            pdf->weight[k * pdf->stride + r] = (float)w[k];
            pdf->mean[k * pdf->stride + r] = (float)mu[k];
            pdf->std[k * pdf->stride + r] = (float)sd[k];
        }
        z[r] = (float)zr;
    }
}
