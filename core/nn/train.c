#include "nn/train.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/vi.h"

double pz_eval_loss(const pz_net *net, pz_net_ws *ws, const pz_data *d, pz_loss_kind loss)
{
    double sum = 0.0;
    for (size_t start = 0; start < d->n; start += ws->cap) {
        int rows = (int)(d->n - start < (size_t)ws->cap ? d->n - start : (size_t)ws->cap);
        memcpy(ws->act[0], d->x + start * net->nin, sizeof(float) * rows * net->nin);
        pz_net_forward(net, ws, rows);
        sum += pz_loss_out(loss, net->head.ncomp, ws->out, d->y + start, rows, NULL, 0.0);
    }
    return d->n ? sum / (double)d->n : NAN;
}

/* Everything the loop needs, allocated once. */
typedef struct {
    pz_net_ws *ws, *eval;
    float *ybatch, *m, *v, *best;
    size_t *perm;
    gsl_rng *rng;
    /* Bayesian network only: the minibatch's sampled weights, their scales and noise, nweights each */
    float *wsample, *sigma, *dsigma, *eps;
    pz_vi_rng *noise;
} train_state;

static void state_alloc(train_state *s, const pz_net *net, const pz_train_cfg *cfg, size_t ntrain)
{
    s->ws = pz_net_ws_new(net, cfg->batch_size);
    s->eval = pz_net_ws_new(net, PZ_EVAL_CHUNK);
    s->ybatch = pz_xmalloc(sizeof(float) * cfg->batch_size);
    s->m = pz_xcalloc(net->nparams, sizeof(float));
    s->v = pz_xcalloc(net->nparams, sizeof(float));
    s->best = pz_xmalloc(sizeof(float) * net->nparams);
    s->perm = pz_xmalloc(sizeof(size_t) * ntrain);
    for (size_t i = 0; i < ntrain; i++) s->perm[i] = i;
    s->rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(s->rng, cfg->seed);
    s->wsample = s->sigma = s->dsigma = s->eps = NULL;
    s->noise = NULL;
    if (net->head.bayes) {
        s->wsample = pz_xmalloc(sizeof(float) * net->nweights);
        s->sigma = pz_xmalloc(sizeof(float) * net->nweights);
        s->dsigma = pz_xmalloc(sizeof(float) * net->nweights);
        s->eps = pz_xmalloc(sizeof(float) * net->nweights);
        s->noise = pz_vi_rng_new(cfg->seed + 1);
    }
}

static void state_free(train_state *s)
{
    pz_net_ws_free(s->ws);
    pz_net_ws_free(s->eval);
    free(s->ybatch);
    free(s->m);
    free(s->v);
    free(s->best);
    free(s->perm);
    gsl_rng_free(s->rng);
    free(s->wsample);
    free(s->sigma);
    free(s->dsigma);
    free(s->eps);
    pz_vi_rng_free(s->noise);
}

/* Fisher-Yates with an explicit generator (gsl_ran_shuffle would do, but this keeps the draw
 * sequence obvious and independent of GSL internals). */
static void shuffle(size_t *perm, size_t n, gsl_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)gsl_rng_uniform_int(rng, i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}

/* Adam over the trainable layers. A layer's kernel and bias are adjacent in the arena, so each
 * trainable layer is one contiguous range; with nothing frozen it is the whole arena. */
static void optimizer_step(pz_net *net, train_state *s, const pz_train_cfg *cfg, long t)
{
    if (!cfg->frozen) {
        pz_adam_update(net->params, net->grads, s->m, s->v, net->nparams, &cfg->adam, t);
        return;
    }
    for (int l = 0; l < net->nlayers; l++) {
        if (cfg->frozen[l]) continue;
        size_t off, n;
        pz_net_layer_range(net, l, &off, &n);
        for (size_t half = 0; half < net->nparams; half += net->nweights) /* mu, then rho when Bayesian */
            pz_adam_update(net->params + half + off, net->grads + half + off, s->m + half + off, s->v + half + off, n,
                           &cfg->adam, t);
    }
}

/* The first value in rows idx[0..n) of d (idx NULL: rows 0..n) that the loss cannot take: a
 * non-finite feature or label, or for the HSC loss a label z <= -1 (it divides by 1 + z).
 * Writes "label -1 at training row 17" into buf; 0 if every value is usable. */
