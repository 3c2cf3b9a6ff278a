#include "nn/stage.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/dataset.h"
#include "nn/model.h"
#include "nn/predict.h"
#include "nn/train.h"
#include "nn/vi.h"
#include "util/progress.h"
#include "util/sbuf.h"

static const char *const DEFAULT_FEATURES[] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag",
                                               "y_cmodel_mag"};
static const int DEFAULT_HIDDEN[] = {200, 200, 200, 200};

/* ---- params shared by train and fine-tune ---- */

typedef struct {
    const char *stage_name;  /* for log lines */
    const pz_spec *spec;     /* where log lines go (pz_spec_log: the stage main prints them) */
    pz_train_cfg cfg;
    int drop_nonfinite;
    const char *const *labels; /* one, or one per training input (owned by the params) */
    size_t nlabels;
    double sentinels[64];    /* feature values that mean "missing" (the model records them) */
    size_t nsentinels;
    long seed;
    double started;          /* monotonic seconds when training began: for the time-left bound */
} common_params;

/* The params of train and fine-tune as read from their tables (below), once. */
typedef struct {
    double lr, epsilon, beta1, beta2, min_delta;
    long batch_size, epochs, patience, seed; /* batch_size 0: not given */
    int drop_nonfinite, skip;
    const char *loss;                        /* NULL: not given */
    pz_strs label, features, freeze;
    const pz_ynode *hidden, *sentinels;
    const char *head, *method;               /* NULL: not given (train: point, deterministic) */
    long components, samples;                /* 0: not given */
    double prior_sigma, sigma_init;
} nn_args;

/* Params used identically by train and fine-tune; batch size and loss preset by the caller
 * (fine-tune keeps the base model's unless given). */
static int read_common(const nn_args *a, common_params *p, pz_err *err)
{
    if (!(a->lr > 0)) return pz_errf(err, "param 'lr' must be > 0, got %g", a->lr);
    if (!(a->epsilon > 0)) return pz_errf(err, "param 'epsilon' must be > 0, got %g", a->epsilon);
    for (int i = 0; i < 2; i++) {
        double b = i ? a->beta2 : a->beta1;
        if (!(b >= 0 && b < 1)) return pz_errf(err, "param '%s' must be in [0, 1), got %g", i ? "beta2" : "beta1", b);
    }
    p->cfg.adam.lr = a->lr;
    p->cfg.adam.eps = a->epsilon;
    p->cfg.adam.beta1 = a->beta1;
    p->cfg.adam.beta2 = a->beta2;
    if (a->batch_size) p->cfg.batch_size = (int)a->batch_size; /* the table bounds it to [1, 1e6] */
    p->cfg.epochs = a->epochs;
    p->cfg.patience = a->patience;
    p->cfg.min_delta = a->min_delta;
    p->drop_nonfinite = a->drop_nonfinite;
    p->seed = a->seed;
    if (a->loss && pz_loss_parse(a->loss, &p->cfg.loss) < 0)
        return pz_errf(err, "param 'loss': unknown loss '%s' (known: hsc, mse)", a->loss);
    p->cfg.seed = (unsigned long)p->seed;
    p->labels = a->label.v;
    p->nlabels = a->label.n;
    if (p->nlabels == 0) return pz_errf(err, "param 'label' is required (the redshift column to learn)");
    return 0;
}

/* Param `sentinels`: a list of numbers (at most 64), or absent for the default policy. */
static int read_sentinels(const pz_spec *spec, const pz_ynode *list, common_params *p, pz_err *err)
{
    if (!list) {
        p->nsentinels = pz_model_ndefault_sentinels;
        memcpy(p->sentinels, pz_model_default_sentinels, sizeof(double) * p->nsentinels);
        return 0;
    }
    if (list->kind != PZ_Y_SEQ || list->n > 64)
        return pz_errf(err, "%s:%d:%d: param 'sentinels' must be a list of at most 64 numbers", spec->path, list->line,
                       list->col);
    for (size_t i = 0; i < list->n; i++)
        if (pz_yscalar_double(list->items[i], spec->path, &p->sentinels[i], err) < 0)
            return pz_err_prefix(err, "param 'sentinels': ");
    p->nsentinels = list->n;
    return 0;
}

