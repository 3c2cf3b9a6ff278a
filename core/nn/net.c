#include "nn/net.h"

#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/vi.h"

/* Output width of a head: the group's Dense(2) for one component; K means, K stds, K logits. */
static int head_width(const pz_net_head *h)
{
    if (h->kind == PZ_HEAD_POINT) return 1;
    return h->ncomp == 1 ? 2 : 3 * h->ncomp;
}

pz_net *pz_net_new(int nin, const int *hidden, int nhidden, int skip, pz_err *err)
{
    pz_net_head point = PZ_NET_HEAD_POINT;
    return pz_net_new_head(nin, hidden, nhidden, skip, &point, err);
}

pz_net *pz_net_new_head(int nin, const int *hidden, int nhidden, int skip, const pz_net_head *head, pz_err *err)
{
    if (nin < 1) return pz_errf(err, "network needs at least one input feature"), NULL;
    if (nhidden < 1 || nhidden > PZ_NET_MAX_LAYERS)
        return pz_errf(err, "network needs 1 to %d hidden layers, got %d", PZ_NET_MAX_LAYERS, nhidden), NULL;
    for (int l = 0; l < nhidden; l++)
        if (hidden[l] < 1 || hidden[l] > 65536)
            return pz_errf(err, "hidden layer %d has width %d (must be 1..65536)", l + 1, hidden[l]), NULL;
    if (head->kind == PZ_HEAD_MDN && (head->ncomp < 1 || head->ncomp > PZ_MDN_MAX_COMPONENTS))
        return pz_errf(err, "a mixture-density head needs 1 to %d components, got %d", PZ_MDN_MAX_COMPONENTS,
                       head->ncomp), NULL;
    pz_net *n = pz_xcalloc(1, sizeof *n);
    n->nin = nin;
    n->nhidden = nhidden;
    n->skip = skip != 0;
    n->nlayers = nhidden + 1;
    n->head = *head;
    if (head->kind == PZ_HEAD_POINT) n->head.ncomp = 1;
    n->head.bayes = head->bayes != 0;
    n->nout = head_width(&n->head);
    memcpy(n->hidden, hidden, sizeof *hidden * nhidden);
    for (int l = 0; l < nhidden; l++) {
        n->din[l] = l ? hidden[l - 1] : nin;
        n->dout[l] = hidden[l];
    }
    n->din[nhidden] = hidden[nhidden - 1] + (n->skip ? nin : 0);
    n->dout[nhidden] = n->nout;
    for (int l = 0; l < n->nlayers; l++) {
        n->woff[l] = n->nweights;
        n->boff[l] = n->nweights + (size_t)n->din[l] * n->dout[l];
        n->nweights = n->boff[l] + n->dout[l];
    }
    n->nparams = n->nweights * (n->head.bayes ? 2 : 1);
    n->params = pz_xcalloc(n->nparams, sizeof *n->params);
    n->grads = pz_xcalloc(n->nparams, sizeof *n->grads);
    for (int l = 0; l < n->nlayers; l++) {
        n->w[l] = n->params + n->woff[l];
        n->dw[l] = n->grads + n->woff[l];
        n->b[l] = n->params + n->boff[l];
        n->db[l] = n->grads + n->boff[l];
    }
    return n;
}

void pz_net_layer_range(const pz_net *net, int l, size_t *off, size_t *n)
{
    *off = net->woff[l];
    *n = (size_t)net->din[l] * net->dout[l] + net->dout[l];
}

void pz_net_free(pz_net *net)
{
    if (!net) return;
    free(net->params);
    free(net->grads);
    free(net);
}

void pz_net_layer_name(const pz_net *net, int layer, char *buf, size_t len)
{
    if (layer == net->nhidden) snprintf(buf, len, "output");
    else snprintf(buf, len, "dense_%d", layer + 1);
}

int pz_net_layer_index(const pz_net *net, const char *name)
{
    char buf[32];
    for (int l = 0; l < net->nlayers; l++) {
        pz_net_layer_name(net, l, buf, sizeof buf);
        if (!strcmp(buf, name)) return l;
    }
    return -1;
}

static double gsl_u01(void *rng)
{
    return gsl_rng_uniform(rng);
}

void pz_net_init_glorot(pz_net *net, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (int l = 0; l < net->nlayers; l++) {
        pz_glorot_uniform(net->w[l], net->din[l], net->dout[l], gsl_u01, r);
        memset(net->b[l], 0, sizeof *net->b[l] * net->dout[l]);
    }
    gsl_rng_free(r);
}

pz_net *pz_net_with_head(const pz_net *src, const pz_net_head *head, unsigned long seed, double sigma_init,
                         pz_err *err)
{
    pz_net *n = pz_net_new_head(src->nin, src->hidden, src->nhidden, src->skip, head, err);
    if (!n) return NULL;
    int L = src->nhidden, same_head = n->nout == src->nout;
    size_t keep = same_head ? src->nweights : src->woff[L]; /* the output layer is last in the arena */
    memcpy(n->params, src->params, sizeof(float) * keep);
    if (!same_head) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, seed);
        pz_glorot_uniform(n->w[L], n->din[L], n->dout[L], gsl_u01, r);
        gsl_rng_free(r);
    }
    if (n->head.bayes) {
        pz_vi_init_rho(n, sigma_init);
        if (src->head.bayes) memcpy(n->params + n->nweights, src->params + src->nweights, sizeof(float) * keep);
    }
    return n;
}

