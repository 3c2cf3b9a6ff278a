#include "nn/scaler.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void pz_scaler_init(pz_scaler *s, size_t nfeat)
{
    s->nfeat = nfeat;
    s->min = pz_xcalloc(nfeat ? nfeat : 1, sizeof *s->min);
    s->max = pz_xcalloc(nfeat ? nfeat : 1, sizeof *s->max);
}

void pz_scaler_free(pz_scaler *s)
{
    free(s->min);
    free(s->max);
    s->min = s->max = NULL;
    s->nfeat = 0;
}

void pz_scaler_copy(pz_scaler *dst, const pz_scaler *src)
{
    pz_scaler_init(dst, src->nfeat);
    memcpy(dst->min, src->min, sizeof *dst->min * src->nfeat);
    memcpy(dst->max, src->max, sizeof *dst->max * src->nfeat);
}

void pz_scaler_fit(pz_scaler *s, const float *x, size_t rows, size_t nfeat)
{
    pz_scaler_init(s, nfeat);
    for (size_t j = 0; j < nfeat; j++) {
        double lo = rows ? x[j] : 0.0, hi = lo;
        for (size_t r = 1; r < rows; r++) {
            double v = x[r * nfeat + j];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        s->min[j] = lo;
        s->max[j] = hi;
    }
}

void pz_scaler_apply(const pz_scaler *s, float *x, size_t rows)
{
    size_t nf = s->nfeat;
    float lo[nf ? nf : 1], inv[nf ? nf : 1];
    for (size_t j = 0; j < nf; j++) {
        double range = s->max[j] - s->min[j];
        lo[j] = (float)s->min[j];
        inv[j] = (float)(range > 0 ? 1.0 / range : 1.0);
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < nf; j++) x[r * nf + j] = (x[r * nf + j] - lo[j]) * inv[j];
}
