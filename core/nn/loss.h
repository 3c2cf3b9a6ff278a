/* Training losses on predicted vs true redshift.
 *
 * HSC loss (the study's): L_i = 1 - 1/(1 + (dz_i/0.15)^2), dz_i = (p_i - t_i)/(1 + t_i). It is
 * bounded by 1, so catastrophic outliers stop pulling on the fit, and it scales with (1+z) like
 * the metrics it is judged by. MSE: L_i = (p_i - t_i)^2. NLL: the negative log-likelihood of a
 * mixture-density head (nn/mdn.h), the only loss such a head takes. */
#ifndef PZ_NN_LOSS_H
#define PZ_NN_LOSS_H

#include <stddef.h>

typedef enum { PZ_LOSS_HSC, PZ_LOSS_MSE, PZ_LOSS_NLL } pz_loss_kind;

#define PZ_HSC_GAMMA 0.15

/* Parse "hsc" / "mse" / "nll"; -1 if unknown. */
int pz_loss_parse(const char *name, pz_loss_kind *out);
const char *pz_loss_name(pz_loss_kind kind);

/* Returns the SUM over i of L_i (so callers can average over chunks of any size). When grad is
 * not NULL, grad[i] = grad_scale * dL_i/dp_i; a minibatch uses grad_scale = 1/rows so the
 * gradient is that of the batch mean, as in Keras. */
double pz_loss(pz_loss_kind kind, const float *pred, const float *truth, size_t n, float *grad, double grad_scale);
/* The same over a network output of `ncomp`-component mixture rows when kind is NLL (see
 * pz_mdn_nll), else pz_loss over one value per row. */
double pz_loss_out(pz_loss_kind kind, int ncomp, const float *out, const float *truth, size_t n, float *grad,
                   double grad_scale);

#endif
