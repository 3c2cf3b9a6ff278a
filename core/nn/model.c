#include "nn/model.h"

#include <errno.h>
#include <math.h>
#include <hdf5.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "table/h5util.h"
#include "nn/vi.h"
#include "util/crashnote.h"

#define MODEL_FORMAT "pzflow-nn-model"
#define MODEL_VERSION 3 /* version 3: head, components, method (absent in 1 and 2: a point, deterministic network) */
#define MODEL_VERSION_OLDEST 1 /* version 1: no /inputs group (units, sentinels, corrections) */

/* Values that mean "no measurement" in the catalogues pzflow meets (COSMOS2020 -99, SExtractor
 * 99, SDSS -9999): a model file of version 1 records no sentinel policy and gets this one, so an
 * old model does not turn a -99 magnitude into a redshift either. */
const double pz_model_default_sentinels[] = {-9999, -999, -99, 99};
const size_t pz_model_ndefault_sentinels = 4;

/* ---- in-memory model ---- */

void pz_model_set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? pz_xstrdup(value) : NULL;
}

pz_model *pz_model_new(pz_net *net, const char *const *features, size_t nfeat, const pz_scaler *scaler)
{
    pz_model *m = pz_xcalloc(1, sizeof *m);
    m->net = net;
    m->nfeat = nfeat;
    m->features = pz_xcalloc(nfeat ? nfeat : 1, sizeof *m->features);
    for (size_t i = 0; i < nfeat; i++) m->features[i] = pz_xstrdup(features[i]);
    pz_scaler_copy(&m->scaler, scaler);
    m->label = pz_xstrdup("");
    m->loss = pz_xstrdup("hsc");
    m->frozen = pz_xstrdup("");
    m->units = pz_xcalloc(nfeat ? nfeat : 1, sizeof *m->units);
    for (size_t i = 0; i < nfeat; i++) m->units[i] = pz_xstrdup("");
    m->corrections = pz_xstrdup("");
    pz_model_set_sentinels(m, pz_model_default_sentinels, pz_model_ndefault_sentinels);
    m->prior_sigma = PZ_VI_PRIOR_SIGMA;
    m->samples = PZ_VI_SAMPLES;
    return m;
}

void pz_model_set_sentinels(pz_model *m, const double *v, size_t n)
{
    free(m->sentinels);
    m->sentinels = pz_xmalloc(sizeof *m->sentinels * (n ? n : 1));
    if (n) memcpy(m->sentinels, v, sizeof *v * n);
    m->nsentinels = n;
}

void pz_model_free(pz_model *m)
{
    if (!m) return;
    pz_net_free(m->net);
    for (size_t i = 0; i < m->nfeat; i++) free(m->features[i]);
    free(m->features);
    for (size_t i = 0; i < m->nfeat; i++) free(m->units ? m->units[i] : NULL);
    free(m->units);
    free(m->sentinels);
    free(m->corrections);
    pz_scaler_free(&m->scaler);
    pz_history_free(&m->hist);
    free(m->label);
    free(m->loss);
    free(m->frozen);
    free(m);
}

void pz_history_push(pz_history *h, double train_loss, double val_loss, double lr)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->train_loss = pz_xrealloc(h->train_loss, sizeof(double) * h->cap);
        h->val_loss = pz_xrealloc(h->val_loss, sizeof(double) * h->cap);
        h->lr = pz_xrealloc(h->lr, sizeof(double) * h->cap);
    }
    h->train_loss[h->n] = train_loss;
    h->val_loss[h->n] = val_loss;
    h->lr[h->n] = lr;
    h->n++;
}

void pz_history_free(pz_history *h)
{
    free(h->train_loss);
    free(h->val_loss);
    free(h->lr);
    memset(h, 0, sizeof *h);
}

/* ---- HDF5 writing: every object without timestamps, fixed format versions ---- */

typedef struct {
    int unused; /* the writers' shared context; the HDF5 properties are h5util.h's */
} h5_props;

