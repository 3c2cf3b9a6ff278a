#include "nn/predict.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/pdf.h"
#include "nn/train.h"
#include "table/table.h"
#include "table/h5util.h"
#include "util/suggest.h"

#define DEFAULT_READ_ROWS 65536

size_t pz_model_predict(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out)
{
    return pz_model_predict_pdf(m, ws, x, rows, out, NULL);
}

/* A row the network cannot take has no p(z) either. */
static void pdf_rows_nan(const pz_pdf_block *pdf, int K, size_t row)
{
    for (int k = 0; k < K; k++) pdf->weight[k * pdf->stride + row] = pdf->mean[k * pdf->stride + row] =
        pdf->std[k * pdf->stride + row] = NAN;
}

size_t pz_model_predict_pdf(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out,
                            const pz_pdf_block *pdf)
{
    int K = pz_model_pdf_ncomp(m);
    size_t nf = m->nfeat, nan_rows = 0;
    for (size_t start = 0; start < rows; start += ws->cap) {
        int n = (int)(rows - start < (size_t)ws->cap ? rows - start : (size_t)ws->cap);
        float *in = ws->act[0];
        memcpy(in, x + start * nf, sizeof(float) * n * nf);
        pz_scaler_apply(&m->scaler, in, n);
        /* A NaN would not survive the ReLU (NaN > 0 is false, so it becomes 0) and would give a
         * plausible-looking redshift; such rows are zeroed for the forward and marked NaN after. */
        uint8_t bad[n];
        for (int r = 0; r < n; r++) {
            bad[r] = 0;
            for (size_t j = 0; j < nf; j++) bad[r] |= !isfinite(in[r * nf + j]);
            if (bad[r]) memset(in + r * nf, 0, sizeof(float) * nf);
        }
        pz_pdf_block at = {0};
        if (pdf && K)
            at = (pz_pdf_block){pdf->weight + start, pdf->mean + start, pdf->std + start, pdf->stride};
        pz_model_forward_pdf(m, ws, n, out + start, pdf && K ? &at : NULL);
        for (int r = 0; r < n; r++) {
            if (bad[r]) out[start + r] = NAN;
            if (bad[r] && pdf && K) pdf_rows_nan(&at, K, (size_t)r);
            nan_rows += bad[r];
        }
    }
    return nan_rows;
}

/* ---- streaming HDF5 output in the table layout of core/table ---- */

typedef struct {
    hid_t file;
    hid_t id, zpred, ztrue; /* datasets, -1 when absent */
    int ncomp;              /* p(z) components, 0 = none */
    hid_t pdf[3][PZ_MDN_MAX_COMPONENTS]; /* pdf_weight_k, pdf_mean_k, pdf_std_k */
} pred_out;


static hid_t out_dataset(hid_t f, const char *name, hid_t type, size_t rows)
{
    hsize_t dim = rows;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

static const char *const PDF_COLUMNS[3] = {"pdf_weight", "pdf_mean", "pdf_std"};

/* The p(z) columns and the attributes that say how to read them (predictions contract). */
static int out_open_pdf(pred_out *o, int ncomp, size_t rows, const char *path, pz_err *err)
{
    o->ncomp = ncomp;
    if (!ncomp) return 0;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < ncomp; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", PDF_COLUMNS[c], k);
            if ((o->pdf[c][k] = out_dataset(o->file, name, H5T_IEEE_F32LE, rows)) < 0)
                return pz_errf(err, "%s: cannot create the predictions dataset '%s'", path, name);
        }
    char text[16];
    snprintf(text, sizeof text, "%d", ncomp);
    if (pz_h5_write_string_attr(o->file, "pdf", "gaussian_mixture") < 0 ||
        pz_h5_write_string_attr(o->file, "pdf_ncomp", text) < 0)
        return pz_errf(err, "%s: writing the p(z) attributes failed", path);
    return 0;
}

static int out_open(pred_out *o, const char *path, const char *id_name, int with_truth, size_t rows, long seed,
                    int ncomp, pz_err *err)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    o->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    o->id = o->zpred = o->ztrue = -1;
    o->ncomp = 0;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < PZ_MDN_MAX_COMPONENTS; k++) o->pdf[c][k] = -1;
    if (o->file < 0) return pz_errf(err, "%s: cannot create the predictions file", path);
    if (id_name) o->id = out_dataset(o->file, id_name, H5T_STD_I64LE, rows);
    o->zpred = out_dataset(o->file, "z_pred", H5T_IEEE_F32LE, rows);
    if (with_truth) o->ztrue = out_dataset(o->file, "z_true", H5T_IEEE_F64LE, rows);
    if ((id_name && o->id < 0) || o->zpred < 0 || (with_truth && o->ztrue < 0))
        return pz_errf(err, "%s: cannot create the predictions datasets", path);
    if (out_open_pdf(o, ncomp, rows, path, err)) return -1;
    /* The model's seed travels with its predictions, so evaluate labels per-seed rows with the
     * pipeline's seeds (1..N) rather than list positions (0..N-1). */
    if (seed >= 0) {
        char text[32];
        snprintf(text, sizeof text, "%ld", seed);
        if (pz_h5_write_string_attr(o->file, "seed", text) < 0)
            return pz_errf(err, "%s: writing attribute 'seed' failed", path);
    }
    return 0;
}

