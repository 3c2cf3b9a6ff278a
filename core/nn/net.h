/* The photo-z network: nin -> Dense(h_1, ReLU) -> ... -> Dense(h_L, ReLU)
 *                       -> [skip: concat(input, h_L)] -> Dense(1, linear).
 *
 * All parameters live in one flat arena (kernel then bias, layer by layer), and so do their
 * gradients: the optimizer is a single loop over `nparams` floats and the model file writes
 * slices of it. Activations for a minibatch of up to `cap` rows are allocated once by
 * pz_net_workspace_new, before any training loop, and reused for every batch. */
#ifndef PZ_NN_NET_H
#define PZ_NN_NET_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

#define PZ_NET_MAX_LAYERS 32

typedef struct pz_net {
    int nin;                         /* input features */
    int nhidden;                     /* hidden ReLU layers */
    int hidden[PZ_NET_MAX_LAYERS];   /* their widths */
    int skip;                        /* concatenate the (scaled) input to the last hidden layer */
    int nlayers;                     /* dense layers = nhidden + 1 (the output) */
    int din[PZ_NET_MAX_LAYERS + 1], dout[PZ_NET_MAX_LAYERS + 1];
    size_t nparams;
    float *params, *grads;           /* nparams each */
    float *w[PZ_NET_MAX_LAYERS + 1], *b[PZ_NET_MAX_LAYERS + 1];    /* views into params */
    float *dw[PZ_NET_MAX_LAYERS + 1], *db[PZ_NET_MAX_LAYERS + 1];  /* views into grads */
} pz_net;

/* Activations and gradient buffers for batches of up to `cap` rows. */
typedef struct pz_net_ws {
    int cap;
    float *act[PZ_NET_MAX_LAYERS + 1]; /* act[0] = input [cap x nin], act[l+1] = hidden l output */
    float *cat;                        /* [cap x (nin + h_L)] when skip */
    float *out;                        /* [cap] network output */
    float *dout;                       /* [cap] dL/doutput */
    float *dcat;                       /* [cap x width of the output layer's input] */
    float *dh[2];                      /* ping-pong [cap x max hidden width] */
} pz_net_ws;

/* Build the architecture (weights zero). Fails on a bad shape. */
pz_net *pz_net_new(int nin, const int *hidden, int nhidden, int skip, pz_err *err);
void pz_net_free(pz_net *net);
/* Layer names used in model files and by `freeze`: dense_1 .. dense_L, then output. */
void pz_net_layer_name(const pz_net *net, int layer, char *buf, size_t len);
/* Index of a named layer, or -1. */
int pz_net_layer_index(const pz_net *net, const char *name);
/* Glorot-uniform kernels, zero biases, from a GSL mt19937 stream seeded with `seed`. */
void pz_net_init_glorot(pz_net *net, unsigned long seed);

pz_net_ws *pz_net_ws_new(const pz_net *net, int cap);
void pz_net_ws_free(pz_net_ws *ws);

/* Forward for rows <= ws->cap rows whose scaled input is already in ws->act[0]; result in ws->out. */
void pz_net_forward(const pz_net *net, pz_net_ws *ws, int rows);
/* Backward from ws->dout (set by the loss) into net->grads. Layers with frozen[l] != 0 get no
 * parameter gradient (their grads are left untouched), and the backward pass stops below the
 * lowest trainable layer, since nothing there needs a gradient. frozen may be NULL. */
void pz_net_backward(pz_net *net, pz_net_ws *ws, int rows, const uint8_t *frozen);

#endif