static int attr_write(hid_t loc, const char *name, hid_t type, hid_t space, const void *value)
{
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t rc = H5Awrite(a, type, value);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

static int attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    size_t len = strlen(value);
    H5Tset_size(t, len ? len : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR);
    int rc = attr_write(loc, name, t, s, len ? value : "");
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

static int attr_i64(hid_t loc, const char *name, const int64_t *v, size_t n, int scalar)
{
    hsize_t dim = n;
    hid_t s = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    int rc = attr_write(loc, name, H5T_STD_I64LE, s, v);
    H5Sclose(s);
    return rc;
}

static int attr_f64(hid_t loc, const char *name, double v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    int rc = attr_write(loc, name, H5T_IEEE_F64LE, s, &v);
    H5Sclose(s);
    return rc;
}

/* Datasets and groups are made by core/table's deterministic primitives (h5util.h), the one
 * place pzflow creates HDF5 objects; `p` stays in the writers' signatures as their context. */
static int dset_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                      const void *data, const h5_props *p)
{
    return pz_h5_write_array(loc, name, ftype, mtype, rank, dims, data);
}

static int write_strings(hid_t loc, const char *name, char *const *v, size_t n, const h5_props *p)
{
    size_t width = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i]) > width) width = strlen(v[i]);
    char *buf = pz_xcalloc(n ? n : 1, width);
    for (size_t i = 0; i < n; i++) memcpy(buf + i * width, v[i], strlen(v[i]));
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hsize_t dim = n;
    int rc = dset_write(loc, name, t, t, 1, &dim, buf, p);
    H5Tclose(t);
    free(buf);
    return rc;
}

static hid_t group_new(hid_t loc, const char *name, const h5_props *p)
{
    return pz_h5_group_new(loc, name);
}

static char *layer_names_csv(const pz_net *net)
{
    size_t cap = 16 * (size_t)net->nlayers + 1, len = 0;
    char *s = pz_xcalloc(cap, 1);
    for (int l = 0; l < net->nlayers; l++) {
        char name[32];
        pz_net_layer_name(net, l, name, sizeof name);
        len += snprintf(s + len, cap - len, "%s%s", l ? "," : "", name);
    }
    return s;
}

static int write_root_attrs(hid_t f, const pz_model *m)
{
    const pz_net *net = m->net;
    int64_t sizes[PZ_NET_MAX_LAYERS + 2];
    sizes[0] = net->nin;
    for (int l = 0; l < net->nhidden; l++) sizes[l + 1] = net->hidden[l];
    sizes[net->nhidden + 1] = net->nout;
    int64_t ncomp = net->head.ncomp, samples = m->samples;
    int head_rc = attr_str(f, "head", net->head.kind == PZ_HEAD_MDN ? "mdn" : "point") |
                  attr_i64(f, "components", &ncomp, 1, 1) |
                  attr_str(f, "method", net->head.bayes ? "bnn" : "deterministic");
    if (net->head.bayes)
        head_rc |= attr_f64(f, "prior_sigma", m->prior_sigma) | attr_i64(f, "samples", &samples, 1, 1);
    int64_t one = MODEL_VERSION, skip = net->skip, nw = (int64_t)net->nparams, best = m->best_epoch,
            epochs = (int64_t)m->hist.n, seed = m->seed, batch = m->batch_size;
    char *names = layer_names_csv(net);
    int rc = attr_str(f, "pzflow_format", MODEL_FORMAT) | attr_i64(f, "pzflow_format_version", &one, 1, 1) |
             attr_str(f, "label", m->label ? m->label : "") | attr_str(f, "loss", m->loss ? m->loss : "") |
             attr_str(f, "activation", "relu") | attr_i64(f, "skip", &skip, 1, 1) |
             attr_i64(f, "layer_sizes", sizes, (size_t)net->nhidden + 2, 0) | attr_str(f, "layer_names", names) |
             attr_i64(f, "n_weights", &nw, 1, 1) | attr_i64(f, "best_epoch", &best, 1, 1) |
             attr_i64(f, "epochs_run", &epochs, 1, 1) | attr_i64(f, "seed", &seed, 1, 1) |
             attr_i64(f, "batch_size", &batch, 1, 1) | attr_f64(f, "learning_rate", m->learning_rate) |
             attr_str(f, "frozen", m->frozen ? m->frozen : "") |
             attr_str(f, "corrections", m->corrections ? m->corrections : "");
    free(names);
    return rc || head_rc ? -1 : 0;
}

