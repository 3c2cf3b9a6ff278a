#include "photoz/qp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "photoz/conformal.h"
#include "table/h5nd.h"
#include "util/progress.h"

/* Rows are written in blocks of this many, which are also the HDF5 chunks of every dataset:
 * rows arriving in pieces of any size are buffered to whole blocks, so the file depends on the
 * rows alone (`pzflow predict --qp` writes as it predicts, whatever its --chunk). */
#define QP_BLOCK_ROWS 4096

struct pz_qp_stream {
    pz_h5nd *f;
    pz_qp_opts o;
    pz_table *pending; /* fewer than QP_BLOCK_ROWS rows not written yet */
    size_t k;          /* mixture components */
    size_t *str_width; /* per column of the table: the width of its /ancil dataset (strings) */
};

static double grid_x(const pz_qp_opts *o, size_t j)
{
    return o->grid_lo + (o->grid_hi - o->grid_lo) * (double)j / (double)(o->grid_n - 1);
}

static int write_meta(pz_h5nd *f, const pz_qp_opts *o, pz_err *err)
{
    const char *name = o->format == PZ_QP_MIXMOD ? "mixmod" : "interp";
    size_t one = 1;
    int64_t version = 0;
    if (pz_h5nd_group(f, "/meta", err) < 0 ||
        pz_h5nd_write(f, "/meta/pdf_name", PZ_H5ND_STR, 1, &one, name, strlen(name), err) < 0 ||
        pz_h5nd_write(f, "/meta/pdf_version", PZ_H5ND_I64, 1, &one, &version, 0, err) < 0)
        return -1;
    if (o->format != PZ_QP_INTERP) return 0;
    double *x = pz_xmalloc(o->grid_n * sizeof *x);
    for (size_t i = 0; i < o->grid_n; i++) x[i] = grid_x(o, i);
    size_t dims[2] = {1, o->grid_n};
    int rc = pz_h5nd_write(f, "/meta/xvals", PZ_H5ND_F64, 2, dims, x, 0, err);
    free(x);
    return rc;
}

static const char *const MIXMOD_NAMES[3] = {"/data/weights", "/data/means", "/data/stds"};

/* Columns of the table that go to /ancil: all but the mixture, a zmode of its own, and names
 * HDF5 would read as a path. */
static int is_ancil(const pz_column *c)
{
    return strncmp(c->name, "pdf_", 4) && strcmp(c->name, "zmode") && !strchr(c->name, '/');
}

static pz_h5nd_type ancil_type(const pz_column *c)
{
    return c->type == PZ_STR ? PZ_H5ND_STR : c->type == PZ_F32 ? PZ_H5ND_F32 : c->type == PZ_F64 ? PZ_H5ND_F64 : PZ_H5ND_I64;
}

static int create_datasets(pz_qp_stream *s, const pz_table *t, pz_err *err)
{
    size_t dims[2] = {0, s->o.format == PZ_QP_MIXMOD ? s->k : s->o.grid_n};
    if (pz_h5nd_group(s->f, "/data", err) < 0) return -1;
    for (int a = 0; a < (s->o.format == PZ_QP_MIXMOD ? 3 : 0); a++)
        if (pz_h5nd_create_growing(s->f, MIXMOD_NAMES[a], PZ_H5ND_F32, 2, dims, QP_BLOCK_ROWS, 0, err) < 0) return -1;
    if (s->o.format == PZ_QP_INTERP &&
        pz_h5nd_create_growing(s->f, "/data/yvals", PZ_H5ND_F64, 2, dims, QP_BLOCK_ROWS, 0, err) < 0)
        return -1;
    if (pz_h5nd_group(s->f, "/ancil", err) < 0) return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        const pz_column *col = &t->cols[c];
        s->str_width[c] = col->type == PZ_STR ? col->width : 0;
        char *path = pz_xasprintf("/ancil/%s", col->name);
        int rc = is_ancil(col) ? pz_h5nd_create_growing(s->f, path, ancil_type(col), 1, dims, QP_BLOCK_ROWS,
                                                         s->str_width[c], err)
                               : 0;
        free(path);
        if (rc < 0) return -1;
    }
    const pz_column *zp = pz_table_col(t, s->o.z_pred_col);
    return zp ? pz_h5nd_create_growing(s->f, "/ancil/zmode", ancil_type(zp), 1, dims, QP_BLOCK_ROWS, 0, err) : 0;
}

static int append_mixmod(pz_qp_stream *s, const pz_pdf_cols *pc, size_t first, size_t n, pz_err *err)
{
    const pz_column *const *cols[3] = {pc->w, pc->mu, pc->sd};
    float *v = pz_xmalloc((n * pc->k + 1) * sizeof *v);
    int rc = 0;
    for (int a = 0; a < 3 && rc == 0; a++) {
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < pc->k; k++) v[i * pc->k + k] = (float)pz_col_f64(cols[a][k], first + i);
        rc = pz_h5nd_append(s->f, MIXMOD_NAMES[a], PZ_H5ND_F32, n, v, 0, err);
    }
    free(v);
    return rc;
}

