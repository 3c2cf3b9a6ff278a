#include "nn/vi.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/mdn.h"

/* The element-wise passes run over every weight of every minibatch (the BNN's whole extra cost),
 * so they ask for the vectorizer like the dense layers' (nn/layers.c). The file is compiled with
 * -fno-math-errno (CMakeLists.txt): the only sqrt is of a value >= 0, and with errno GCC keeps a
 * scalar call that blocks vectors (the attribute cannot say it). The helpers are always inlined
 * into the loops, and their selects are integer operations on the bits: GCC keeps a float
 * comparison as a branch in the AVX2 clone, which leaves the loop scalar. The loops are also
 * built for AVX2 (8 floats a
 * vector, twice SSE's 4), picked at run time: the same IEEE operations in the same order either
 * way (AVX2 brings no FMA, which would round differently), so the bytes do not depend on it. */
#define PZ_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))

/* ---- normal draws --------------------------------------------------------------------------
 * Every training step draws one normal per weight (~10^5), so the generator is most of the
 * sampling cost. GSL's ziggurat on taus2 went through a function pointer per uniform and was
 * scalar; this is Box-Muller, both outputs kept, on xoshiro128++ (Blackman & Vigna 2018) run as
 * LANES independent streams side by side, so a block of 2 LANES draws is one vectorised loop:
 *   u1 = (24 high bits + 1) / 2^24 in (0, 1], u2 = 24 high bits / 2^24 in [0, 1)
 *   r = sqrt(-2 ln u1), z = r cos(2 pi u2), r sin(2 pi u2)
 * with ln, cos and sin from polynomials (below) good to a few float ulps. The largest |z| is
 * sqrt(2 ln 2^24) = 5.77: a tail of 8e-9 of the law is cut, which no weight sample can notice.
 * Every lane does the same IEEE operations whatever the vector width (no FMA), so a seed gives
 * the same bytes on any x86-64. */
#define LANES 8
#define PZ_CLONES __attribute__((target_clones("avx2", "default")))
/* always_inline: GCC does not inline a default-target helper into the AVX2 clone by itself. */
#define PZ_INLINE PZ_VECTORIZE static inline __attribute__((always_inline))