/* The head and method the params ask for, starting from `base` (train: a point, deterministic
 * network; fine-tune: the base model's); the loss follows the head unless given, and must fit it. */
static int read_head(const nn_args *a, const pz_net_head *base, pz_net_head *h, common_params *p, pz_err *err)
{
    *h = *base;
    if (a->head) h->kind = !strcmp(a->head, "mdn") ? PZ_HEAD_MDN : PZ_HEAD_POINT;
    if (a->components) h->ncomp = (int)a->components;
    if (h->kind == PZ_HEAD_POINT) {
        if (a->components > 1)
            return pz_errf(err, "param 'components' is %ld, but a point head has no mixture (head: mdn)", a->components);
        h->ncomp = 1;
    }
    if (a->method) h->bayes = !strcmp(a->method, "bnn");
    if (!a->loss) p->cfg.loss = h->kind == PZ_HEAD_MDN ? PZ_LOSS_NLL : p->cfg.loss == PZ_LOSS_NLL ? PZ_LOSS_HSC : p->cfg.loss;
    if ((h->kind == PZ_HEAD_MDN) != (p->cfg.loss == PZ_LOSS_NLL))
        return pz_errf(err, "param 'loss' is '%s', but a %s head trains on %s", pz_loss_name(p->cfg.loss),
                       h->kind == PZ_HEAD_MDN ? "mixture-density" : "point",
                       h->kind == PZ_HEAD_MDN ? "its negative log-likelihood: loss nll (or leave loss out)"
                                              : "a point loss: hsc or mse");
    p->cfg.prior_sigma = a->prior_sigma;
    return 0;
}

/* What the model file records of a Bayesian training. */
static void record_bayes(pz_model *m, const nn_args *a)
{
    if (!m->net->head.bayes) return;
    m->prior_sigma = a->prior_sigma;
    m->samples = a->samples;
}

/* Labels for n input tables: one label for all, or exactly one per table. */
static int labels_for(const common_params *p, const char *input, size_t n, const char ***out, pz_err *err)
{
    if (p->nlabels != 1 && p->nlabels != n)
        return pz_errf(err, "param 'label' lists %zu labels but input '%s' has %zu table%s (give one label, or one "
                            "per table)",
                       p->nlabels, input, n, n > 1 ? "s" : "");
    *out = pz_xmalloc(sizeof **out * n);
    for (size_t i = 0; i < n; i++) (*out)[i] = p->labels[p->nlabels == 1 ? 0 : i];
    return 0;
}

