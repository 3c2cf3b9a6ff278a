/* The photo-z network: nin -> Dense(h_1, ReLU) -> ... -> Dense(h_L, ReLU)
 *                       -> [skip: concat(input, h_L)] -> Dense(nout, linear).
 *
 * The output layer is the head: a point estimate (nout = 1), or a mixture-density head with K
 * Gaussian components (nout = 2 for K = 1, the group's Dense(2) -> mean, softplus std; 3K for
 * K > 1, adding K mixture logits), see nn/mdn.h. A Bayesian network (bayes = 1) keeps a second
 * arena of the same size, rho, the softplus-parametrised posterior sigma of every weight (nn/vi.h):
 * params = [mu | rho], and the views w[l], b[l] point at mu.
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
#define PZ_MDN_MAX_COMPONENTS 16

typedef enum { PZ_HEAD_POINT, PZ_HEAD_MDN } pz_head_kind;

/* What sits on top of the trunk, and whether the weights are distributions. */
typedef struct pz_net_head {
    pz_head_kind kind;
    int ncomp;   /* mixture components (mdn); 1 for point */
    int bayes;   /* mean-field Gaussian posterior over every weight (Bayes by backprop) */
} pz_net_head;

#define PZ_NET_HEAD_POINT ((pz_net_head){.kind = PZ_HEAD_POINT, .ncomp = 1, .bayes = 0})

typedef struct pz_net {
    int nin;                         /* input features */
    int nhidden;                     /* hidden ReLU layers */
    int hidden[PZ_NET_MAX_LAYERS];   /* their widths */
    int skip;                        /* concatenate the (scaled) input to the last hidden layer */
    int nlayers;                     /* dense layers = nhidden + 1 (the output) */
    int din[PZ_NET_MAX_LAYERS + 1], dout[PZ_NET_MAX_LAYERS + 1];
    pz_net_head head;
    int nout;                        /* output width: 1 (point), 2 (mdn K=1), 3K (mdn K>1) */
    size_t nweights;                 /* kernels and biases of all layers */
    size_t woff[PZ_NET_MAX_LAYERS + 1], boff[PZ_NET_MAX_LAYERS + 1]; /* their offsets in an arena */
    size_t nparams;                  /* nweights, or 2 nweights when bayes ([mu | rho]) */
    float *params, *grads;           /* nparams each */
    float *w[PZ_NET_MAX_LAYERS + 1], *b[PZ_NET_MAX_LAYERS + 1];    /* views into params */
    float *dw[PZ_NET_MAX_LAYERS + 1], *db[PZ_NET_MAX_LAYERS + 1];  /* views into grads */
} pz_net;

/* Activations and gradient buffers for batches of up to `cap` rows. */
typedef struct pz_net_ws {
    int cap;
    float *act[PZ_NET_MAX_LAYERS + 1]; /* act[0] = input [cap x nin], act[l+1] = hidden l output */
    float *cat;                        /* [cap x (nin + h_L)] when skip */
    float *out;                        /* [cap x nout] network output */
    float *dout;                       /* [cap x nout] dL/doutput */
    float *dcat;                       /* [cap x width of the output layer's input] */
    float *dh[2];                      /* ping-pong [cap x max hidden width] */
    /* Bayesian prediction (nn/pdf.c): weight samples and per-row moment sums, made on first use */
    float *draws;                      /* [ndraws x nweights] */
    int ndraws;
    double *moments;                   /* [cap x ncomp x 3] */
} pz_net_ws;

/* Build the architecture (weights zero). Fails on a bad shape. pz_net_new is the point-estimate,
 * deterministic network; pz_net_new_head any head. */
pz_net *pz_net_new(int nin, const int *hidden, int nhidden, int skip, pz_err *err);
pz_net *pz_net_new_head(int nin, const int *hidden, int nhidden, int skip, const pz_net_head *head, pz_err *err);
void pz_net_free(pz_net *net);
/* Layer names used in model files and by `freeze`: dense_1 .. dense_L, then output. */
void pz_net_layer_name(const pz_net *net, int layer, char *buf, size_t len);
/* Index of a named layer, or -1. */
int pz_net_layer_index(const pz_net *net, const char *name);
/* Glorot-uniform kernels, zero biases, from a GSL mt19937 stream seeded with `seed`. */
void pz_net_init_glorot(pz_net *net, unsigned long seed);

/* A copy of `src` with another head or method, for fine-tuning: the hidden layers' weights are
 * kept; the output layer too when the head is the same, else it is Glorot-initialised from
 * `seed`; a network made Bayesian gets every sigma = sigma_init, kept rho when both are. */
pz_net *pz_net_with_head(const pz_net *src, const pz_net_head *head, unsigned long seed, double sigma_init,
                         pz_err *err);

pz_net_ws *pz_net_ws_new(const pz_net *net, int cap);
void pz_net_ws_free(pz_net_ws *ws);

/* Forward for rows <= ws->cap rows whose scaled input is already in ws->act[0]; result in ws->out. */
void pz_net_forward(const pz_net *net, pz_net_ws *ws, int rows);
/* Backward from ws->dout (set by the loss) into net->grads. Layers with frozen[l] != 0 get no
 * parameter gradient (their grads are left untouched), and the backward pass stops below the
 * lowest trainable layer, since nothing there needs a gradient. frozen may be NULL. */
void pz_net_backward(pz_net *net, pz_net_ws *ws, int rows, const uint8_t *frozen);
/* The same with the weights taken from `weights` (an arena of nweights floats laid out as
 * params: a Bayesian network's sampled weights) and their gradients written into `grads`
 * (nweights floats). pz_net_forward(net, ...) is pz_net_forward_at(net, net->params, ...). */
void pz_net_forward_at(const pz_net *net, const float *weights, pz_net_ws *ws, int rows);
void pz_net_backward_at(const pz_net *net, const float *weights, float *grads, pz_net_ws *ws, int rows,
                        const uint8_t *frozen);
/* Range [*off, *off + *n) of layer l's kernel and bias in an nweights arena (they are adjacent). */
void pz_net_layer_range(const pz_net *net, int l, size_t *off, size_t *n);

#endif