/* The p(z)'s density on the grid (recalibrated, when the table has a map); NaN for a row whose
 * mixture is not usable. */
static int append_interp(pz_qp_stream *s, const pz_pdf_cols *pc, size_t first, size_t n, pz_err *err)
{
    const pz_qp_opts *o = &s->o;
    double *y = pz_xmalloc((n * o->grid_n + 1) * sizeof *y);
    double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
    for (size_t i = 0; i < n; i++) {
        pz_gmix g;
        int ok = pz_pdf_row(pc, first + i, w, mu, sd, &g) == 0;
        for (size_t j = 0; j < o->grid_n; j++) {
            y[i * o->grid_n + j] = ok ? pz_gmix_pdf(&g, grid_x(o, j)) : NAN;
        }
    }
    int rc = pz_h5nd_append(s->f, "/data/yvals", PZ_H5ND_F64, n, y, 0, err);
    free(y);
    return rc;
}

static int append_column(pz_qp_stream *s, const char *name, const pz_column *c, size_t width, size_t first, size_t n,
                         pz_err *err)
{
    char *path = pz_xasprintf("/ancil/%s", name);
    int rc;
    if (c->type == PZ_STR && c->width != width) {
        rc = pz_errf(err, "qp: column '%s' is %zu bytes wide in these rows, %zu in the first", name, c->width, width);
    } else if (c->type == PZ_STR || c->type == PZ_F32 || c->type == PZ_F64) {
        rc = pz_h5nd_append(s->f, path, ancil_type(c), n, (const char *)c->data + first * c->width, width, err);
    } else { /* integers and booleans as int64 */
        int64_t *v = pz_xmalloc((n + 1) * sizeof *v);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)pz_col_f64(c, first + i);
        rc = pz_h5nd_append(s->f, path, PZ_H5ND_I64, n, v, 0, err);
        free(v);
    }
    free(path);
    return rc;
}

/* Rows [first, first + n) of t, t having the stream's columns. */
static int append_rows(pz_qp_stream *s, const pz_table *t, size_t first, size_t n, pz_err *err)
{
    pz_pdf_cols pc;
    if (pz_pdf_cols_find(t, "predictions", &pc, err) < 0) return -1;
    if ((s->o.format == PZ_QP_MIXMOD ? append_mixmod(s, &pc, first, n, err) : append_interp(s, &pc, first, n, err)) < 0)
        return -1;
    for (size_t c = 0; c < t->ncols; c++)
        if (is_ancil(&t->cols[c]) && append_column(s, t->cols[c].name, &t->cols[c], s->str_width[c], first, n, err) < 0)
            return -1;
    const pz_column *zp = pz_table_col(t, s->o.z_pred_col);
    return zp ? append_column(s, "zmode", zp, 0, first, n, err) : 0;
}

pz_qp_stream *pz_qp_open(const char *path, const pz_table *proto, const pz_qp_opts *o, pz_err *err)
{
    pz_pdf_cols pc;
    int has = pz_pdf_cols_find(proto, "predictions", &pc, err);
    if (has < 0) return NULL;
    if (!has) {
        pz_errf(err, "predictions: no p(z) (attribute pdf = gaussian_mixture): a qp ensemble needs one; "
                     "a point model's intervals stay in the predictions table");
        return NULL;
    }
    if (o->format == PZ_QP_MIXMOD && pc.nmap) {
        pz_errf(err, "predictions: the p(z) is recalibrated (attribute %s), which a mixture cannot carry: "
                     "use format: interp", PZ_PIT_MAP_ATTR);
        return NULL;
    }
    if (o->format == PZ_QP_INTERP && !(o->grid_n >= 2 && o->grid_hi > o->grid_lo)) {
        pz_errf(err, "param 'grid': need [lo, hi, n] with lo < hi and n >= 2");
        return NULL;
    }
    pz_h5nd *f = pz_h5nd_create(path, err);
    if (!f) return NULL;
    pz_qp_stream *s = pz_xcalloc(1, sizeof *s);
    *s = (pz_qp_stream){f, *o, pz_table_take(proto, NULL, 0), pc.k, pz_xcalloc(proto->ncols + 1, sizeof(size_t))};
    if (write_meta(f, o, err) < 0 || create_datasets(s, proto, err) < 0) {
        pz_h5nd_close(s->f, NULL);
        s->f = NULL;
        pz_qp_close(s, NULL);
        return NULL;
    }
    return s;
}