/* Read every table of input `name` (one or a list), each with its own label. */
static int load_input(const pz_spec *spec, const char *name, const common_params *p, const char *const *features,
                      size_t nfeat, pz_xy *out, pz_err *err)
{
    const char **paths = NULL, **labels = NULL;
    size_t n = 0;
    char *report = NULL;
    int rc = pz_spec_inputs(spec, name, &paths, &n, err);
    if (!rc && n == 0) rc = pz_errf(err, "input '%s' lists no tables", name);
    if (!rc) rc = labels_for(p, name, n, &labels, err);
    out->sentinels = p->sentinels;
    out->nsentinels = p->nsentinels;
    if (!rc) rc = pz_xy_load(paths, labels, n, features, nfeat, p->drop_nonfinite, out, &report, err);
    if (rc) pz_err_prefix(err, "input '%s': ", name);
    if (report) pz_spec_log(spec, "%s: %s", p->stage_name, report);
    if (!rc) pz_spec_log(spec, "%s: input '%s': %zu rows from %zu table%s", p->stage_name, name, out->n, n, n > 1 ? "s" : "");
    free(report);
    free(paths);
    free(labels);
    return rc;
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "N/M rows, ~Xs left": rows take about the same time each, so the rate so far is an estimate.
 * total 0: not known. */
static void on_rows(void *ctx, size_t done, size_t total)
{
    const double *started = ctx;
    double spent = monotonic_s() - *started;
    if (total == 0) pz_progress(0.0, "%zu rows", done); /* a CSV's length is not known before the end */
    else if (done == 0 || done >= total || spent < 1.0) pz_progress((double)done / total, "%zu/%zu rows", done, total);
    else
        pz_progress((double)done / total, "%zu/%zu rows, ~%.0fs left", done, total,
                    spent * (double)(total - done) / (double)done);
}

static void on_epoch(void *ctx, const pz_epoch_info *e)
{
    const common_params *p = ctx;
    /* Early stopping makes the end unknowable: the bar counts epochs against the maximum (a lower
     * bound on the fraction done), the text says how soon training stops if validation does not
     * improve and how long that takes at the mean epoch time so far (an improvement postpones the
     * stop, so this is the soonest end, not a promise), and the last epoch, whichever it is, shows
     * as done. First what matters, since a terminal's line is cut at its width. */
    long left = e->patience - e->wait;
    if (left > e->max_epochs - e->epoch) left = e->max_epochs - e->epoch;
    double per_epoch = (monotonic_s() - p->started) / (double)e->epoch;
    if (left <= 0)
        pz_progress(1.0, "epoch %ld/%ld, stopped, best val %.5f @%ld", e->epoch, e->max_epochs, e->best_val_loss,
                    e->best_epoch);
    else
        pz_progress((double)e->epoch / e->max_epochs, "epoch %ld/%ld, stop in <=%ld (~%.0fs), val %.5f best %.5f @%ld",
                    e->epoch, e->max_epochs, left, left * per_epoch, e->val_loss, e->best_val_loss, e->best_epoch);
    pz_spec_log(p->spec, "%s: epoch %ld train_loss %.6f val_loss %.6f best %.6f (epoch %ld)%s", p->stage_name, e->epoch,
                e->train_loss, e->val_loss, e->best_val_loss, e->best_epoch, e->wait ? "" : " *");
}

/* A run whose best epoch is the first learned nothing after it: the weights saved are one
 * epoch's, which usually means a learning rate too high or labels the network cannot fit. */
static void warn_if_never_improved(const pz_model *m, const common_params *p, pz_sbuf *summary)
{
    if (m->best_epoch != 1 || m->hist.n < 2) return;
    const char *fmt = "%s: warning: the validation loss never improved on epoch 1 (%zu epochs run, best val_loss "
                      "%.6f); the model holds epoch 1's weights: check lr (%g) and the labels\n";
    pz_sb_printf(summary, fmt, p->stage_name, m->hist.n, m->hist.val_loss[0], p->cfg.adam.lr);
}

/* Scale both splits with the model's scaler and train; fills the model's history and appends
 * how training ended to the summary. */
static int fit(pz_model *m, pz_xy *train, pz_xy *val, common_params *p, pz_sbuf *summary, pz_err *err)
{
    pz_scaler_apply(&m->scaler, train->x, train->n);
    pz_scaler_apply(&m->scaler, val->x, val->n);
    pz_data tr = {train->x, train->y, train->n}, va = {val->x, val->y, val->n};
    p->cfg.on_epoch = on_epoch;
    p->cfg.ctx = p;
    p->started = monotonic_s();
    if (pz_train(m->net, &tr, &va, &p->cfg, &m->hist, &m->best_epoch, err)) return -1;
    pz_model_set_str(&m->loss, pz_loss_name(p->cfg.loss));
    m->seed = p->seed;
    m->batch_size = p->cfg.batch_size;
    m->learning_rate = p->cfg.adam.lr;
    pz_sb_printf(summary, "%s: stopped after %zu epochs; best epoch %ld, val_loss %.6f\n", p->stage_name, m->hist.n,
                 m->best_epoch, m->best_epoch ? m->hist.val_loss[m->best_epoch - 1] : 0.0);
    warn_if_never_improved(m, p, summary);
    return 0;
}

/* What predict checks a catalogue against (model.h): the training tables' units and corrections
 * and the sentinel policy training applied. */
static void record_inputs(pz_model *m, const pz_xy *train, const common_params *p)
{
    for (size_t j = 0; j < m->nfeat && train->units; j++) pz_model_set_str(&m->units[j], train->units[j]);
    pz_model_set_str(&m->corrections, train->corrections ? train->corrections : "");
    pz_model_set_sentinels(m, p->sentinels, p->nsentinels);
}

static int save(const pz_spec *spec, pz_model *m, const common_params *p, pz_err *err)
{
    const char *out;
    if (pz_spec_output(spec, "model", &out, err)) return -1;
    char *labels = NULL;
    size_t len = 0;
    for (size_t i = 0; i < p->nlabels; i++) {
        labels = pz_xrealloc(labels, len + strlen(p->labels[i]) + 2);
        len += sprintf(labels + len, "%s%s", i ? "," : "", p->labels[i]);
    }
    pz_model_set_str(&m->label, labels);
    free(labels);
    return pz_model_save(out, m, err);
}

/* ---- train ---- */

static int read_hidden(const pz_spec *spec, const pz_ynode *h, int *hidden, int *n, pz_err *err)
{
    if (!h) {
        *n = 4;
        memcpy(hidden, DEFAULT_HIDDEN, sizeof DEFAULT_HIDDEN);
        return 0;
    }
    if (h->kind != PZ_Y_SEQ || h->n < 1 || h->n > PZ_NET_MAX_LAYERS)
        return pz_errf(err, "%s:%d:%d: param 'hidden' must be a list of 1..%d layer widths", spec->path, h->line, h->col,
                       PZ_NET_MAX_LAYERS);
    for (size_t i = 0; i < h->n; i++) {
        long w;
        if (pz_yscalar_long(h->items[i], spec->path, &w, err) < 0) return pz_err_prefix(err, "param 'hidden': ");
        if (w < 1 || w > 65536) return pz_errf(err, "param 'hidden': width %ld out of range 1..65536", w);
        hidden[i] = (int)w;
    }
    *n = (int)h->n;
    return 0;
}

/* Params of train and fine-tune (the library reads them: fine-tune's defaults come from the
 * base model). Declared for --describe and the load-time check. */
#define NA(m) PZ_FIELD(nn_args, m)
#define COMMON_PARAMS(lr_default)                                                                                      \
    {PZ_PARAM("label", PZ_PT_STRINGS, NULL, "redshift column to learn: one, or one per training table"),               \
     .required = 1, .field = NA(label)},                                                                               \
    {PZ_PARAM("lr", PZ_PT_FLOAT, lr_default, "Adam learning rate"), PZ_RANGE(0, PZ_OPEN), .field = NA(lr)},            \
    {PZ_PARAM("batch_size", PZ_PT_INT, NULL, "rows per gradient step (100; fine-tune: the base model's)"),             \
     PZ_RANGE(1, 1000000), .field = NA(batch_size)},                                                                   \
    {PZ_PARAM("epochs", PZ_PT_INT, "1000", "most epochs to train"), PZ_RANGE(1, PZ_OPEN), .field = NA(epochs)},        \
    {PZ_PARAM("patience", PZ_PT_INT, "10", "stop after this many epochs without a better validation loss"),            \
     PZ_RANGE(1, PZ_OPEN), .field = NA(patience)},                                                                     \
    {PZ_PARAM("seed", PZ_PT_INT, "0", "seed of weights and shuffles"), PZ_RANGE(0, PZ_OPEN), .field = NA(seed)},       \
    {PZ_PARAM("loss", PZ_PT_STRING, NULL, "loss function (hsc; head mdn: nll; fine-tune: the base model's)"),          \
     .choices = "hsc|mse|nll", .field = NA(loss)},                                                                     \
    {PZ_PARAM("head", PZ_PT_STRING, NULL, "output: point (one z) or mdn (a Gaussian mixture p(z)); fine-tune: the base's"), \
     .choices = "point|mdn", .field = NA(head)},                                                                       \
    {PZ_PARAM("components", PZ_PT_INT, NULL, "Gaussians of the mdn head (1; fine-tune: the base's)"),                  \
     PZ_RANGE(1, PZ_MDN_MAX_COMPONENTS), .field = NA(components)},                                                     \
    {PZ_PARAM("method", PZ_PT_STRING, NULL, "deterministic weights, or bnn: Bayes by backprop (fine-tune: the base's)"), \
     .choices = "deterministic|bnn", .field = NA(method)},                                                             \
    {PZ_PARAM("prior_sigma", PZ_PT_FLOAT, "1", "bnn: sigma of the N(0, sigma^2) prior on every weight"),               \
     PZ_RANGE(0, PZ_OPEN), .field = NA(prior_sigma)},                                                                  \
    {PZ_PARAM("sigma_init", PZ_PT_FLOAT, "1e-3", "bnn: every weight's posterior sigma at the start"),                  \
     PZ_RANGE(0, PZ_OPEN), .field = NA(sigma_init)},                                                                   \
    {PZ_PARAM("samples", PZ_PT_INT, "32", "bnn: weight samples drawn per prediction"), PZ_RANGE(1, 100000),            \
     .field = NA(samples)},                                                                                            \
    {PZ_PARAM("min_delta", PZ_PT_FLOAT, "0", "smallest validation-loss drop that counts as better"), .field = NA(min_delta)}, \
    {PZ_PARAM("drop_nonfinite", PZ_PT_BOOL, "true", "drop rows with a non-finite feature or label"), .field = NA(drop_nonfinite)}, \
    {PZ_PARAM("beta1", PZ_PT_FLOAT, "0.9", "Adam beta1"), PZ_RANGE(0, 1), .field = NA(beta1)},                         \
    {PZ_PARAM("beta2", PZ_PT_FLOAT, "0.999", "Adam beta2"), PZ_RANGE(0, 1), .field = NA(beta2)},                       \
    {PZ_PARAM("epsilon", PZ_PT_FLOAT, "1e-7", "Adam epsilon"), PZ_RANGE(0, PZ_OPEN), .field = NA(epsilon)}

static const pz_param_def TRAIN_PARAMS[] = {
    COMMON_PARAMS("5e-4"),
    {PZ_PARAM("features", PZ_PT_STRINGS, "[g_cmodel_mag, r_cmodel_mag, i_cmodel_mag, z_cmodel_mag, y_cmodel_mag]",
              "input columns, in order"), .field = NA(features)},
    {PZ_PARAM("hidden", PZ_PT_LIST, "[200, 200, 200, 200]", "widths of the hidden layers"), .field = NA(hidden)},
    {PZ_PARAM("sentinels", PZ_PT_LIST, "[-9999, -999, -99, 99]",
              "feature values meaning \"missing\": training drops such rows, the model records them, predict flags them"),
     .field = NA(sentinels)},
    {PZ_PARAM("skip", PZ_PT_BOOL, "true", "skip connection from the input to the output layer"), .field = NA(skip)},
    {0}};
static const pz_io_def TRAIN_INPUTS[] = {
    {"train", PZ_IO_ANY, 0, "training table(s); several give NN-Combo"},
    {"validation", PZ_IO_ANY, 0, "validation table(s) for early stopping"},
    {0}};
static const pz_io_def MODEL_OUTPUTS[] = {{"model", PZ_IO_ONE, 0, "the trained network (HDF5)", ".h5"}, {0}};

static common_params train_defaults(void)
{
    common_params p = {.stage_name = "pzflow-train", .drop_nonfinite = 1};
    p.cfg = (pz_train_cfg){.adam = PZ_ADAM_DEFAULTS, .batch_size = 100, .epochs = 1000, .patience = 10,
                           .loss = PZ_LOSS_HSC};
    p.cfg.adam.lr = 5e-4;
    return p;
}

static int train_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const nn_args *a = params;
    common_params p = train_defaults();
    p.spec = spec;
    int hidden[PZ_NET_MAX_LAYERS], nhidden = 0, skip = a->skip;
    pz_net_head head, point = PZ_NET_HEAD_POINT;
    if (read_common(a, &p, err) || read_head(a, &point, &head, &p, err) ||
        read_hidden(spec, a->hidden, hidden, &nhidden, err) || read_sentinels(spec, a->sentinels, &p, err))
        return -1;
    size_t nfeat = a->features.v ? a->features.n : 5;
    if (nfeat == 0) return pz_errf(err, "param 'features' is empty");
    const char **features = pz_xmalloc(nfeat * sizeof *features);
    memcpy(features, a->features.v ? (const void *)a->features.v : (const void *)DEFAULT_FEATURES, nfeat * sizeof *features);
    int rc;
    openblas_set_num_threads((int)spec->threads);
    pz_xy train = {0}, val = {0};
    pz_model *m = NULL;
    rc = load_input(spec, "train", &p, features, nfeat, &train, err) ||
                 load_input(spec, "validation", &p, features, nfeat, &val, err)
             ? -1
             : 0;
    if (!rc) {
        pz_net *net = pz_net_new_head((int)nfeat, hidden, nhidden, skip, &head, err);
        rc = net ? 0 : -1;
        if (net) {
            pz_net_init_glorot(net, (unsigned long)p.seed);
            if (head.bayes) pz_vi_init_rho(net, a->sigma_init);
            pz_scaler scaler;
            pz_scaler_fit(&scaler, train.x, train.n, nfeat); /* on the training split only */
            m = pz_model_new(net, features, nfeat, &scaler);
            record_bayes(m, a);
            pz_scaler_free(&scaler);
            record_inputs(m, &train, &p);
            rc = pz_model_check_scaler(m, "input 'train'", err);
            pz_spec_log(spec, "pzflow-train: %zu weights, %zu training rows, %zu validation rows", net->nparams, train.n,
                        val.n);
        }
    }
    pz_sbuf told = {0};
    if (!rc) rc = fit(m, &train, &val, &p, &told, err) || save(spec, m, &p, err) ? -1 : 0;
    *summary = told.p;
    pz_model_free(m);
    pz_xy_free(&train);
    pz_xy_free(&val);
    free(features);
    return rc;
}

