#include "nn/vi.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>

#include "nn/mdn.h"

struct pz_vi_rng {
    gsl_rng *r;
};

/* taus2: the fastest of GSL's generators of simulation quality; the draws of a training run are
 * ~10^5 per minibatch, so the generator's speed is most of the sampling cost. */
pz_vi_rng *pz_vi_rng_new(unsigned long seed)
{
    pz_vi_rng *v = pz_xmalloc(sizeof *v);
    v->r = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(v->r, seed);
    return v;
}

void pz_vi_rng_free(pz_vi_rng *r)
{
    if (!r) return;
    gsl_rng_free(r->r);
    free(r);
}

void pz_vi_normals(pz_vi_rng *r, float *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) eps[i] = (float)gsl_ran_gaussian_ziggurat(r->r, 1.0);
}

double pz_vi_rho_of_sigma(double sigma)
{
    return log(expm1(sigma));
}

/* The element-wise passes run over every weight of every minibatch (the BNN's whole extra cost),
 * so they ask for the vectorizer like the dense layers' (nn/layers.c). */
#define PZ_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))

/* e = exp(rho) gives both softplus(rho) = log1p(e) and sigmoid(rho) = e / (1 + e); for rho > 0
 * the same through exp(-rho), which cannot overflow. The posterior scales are small (rho << 0),
 * where log1p keeps their precision. */
void pz_vi_sample_forward(float *w, float *sigma, float *dsigma, const float *mu, const float *rho, const float *eps,
                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float r = rho[i], e = expf(-fabsf(r));
        float sp = log1pf(e) + (r > 0.0f ? r : 0.0f), sg = r > 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        sigma[i] = sp;
        if (dsigma) dsigma[i] = sg;
        w[i] = mu[i] + sp * eps[i];
    }
}

PZ_VECTORIZE void pz_vi_backward(float *dmu, float *drho, const float *dw, const float *mu, const float *sigma,
                                 const float *dsigma, const float *eps, size_t n, double kl_scale, double prior_sigma)
{
    float s = (float)kl_scale, ip2 = (float)(1.0 / (prior_sigma * prior_sigma));
    for (size_t i = 0; i < n; i++) {
        float g = dw[i], sg = sigma[i];
        drho[i] = (g * eps[i] + s * (sg * ip2 - 1.0f / sg)) * dsigma[i];
        dmu[i] = g + s * mu[i] * ip2;
    }
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