int pz_qp_append(pz_qp_stream *s, const pz_table *chunk, pz_err *err)
{
    pz_table *parts[2] = {s->pending, (pz_table *)chunk};
    pz_table *all = pz_table_concat(parts, 2, err);
    if (!all) return -1;
    size_t whole = all->nrows - all->nrows % QP_BLOCK_ROWS;
    int rc = 0;
    for (size_t first = 0; first < whole && rc == 0; first += QP_BLOCK_ROWS)
        rc = append_rows(s, all, first, QP_BLOCK_ROWS, err);
    size_t rest = all->nrows - whole, *idx = pz_xmalloc((rest + 1) * sizeof *idx);
    for (size_t i = 0; i < rest; i++) idx[i] = whole + i;
    pz_table_free(s->pending);
    s->pending = pz_table_take(all, idx, rest);
    free(idx);
    pz_table_free(all);
    return rc;
}

int pz_qp_close(pz_qp_stream *s, pz_err *err)
{
    if (!s) return 0;
    int rc = s->f && s->pending->nrows ? append_rows(s, s->pending, 0, s->pending->nrows, err) : 0;
    if (s->f && pz_h5nd_close(s->f, err) < 0) rc = -1;
    pz_table_free(s->pending);
    free(s->str_width);
    free(s);
    return rc;
}

int pz_qp_write(const char *path, const pz_table *t, const pz_qp_opts *o, pz_err *err)
{
    pz_qp_stream *s = pz_qp_open(path, t, o, err);
    if (!s) return -1;
    int rc = pz_qp_append(s, t, err);
    return pz_qp_close(s, rc ? NULL : err) < 0 || rc ? -1 : 0;
}

/* --- the stage ------------------------------------------------------------------------------ */

typedef struct qp_params {
    const char *format, *z_pred_column;
    const pz_ynode *grid;
} qp_params;

static int read_grid(const pz_spec *spec, const pz_ynode *n, pz_qp_opts *o, pz_err *err)
{
    o->grid_lo = 0, o->grid_hi = 4, o->grid_n = 401;
    if (!n) return 0;
    double v[3];
    if (n->kind != PZ_Y_SEQ || n->n != 3)
        return pz_errf(err, "%s:%d:%d: param 'grid': expected [lo, hi, n]", spec->path, n->line, n->col);
    for (int i = 0; i < 3; i++)
        if (pz_yscalar_double(n->items[i], spec->path, &v[i], err) < 0) return pz_err_prefix(err, "param 'grid': ");
    if (!(v[2] >= 2 && v[2] <= 1e6 && v[2] == floor(v[2])))
        return pz_errf(err, "param 'grid': n = %g must be a whole number from 2 to 1000000", v[2]);
    o->grid_lo = v[0], o->grid_hi = v[1], o->grid_n = (size_t)v[2];
    return 0;
}

static int export_qp_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const qp_params *a = params;
    pz_qp_opts o = {.format = strcmp(a->format, "interp") ? PZ_QP_MIXMOD : PZ_QP_INTERP, .z_pred_col = a->z_pred_column};
    const char *in, *out;
    if (read_grid(spec, a->grid, &o, err) < 0 || pz_spec_input(spec, "predictions", &in, err) < 0 ||
        pz_spec_output(spec, "qp", &out, err) < 0)
        return -1;
    pz_table *t = NULL;
    pz_progress(0, "reading");
    if (pz_table_read_any(in, 0, NULL, 0, 0, (size_t)-1, &t, err) < 0) return pz_err_prefix(err, "input 'predictions': ");
    int rc = pz_qp_write(out, t, &o, err);
    if (rc == 0) *summary = pz_xasprintf("qp ensemble (%s) of %zu galaxies\n", a->format, t->nrows);
    pz_table_free(t);
    pz_progress(1, "done");
    return rc;
}

#define QF(m) PZ_FIELD(qp_params, m)
static const pz_param_def QP_PARAMS[] = {
    {PZ_PARAM("format", PZ_PT_STRING, "mixmod", "qp parameterization: the mixture itself, or its density on a grid"),
     .choices = "mixmod|interp", .field = QF(format)},
    {PZ_PARAM("grid", PZ_PT_LIST, "[0, 4, 401]", "interp: the redshift grid [lo, hi, n]"), .field = QF(grid)},
    {PZ_PARAM("z_pred_column", PZ_PT_STRING, "z_pred", "point estimate, copied to ancil as zmode"), .field = QF(z_pred_column)},
    {0}};
static const pz_io_def QP_INPUTS[] = {{"predictions", PZ_IO_ONE, 0, "predictions with a p(z) (Gaussian mixture)"}, {0}};
static const pz_io_def QP_OUTPUTS[] = {{"qp", PZ_IO_ONE, 0, "the qp ensemble (HDF5: /meta, /data, /ancil)", ".hdf5"}, {0}};

const pz_stage_def pz_export_qp_stage = {
    .prog = "pzflow-export-qp", .docs = "docs/uncertainty.md",
    .summary = "write predictions' p(z) as a qp ensemble file (mixmod or interp) for RAIL",
    .params = QP_PARAMS, .inputs = QP_INPUTS, .outputs = QP_OUTPUTS,
    .params_size = sizeof(qp_params), .run = export_qp_stage};