static int write_weights(hid_t f, const pz_net *net, const h5_props *p)
{
    hid_t g = group_new(f, "weights", p);
    if (g < 0) return -1;
    int rc = 0;
    for (int l = 0; l < net->nlayers && !rc; l++) {
        char name[32];
        pz_net_layer_name(net, l, name, sizeof name);
        hid_t lg = group_new(g, name, p);
        if (lg < 0) {
            rc = -1;
            break;
        }
        hsize_t kd[2] = {(hsize_t)net->din[l], (hsize_t)net->dout[l]}, bd = (hsize_t)net->dout[l];
        rc = dset_write(lg, "kernel", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, kd, net->w[l], p) |
             dset_write(lg, "bias", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &bd, net->b[l], p);
        if (net->head.bayes) {
            const float *rho = net->params + net->nweights;
            rc |= dset_write(lg, "kernel_rho", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, kd, rho + net->woff[l], p) |
                  dset_write(lg, "bias_rho", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &bd, rho + net->boff[l], p);
        }
        H5Gclose(lg);
    }
    H5Gclose(g);
    return rc ? -1 : 0;
}

static int write_scaler(hid_t f, const pz_model *m, const h5_props *p)
{
    hid_t g = group_new(f, "scaler", p);
    if (g < 0) return -1;
    hsize_t n = m->nfeat;
    int rc = write_strings(g, "features", m->features, m->nfeat, p) |
             dset_write(g, "min", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->scaler.min, p) |
             dset_write(g, "max", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->scaler.max, p);
    H5Gclose(g);
    return rc ? -1 : 0;
}

static int write_inputs(hid_t f, const pz_model *m, const h5_props *p)
{
    hid_t g = group_new(f, "inputs", p);
    if (g < 0) return -1;
    hsize_t n = m->nsentinels;
    int rc = write_strings(g, "unit", m->units, m->nfeat, p) |
             dset_write(g, "sentinels", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, m->sentinels, p);
    H5Gclose(g);
    return rc ? -1 : 0;
}

static int write_history(hid_t f, const pz_history *h, const h5_props *p)
{
    hid_t g = group_new(f, "history", p);
    if (g < 0) return -1;
    hsize_t n = h->n;
    int64_t *epoch = pz_xmalloc(sizeof *epoch * (h->n ? h->n : 1));
    for (size_t i = 0; i < h->n; i++) epoch[i] = (int64_t)i + 1;
    int rc = dset_write(g, "epoch", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n, epoch, p) |
             dset_write(g, "train_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, h->train_loss, p) |
             dset_write(g, "val_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, h->val_loss, p) |
             dset_write(g, "lr", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, h->lr, p);
    free(epoch);
    H5Gclose(g);
    return rc ? -1 : 0;
}

int pz_model_save(const char *path, const pz_model *m, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    h5_props p = {0};
    hid_t f = pz_h5_create(path, err);
    int rc = -1;
    if (f < 0) pz_errf(err, "%s: cannot create model file", path);
    else if (write_root_attrs(f, m) || write_weights(f, m->net, &p) || write_scaler(f, m, &p) ||
             write_inputs(f, m, &p) || write_history(f, &m->hist, &p))
        pz_errf(err, "%s: writing the model failed (HDF5 error)", path);
    else rc = 0;
    if (f >= 0 && pz_h5_close(f, path, NULL) < 0 && rc == 0) rc = pz_errf(err, "%s: closing the model file failed", path);
    pz_h5_quiet_end(&q);
    return rc;
}

/* ---- HDF5 reading ---- */

/* An integer attribute's values (scalar or 1-D); returns the count, -1 if absent/wrong. */
static long attr_read_i64(hid_t loc, const char *name, int64_t *out, size_t cap)
{
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t s = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    long rc = -1;
    if (n >= 1 && (size_t)n <= cap && H5Aread(a, H5T_NATIVE_INT64, out) >= 0) rc = (long)n;
    H5Sclose(s);
    H5Aclose(a);
    return rc;
}

static int attr_read_f64(hid_t loc, const char *name, double *out)
{
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, out);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

/* Read a dataset of exactly `rank` dims equal to `dims` (NULL dims: any 1-D; *n gets its length). */
static int dset_read(hid_t loc, const char *name, hid_t mtype, int rank, const hsize_t *dims, void **buf, size_t elsize,
                     size_t *n, const char *path, pz_err *err)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return pz_errf(err, "%s: model file has no dataset '%s'", path, name);
    if (pz_h5_check_types(loc, name, path, err) < 0) return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return pz_errf(err, "%s: cannot open dataset '%s' (file corrupt?)", path, name);
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    hsize_t got[2] = {0, 0};
    if (r >= 1 && r <= 2) H5Sget_simple_extent_dims(s, got, NULL);
    H5Sclose(s);
    int ok = r == rank;
    for (int i = 0; ok && dims && i < rank; i++) ok = got[i] == dims[i];
    if (!ok) {
        H5Dclose(d);
        if (dims && rank == 2)
            return pz_errf(err, "%s: dataset '%s' has shape (%llu, %llu), expected (%llu, %llu)", path, name,
                           (unsigned long long)got[0], (unsigned long long)got[1], (unsigned long long)dims[0],
                           (unsigned long long)dims[1]);
        return pz_errf(err, "%s: dataset '%s' has the wrong shape", path, name);
    }
    size_t total = rank == 2 ? got[0] * got[1] : got[0];
    if (!*buf) *buf = calloc(total ? total : 1, elsize); /* a corrupt file may claim any length */
    if (!*buf) {
        H5Dclose(d);
        return pz_errf(err, "%s: dataset '%s' claims %zu values, more than memory holds (file corrupt?)", path, name, total);
    }
    herr_t rc = total ? H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) : 0;
    H5Dclose(d);
    if (n) *n = total;
    return rc < 0 ? pz_errf(err, "%s: reading dataset '%s' failed", path, name) : 0;
}

