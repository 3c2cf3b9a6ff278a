/* A trained network with everything needed to apply it: architecture and weights, the feature
 * names and the scaler fitted on its training split, the label it learned, the per-epoch
 * training history. Not the provenance of the run that made it: that is in the run record
 * (`pzflow provenance FILE`), so the same training gives the same bytes whatever its key.
 *
 * File format (HDF5, readable by h5py; every object created without timestamps so the same
 * model always gives the same bytes):
 *   /                 attrs: pzflow_format = "pzflow-nn-model", pzflow_format_version = 3,
 *                            label, loss, activation = "relu",
 *                            skip (0/1), layer_sizes (int64 [nin, h_1 .. h_L, nout]),
 *                            head ("point" | "mdn"), components (K), method ("deterministic" |
 *                            "bnn"), prior_sigma and samples (bnn: the weight prior and the
 *                            weight samples drawn per prediction),
 *                            layer_names (comma-separated), n_weights, best_epoch (1-based, 0 =
 *                            none), epochs_run, seed, batch_size, learning_rate, frozen
 *                            (comma-separated, may be empty), corrections (what ingest did to
 *                            the training features, e.g. extinction; "" = not recorded)
 *                     (files of older versions also hold pzflow_provenance, base_provenance:
 *                     ignored when read)
 *   /weights/<layer>/kernel  float32 [in x out] (Keras layout: y = x kernel + bias)
 *   /weights/<layer>/bias    float32 [out]
 *                            (bnn: the posterior means mu; a bnn file read as a plain network is
 *                            its mean network)
 *   /weights/<layer>/kernel_rho, bias_rho   bnn only: rho of the posterior, sigma = softplus(rho)
 *   /scaler/features         fixed-length strings [nfeat], in input order
 *   /scaler/min, /scaler/max float64 [nfeat]: fitted on the training split, so they are also
 *                            the training range predict checks each row against
 *   /inputs/unit             fixed-length strings [nfeat]: the training columns' units ("" = none)
 *   /inputs/sentinels        float64 [n]: values that mean "missing" in any feature (e.g. -99)
 * Version 1 (no `corrections`, no /inputs) still loads: no units, no corrections, and the default
 * sentinels pz_model_default_sentinels.
 *   /history/epoch           int64 [epochs_run], 1-based
 *   /history/train_loss, /history/val_loss, /history/lr   float64 [epochs_run]
 * Version 1 and 2 files (no head, components, method; nout = 1) load as point, deterministic
 * models. */
#ifndef PZ_NN_MODEL_H
#define PZ_NN_MODEL_H

#include <stddef.h>
#include "nn/net.h"
#include "nn/scaler.h"
#include "util/err.h"

typedef struct pz_history {
    size_t n, cap;
    double *train_loss, *val_loss, *lr;
} pz_history;

typedef struct pz_model {
    pz_net *net;
    size_t nfeat;
    char **features;   /* nfeat names, the network's input order */
    pz_scaler scaler;
    char *label;       /* training label column (informational: predict takes its own) */
    char *loss;        /* "hsc" / "mse" */
    pz_history hist;
    long best_epoch;   /* 1-based epoch whose weights are stored; 0 = none (no training) */
    long seed, batch_size; /* seed: -1 when a loaded file does not record it */
    double learning_rate;
    char *frozen;      /* comma-separated frozen layer names, "" if none */
    /* What the network expects of its inputs, checked by predict (nn/predict.h): */
    char **units;      /* nfeat units of the training columns, "" = not known */
    double *sentinels; /* values meaning "missing" in any feature: never fed to the network */
    size_t nsentinels;
    char *corrections; /* corrections ingest applied to the training features, "" = not recorded */
    double prior_sigma; /* bnn: the weight prior's sigma */
    long samples;       /* bnn: weight samples drawn per prediction */
} pz_model;

extern const double pz_model_default_sentinels[];
extern const size_t pz_model_ndefault_sentinels;

/* A model around `net` (taken over) with copies of the feature names and scaler. */
pz_model *pz_model_new(pz_net *net, const char *const *features, size_t nfeat, const pz_scaler *scaler);
void pz_model_free(pz_model *m);
void pz_model_set_str(char **field, const char *value);
void pz_model_set_sentinels(pz_model *m, const double *v, size_t n);

void pz_history_push(pz_history *h, double train_loss, double val_loss, double lr);
void pz_history_free(pz_history *h);

int pz_model_save(const char *path, const pz_model *m, pz_err *err);
/* Refuses (error naming the file) a model whose activation is not "relu", with a non-finite
 * weight, or whose scaler is degenerate (min == max) or not a finite range. */
pz_model *pz_model_load(const char *path, pz_err *err);
/* The scaler check pz_model_load runs, also run on a freshly fitted scaler by training (a constant
 * feature): "what: the scaler of feature 'g' is degenerate (min = max = 21) ...". */
int pz_model_check_scaler(const pz_model *m, const char *what, pz_err *err);

#endif