/* ---- fine-tune ---- */

const pz_stage_def pz_nn_train_stage = {
    .prog = "pzflow-train", .docs = "docs/network.md",
    .summary = "train a new photo-z network (NN-Base; NN-Combo when `train` lists several tables)",
    .params = TRAIN_PARAMS, .inputs = TRAIN_INPUTS, .outputs = MODEL_OUTPUTS,
    .params_size = sizeof(nn_args), .run = train_stage};

static const pz_param_def TUNE_PARAMS[] = {
    COMMON_PARAMS("1e-4"),
    {PZ_PARAM("freeze", PZ_PT_STRINGS, NULL, "layers kept fixed (names as in the model: hidden1, ..., output)"),
     .field = NA(freeze)},
    {0}};
static const pz_io_def TUNE_INPUTS[] = {
    {"model", PZ_IO_ONE, 0, "the base network"},
    {"train", PZ_IO_ANY, 0, "training table(s)"},
    {"validation", PZ_IO_ANY, 0, "validation table(s) for early stopping"},
    {0}};

/* frozen[l] = 1 for each named layer; unknown names are an error listing the real ones. */
static int read_freeze(const pz_strs *freeze, const pz_net *net, uint8_t *frozen, char **csv, pz_err *err)
{
    const char **names = freeze->v;
    size_t n = freeze->n;
    memset(frozen, 0, net->nlayers);
    *csv = pz_xstrdup("");
    for (size_t i = 0; i < n; i++) {
        int l = pz_net_layer_index(net, names[i]);
        if (l < 0) {
            char known[256] = "";
            for (int k = 0, len = 0; k < net->nlayers; k++) {
                char nm[32];
                pz_net_layer_name(net, k, nm, sizeof nm);
                len += snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "", nm);
            }
            return pz_errf(err, "param 'freeze': no layer '%s' (layers: %s)", names[i], known);
        }
        frozen[l] = 1;
        *csv = pz_xrealloc(*csv, strlen(*csv) + strlen(names[i]) + 2);
        if (**csv) strcat(*csv, ",");
        strcat(*csv, names[i]);
    }
    return 0;
}