/* `n` fixed-length strings of dataset `name` (group/dataset) into out[0..n), replacing them. */
static int read_strings(hid_t f, const char *name, char **out, size_t nwant, const char *path, pz_err *err)
{
    char group[64];
    snprintf(group, sizeof group, "%.*s", (int)(strchr(name, '/') - name), name);
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0 || H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return pz_errf(err, "%s: model file has no %s", path, name);
    if (pz_h5_check_types(f, name, path, err) < 0) return -1;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return pz_errf(err, "%s: cannot open dataset '%s' (file corrupt?)", path, name);
    hid_t ft = H5Dget_type(d), s = H5Dget_space(d);
    hsize_t n = 0;
    int rank = H5Sget_simple_extent_ndims(s);
    if (rank == 1) H5Sget_simple_extent_dims(s, &n, NULL);
    int rc = 0;
    if (rank != 1 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) > 0 || n != nwant) {
        rc = pz_errf(err, "%s: %s must be %zu fixed-length strings", path, name, nwant);
    } else {
        size_t w = H5Tget_size(ft);
        char *buf = pz_xcalloc(n * w + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, w);
        H5Tset_strpad(mt, H5T_STR_NULLPAD);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = pz_errf(err, "%s: reading %s", path, name);
        for (size_t i = 0; i < n && !rc; i++) {
            free(out[i]);
            out[i] = pz_xcalloc(w + 1, 1);
            memcpy(out[i], buf + i * w, w);
        }
        H5Tclose(mt);
        free(buf);
    }
    H5Tclose(ft);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

/* Version 2's /inputs group and `corrections` attribute; a version-1 file keeps what
 * pz_model_new set (no units, no corrections, the default sentinels). */
static int read_inputs(hid_t f, pz_model *m, long version, const char *path, pz_err *err)
{
    if (version < 2) return 0;
    size_t n = 0;
    double *sent = NULL;
    char *corr = NULL;
    if (read_strings(f, "inputs/unit", m->units, m->nfeat, path, err) ||
        dset_read(f, "inputs/sentinels", H5T_NATIVE_DOUBLE, 1, NULL, (void **)&sent, sizeof(double), &n, path, err) ||
        pz_h5_string_attr(f, "corrections", path, &corr, err) < 0) {
        free(sent);
        return -1;
    }
    pz_model_set_sentinels(m, sent, n);
    if (corr) pz_model_set_str(&m->corrections, corr);
    free(corr);
    free(sent);
    return 0;
}