struct pz_vi_rng {
    uint32_t s[4][LANES];
    float spare[2 * LANES]; /* draws of the last block not handed out yet */
    int nspare;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

pz_vi_rng *pz_vi_rng_new(unsigned long seed)
{
    pz_vi_rng *v = pz_xcalloc(1, sizeof *v);
    uint64_t x = seed;
    for (int l = 0; l < LANES; l++) {
        for (int w = 0; w < 4; w++) v->s[w][l] = (uint32_t)(splitmix64(&x) >> 32);
        if (!(v->s[0][l] | v->s[1][l] | v->s[2][l] | v->s[3][l])) v->s[0][l] = 1; /* the one bad state */
    }
    return v;
}

void pz_vi_rng_free(pz_vi_rng *r)
{
    free(r);
}

PZ_INLINE uint32_t rotl32(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

PZ_INLINE float bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

PZ_INLINE uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* ln u for u in (0, 1]: u = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s),
 * s = (m - 1)/(m + 1), |s| <= 0.172, whose series to s^11 is exact to float precision. */
PZ_INLINE float log_unit(float u)
{
    uint32_t b = float_bits(u);
    int e = (int)(b >> 23) - 127;
    uint32_t mb = (b & 0x7fffffu) | 0x3f800000u, big = mb > 0x3fb504f3u; /* m in [1, 2); m > sqrt 2 */
    float m = bits_float(mb - (big << 23));                             /* halved when big */
    e += (int)big;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float p = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
    return (float)e * 0.693147181f + 2.0f * s * p;
}

/* sin and cos of a in [-pi, pi): Taylor series to a^19 and a^20 (their remainders < 1e-9). */
PZ_INLINE void sincos_pi(float a, float *sn, float *cs)
{
    float x = a * a;
    *sn = a * (1.0f - x / 6 * (1.0f - x / 20 * (1.0f - x / 42 * (1.0f - x / 72 * (1.0f - x / 110 * (1.0f - x / 156 *
                 (1.0f - x / 210 * (1.0f - x / 272 * (1.0f - x / 342)))))))));
    *cs = 1.0f - x / 2 * (1.0f - x / 12 * (1.0f - x / 30 * (1.0f - x / 56 * (1.0f - x / 90 * (1.0f - x / 132 *
                 (1.0f - x / 182 * (1.0f - x / 240 * (1.0f - x / 306 * (1.0f - x / 380)))))))));
}

/* One step of xoshiro128++ on lane l of the state. */
PZ_INLINE uint32_t xoshiro_next(uint32_t s[4][LANES], int l)
{
    uint32_t s0 = s[0][l], s1 = s[1][l], s2 = s[2][l], s3 = s[3][l];
    uint32_t out = rotl32(s0 + s3, 7) + s0, t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s[0][l] = s0, s[1][l] = s1, s[2][l] = s2, s[3][l] = rotl32(s3, 11);
    return out;
}

/* 2 LANES normals: lane l gives out[l] and out[LANES + l]. */
PZ_VECTORIZE PZ_CLONES static void normals_block(uint32_t s[4][LANES], float *restrict out)
{
    for (int l = 0; l < LANES; l++) {
        uint32_t a = xoshiro_next(s, l), b = xoshiro_next(s, l);
        float u1 = (float)(int32_t)((a >> 8) + 1) * 0x1p-24f;
        float angle = ((float)(int32_t)(b >> 8) * 0x1p-24f - 0.5f) * 6.28318531f; /* 2 pi u2 - pi */
        float r = sqrtf(-2.0f * log_unit(u1)), sn, cs;
        sincos_pi(angle, &sn, &cs);
        out[l] = -r * cs; /* cos(2 pi u2) = -cos(2 pi u2 - pi) */
        out[LANES + l] = -r * sn;
    }
}

void pz_vi_normals(pz_vi_rng *r, float *eps, size_t n)
{
    size_t i = 0;
    for (; i < n && r->nspare > 0; i++) eps[i] = r->spare[2 * LANES - r->nspare--];
    for (; i + 2 * LANES <= n; i += 2 * LANES) normals_block(r->s, eps + i);
    if (i == n) return;
    normals_block(r->s, r->spare);
    r->nspare = 2 * LANES;
    for (; i < n; i++) eps[i] = r->spare[2 * LANES - r->nspare--];
}

double pz_vi_rho_of_sigma(double sigma)
{
    return log(expm1(sigma));
}

/* ---- w = mu + softplus(rho) eps ------------------------------------------------------------
 * e = exp(-|rho|) gives softplus(rho) = log1p(e) + max(rho, 0) and sigmoid(rho) = e / (1 + e) or
 * 1 / (1 + e): one exp serves both, and the posterior's small scales (rho << 0) keep their
 * precision. libm's expf and log1pf are scalar calls and were half of a BNN step's extra time;
 * these polynomials vectorise (and give the same bytes on any x86-64, as above). */

/* Selects are written on the bits, as integer operations: GCC's AVX2 clone would not turn a
 * float comparison into a select (it keeps the branch, and the loop scalar). */
PZ_INLINE float select_f(uint32_t mask, float if_set, float if_clear)
{
    return bits_float((float_bits(if_set) & mask) | (float_bits(if_clear) & ~mask));
}

/* e^-a for a >= 0: -a = n ln2 + f, |f| <= ln2/2, e^f by its Taylor series to f^7; a is capped at
 * 87 (e^-87 is near the smallest normal float), on the bits: for a >= 0 they order as a does. */
PZ_INLINE float exp_neg(float a)
{
    uint32_t ab = float_bits(a);
    float x = -bits_float(ab < 0x42ae0000u ? ab : 0x42ae0000u); /* 87.0f */
    int n = (int)(x * 1.44269504f - 0.5f); /* rounds, as x <= 0 */
    float f = (x - (float)n * 0.693145752f) - (float)n * 1.42860677e-6f;
    float p = 1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720 +
                                                                                                   f * (1.0f / 5040)))))));
    return p * bits_float((uint32_t)(n + 127) << 23);
}

