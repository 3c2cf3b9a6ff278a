/* Bayes by backprop (Blundell et al. 2015): a mean-field Gaussian posterior over every weight.
 *
 * Each weight w has a mean mu and a softplus-parametrised scale sigma = softplus(rho), so sigma
 * stays positive while Adam moves rho freely. One training step:
 *   1. sample    eps ~ N(0, 1), w = mu + sigma * eps        (reparametrisation: w is a smooth
 *                                                            function of mu and rho)
 *   2. forward and backward of the ordinary network with the sampled w, giving dL/dw
 *   3. backward  dL/dmu  = dL/dw + s dKL/dmu
 *                dL/drho = (dL/dw * eps + s dKL/dsigma) * sigmoid(rho)
 * where KL = sum_w KL(N(mu, sigma^2) || N(0, prior^2))
 *          = sum_w log(prior/sigma) + (sigma^2 + mu^2)/(2 prior^2) - 1/2
 * and s = 1/N_train, so the minibatch loss mean(NLL) + KL/N_train is the negative ELBO per
 * training row. One weight sample per minibatch (not per row): the cost over a plain network is
 * the sampling and these element-wise passes over 2 x nweights floats, nothing per row.
 *
 * These functions work on flat arrays of n weights, like the dense layers: the network's arena
 * is [mu | rho] (nn/net.h). */
#ifndef PZ_NN_VI_H
#define PZ_NN_VI_H

#include <stddef.h>
#include <stdint.h>
#include "nn/net.h"

/* pzflow's choices (the follow-up does not publish its own), see docs/network.md. */
#define PZ_VI_PRIOR_SIGMA 1.0     /* N(0, 1) prior on every weight */
#define PZ_VI_SIGMA_INIT 1e-3     /* posterior sigma at the start: the net begins nearly deterministic */
#define PZ_VI_SAMPLES 32          /* weight samples per prediction */

/* rho with softplus(rho) = sigma. */
double pz_vi_rho_of_sigma(double sigma);

/* sigma = softplus(rho), dsigma = sigmoid(rho) = dsigma/drho (kept for the backward: one exp
 * serves both), w = mu + sigma * eps (n each). dsigma may be NULL (prediction). */
void pz_vi_sample_forward(float *w, float *sigma, float *dsigma, const float *mu, const float *rho, const float *eps,
                          size_t n);
/* From dw = dL/dw (data term) to dmu, drho, adding kl_scale * the KL gradient. dmu may alias dw.
 * No transcendental function: the loop vectorises. */
void pz_vi_backward(float *dmu, float *drho, const float *dw, const float *mu, const float *sigma, const float *dsigma,
                    const float *eps, size_t n, double kl_scale, double prior_sigma);
/* KL(q || prior) summed over n weights. */
double pz_vi_kl(const float *mu, const float *rho, size_t n, double prior_sigma);

/* n draws of N(0, 1) from a seeded stream: Box-Muller on xoshiro128++ in 8 lanes (vi.c; |z| <=
 * 5.77). The stream is the same whatever n of each call: draws left over from a block are kept
 * for the next call. */
typedef struct pz_vi_rng pz_vi_rng;
pz_vi_rng *pz_vi_rng_new(unsigned long seed);
void pz_vi_rng_free(pz_vi_rng *r);
void pz_vi_normals(pz_vi_rng *r, float *eps, size_t n);

/* A Bayesian network's rho arena, every weight's sigma set to `sigma`. */
void pz_vi_init_rho(pz_net *net, double sigma);

#endif