static int read_history(hid_t f, pz_history *h, const char *path, pz_err *err)
{
    size_t n = 0;
    double *tl = NULL, *vl = NULL, *lr = NULL;
    if (dset_read(f, "history/train_loss", H5T_NATIVE_DOUBLE, 1, NULL, (void **)&tl, sizeof(double), &n, path, err))
        return -1;
    hsize_t dim = n;
    if (dset_read(f, "history/val_loss", H5T_NATIVE_DOUBLE, 1, &dim, (void **)&vl, sizeof(double), NULL, path, err) ||
        dset_read(f, "history/lr", H5T_NATIVE_DOUBLE, 1, &dim, (void **)&lr, sizeof(double), NULL, path, err)) {
        free(tl);
        free(vl);
        free(lr);
        return -1;
    }
    for (size_t i = 0; i < n; i++) pz_history_push(h, tl[i], vl[i], lr[i]);
    free(tl);
    free(vl);
    free(lr);
    return 0;
}

/* The head and method attributes (absent in version 1 files: a point, deterministic network). */
static int read_head(hid_t f, const char *path, pz_net_head *h, pz_err *err)
{
    *h = PZ_NET_HEAD_POINT;
    char *kind = NULL, *method = NULL;
    int rc = pz_h5_string_attr(f, "head", path, &kind, err) < 0 || pz_h5_string_attr(f, "method", path, &method, err) < 0
                 ? -1
                 : 0;
    int64_t k = 1;
    if (!rc && kind && strcmp(kind, "point") && strcmp(kind, "mdn"))
        rc = pz_errf(err, "%s: unknown head '%.64s' (known: point, mdn)", path, kind);
    if (!rc && method && strcmp(method, "deterministic") && strcmp(method, "bnn"))
        rc = pz_errf(err, "%s: unknown method '%.64s' (known: deterministic, bnn)", path, method);
    if (!rc && kind && !strcmp(kind, "mdn")) {
        h->kind = PZ_HEAD_MDN;
        if (attr_read_i64(f, "components", &k, 1) != 1 || k < 1 || k > PZ_MDN_MAX_COMPONENTS)
            rc = pz_errf(err, "%s: a mixture-density model needs a 'components' attribute of 1..%d", path,
                         PZ_MDN_MAX_COMPONENTS);
        h->ncomp = (int)k;
    }
    h->bayes = !rc && method && !strcmp(method, "bnn");
    free(kind);
    free(method);
    return rc;
}

/* One layer's kernel and bias (suffix "" for the weights, "_rho" for a bnn's posterior scales)
 * into the arena `base`. */
static int read_layer(hid_t f, const pz_net *net, int l, float *base, const char *suffix, const char *path, pz_err *err)
{
    char name[32], gname[64], kname[80], bname[80];
    pz_net_layer_name(net, l, name, sizeof name);
    snprintf(gname, sizeof gname, "weights/%s", name);
    snprintf(kname, sizeof kname, "weights/%s/kernel%s", name, suffix);
    snprintf(bname, sizeof bname, "weights/%s/bias%s", name, suffix);
    hsize_t kd[2] = {(hsize_t)net->din[l], (hsize_t)net->dout[l]}, bd = (hsize_t)net->dout[l];
    void *w = base + net->woff[l], *b = base + net->boff[l];
    if (H5Lexists(f, "weights", H5P_DEFAULT) <= 0 || H5Lexists(f, gname, H5P_DEFAULT) <= 0)
        return pz_errf(err, "%s: model file has no weights for layer '%s'", path, name);
    if (dset_read(f, kname, H5T_NATIVE_FLOAT, 2, kd, &w, sizeof(float), NULL, path, err) ||
        dset_read(f, bname, H5T_NATIVE_FLOAT, 1, &bd, &b, sizeof(float), NULL, path, err))
        return -1;
    return 0;
}