/* ln(1 + e) for e in [0, 1]: 2 atanh(s), s = e / (2 + e) <= 1/3, the series to s^15. */
PZ_INLINE float log1p_unit(float e)
{
    float s = e / (2.0f + e), s2 = s * s;
    float p = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11 +
                                                                                       s2 * (1.0f / 13 + s2 * (1.0f / 15)))))));
    return 2.0f * s * p;
}

/* max(r, 0) = (r + |r|) / 2, exactly. */
PZ_INLINE float softplus_parts(float r, float *e)
{
    *e = exp_neg(fabsf(r));
    return log1p_unit(*e) + 0.5f * (r + fabsf(r));
}

PZ_VECTORIZE PZ_CLONES static void sample_kernel(float *restrict w, float *restrict sigma, float *restrict dsigma,
                                                 const float *restrict mu, const float *restrict rho,
                                                 const float *restrict eps, size_t n)
{
    float e;
    if (dsigma) { /* training: one pass, one exp per weight for sigma and its derivative */
        for (size_t i = 0; i < n; i++) {
            float r = rho[i], sp = softplus_parts(r, &e);
            sigma[i] = sp;
            uint32_t negative = (uint32_t)((int32_t)float_bits(r) >> 31); /* all ones when r < 0 (or -0) */
            dsigma[i] = select_f(negative, e, 1.0f) / (1.0f + e);
            w[i] = mu[i] + sp * eps[i];
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float sp = softplus_parts(rho[i], &e);
        sigma[i] = sp;
        w[i] = mu[i] + sp * eps[i];
    }
}

void pz_vi_sample_forward(float *w, float *sigma, float *dsigma, const float *mu, const float *rho, const float *eps,
                          size_t n)
{
    sample_kernel(w, sigma, dsigma, mu, rho, eps, n);
}

/* In place: g holds dL/dw and gets dL/dmu (one array, so the loop needs no alias check). */
PZ_VECTORIZE PZ_CLONES static void backward_inplace(float *restrict g, float *restrict drho, const float *restrict mu,
                                          const float *restrict sigma, const float *restrict dsigma,
                                          const float *restrict eps, size_t n, float s, float ip2)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i], sg = sigma[i];
        drho[i] = (gi * eps[i] + s * (sg * ip2 - 1.0f / sg)) * dsigma[i];
        g[i] = gi + s * mu[i] * ip2;
    }
}

void pz_vi_backward(float *dmu, float *drho, const float *dw, const float *mu, const float *sigma, const float *dsigma,
                    const float *eps, size_t n, double kl_scale, double prior_sigma)
{
    if (dmu != dw) memcpy(dmu, dw, sizeof(float) * n);
    backward_inplace(dmu, drho, mu, sigma, dsigma, eps, n, (float)kl_scale, (float)(1.0 / (prior_sigma * prior_sigma)));
}

double pz_vi_kl(const float *mu, const float *rho, size_t n, double prior_sigma)
{
    double p2 = prior_sigma * prior_sigma, lp = log(prior_sigma), kl = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = pz_softplus(rho[i]);
        kl += lp - log(s) + (s * s + (double)mu[i] * mu[i]) / (2.0 * p2) - 0.5;
    }
    return kl;
}

void pz_vi_init_rho(pz_net *net, double sigma)
{
    float r = (float)pz_vi_rho_of_sigma(sigma);
    float *rho = net->params + net->nweights;
    for (size_t i = 0; i < net->nweights; i++) rho[i] = r;
}
