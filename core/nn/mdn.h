/* The mixture-density head: the network's last layer read as a Gaussian mixture p(z | x).
 *
 * Row layout of the output layer (width nout, see nn/net.h), K = components:
 *     out[0 .. K)    component means, in redshift
 *     out[K .. 2K)   raw scales r_k: std_k = softplus(r_k) + PZ_MDN_STD_FLOOR
 *     out[2K .. 3K)  mixture logits (only when K > 1): weight_k = softmax(logits)_k
 * K = 1 is the group's public probabilistic model: Dense(2) -> mean, softplus std.
 *
 * The loss is the negative log-likelihood of the label, -log sum_k w_k N(z; mean_k, std_k),
 * computed in double with log-sum-exp over the components, so a label far in the tail of every
 * component gives a large finite loss instead of log(0). The std floor (pzflow's choice, 1e-3,
 * below the spectroscopic label errors) keeps a component from collapsing onto one training label,
 * which would send the likelihood to infinity. */
#ifndef PZ_NN_MDN_H
#define PZ_NN_MDN_H

#include <stddef.h>

#define PZ_MDN_STD_FLOOR 1e-3

/* Output width for K components. */
int pz_mdn_width(int ncomp);

/* SUM over rows of the NLL of truth[i] under row i of out [n x width]. When grad is not NULL it
 * gets grad_scale * dNLL_i/dout_i, [n x width] (grad_scale = 1/rows: the batch mean). */
double pz_mdn_nll(const float *out, int ncomp, const float *truth, size_t n, float *grad, double grad_scale);

/* Row `row` of the output as mixture weights, means and stds (K each). */
void pz_mdn_mixture(const float *row, int ncomp, double *weight, double *mean, double *std);

/* softplus(x) = log(1 + e^x) without overflow, and its derivative, the logistic function. */
double pz_softplus(double x);
double pz_sigmoid(double x);

#endif
