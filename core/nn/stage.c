#include "nn/stage.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dataset.h"
#include "nn/model.h"
#include "nn/predict.h"
#include "nn/train.h"
#include "util/progress.h"

static const char *const DEFAULT_FEATURES[] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag",
                                               "y_cmodel_mag"};
static const int DEFAULT_HIDDEN[] = {200, 200, 200, 200};

/* ---- params shared by train and fine-tune ---- */

typedef struct {
    const char *stage_name;  /* for stdout lines */
    pz_train_cfg cfg;
    int drop_nonfinite;
    const char **labels;     /* one, or one per training input */
    size_t nlabels;
    long seed;
} common_params;

static int param_long_min(const pz_spec *spec, const char *key, long *v, long min, pz_err *err)
{
    if (pz_spec_long(spec, key, v, err) < 0) return -1;
    if (*v < min) return pz_errf(err, "param '%s' must be >= %ld, got %ld", key, min, *v);
    return 0;
}

static int param_positive(const pz_spec *spec, const char *key, double *v, pz_err *err)
{
    if (pz_spec_double(spec, key, v, err) < 0) return -1;
    if (!(*v > 0)) return pz_errf(err, "param '%s' must be > 0, got %g", key, *v);
    return 0;
}

/* Params read identically by train and fine-tune; defaults preset by the caller. */
static int read_common(const pz_spec *spec, common_params *p, pz_err *err)
{
    long batch = p->cfg.batch_size;
    const char *loss = NULL;
    if (param_positive(spec, "lr", &p->cfg.adam.lr, err) || param_positive(spec, "epsilon", &p->cfg.adam.eps, err) ||
        pz_spec_double(spec, "beta1", &p->cfg.adam.beta1, err) < 0 ||
        pz_spec_double(spec, "beta2", &p->cfg.adam.beta2, err) < 0 ||
        param_long_min(spec, "batch_size", &batch, 1, err) || param_long_min(spec, "epochs", &p->cfg.epochs, 1, err) ||
        param_long_min(spec, "patience", &p->cfg.patience, 1, err) || param_long_min(spec, "seed", &p->seed, 0, err) ||
        pz_spec_double(spec, "min_delta", &p->cfg.min_delta, err) < 0 ||
        pz_spec_bool(spec, "drop_nonfinite", &p->drop_nonfinite, err) < 0 || pz_spec_str(spec, "loss", &loss, err) < 0)
        return -1;
    if (batch > 1000000) return pz_errf(err, "param 'batch_size' is too large (%ld)", batch);
    p->cfg.batch_size = (int)batch;
    for (int i = 0; i < 2; i++) {
        double b = i ? p->cfg.adam.beta2 : p->cfg.adam.beta1;
        if (!(b >= 0 && b < 1)) return pz_errf(err, "param '%s' must be in [0, 1), got %g", i ? "beta2" : "beta1", b);
    }
    if (loss && pz_loss_parse(loss, &p->cfg.loss) < 0)
        return pz_errf(err, "param 'loss': unknown loss '%s' (known: hsc, mse)", loss);
    p->cfg.seed = (unsigned long)p->seed;
    int rc = pz_spec_strlist(spec, "label", &p->labels, &p->nlabels, err);
    if (rc < 0) return -1;
    if (rc == 1 || p->nlabels == 0) return pz_errf(err, "param 'label' is required (the redshift column to learn)");
    return 0;
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
    if (!rc) rc = pz_xy_load(paths, labels, n, features, nfeat, p->drop_nonfinite, out, &report, err);
    if (rc) pz_err_prefix(err, "input '%s': ", name);
    if (report) fprintf(stderr, "%s: %s\n", p->stage_name, report);
    if (!rc) printf("%s: input '%s': %zu rows from %zu table%s\n", p->stage_name, name, out->n, n, n > 1 ? "s" : "");
    free(report);
    free(paths);
    free(labels);
    return rc;
}

static void on_epoch(void *ctx, const pz_epoch_info *e)
{
    const char *stage = ctx;
    pz_progress((double)e->epoch / e->max_epochs, "epoch %ld/%ld train %.5f val %.5f best %.5f@%ld", e->epoch,
                e->max_epochs, e->train_loss, e->val_loss, e->best_val_loss, e->best_epoch);
    printf("%s: epoch %ld train_loss %.6f val_loss %.6f best %.6f (epoch %ld)%s\n", stage, e->epoch, e->train_loss,
           e->val_loss, e->best_val_loss, e->best_epoch, e->wait ? "" : " *");
    fflush(stdout);
}

