/* The training loop: shuffled minibatches, Adam, early stopping on the validation loss with the
 * best weights restored, per-epoch history.
 *
 * Every buffer (activations, gradients, Adam moments, the best-weights copy, the permutation) is
 * allocated once before the first epoch. Given the same data, config and BLAS thread count the
 * result is bit-for-bit the same: shuffling and initialisation come from seeded mt19937 streams
 * and no step depends on timing. */
#ifndef PZ_NN_TRAIN_H
#define PZ_NN_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "nn/adam.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/net.h"
#include "util/err.h"

/* Rows per forward call when evaluating a whole split (validation loss, prediction). */
#define PZ_EVAL_CHUNK 4096

typedef struct pz_epoch_info {
    long epoch, max_epochs;   /* epoch is 1-based */
    double train_loss, val_loss;
    double best_val_loss;
    long best_epoch;
    long wait;                /* epochs since the last improvement */
    long patience;            /* training stops when wait reaches it (early stopping) */
} pz_epoch_info;

typedef struct pz_train_cfg {
    pz_adam_cfg adam;
    int batch_size;
    long epochs;              /* maximum */
    long patience;            /* stop after this many epochs without improvement */
    double min_delta;         /* improvement = val_loss < best - min_delta (Keras EarlyStopping) */
    pz_loss_kind loss;        /* PZ_LOSS_NLL for a mixture-density head (and only for it) */
    unsigned long seed;       /* shuffling stream; a Bayesian network's weight noise uses seed + 1 */
    double prior_sigma;       /* Bayesian network: sigma of the N(0, sigma^2) weight prior (0: the default) */
    const uint8_t *frozen;    /* per dense layer, NULL = all trainable */
    void (*on_epoch)(void *ctx, const pz_epoch_info *info);
    void *ctx;
} pz_train_cfg;

/* Data already scaled: x [n x nin], y [n]. */
typedef struct pz_data {
    const float *x, *y;
    size_t n;
} pz_data;

/* Train `net` in place. Appends one history row per epoch; on return net holds the weights of
 * the epoch with the lowest validation loss and *best_epoch says which (1-based).
 * A batch whose loss or output gradient is not finite, or a non-finite validation loss, stops
 * training with an error: "training stopped: epoch 3, batch 7: the loss is NaN; first bad value:
 * label -1 at training row 17 (the HSC loss divides by 1 + z)", or, when no value is to blame,
 * A Bayesian network (net->head.bayes) trains by Bayes by backprop (nn/vi.h): one weight sample
 * per minibatch, the KL term scaled by 1/train->n; its reported training loss is the mean data
 * loss plus KL/n at the epoch's end (the negative ELBO per row).
 * "... the weights diverged (learning rate 1e+06 too high?)". Rows are 0-based in `train`. */
int pz_train(pz_net *net, const pz_data *train, const pz_data *val, const pz_train_cfg *cfg, pz_history *hist,
             long *best_epoch, pz_err *err);

/* Mean loss of `net` on d, evaluated in chunks of ws->cap rows. A Bayesian network is evaluated
 * at its posterior means (deterministic, so early stopping compares like with like). */
double pz_eval_loss(const pz_net *net, pz_net_ws *ws, const pz_data *d, pz_loss_kind loss);

#endif