/* Fine-tuning into another head or method: a new output layer (seeded by `seed`) when the head
 * changes, posterior scales when the network becomes Bayesian. */
static int change_head(pz_model *m, const pz_net_head *head, const nn_args *a, pz_err *err)
{
    const pz_net_head *old = &m->net->head;
    if (old->kind != head->kind || old->ncomp != head->ncomp || old->bayes != head->bayes) {
        pz_net *net = pz_net_with_head(m->net, head, (unsigned long)a->seed, a->sigma_init, err);
        if (!net) return -1;
        pz_net_free(m->net);
        m->net = net;
    }
    record_bayes(m, a);
    return 0;
}

static int fine_tune_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const nn_args *a = params;
    const char *base_path;
    if (pz_spec_input(spec, "model", &base_path, err)) return -1;
    pz_model *m = pz_model_load(base_path, err);
    if (!m) return -1;
    common_params p = train_defaults();
    p.stage_name = "pzflow-fine-tune";
    p.spec = spec;
    if (m->batch_size > 0 && m->batch_size <= 1000000) p.cfg.batch_size = (int)m->batch_size;
    pz_loss_parse(m->loss, &p.cfg.loss);
    uint8_t frozen[PZ_NET_MAX_LAYERS + 1];
    char *frozen_csv = NULL;
    pz_xy train = {0}, val = {0};
    pz_net_head head;
    int rc = read_common(a, &p, err) || read_head(a, &m->net->head, &head, &p, err) ? -1 : 0;
    if (!rc) rc = change_head(m, &head, a, err);
    if (!rc) rc = read_freeze(&a->freeze, m->net, frozen, &frozen_csv, err);
    /* The base model's sentinel policy, units and corrections stay: its scaler does too. */
    p.nsentinels = m->nsentinels < 64 ? m->nsentinels : 64;
    memcpy(p.sentinels, m->sentinels, sizeof(double) * p.nsentinels);
    if (!rc) {
        int any = 0;
        for (int l = 0; l < m->net->nlayers; l++) any |= frozen[l];
        p.cfg.frozen = any ? frozen : NULL;
        openblas_set_num_threads((int)spec->threads);
        /* The base model's features, in its order; its scaler is kept (not refitted). */
        const char *const *features = (const char *const *)m->features;
        rc = load_input(spec, "train", &p, features, m->nfeat, &train, err) ||
                     load_input(spec, "validation", &p, features, m->nfeat, &val, err)
                 ? -1
                 : 0;
    }
    if (!rc) {
        pz_model_set_str(&m->frozen, frozen_csv);
        pz_history_free(&m->hist);
        m->best_epoch = 0;
        pz_spec_log(spec, "pzflow-fine-tune: base %s, frozen [%s], lr %g", base_path, frozen_csv, p.cfg.adam.lr);
        pz_sbuf told = {0};
        rc = fit(m, &train, &val, &p, &told, err) || save(spec, m, &p, err) ? -1 : 0;
        *summary = told.p;
    }
    free(frozen_csv);
    pz_model_free(m);
    pz_xy_free(&train);
    pz_xy_free(&val);
    return rc;
}

