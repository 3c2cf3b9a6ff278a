#include "photoz/qp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "photoz/conformal.h"
#include "table/h5nd.h"
#include "util/progress.h"

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
    for (size_t i = 0; i < o->grid_n; i++) x[i] = o->grid_lo + (o->grid_hi - o->grid_lo) * (double)i / (double)(o->grid_n - 1);
    size_t dims[2] = {1, o->grid_n};
    int rc = pz_h5nd_write(f, "/meta/xvals", PZ_H5ND_F64, 2, dims, x, 0, err);
    free(x);
    return rc;
}

static int write_mixmod(pz_h5nd *f, const pz_table *t, const pz_pdf_cols *pc, pz_err *err)
{
    static const char *const names[3] = {"/data/weights", "/data/means", "/data/stds"};
    const pz_column *const *cols[3] = {pc->w, pc->mu, pc->sd};
    float *v = pz_xmalloc((t->nrows * pc->k + 1) * sizeof *v);
    size_t dims[2] = {t->nrows, pc->k};
    int rc = 0;
    for (int a = 0; a < 3 && rc == 0; a++) {
        for (size_t i = 0; i < t->nrows; i++)
            for (size_t k = 0; k < pc->k; k++) v[i * pc->k + k] = (float)pz_col_f64(cols[a][k], i);
        rc = pz_h5nd_write(f, names[a], PZ_H5ND_F32, 2, dims, v, 0, err);
    }
    free(v);
    return rc;
}

/* The mixture's density on the grid; NaN for a row whose mixture is not usable. */
static int write_interp(pz_h5nd *f, const pz_table *t, const pz_pdf_cols *pc, const pz_qp_opts *o, pz_err *err)
{
    double *y = pz_xmalloc((t->nrows * o->grid_n + 1) * sizeof *y);
    double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
    for (size_t i = 0; i < t->nrows; i++) {
        pz_gmix g;
        int ok = pz_pdf_row(pc, i, w, mu, sd, &g) == 0;
        for (size_t j = 0; j < o->grid_n; j++) {
            double x = o->grid_lo + (o->grid_hi - o->grid_lo) * (double)j / (double)(o->grid_n - 1), p = 0;
            for (size_t k = 0; ok && k < g.k; k++) p += g.w[k] * gsl_ran_gaussian_pdf(x - g.mu[k], g.sd[k]);
            y[i * o->grid_n + j] = ok ? p : NAN;
        }
    }
    size_t dims[2] = {t->nrows, o->grid_n};
    int rc = pz_h5nd_write(f, "/data/yvals", PZ_H5ND_F64, 2, dims, y, 0, err);
    free(y);
    return rc;
}

static int write_column(pz_h5nd *f, const char *name, const pz_column *c, size_t n, pz_err *err)
{
    char *path = pz_xasprintf("/ancil/%s", name);
    int rc;
    if (c->type == PZ_STR) {
        rc = pz_h5nd_write(f, path, PZ_H5ND_STR, 1, &n, c->data, c->width, err);
    } else if (c->type == PZ_F32 || c->type == PZ_F64) {
        rc = pz_h5nd_write(f, path, c->type == PZ_F32 ? PZ_H5ND_F32 : PZ_H5ND_F64, 1, &n, c->data, 0, err);
    } else { /* integers and booleans as int64 */
        int64_t *v = pz_xmalloc((n + 1) * sizeof *v);
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)pz_col_f64(c, i);
        rc = pz_h5nd_write(f, path, PZ_H5ND_I64, 1, &n, v, 0, err);
        free(v);
    }
    free(path);
    return rc;
}

static int write_ancil(pz_h5nd *f, const pz_table *t, const pz_qp_opts *o, pz_err *err)
{
    if (pz_h5nd_group(f, "/ancil", err) < 0) return -1;
    for (size_t c = 0; c < t->ncols; c++) {
        const pz_column *col = &t->cols[c];
        if (!strncmp(col->name, "pdf_", 4) || !strcmp(col->name, "zmode") || strchr(col->name, '/')) continue;
        if (write_column(f, col->name, col, t->nrows, err) < 0) return -1;
    }
    const pz_column *zp = pz_table_col(t, o->z_pred_col);
    return zp ? write_column(f, "zmode", zp, t->nrows, err) : 0;
}

int pz_qp_write(const char *path, const pz_table *t, const pz_qp_opts *o, pz_err *err)
{
    pz_pdf_cols pc;
    int has = pz_pdf_cols_find(t, "predictions", &pc, err);
    if (has < 0) return -1;
    if (!has)
        return pz_errf(err, "predictions: no p(z) (attribute pdf = gaussian_mixture): a qp ensemble needs one; "
                            "a point model's intervals stay in the predictions table");
    if (o->format == PZ_QP_INTERP && !(o->grid_n >= 2 && o->grid_hi > o->grid_lo))
        return pz_errf(err, "param 'grid': need [lo, hi, n] with lo < hi and n >= 2");
    pz_h5nd *f = pz_h5nd_create(path, err);
    if (!f) return -1;
    int rc = write_meta(f, o, err) < 0 || pz_h5nd_group(f, "/data", err) < 0 ||
                     (o->format == PZ_QP_MIXMOD ? write_mixmod(f, t, &pc, err) : write_interp(f, t, &pc, o, err)) < 0 ||
                     write_ancil(f, t, o, err) < 0
                 ? -1
                 : 0;
    if (pz_h5nd_close(f, err) < 0) rc = -1;
    return rc;
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
