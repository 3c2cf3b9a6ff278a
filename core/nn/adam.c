#include "nn/adam.h"

#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

double pz_adam_alpha(const pz_adam_cfg *cfg, long t)
{
    return cfg->lr * sqrt(1.0 - pow(cfg->beta2, (double)t)) / (1.0 - pow(cfg->beta1, (double)t));
}

typedef struct {
    float a, c1, c2, eps;
} adam_consts;

static inline void update_one(float *w, const float *g, float *m, float *v, size_t i, const adam_consts *k)
{
    float gi = g[i];
    float mi = m[i] + k->c1 * (gi - m[i]);
    float vi = v[i] + k->c2 * (gi * gi - v[i]);
    m[i] = mi;
    v[i] = vi;
    w[i] -= k->a * mi / (sqrtf(vi) + k->eps);
}

#if defined(__x86_64__)
/* The update touches all 122k weights every minibatch; scalar sqrt and divide would cost a large
 * share of a training step, and the project's -O2 build with errno-setting sqrtf does not
 * vectorize the loop. So it is written with AVX intrinsics, chosen at run time. Every lane does
 * the same IEEE single operations, in the same order, as update_one (no FMA, which would round
 * differently), so the result does not depend on the path taken. */
__attribute__((target("avx"))) static void update_avx(float *w, const float *g, float *m, float *v, size_t n,
                                                      const adam_consts *k)
{
    const __m256 a = _mm256_set1_ps(k->a), c1 = _mm256_set1_ps(k->c1), c2 = _mm256_set1_ps(k->c2),
                 eps = _mm256_set1_ps(k->eps);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i), mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(c1, _mm256_sub_ps(gi, mi)));
        vi = _mm256_add_ps(vi, _mm256_mul_ps(c2, _mm256_sub_ps(_mm256_mul_ps(gi, gi), vi)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(a, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
    }
    for (; i < n; i++) update_one(w, g, m, v, i, k);
}
#endif

void pz_adam_update(float *w, const float *g, float *m, float *v, size_t n, const pz_adam_cfg *cfg, long t)
{
    adam_consts k = {(float)pz_adam_alpha(cfg, t), (float)(1.0 - cfg->beta1), (float)(1.0 - cfg->beta2),
                     (float)cfg->eps};
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx")) {
        update_avx(w, g, m, v, n, &k);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) update_one(w, g, m, v, i, &k);
}