/* ---- predict ---- */

const pz_stage_def pz_nn_fine_tune_stage = {
    .prog = "pzflow-fine-tune", .docs = "docs/network.md",
    .summary = "fine-tune a trained network on new data (NN-TL), keeping its scaler",
    .params = TUNE_PARAMS, .inputs = TUNE_INPUTS, .outputs = MODEL_OUTPUTS,
    .params_size = sizeof(nn_args), .run = fine_tune_stage};

typedef struct {
    const char *label, *id;
    long chunk_rows, hdu;
    pz_strs map, keep;
} predict_params;

static const pz_param_def PREDICT_PARAMS[] = {
    {PZ_PARAM("label", PZ_PT_STRING, NULL, "true-redshift column copied next to the predictions"),
     .field = PZ_FIELD(predict_params, label)},
    {PZ_PARAM("id", PZ_PT_STRING, NULL, "id column copied next to the predictions (required to exist when given)"),
     .field = PZ_FIELD(predict_params, id)},
    {PZ_PARAM("map", PZ_PT_STRINGS, NULL, "model_feature=catalog_column items: where a feature is read from"),
     .field = PZ_FIELD(predict_params, map)},
    {PZ_PARAM("keep", PZ_PT_STRINGS, NULL, "catalogue columns copied to the predictions (ra, dec, ...)"),
     .field = PZ_FIELD(predict_params, keep)},
    {PZ_PARAM("chunk_rows", PZ_PT_INT, "65536", "rows read and written per chunk"), PZ_RANGE(1, 100000000),
     .field = PZ_FIELD(predict_params, chunk_rows)},
    {PZ_PARAM("hdu", PZ_PT_INT, "1", "FITS HDU of the table"), PZ_RANGE(1, 1000), .field = PZ_FIELD(predict_params, hdu)},
    {0}};