/* A run whose best epoch is the first learned nothing after it: the weights saved are one
 * epoch's, which usually means a learning rate too high or labels the network cannot fit. */
static void warn_if_never_improved(const pz_model *m, const common_params *p)
{
    if (m->best_epoch != 1 || m->hist.n < 2) return;
    const char *fmt = "%s: warning: the validation loss never improved on epoch 1 (%zu epochs run, best val_loss "
                      "%.6f); the model holds epoch 1's weights: check lr (%g) and the labels\n";
    printf(fmt, p->stage_name, m->hist.n, m->hist.val_loss[0], p->cfg.adam.lr);
}

/* Scale both splits with the model's scaler and train; fills the model's history. */
static int fit(pz_model *m, pz_xy *train, pz_xy *val, common_params *p, pz_err *err)
{
    pz_scaler_apply(&m->scaler, train->x, train->n);
    pz_scaler_apply(&m->scaler, val->x, val->n);
    pz_data tr = {train->x, train->y, train->n}, va = {val->x, val->y, val->n};
    p->cfg.on_epoch = on_epoch;
    p->cfg.ctx = (void *)p->stage_name;
    if (pz_train(m->net, &tr, &va, &p->cfg, &m->hist, &m->best_epoch, err)) return -1;
    pz_model_set_str(&m->loss, pz_loss_name(p->cfg.loss));
    m->seed = p->seed;
    m->batch_size = p->cfg.batch_size;
    m->learning_rate = p->cfg.adam.lr;
    printf("%s: stopped after %zu epochs; best epoch %ld, val_loss %.6f\n", p->stage_name, m->hist.n, m->best_epoch,
           m->best_epoch ? m->hist.val_loss[m->best_epoch - 1] : 0.0);
    warn_if_never_improved(m, p);
    return 0;
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

static int read_hidden(const pz_spec *spec, int *hidden, int *n, pz_err *err)
{
    const pz_ynode *h = pz_spec_param(spec, "hidden");
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
#define COMMON_PARAMS(lr_default)                                                                                  \
    {PZ_PARAM("label", PZ_PT_STRINGS, NULL, "redshift column to learn: one, or one per training table"),          \
     .required = 1},                                                                                               \
    {PZ_PARAM("lr", PZ_PT_FLOAT, lr_default, "Adam learning rate"), PZ_RANGE(0, PZ_OPEN)},                         \
    {PZ_PARAM("batch_size", PZ_PT_INT, "100", "rows per gradient step"), PZ_RANGE(1, 1000000)},                    \
    {PZ_PARAM("epochs", PZ_PT_INT, "1000", "most epochs to train"), PZ_RANGE(1, PZ_OPEN)},                         \
    {PZ_PARAM("patience", PZ_PT_INT, "10", "stop after this many epochs without a better validation loss"),        \
     PZ_RANGE(1, PZ_OPEN)},                                                                                        \
    {PZ_PARAM("seed", PZ_PT_INT, "1", "seed of weights and shuffles"), PZ_RANGE(0, PZ_OPEN)},                      \
    {PZ_PARAM("loss", PZ_PT_STRING, "hsc", "loss function"), .choices = "hsc|mse"},                                \
    {PZ_PARAM("min_delta", PZ_PT_FLOAT, "0", "smallest validation-loss drop that counts as better")},              \
    {PZ_PARAM("drop_nonfinite", PZ_PT_BOOL, "true", "drop rows with a non-finite feature or label")},              \
    {PZ_PARAM("beta1", PZ_PT_FLOAT, "0.9", "Adam beta1"), PZ_RANGE(0, 1)},                                  \
    {PZ_PARAM("beta2", PZ_PT_FLOAT, "0.999", "Adam beta2"), PZ_RANGE(0, 1)},                             \
    {PZ_PARAM("epsilon", PZ_PT_FLOAT, "1e-7", "Adam epsilon"), PZ_RANGE(0, PZ_OPEN)}

static const pz_param_def TRAIN_PARAMS[] = {
    COMMON_PARAMS("5e-4"),
    {PZ_PARAM("features", PZ_PT_STRINGS, "[g_cmodel_mag, r_cmodel_mag, i_cmodel_mag, z_cmodel_mag, y_cmodel_mag]",
              "input columns, in order")},
    {PZ_PARAM("hidden", PZ_PT_LIST, "[200, 200, 200, 200]", "widths of the hidden layers")},
    {PZ_PARAM("skip", PZ_PT_BOOL, "true", "skip connection from the input to the output layer")},
    {0}};
static const pz_io_def TRAIN_INPUTS[] = {
    {"train", PZ_IO_ANY, 0, "training table(s); several give NN-Combo"},
    {"validation", PZ_IO_ANY, 0, "validation table(s) for early stopping"},
    {0}};
static const pz_io_def MODEL_OUTPUTS[] = {{"model", PZ_IO_ONE, 0, "the trained network (HDF5)"}, {0}};

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
    (void)params, (void)summary;
    common_params p = train_defaults();
    const char **features = NULL;
    size_t nfeat = 5;
    int hidden[PZ_NET_MAX_LAYERS], nhidden = 0, skip = 1;
    if (read_common(spec, &p, err) ||
        read_hidden(spec, hidden, &nhidden, err) || pz_spec_bool(spec, "skip", &skip, err) < 0)
        return -1;
    int rc = pz_spec_strlist(spec, "features", &features, &nfeat, err);
    if (rc < 0) return -1;
    if (rc == 1) {
        features = pz_xmalloc(sizeof DEFAULT_FEATURES);
        memcpy(features, DEFAULT_FEATURES, sizeof DEFAULT_FEATURES);
        nfeat = 5;
    }
    if (nfeat == 0) {
        free(features);
        free(p.labels);
        return pz_errf(err, "param 'features' is empty");
    }
    openblas_set_num_threads((int)spec->threads);
    pz_xy train = {0}, val = {0};
    pz_model *m = NULL;
    rc = load_input(spec, "train", &p, features, nfeat, &train, err) ||
                 load_input(spec, "validation", &p, features, nfeat, &val, err)
             ? -1
             : 0;
    if (!rc) {
        pz_net *net = pz_net_new((int)nfeat, hidden, nhidden, skip, err);
        rc = net ? 0 : -1;
        if (net) {
            pz_net_init_glorot(net, (unsigned long)p.seed);
            pz_scaler scaler;
            pz_scaler_fit(&scaler, train.x, train.n, nfeat); /* on the training split only */
            m = pz_model_new(net, features, nfeat, &scaler);
            pz_scaler_free(&scaler);
            rc = pz_model_check_scaler(m, "input 'train'", err);
            printf("pzflow-train: %zu weights, %zu training rows, %zu validation rows\n", net->nparams, train.n, val.n);
        }
    }
    if (!rc) rc = fit(m, &train, &val, &p, err) || save(spec, m, &p, err) ? -1 : 0;
    pz_model_free(m);
    pz_xy_free(&train);
    pz_xy_free(&val);
    free(features);
    free(p.labels);
    return rc;
}

/* ---- fine-tune ---- */

const pz_stage_def pz_nn_train_stage = {
    .prog = "pzflow-train", .docs = "docs/network.md",
    .summary = "train a new photo-z network (NN-Base; NN-Combo when `train` lists several tables)",
    .params = TRAIN_PARAMS, .inputs = TRAIN_INPUTS, .outputs = MODEL_OUTPUTS, .run = train_stage};

static const pz_param_def TUNE_PARAMS[] = {
    COMMON_PARAMS("1e-4"),
    {PZ_PARAM("freeze", PZ_PT_STRINGS, NULL, "layers kept fixed (names as in the model: hidden1, ..., output)")},
    {0}};
static const pz_io_def TUNE_INPUTS[] = {
    {"model", PZ_IO_ONE, 0, "the base network"},
    {"train", PZ_IO_ANY, 0, "training table(s)"},
    {"validation", PZ_IO_ANY, 0, "validation table(s) for early stopping"},
    {0}};

/* frozen[l] = 1 for each named layer; unknown names are an error listing the real ones. */
static int read_freeze(const pz_spec *spec, const pz_net *net, uint8_t *frozen, char **csv, pz_err *err)
{
    const char **names = NULL;
    size_t n = 0;
    memset(frozen, 0, net->nlayers);
    *csv = pz_xstrdup("");
    int rc = pz_spec_strlist(spec, "freeze", &names, &n, err);
    if (rc < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        int l = pz_net_layer_index(net, names[i]);
        if (l < 0) {
            char known[256] = "";
            for (int k = 0, len = 0; k < net->nlayers; k++) {
                char nm[32];
                pz_net_layer_name(net, k, nm, sizeof nm);
                len += snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "", nm);
            }
            pz_errf(err, "param 'freeze': no layer '%s' (layers: %s)", names[i], known);
            free(names);
            return -1;
        }
        frozen[l] = 1;
        *csv = pz_xrealloc(*csv, strlen(*csv) + strlen(names[i]) + 2);
        if (**csv) strcat(*csv, ",");
        strcat(*csv, names[i]);
    }
    free(names);
    return 0;
}