static pz_net *read_net(hid_t f, const char *path, pz_err *err)
{
    int64_t sizes[PZ_NET_MAX_LAYERS + 3], skip = 0;
    long ns = attr_read_i64(f, "layer_sizes", sizes, PZ_NET_MAX_LAYERS + 2);
    if (ns < 3 || attr_read_i64(f, "skip", &skip, 1) != 1)
        return pz_errf(err, "%s: model file lacks valid 'layer_sizes'/'skip' attributes", path), NULL;
    pz_net_head head;
    if (read_head(f, path, &head, err)) return NULL;
    int nout = head.kind == PZ_HEAD_POINT ? 1 : head.ncomp == 1 ? 2 : 3 * head.ncomp;
    if (sizes[ns - 1] != nout)
        return pz_errf(err, "%s: the output layer has width %lld, but a %s head with %d component%s has width %d", path,
                       (long long)sizes[ns - 1], head.kind == PZ_HEAD_MDN ? "mixture-density" : "point", head.ncomp,
                       head.ncomp > 1 ? "s" : "", nout), NULL;
    int hidden[PZ_NET_MAX_LAYERS];
    for (long l = 0; l < ns - 2; l++) hidden[l] = sizes[l + 1] > 0 && sizes[l + 1] <= 65536 ? (int)sizes[l + 1] : -1;
    if (sizes[0] < 1 || sizes[0] > 65536) return pz_errf(err, "%s: bad input width in 'layer_sizes'", path), NULL;
    pz_net *net = pz_net_new_head((int)sizes[0], hidden, (int)(ns - 2), (int)skip, &head, err);
    if (!net) return pz_err_prefix(err, "%s: ", path), NULL;
    for (int l = 0; l < net->nlayers; l++)
        if (read_layer(f, net, l, net->params, "", path, err) ||
            (head.bayes && read_layer(f, net, l, net->params + net->nweights, "_rho", path, err))) {
            pz_net_free(net);
            return NULL;
        }
    return net;
}

/* ---- load-time checks: a model that would predict garbage is refused, naming the file ---- */

int pz_model_check_scaler(const pz_model *m, const char *what, pz_err *err)
{
    for (size_t j = 0; j < m->nfeat; j++) {
        double lo = m->scaler.min[j], hi = m->scaler.max[j];
        if (!isfinite(lo) || !isfinite(hi) || lo > hi)
            return pz_errf(err, "%s: the scaler of feature '%s' has min %g, max %g (not a finite range)", what,
                           m->features[j], lo, hi);
        if (lo == hi)
            return pz_errf(err, "%s: the scaler of feature '%s' is degenerate (min = max = %g): the feature is constant, "
                                "so it carries no information and cannot be min-max scaled",
                           what, m->features[j], lo);
    }
    return 0;
}

/* Every weight finite: a NaN weight (a diverged training saved by an older pzflow, or a damaged
 * file) makes every prediction NaN or, through ReLU's max, silently finite garbage. */
static int check_weights(const pz_net *net, const char *path, pz_err *err)
{
    for (size_t i = net->nweights; i < net->nparams; i++)
        if (!isfinite(net->params[i]))
            return pz_errf(err, "%s: a posterior scale (rho) of the Bayesian network is %g: a model with non-finite "
                                "weights predicts garbage (was its training diverging?)",
                           path, net->params[i]);
    for (int l = 0; l < net->nlayers; l++) {
        size_t nk = (size_t)net->din[l] * net->dout[l];
        const float *w = net->w[l], *b = net->b[l];
        char name[32];
        for (size_t i = 0; i < nk + (size_t)net->dout[l]; i++) {
            float v = i < nk ? w[i] : b[i - nk];
            if (isfinite(v)) continue;
            pz_net_layer_name(net, l, name, sizeof name);
            if (i < nk)
                return pz_errf(err, "%s: weights/%s/kernel[%zu][%zu] is %g: a model with non-finite weights predicts "
                                    "garbage (was its training diverging?)",
                               path, name, i / net->dout[l], i % net->dout[l], v);
            return pz_errf(err, "%s: weights/%s/bias[%zu] is %g: a model with non-finite weights predicts garbage "
                                "(was its training diverging?)",
                           path, name, i - nk, v);
        }
    }
    return 0;
}

/* The network applies ReLU; a file naming another activation was not written for this code. */
static int check_activation(hid_t f, const char *path, pz_err *err)
{
    char *act = NULL;
    if (pz_h5_string_attr(f, "activation", path, &act, err) < 0) return -1;
    int ok = act && !strcmp(act, "relu");
    if (!ok) {
        if (act) pz_errf(err, "%s: unknown activation '%.64s' (pzflow's network uses relu)", path, act);
        else pz_errf(err, "%s: model file has no 'activation' attribute (pzflow's network uses relu)", path);
    }
    free(act);
    return ok ? 0 : -1;
}