static const pz_io_def PREDICT_INPUTS[] = {{"model", PZ_IO_ONE, 0, "the network"},
                                           {"table", PZ_IO_ONE, 0, "the table to predict (FITS, HDF5, CSV, ECSV)"}, {0}};
static const pz_io_def PREDICT_OUTPUTS[] = {
    {"predictions", PZ_IO_ONE, 0, "z_pred and flag per row; format by extension (.fits, .h5, .csv, .ecsv), the "
                                  "pipeline's table format (FITS) without one", PZ_STAGE_TABLE_EXT}, {0}};

/* The output's format: by its extension, the pipeline's table format when the name has none (the
 * engine's names). */
static int output_format(const char *path, pz_format *fmt, pz_err *err)
{
    const char *base = strrchr(path, '/');
    if (!strchr(base ? base : path, '.')) return *fmt = PZ_STAGE_TABLE_FORMAT, 0;
    return pz_format_from_name(path, fmt, err);
}

static int predict_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const predict_params *pp = params;
    const char *model_path, *table_path, *out_path;
    double started = monotonic_s();
    pz_predict_opts o = {.progress = on_rows, .ctx = &started, .label = pp->label, .id_column = pp->id,
                         .id_required = pp->id != NULL, .map = pp->map.v, .nmap = pp->map.n, .keep = pp->keep.v,
                         .nkeep = pp->keep.n, .chunk_rows = (size_t)pp->chunk_rows};
    if (pz_spec_input(spec, "model", &model_path, err) ||
        pz_spec_input(spec, "table", &table_path, err) || pz_spec_output(spec, "predictions", &out_path, err))
        return -1;
    pz_format fmt;
    if (output_format(out_path, &fmt, err)) return -1;
    /* The input is a file the engine names: never split at ':' or '['. The HDU is a param. */
    char hdu[16];
    snprintf(hdu, sizeof hdu, "%ld", pp->hdu);
    pz_source src = {(char *)table_path, pp->hdu > 1 ? hdu : NULL};
    pz_model *m = pz_model_load(model_path, err);
    if (!m) return -1;
    openblas_set_num_threads(1); /* the threads are row workers, as in `pzflow predict` (predict_cli.c) */
    o.threads = spec->threads;
    pz_predict_stats st;
    int rc = pz_predict_source(m, &src, out_path, fmt, &o, &st, err);
    if (!rc) {
        char *text = pz_predict_summary(&st);
        *summary = pz_xasprintf("pzflow-predict: %s", text);
        free(text);
    }
    pz_predict_stats_free(&st);
    pz_model_free(m);
    return rc;
}

const pz_stage_def pz_nn_predict_stage = {
    .prog = "pzflow-predict", .docs = "docs/network.md",
    .summary = "apply a network to a table, flagging rows with missing or out-of-range features",
    .params = PREDICT_PARAMS, .inputs = PREDICT_INPUTS, .outputs = PREDICT_OUTPUTS,
    .params_size = sizeof(predict_params), .run = predict_stage};