pz_net_ws *pz_net_ws_new(const pz_net *net, int cap)
{
    pz_net_ws *ws = pz_xcalloc(1, sizeof *ws);
    ws->cap = cap;
    int maxw = 1;
    for (int l = 0; l < net->nhidden; l++)
        if (net->hidden[l] > maxw) maxw = net->hidden[l];
    ws->act[0] = pz_xmalloc(sizeof(float) * cap * net->nin);
    for (int l = 0; l < net->nhidden; l++) ws->act[l + 1] = pz_xmalloc(sizeof(float) * cap * net->hidden[l]);
    int wout = net->din[net->nhidden];
    if (net->skip) ws->cat = pz_xmalloc(sizeof(float) * cap * wout);
    ws->out = pz_xmalloc(sizeof(float) * cap * net->nout);
    ws->dout = pz_xmalloc(sizeof(float) * cap * net->nout);
    ws->dcat = pz_xmalloc(sizeof(float) * cap * wout);
    ws->dh[0] = pz_xmalloc(sizeof(float) * cap * maxw);
    ws->dh[1] = pz_xmalloc(sizeof(float) * cap * maxw);
    return ws;
}

void pz_net_ws_free(pz_net_ws *ws)
{
    if (!ws) return;
    for (int l = 0; l <= PZ_NET_MAX_LAYERS; l++) free(ws->act[l]);
    free(ws->cat);
    free(ws->out);
    free(ws->dout);
    free(ws->dcat);
    free(ws->dh[0]);
    free(ws->dh[1]);
    free(ws->draws);
    free(ws->moments);
    free(ws);
}

/* The output layer's input: the concatenation when skip, else the last hidden activation. */
static const float *output_input(const pz_net *net, const pz_net_ws *ws)
{
    return net->skip ? ws->cat : ws->act[net->nhidden];
}

void pz_net_forward_at(const pz_net *net, const float *weights, pz_net_ws *ws, int rows)
{
    for (int l = 0; l < net->nhidden; l++)
        pz_dense_relu_forward(ws->act[l + 1], ws->act[l], weights + net->woff[l], weights + net->boff[l], rows,
                              net->din[l], net->dout[l]);
    int L = net->nhidden;
    if (net->skip) pz_concat_forward(ws->cat, ws->act[0], net->nin, ws->act[L], net->hidden[L - 1], rows);
    pz_dense_forward(ws->out, output_input(net, ws), weights + net->woff[L], weights + net->boff[L], rows, net->din[L],
                     net->nout);
}

void pz_net_forward(const pz_net *net, pz_net_ws *ws, int rows)
{
    pz_net_forward_at(net, net->params, ws, rows);
}

void pz_net_backward_at(const pz_net *net, const float *weights, float *grads, pz_net_ws *ws, int rows,
                        const uint8_t *frozen)
{
    int L = net->nhidden;
    int lowest = 0; /* lowest layer that wants parameter gradients */
    while (lowest < net->nlayers && frozen && frozen[lowest]) lowest++;
    if (lowest == net->nlayers) return;
    int trainable_out = !(frozen && frozen[L]);
    float *dh = ws->dh[0];
    /* Output layer; its input gradient is needed only if a hidden layer trains. */
    float *dx = lowest < L ? (net->skip ? ws->dcat : dh) : NULL;
    pz_dense_backward(dx, trainable_out ? grads + net->woff[L] : NULL, trainable_out ? grads + net->boff[L] : NULL,
                      ws->dout, output_input(net, ws), weights + net->woff[L], rows, net->din[L], net->nout);
    if (!dx) return;
    if (net->skip) pz_concat_backward(NULL, dh, ws->dcat, net->nin, net->hidden[L - 1], rows);
    int cur = 0;
    for (int l = L - 1; l >= lowest; l--) {
        /* dh holds dL/d(relu output) of layer l; through the ReLU in place. */
        size_t n = (size_t)rows * net->dout[l];
        pz_relu_backward(ws->dh[cur], ws->dh[cur], ws->act[l + 1], n);
        int train = !(frozen && frozen[l]);
        float *dprev = l > lowest ? ws->dh[cur ^ 1] : NULL;
        pz_dense_backward(dprev, train ? grads + net->woff[l] : NULL, train ? grads + net->boff[l] : NULL,
                          ws->dh[cur], ws->act[l], weights + net->woff[l], rows, net->din[l], net->dout[l]);
        cur ^= 1;
    }
}

void pz_net_backward(pz_net *net, pz_net_ws *ws, int rows, const uint8_t *frozen)
{
    pz_net_backward_at(net, net->params, net->grads, ws, rows, frozen);
}