static int out_write(hid_t d, hid_t mtype, size_t start, size_t n, const void *data)
{
    if (d < 0 || n == 0) return 0;
    hsize_t off = start, cnt = n;
    hid_t fsp = H5Dget_space(d), msp = H5Screate_simple(1, &cnt, NULL);
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    herr_t rc = H5Dwrite(d, mtype, msp, fsp, H5P_DEFAULT, data);
    H5Sclose(msp);
    H5Sclose(fsp);
    return rc < 0 ? -1 : 0;
}

static int out_close(pred_out *o, const char *path, int rc, pz_err *err)
{
    hid_t ds[3] = {o->id, o->zpred, o->ztrue};
    for (int i = 0; i < 3; i++)
        if (ds[i] >= 0) H5Dclose(ds[i]);
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < o->ncomp; k++)
            if (o->pdf[c][k] >= 0) H5Dclose(o->pdf[c][k]);
    if (o->file >= 0 && H5Fclose(o->file) < 0 && rc == 0)
        rc = pz_errf(err, "%s: closing the predictions file failed (disk full?)", path);
    return rc;
}

/* ---- the whole job ---- */

typedef struct {
    const char *cols[PZ_NET_MAX_LAYERS + 68]; /* features, then id, then label */
    size_t ncols;
    const char *id, *label;
    size_t rows;
    int hdu;
} pred_plan;

static const pz_colinfo *info_col(const pz_colinfo *info, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(info[i].name, name)) return &info[i];
    return NULL;
}

/* " (did you mean 'x'?)" when a column of the table is a likely typo of `name`, else "". A
 * column the model uses as a feature is not offered: 'g_cmodel_mag' is one edit from a missing
 * 'r_cmodel_mag', but it is there as itself. */
static const char *guess_of(const pz_model *m, const pz_colinfo *info, size_t n, const char *name, char *buf,
                            size_t cap)
{
    const char **names = pz_xmalloc((n ? n : 1) * sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int feature = 0;
        for (size_t j = 0; j < m->nfeat && !feature; j++) feature = !strcmp(info[i].name, m->features[j]);
        if (!feature) names[k++] = info[i].name;
    }
    const char *g = pz_closest_name(name, names, k);
    if (g) snprintf(buf, cap, " (did you mean '%s'?)", g);
    else buf[0] = 0;
    free(names);
    return buf;
}

/* Check the table against the model before any work, from its header alone (FITS or HDF5):
 * every model feature, the label and an explicitly named id column must be there; all missing
 * features are listed at once. */
static int plan(const pz_model *m, const char *path, const pz_predict_opts *o, pred_plan *p, pz_err *err)
{
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    long rows = 0;
    if (pz_table_info_any(path, o->hdu ? o->hdu : 1, &info, &ninfo, &rows, err)) return -1;
    char missing[PZ_ERR_MAX / 2] = "";
    size_t nmiss = 0, used = 0;
    for (size_t j = 0; j < m->nfeat; j++) {
        if (info_col(info, ninfo, m->features[j])) continue;
        char g[160];
        if (used < sizeof missing)
            used += snprintf(missing + used, sizeof missing - used, "%s'%s'%s", nmiss ? ", " : "", m->features[j],
                             guess_of(m, info, ninfo, m->features[j], g, sizeof g));
        nmiss++;
    }
    int rc = 0;
    if (nmiss)
        rc = pz_errf(err, "%s: the model's feature%s %s %s not in the table (model features must all be columns)",
                     path, nmiss > 1 ? "s" : "", missing, nmiss > 1 ? "are" : "is");
    const char *id = o->id_column ? o->id_column : "object_id";
    const pz_colinfo *idc = info_col(info, ninfo, id);
    char g[160];
    if (!rc && o->label && !info_col(info, ninfo, o->label))
        rc = pz_errf(err, "%s: label column '%s' not in the table%s", path, o->label,
                     guess_of(m, info, ninfo, o->label, g, sizeof g));
    if (!rc && !idc && o->id_required)
        rc = pz_errf(err, "%s: id column '%s' not in the table%s", path, id, guess_of(m, info, ninfo, id, g, sizeof g));
    if (!rc && idc && (idc->type == PZ_F32 || idc->type == PZ_F64 || idc->type == PZ_STR))
        rc = pz_errf(err, "%s: id column '%s' is %s; an integer column is needed", path, id,
                     pz_coltype_name(idc->type));
    if (!rc && rows == 0) rc = pz_errf(err, "%s: the table has no rows", path);
    p->ncols = 0;
    for (size_t j = 0; j < m->nfeat; j++) p->cols[p->ncols++] = m->features[j];
    p->id = idc ? id : NULL;
    p->label = o->label;
    if (p->id) p->cols[p->ncols++] = p->id;
    if (p->label) p->cols[p->ncols++] = p->label;
    p->rows = rows > 0 ? (size_t)rows : 0;
    p->hdu = o->hdu ? o->hdu : 1;
    pz_colinfo_free(info, ninfo);
    return rc;
}

