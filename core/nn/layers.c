#include "nn/layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void pz_dense_forward(float *out, const float *x, const float *w, const float *b, int rows, int nin, int nout)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, nout, nin, 1.0f, x, nin, w, nout, 0.0f, out, nout);
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * nout;
        for (int j = 0; j < nout; j++) o[j] += b[j];
    }
}

void pz_dense_relu_forward(float *out, const float *x, const float *w, const float *b, int rows, int nin,
                           int nout)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, nout, nin, 1.0f, x, nin, w, nout, 0.0f, out, nout);
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * nout;
        for (int j = 0; j < nout; j++) {
            float v = o[j] + b[j];
            o[j] = v > 0.0f ? v : 0.0f;
        }
    }
}

void pz_dense_backward(float *dx, float *dw, float *db, const float *dout, const float *x, const float *w, int rows,
                       int nin, int nout)
{
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nin, nout, rows, 1.0f, x, nin, dout, nout, 0.0f, dw,
                    nout);
    if (db) {
        memset(db, 0, sizeof *db * (size_t)nout);
        for (int r = 0; r < rows; r++) {
            const float *g = dout + (size_t)r * nout;
            for (int j = 0; j < nout; j++) db[j] += g[j];
        }
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nin, nout, 1.0f, dout, nout, w, nout, 0.0f, dx,
                    nin);
}

void pz_relu_forward(float *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void pz_relu_backward(float *dx, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void pz_concat_forward(float *out, const float *a, int na, const float *b, int nb, int rows)
{
    size_t w = (size_t)na + nb;
    for (int r = 0; r < rows; r++) {
        memcpy(out + r * w, a + (size_t)r * na, sizeof *out * na);
        memcpy(out + r * w + na, b + (size_t)r * nb, sizeof *out * nb);
    }
}

void pz_concat_backward(float *da, float *db, const float *dout, int na, int nb, int rows)
{
    size_t w = (size_t)na + nb;
    for (int r = 0; r < rows; r++) {
        if (da) memcpy(da + (size_t)r * na, dout + r * w, sizeof *da * na);
        if (db) memcpy(db + (size_t)r * nb, dout + r * w + na, sizeof *db * nb);
    }
}

void pz_glorot_uniform(float *w, int nin, int nout, double (*next_u01)(void *), void *rng)
{
    double limit = sqrt(6.0 / (double)(nin + nout));
    size_t n = (size_t)nin * nout;
    for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * next_u01(rng) - 1.0) * limit);
}