static int first_bad_value(const pz_data *d, int nin, const size_t *idx, size_t n, pz_loss_kind loss,
                           const char *split, char *buf, size_t size)
{
    for (size_t k = 0; k < n; k++) {
        size_t r = idx ? idx[k] : k;
        for (int j = 0; j < nin; j++)
            if (!isfinite(d->x[r * nin + j])) {
                snprintf(buf, size, "feature %d = %g at %s row %zu", j, d->x[r * nin + j], split, r);
                return 1;
            }
        float y = d->y[r];
        if (!isfinite(y) || (loss == PZ_LOSS_HSC && !(y > -1.0f))) {
            snprintf(buf, size, "label %g at %s row %zu%s", y, split, r,
                     isfinite(y) ? " (the HSC loss divides by 1 + z)" : "");
            return 1;
        }
    }
    return 0;
}

static const char *nonfinite_name(double v)
{
    return isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf";
}

/* The error for a non-finite loss or gradient: where it happened (`what`, e.g. "epoch 3, batch
 * 7: the loss") and the first value to blame, looked for in the batch, then in the whole split;
 * none means the weights themselves diverged. */
static int diverged(const pz_net *net, const pz_data *d, const size_t *batch, size_t rows, const pz_train_cfg *cfg,
                    const char *what, double value, pz_err *err)
{
    char bad[160];
    const char *split = batch ? "training" : "validation";
    int found = (batch && first_bad_value(d, net->nin, batch, rows, cfg->loss, split, bad, sizeof bad)) ||
                first_bad_value(d, net->nin, NULL, d->n, cfg->loss, split, bad, sizeof bad);
    if (found) return pz_errf(err, "training stopped: %s is %s; first bad value: %s", what, nonfinite_name(value), bad);
    return pz_errf(err, "training stopped: %s is %s with every label and feature usable: the weights diverged "
                        "(learning rate %g too high?)",
                   what, nonfinite_name(value), cfg->adam.lr);
}

/* A batch whose loss or output gradient is not finite would turn every weight into NaN. */
static int batch_finite(double loss, const float *grad, size_t rows)
{
    if (!isfinite(loss)) return 0;
    for (size_t r = 0; r < rows; r++)
        if (!isfinite(grad[r])) return 0;
    return 1;
}

static double prior_sigma(const pz_train_cfg *cfg)
{
    return cfg->prior_sigma > 0 ? cfg->prior_sigma : PZ_VI_PRIOR_SIGMA;
}

/* A Bayesian network's weights for one minibatch: w = mu + softplus(rho) * eps. */
static const float *sample_weights(const pz_net *net, train_state *s)
{
    size_t nw = net->nweights;
    pz_vi_normals(s->noise, s->eps, nw);
    pz_vi_sample_forward(s->wsample, s->sigma, s->dsigma, net->params, net->params + nw, s->eps, nw);
    return s->wsample;
}

/* dL/dw of the sampled weights (in grads[0, nw)) to dL/dmu, dL/drho with the KL term / N. */
static void vi_backward(pz_net *net, const train_state *s, const pz_train_cfg *cfg, size_t ntrain)
{
    size_t nw = net->nweights;
    pz_vi_backward(net->grads, net->grads + nw, net->grads, net->params, s->sigma, s->dsigma, s->eps, nw, 1.0 / (double)ntrain,
                   prior_sigma(cfg));
}

/* One pass over the shuffled training rows; *mean gets the mean training loss. A non-finite batch
 * loss or gradient stops the pass with an error naming the epoch, the batch and the bad value. */
