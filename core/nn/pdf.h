/* p(z) per galaxy from a model: a Gaussian mixture per row (the predictions table's pdf_weight_k,
 * pdf_mean_k, pdf_std_k columns, nn/predict.h).
 *
 *   point, deterministic   no p(z) (ncomp 0): z_pred is the network's output
 *   mdn head, K comps      the head's mixture (nn/mdn.h)
 *   bnn                    S weight samples drawn once per prediction run from the posterior
 *                          (seeded by the model's seed, so the same model gives the same bytes,
 *                          and every chunk of rows sees the same draws), each a network with the head's K components
 *                          (a point head: one component of std 0). Component k of the output is
 *                          the moment-matched Gaussian of component k over the samples: weight
 *                          the mean of its weights, mean and variance those of the samples'
 *                          sub-mixture. For K = 1 that is the moment-matched Gaussian of the
 *                          predictive distribution; component k is meaningful across samples
 *                          because every sample is a small perturbation of the same mean network.
 * z_pred is the mixture mean in every case (the median for K = 1). */
#ifndef PZ_NN_PDF_H
#define PZ_NN_PDF_H

#include "nn/model.h"
#include "nn/net.h"

/* Components of the model's p(z); 0 = a point model without one. */
int pz_model_pdf_ncomp(const pz_model *m);

/* The mixture of a block of rows, float32 like the predictions table, one column per component:
 * component k of row r is at [k * stride + r], so each column is written as it is. */
typedef struct pz_pdf_block {
    float *weight, *mean, *std;
    size_t stride;
} pz_pdf_block;

/* Forward `rows` rows whose scaled input is in ws->act[0] (rows <= ws->cap): z[r] and, when pdf
 * is not NULL and the model has a p(z), the mixture of row r. A Bayesian
 * model draws its weight samples on the first call and keeps them in ws. */
void pz_model_forward_pdf(const pz_model *m, pz_net_ws *ws, int rows, float *z, const pz_pdf_block *pdf);

#endif