static int fine_tune_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    (void)params, (void)summary;
    const char *base_path;
    if (pz_spec_input(spec, "model", &base_path, err)) return -1;
    pz_model *m = pz_model_load(base_path, err);
    if (!m) return -1;
    common_params p = train_defaults();
    p.stage_name = "pzflow-fine-tune";
    p.cfg.adam.lr = 1e-4; /* see docs/network.md: 5x below the base rate */
    if (m->batch_size > 0 && m->batch_size <= 1000000) p.cfg.batch_size = (int)m->batch_size;
    pz_loss_parse(m->loss, &p.cfg.loss);
    uint8_t frozen[PZ_NET_MAX_LAYERS + 1];
    char *frozen_csv = NULL;
    pz_xy train = {0}, val = {0};
    int rc = read_common(spec, &p, err) || read_freeze(spec, m->net, frozen, &frozen_csv, err) ? -1 : 0;
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
        printf("pzflow-fine-tune: base %s, frozen [%s], lr %g\n", base_path, frozen_csv, p.cfg.adam.lr);
        rc = fit(m, &train, &val, &p, err) || save(spec, m, &p, err) ? -1 : 0;
    }
    free(frozen_csv);
    pz_model_free(m);
    pz_xy_free(&train);
    pz_xy_free(&val);
    free(p.labels);
    return rc;
}