static int run_epoch(pz_net *net, train_state *s, const pz_data *tr, const pz_train_cfg *cfg, long epoch, long *step,
                     double *mean, pz_err *err)
{
    shuffle(s->perm, tr->n, s->rng);
    double sum = 0.0;
    int nin = net->nin;
    for (size_t start = 0; start < tr->n; start += cfg->batch_size) {
        int rows = (int)(tr->n - start < (size_t)cfg->batch_size ? tr->n - start : (size_t)cfg->batch_size);
        for (int r = 0; r < rows; r++) {
            size_t src = s->perm[start + r];
            memcpy(s->ws->act[0] + (size_t)r * nin, tr->x + src * nin, sizeof(float) * nin);
            s->ybatch[r] = tr->y[src];
        }
        const float *weights = net->params;
        if (net->head.bayes) weights = sample_weights(net, s);
        pz_net_forward_at(net, weights, s->ws, rows);
        double loss = pz_loss_out(cfg->loss, net->head.ncomp, s->ws->out, s->ybatch, rows, s->ws->dout, 1.0 / rows);
        if (!batch_finite(loss, s->ws->dout, (size_t)rows * net->nout)) {
            char what[80];
            snprintf(what, sizeof what, "epoch %ld, batch %zu: the %s", epoch, start / (size_t)cfg->batch_size + 1,
                     isfinite(loss) ? "loss gradient" : "loss");
            return diverged(net, tr, s->perm + start, (size_t)rows, cfg, what, isfinite(loss) ? NAN : loss, err);
        }
        sum += loss;
        pz_net_backward_at(net, weights, net->grads, s->ws, rows, cfg->frozen);
        if (net->head.bayes) vi_backward(net, s, cfg, tr->n);
        optimizer_step(net, s, cfg, ++*step);
    }
    *mean = sum / (double)tr->n;
    if (net->head.bayes)
        *mean += pz_vi_kl(net->params, net->params + net->nweights, net->nweights, prior_sigma(cfg)) / (double)tr->n;
    return 0;
}

static int check_cfg(const pz_net *net, const pz_data *train, const pz_data *val, const pz_train_cfg *cfg,
                     pz_err *err)
{
    if (!train->n) return pz_errf(err, "training set is empty");
    if (!val->n) return pz_errf(err, "validation set is empty (early stopping needs it)");
    if (cfg->batch_size < 1) return pz_errf(err, "batch_size must be >= 1, got %d", cfg->batch_size);
    if (cfg->epochs < 0) return pz_errf(err, "epochs must be >= 0, got %ld", cfg->epochs);
    if (cfg->patience < 1) return pz_errf(err, "patience must be >= 1, got %ld", cfg->patience);
    if (!(cfg->adam.lr > 0)) return pz_errf(err, "learning rate must be > 0, got %g", cfg->adam.lr);
    if ((net->head.kind == PZ_HEAD_MDN) != (cfg->loss == PZ_LOSS_NLL))
        return pz_errf(err, "loss '%s' does not fit a %s head (a mixture-density head trains on nll, and only it does)",
                       pz_loss_name(cfg->loss), net->head.kind == PZ_HEAD_MDN ? "mixture-density" : "point");
    if (cfg->frozen) {
        int any = 0;
        for (int l = 0; l < net->nlayers; l++) any |= !cfg->frozen[l];
        if (!any) return pz_errf(err, "every layer is frozen: nothing to train");
    }
    return 0;
}

int pz_train(pz_net *net, const pz_data *train, const pz_data *val, const pz_train_cfg *cfg, pz_history *hist,
             long *best_epoch, pz_err *err)
{
    if (check_cfg(net, train, val, cfg, err)) return -1;
    train_state s;
    state_alloc(&s, net, cfg, train->n);
    memcpy(s.best, net->params, sizeof(float) * net->nparams);
    pz_epoch_info info = {.max_epochs = cfg->epochs, .best_val_loss = INFINITY};
    long step = 0;
    int failed = 0;
    for (long e = 1; e <= cfg->epochs; e++) {
        info.epoch = e;
        info.patience = cfg->patience;
        if (run_epoch(net, &s, train, cfg, e, &step, &info.train_loss, err)) {
            failed = 1;
            break;
        }
        info.val_loss = pz_eval_loss(net, s.eval, val, cfg->loss);
        if (!isfinite(info.val_loss)) {
            char what[64];
            snprintf(what, sizeof what, "epoch %ld: the validation loss", e);
            failed = diverged(net, val, NULL, 0, cfg, what, info.val_loss, err);
            break;
        }
        pz_history_push(hist, info.train_loss, info.val_loss, cfg->adam.lr);
        if (info.val_loss < info.best_val_loss - cfg->min_delta) {
            info.best_val_loss = info.val_loss;
            info.best_epoch = e;
            info.wait = 0;
            memcpy(s.best, net->params, sizeof(float) * net->nparams);
        } else {
            info.wait++;
        }
        if (cfg->on_epoch) cfg->on_epoch(cfg->ctx, &info);
        if (info.wait >= cfg->patience) break;
    }
    /* Restore the best epoch's weights, also when the run ended by reaching `epochs`. */
    memcpy(net->params, s.best, sizeof(float) * net->nparams);
    *best_epoch = info.best_epoch;
    state_free(&s);
    return failed ? -1 : 0;
}