/* Copy the id column of a chunk as int64 (exact for int64 inputs, no detour through double). */
static void id_values(const pz_column *c, size_t n, int64_t *out)
{
    if (c->type == PZ_I64) memcpy(out, c->data, sizeof *out * n);
    else
        for (size_t i = 0; i < n; i++) out[i] = (int64_t)pz_col_f64(c, i);
}

typedef struct {
    float *x, *z;
    int64_t *id;
    double *truth;
    pz_net_ws *ws;
    pz_pdf_block pdf; /* chunk-sized columns when the model gives a p(z) */
} pred_buffers;

/* Write the chunk's p(z) columns. */
static int out_write_pdf(const pred_out *out, const pz_pdf_block *pdf, size_t start, size_t n)
{
    const float *cols[3] = {pdf->weight, pdf->mean, pdf->std};
    int rc = 0;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < out->ncomp; k++)
            rc |= out_write(out->pdf[c][k], H5T_NATIVE_FLOAT, start, n, cols[c] + (size_t)k * pdf->stride);
    return rc;
}

static int predict_chunk(const pz_model *m, const char *path, const pred_plan *p, size_t start, size_t want,
                         pred_buffers *b, pred_out *out, pz_predict_stats *st, pz_err *err)
{
    pz_table *t = NULL;
    if (pz_table_read_any(path, p->hdu, p->cols, p->ncols, start, want, &t, err)) return -1;
    size_t n = t->nrows;
    int rc = pz_table_matrix_f32(t, (const char *const *)p->cols, m->nfeat, b->x, 1, err);
    if (!rc) {
        st->nan_rows += pz_model_predict_pdf(m, b->ws, b->x, n, b->z, out->ncomp ? &b->pdf : NULL);
        if (p->id) id_values(pz_table_col(t, p->id), n, b->id);
        if (p->label) {
            const pz_column *lc = pz_table_col(t, p->label);
            for (size_t i = 0; i < n; i++) b->truth[i] = pz_col_f64(lc, i);
        }
        if (out_write(out->zpred, H5T_NATIVE_FLOAT, start, n, b->z) ||
            out_write(out->id, H5T_NATIVE_INT64, start, n, b->id) ||
            out_write(out->ztrue, H5T_NATIVE_DOUBLE, start, n, b->truth) || out_write_pdf(out, &b->pdf, start, n))
            rc = pz_errf(err, "writing predictions for rows %zu..%zu failed (disk full?)", start, start + n);
        st->rows += n;
    }
    pz_table_free(t);
    return rc;
}

int pz_predict_file(const pz_model *m, const char *table_path, const char *out_path, const pz_predict_opts *o,
                    pz_predict_stats *stats, pz_err *err)
{
    memset(stats, 0, sizeof *stats);
    if (m->nfeat > PZ_NET_MAX_LAYERS + 64) return pz_errf(err, "model has too many features (%zu)", m->nfeat);
    pred_plan p;
    if (plan(m, table_path, o, &p, err)) return -1;
    size_t chunk = o->read_rows ? o->read_rows : DEFAULT_READ_ROWS;
    pred_buffers b = {pz_xmalloc(sizeof(float) * chunk * m->nfeat), pz_xmalloc(sizeof(float) * chunk),
                      pz_xmalloc(sizeof(int64_t) * chunk), pz_xmalloc(sizeof(double) * chunk),
                      pz_net_ws_new(m->net, PZ_EVAL_CHUNK), {0}};
    int ncomp = pz_model_pdf_ncomp(m);
    if (ncomp) {
        size_t cells = chunk * (size_t)ncomp;
        b.pdf = (pz_pdf_block){pz_xmalloc(sizeof(float) * cells), pz_xmalloc(sizeof(float) * cells),
                               pz_xmalloc(sizeof(float) * cells), chunk};
    }
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    pred_out out;
    int rc = out_open(&out, out_path, p.id, p.label != NULL, p.rows, m->seed, ncomp, err);
    for (size_t start = 0; rc == 0 && start < p.rows; start += chunk) {
        rc = predict_chunk(m, table_path, &p, start, chunk, &b, &out, stats, err);
        if (o->progress) o->progress(o->ctx, stats->rows, p.rows);
    }
    rc = out_close(&out, out_path, rc, err);
    H5Eset_auto2(H5E_DEFAULT, func, data);
    free(b.x);
    free(b.z);
    free(b.id);
    free(b.truth);
    free(b.pdf.weight);
    free(b.pdf.mean);
    free(b.pdf.std);
    pz_net_ws_free(b.ws);
    return rc;
}