/* ---- predict ---- */

const pz_stage_def pz_nn_fine_tune_stage = {
    .prog = "pzflow-fine-tune", .docs = "docs/network.md",
    .summary = "fine-tune a trained network on new data (NN-TL), keeping its scaler",
    .params = TUNE_PARAMS, .inputs = TUNE_INPUTS, .outputs = MODEL_OUTPUTS, .run = fine_tune_stage};

typedef struct {
    const char *label, *id;
    long chunk_rows, hdu;
} predict_params;

static const pz_param_def PREDICT_PARAMS[] = {
    {PZ_PARAM("label", PZ_PT_STRING, NULL, "true-redshift column copied next to the predictions"),
     .field = PZ_FIELD(predict_params, label)},
    {PZ_PARAM("id", PZ_PT_STRING, NULL, "id column copied next to the predictions (required to exist when given)"),
     .field = PZ_FIELD(predict_params, id)},
    {PZ_PARAM("chunk_rows", PZ_PT_INT, "65536", "rows read per chunk"), PZ_RANGE(1, PZ_OPEN),
     .field = PZ_FIELD(predict_params, chunk_rows)},
    {PZ_PARAM("hdu", PZ_PT_INT, "1", "FITS HDU of the table"), PZ_RANGE(1, PZ_OPEN), .field = PZ_FIELD(predict_params, hdu)},
    {0}};
static const pz_io_def PREDICT_INPUTS[] = {{"model", PZ_IO_ONE, 0, "the network"},
                                           {"table", PZ_IO_ONE, 0, "the table to predict (HDF5 or FITS)"}, {0}};
static const pz_io_def PREDICT_OUTPUTS[] = {{"predictions", PZ_IO_ONE, 0, "z_pred per row (HDF5)"}, {0}};

static void on_rows(void *ctx, size_t done, size_t total)
{
    pz_progress((double)done / total, "%zu/%zu rows", done, total);
}

static int predict_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    (void)summary;
    const predict_params *pp = params;
    const char *model_path, *table_path, *out_path;
    pz_predict_opts o = {.progress = on_rows, .label = pp->label, .id_column = pp->id};
    if (pz_spec_input(spec, "model", &model_path, err) ||
        pz_spec_input(spec, "table", &table_path, err) || pz_spec_output(spec, "predictions", &out_path, err))
        return -1;
    o.id_required = pp->id != NULL;
    o.read_rows = (size_t)pp->chunk_rows;
    o.hdu = (int)(pp->hdu > 1000 ? 1000 : pp->hdu);
    int rc;
    pz_model *m = pz_model_load(model_path, err);
    if (!m) return -1;
    openblas_set_num_threads((int)spec->threads);
    pz_predict_stats st;
    rc = pz_predict_file(m, table_path, out_path, &o, &st, err);
    if (!rc)
        printf("pzflow-predict: %zu rows predicted (%zu with non-finite features -> z_pred NaN)\n", st.rows,
               st.nan_rows);
    pz_model_free(m);
    return rc;
}

const pz_stage_def pz_nn_predict_stage = {
    .prog = "pzflow-predict", .docs = "docs/network.md", .summary = "apply a network to a table",
    .params = PREDICT_PARAMS, .inputs = PREDICT_INPUTS, .outputs = PREDICT_OUTPUTS,
    .params_size = sizeof(predict_params), .run = predict_stage};
