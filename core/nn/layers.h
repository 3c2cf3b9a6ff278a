/* Layers of the photo-z network as plain functions over flat, row-major float arrays.
 *
 * Written the way llm.c writes GPT-2: every layer has an explicit forward and backward function,
 * there is no framework, no hidden state and no allocation here. Activations are [rows x width]
 * contiguous, so every product is one cblas_sgemm over a whole minibatch.
 *
 * Conventions: a dense layer's kernel is W[in x out] (the Keras/h5py layout), y = x W + b.
 * Backward functions OVERWRITE their gradient outputs (they do not accumulate): each minibatch
 * computes fresh gradients, and beta = 0 in sgemm saves a zeroing pass. */
#ifndef PZ_NN_LAYERS_H
#define PZ_NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

/* out[rows x nout] = x[rows x nin] W[nin x nout] + b */
void pz_dense_forward(float *out, const float *x, const float *w, const float *b, int rows, int nin, int nout);
/* out = relu(x W + b): the bias and the ReLU share one pass over the sgemm result. */
void pz_dense_relu_forward(float *out, const float *x, const float *w, const float *b, int rows, int nin,
                           int nout);
/* Given dout = dL/dout: dw = x^T dout, db = column sums of dout, dx = dout W^T.
 * dw/db may be NULL (frozen layer: only the signal to lower layers is needed); dx may be NULL
 * (first layer: nobody needs the gradient with respect to the network's input). */
void pz_dense_backward(float *dx, float *dw, float *db, const float *dout, const float *x, const float *w, int rows,
                       int nin, int nout);

/* ReLU on its own (the network uses the fused form above). */
void pz_relu_forward(float *out, const float *x, size_t n);
/* dx = dout where the forward OUTPUT was positive, else 0 (dx may alias dout). */
void pz_relu_backward(float *dx, const float *dout, const float *out, size_t n);

/* out[rows x (na+nb)] = [a | b], row by row. */
void pz_concat_forward(float *out, const float *a, int na, const float *b, int nb, int rows);
/* Split dout back into da, db; either may be NULL when that side needs no gradient. */
void pz_concat_backward(float *da, float *db, const float *dout, int na, int nb, int rows);

/* Glorot (Xavier) uniform: w ~ U(-l, l), l = sqrt(6 / (nin + nout)), Keras' default initializer.
 * Draws come from `next_u01`, a [0,1) generator, so the caller owns the (seeded) random stream. */
void pz_glorot_uniform(float *w, int nin, int nout, double (*next_u01)(void *), void *rng);

#endif