static pz_model *load_open(hid_t f, const char *path, pz_err *err)
{
    char *fmt = NULL;
    if (pz_h5_check_types(f, ".", path, err) < 0 || pz_h5_string_attr(f, "pzflow_format", path, &fmt, err) < 0)
        return NULL;
    int ok = fmt && !strcmp(fmt, MODEL_FORMAT);
    free(fmt);
    if (!ok) return pz_errf(err, "%s: not a pzflow model file (no pzflow_format = \"%s\")", path, MODEL_FORMAT), NULL;
    int64_t version = 0;
    if (attr_read_i64(f, "pzflow_format_version", &version, 1) != 1 || version < MODEL_VERSION_OLDEST ||
        version > MODEL_VERSION)
        return pz_errf(err, "%s: unsupported model format version %lld (this pzflow reads versions %d to %d)", path,
                       (long long)version, MODEL_VERSION_OLDEST, MODEL_VERSION), NULL;
    if (check_activation(f, path, err)) return NULL;
    pz_net *net = read_net(f, path, err);
    if (!net) return NULL;
    if (check_weights(net, path, err)) {
        pz_net_free(net);
        return NULL;
    }
    size_t nfeat = (size_t)net->nin;
    const char **blank = pz_xcalloc(nfeat, sizeof *blank);
    for (size_t i = 0; i < nfeat; i++) blank[i] = "";
    pz_scaler s;
    pz_scaler_init(&s, nfeat);
    pz_model *m = pz_model_new(net, blank, nfeat, &s);
    pz_scaler_free(&s);
    free(blank);
    hsize_t nf = nfeat;
    void *mn = m->scaler.min, *mx = m->scaler.max;
    if (read_strings(f, "scaler/features", m->features, nfeat, path, err) || read_inputs(f, m, (long)version, path, err) ||
        dset_read(f, "scaler/min", H5T_NATIVE_DOUBLE, 1, &nf, &mn, sizeof(double), NULL, path, err) ||
        dset_read(f, "scaler/max", H5T_NATIVE_DOUBLE, 1, &nf, &mx, sizeof(double), NULL, path, err) ||
        read_history(f, &m->hist, path, err) || pz_model_check_scaler(m, path, err)) {
        pz_model_free(m);
        return NULL;
    }
    char **strs[] = {&m->label, &m->loss, &m->frozen};
    const char *names[] = {"label", "loss", "frozen"};
    for (int i = 0; i < 3; i++) {
        char *v = NULL;
        if (pz_h5_string_attr(f, names[i], path, &v, err) < 0) {
            pz_model_free(m);
            return NULL;
        }
        if (v) {
            free(*strs[i]);
            *strs[i] = v;
        }
    }
    int64_t v;
    if (attr_read_i64(f, "best_epoch", &v, 1) == 1) m->best_epoch = (long)v;
    m->seed = -1; /* a file without the attribute: the seed is unknown, not 0 */
    if (attr_read_i64(f, "seed", &v, 1) == 1) m->seed = (long)v;
    if (attr_read_i64(f, "batch_size", &v, 1) == 1) m->batch_size = (long)v;
    attr_read_f64(f, "learning_rate", &m->learning_rate);
    if (m->net->head.bayes) {
        attr_read_f64(f, "prior_sigma", &m->prior_sigma);
        if (attr_read_i64(f, "samples", &v, 1) == 1) m->samples = (long)v;
        if (!(m->prior_sigma > 0) || m->samples < 1 || m->samples > 100000) {
            pz_errf(err, "%s: a Bayesian model needs prior_sigma > 0 and 1..100000 samples, got %g and %ld", path,
                    m->prior_sigma, m->samples);
            pz_model_free(m);
            return NULL;
        }
    }
    return m;
}

pz_model *pz_model_load(const char *path, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    pz_crash_note_reading(path, "HDF5");
    pz_model *m = NULL;
    hid_t f = -1;
    if (access(path, R_OK) != 0) pz_errf(err, "%s: cannot read model file: %s", path, strerror(errno));
    else if (H5Fis_hdf5(path) <= 0) pz_errf(err, "%s: not an HDF5 file", path);
    else if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) pz_errf(err, "%s: cannot open model file", path);
    else m = load_open(f, path, err);
    if (f >= 0) H5Fclose(f);
    pz_crash_note_done();
    pz_h5_quiet_end(&q);
    return m;
}
