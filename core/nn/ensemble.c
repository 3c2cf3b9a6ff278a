#include "nn/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/mdn.h"
#include "nn/net.h"
#include "table/table.h"

/* One member as read: its z_pred and, when it has a p(z), its K components' columns. */
typedef struct {
    const char *path;
    pz_table *t;
    const pz_column *z;
    int ncomp;                       /* 0: a point member */
    const pz_column *w[PZ_MDN_MAX_COMPONENTS], *mu[PZ_MDN_MAX_COMPONENTS], *sd[PZ_MDN_MAX_COMPONENTS];
} member;

/* The columns the ensemble computes rather than copies from the first member. */
static int is_computed(const char *name)
{
    return !strcmp(name, "z_pred") || !strcmp(name, "z_true") || !strcmp(name, "flag") || !strncmp(name, "pdf_", 4) ||
           !strncmp(name, "z_lo_", 5) || !strncmp(name, "z_hi_", 5);
}

static int is_integer(pz_coltype t)
{
    return t == PZ_I64 || t == PZ_I32 || t == PZ_I16 || t == PZ_U8 || t == PZ_BOOL;
}

/* The p(z) columns of a member that declares one (pdf = gaussian_mixture, pdf_ncomp = K). */
static int member_pdf(member *m, pz_err *err)
{
    const char *kind = pz_table_attr(m->t, "pdf"), *nc = pz_table_attr(m->t, "pdf_ncomp");
    m->ncomp = 0;
    if (!kind) return 0;
    if (strcmp(kind, "gaussian_mixture"))
        return pz_errf(err, "%s: p(z) of kind '%s' (the ensemble combines gaussian_mixture)", m->path, kind);
    /* (the attribute pzflow-conformal's recalibration writes; its p(z) is no longer the mixture) */
    if (pz_table_attr(m->t, "pdf_pit_map"))
        return pz_errf(err, "%s: the p(z) is recalibrated (attribute pdf_pit_map), which a mixture of members "
                            "cannot carry: combine the predictions before recalibrating them", m->path);
    char *end = NULL;
    long k = nc ? strtol(nc, &end, 10) : 0;
    if (!nc || *end || k < 1 || k > PZ_MDN_MAX_COMPONENTS)
        return pz_errf(err, "%s: attribute pdf_ncomp is '%s', expected 1..%d", m->path, nc ? nc : "(absent)",
                       PZ_MDN_MAX_COMPONENTS);
    m->ncomp = (int)k;
    const pz_column **cols[3] = {m->w, m->mu, m->sd};
    const char *names[3] = {"pdf_weight", "pdf_mean", "pdf_std"};
    for (int c = 0; c < 3; c++)
        for (int j = 0; j < m->ncomp; j++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", names[c], j);
            if (!(cols[c][j] = pz_table_need(m->t, name, m->path, err))) return -1;
        }
    return 0;
}

/* Integer pass-through columns (the id) must agree row by row: the members predict the same rows. */
static int check_same_rows(const member *first, const member *m, size_t index, pz_err *err)
{
    if (m->t->nrows != first->t->nrows)
        return pz_errf(err, "%s: %zu rows, but %s has %zu (ensemble members must predict the same rows)", m->path,
                       m->t->nrows, first->path, first->t->nrows);
    for (size_t c = 0; c < first->t->ncols; c++) {
        const pz_column *a = &first->t->cols[c];
        if (is_computed(a->name) || !is_integer(a->type)) continue;
        const pz_column *b = pz_table_col(m->t, a->name);
        if (!b) return pz_errf(err, "%s: no column '%s' (member 1, %s, has it)", m->path, a->name, first->path);
        for (size_t r = 0; r < first->t->nrows; r++)
            if (pz_col_f64(a, r) != pz_col_f64(b, r))
                return pz_errf(err, "%s (member %zu): row %zu has %s %.17g, member 1 has %.17g: the members must predict "
                                    "the same rows in the same order",
                               m->path, index + 1, r, a->name, pz_col_f64(b, r), pz_col_f64(a, r));
    }
    return 0;
}

static int load_members(const char *const *paths, size_t n, member *ms, pz_err *err)
{
    for (size_t i = 0; i < n; i++) {
        ms[i].path = paths[i];
        if (pz_table_read_any(paths[i], 0, NULL, 0, 0, (size_t)-1, &ms[i].t, err)) return -1;
        if (!(ms[i].z = pz_table_need(ms[i].t, "z_pred", paths[i], err)) || member_pdf(&ms[i], err) ||
            (i && check_same_rows(&ms[0], &ms[i], i, err)))
            return -1;
    }
    return 0;
}

/* Silverman's bandwidth of the point members' predictions in row r (floored). */
static double point_bandwidth(const member *ms, size_t n, size_t r)
{
    double sum = 0, sum2 = 0;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (ms[i].ncomp) continue;
        double z = pz_col_f64(ms[i].z, r);
        sum += z, sum2 += z * z, np++;
    }
    if (np < 2) return PZ_MDN_STD_FLOOR;
    double mean = sum / np, var = (sum2 - np * mean * mean) / (double)(np - 1);
    double h = 1.06 * sqrt(var > 0 ? var : 0) * pow((double)np, -0.2);
    return h > PZ_MDN_STD_FLOOR ? h : PZ_MDN_STD_FLOOR;
}

/* The ensemble's components in row r: members in order, each its components (point: one). */
static void row_mixture(const member *ms, size_t n, size_t r, double *w, double *mu, double *sd)
{
    double h = point_bandwidth(ms, n, r);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ms[i].ncomp) {
            w[j] = 1.0 / n, mu[j] = pz_col_f64(ms[i].z, r), sd[j] = h;
            j++;
            continue;
        }
        for (int k = 0; k < ms[i].ncomp; k++, j++) {
            w[j] = pz_col_f64(ms[i].w[k], r) / n;
            mu[j] = pz_col_f64(ms[i].mu[k], r);
            sd[j] = pz_col_f64(ms[i].sd[k], r);
        }
    }
}

static size_t total_components(const member *ms, size_t n)
{
    size_t K = 0;
    for (size_t i = 0; i < n; i++) K += ms[i].ncomp ? (size_t)ms[i].ncomp : 1;
    return K;
}

/* Pass-through columns of the first member, z_true, and the OR of the members' flags. */
static void copy_columns(const member *ms, size_t n, pz_table *out)
{
    const pz_table *t = ms[0].t;
    for (size_t c = 0; c < t->ncols; c++) {
        const pz_column *src = &t->cols[c];
        if (is_computed(src->name) && strcmp(src->name, "z_true")) continue;
        pz_column *dst = pz_table_add(out, src->name, src->type, src->width);
        memcpy(dst->data, src->data, t->nrows * (src->type == PZ_STR ? src->width : pz_coltype_size(src->type)));
    }
    if (!pz_table_col(t, "flag")) return;
    pz_column *flag = pz_table_add(out, "flag", PZ_I16, 0);
    for (size_t r = 0; r < t->nrows; r++) {
        long f = 0;
        for (size_t i = 0; i < n; i++) {
            const pz_column *fc = pz_table_col(ms[i].t, "flag");
            if (fc) f |= (long)pz_col_f64(fc, r);
        }
        ((int16_t *)flag->data)[r] = (int16_t)f;
    }
}

static pz_table *combine(const member *ms, size_t n, int collapse, pz_ensemble_stats *st)
{
    size_t rows = ms[0].t->nrows, K = total_components(ms, n), Kout = collapse ? 1 : K;
    pz_table *out = pz_table_new(rows);
    copy_columns(ms, n, out);
    float *z = pz_table_add(out, "z_pred", PZ_F32, 0)->data;
    float **cols[3];
    const char *names[3] = {"pdf_weight", "pdf_mean", "pdf_std"};
    for (int c = 0; c < 3; c++) {
        cols[c] = pz_xmalloc(sizeof(float *) * Kout);
        for (size_t k = 0; k < Kout; k++) {
            char name[48];
            snprintf(name, sizeof name, "%s_%zu", names[c], k);
            cols[c][k] = pz_table_add(out, name, PZ_F32, 0)->data;
        }
    }
    double *w = pz_xmalloc(sizeof(double) * K * 3), *mu = w + K, *sd = w + 2 * K;
    for (size_t r = 0; r < rows; r++) {
        row_mixture(ms, n, r, w, mu, sd);
        double m1 = 0, m2 = 0;
        for (size_t j = 0; j < K; j++) m1 += w[j] * mu[j], m2 += w[j] * (sd[j] * sd[j] + mu[j] * mu[j]);
        if (!isfinite(m1) || !isfinite(m2)) st->nan_rows++;
        z[r] = isfinite(m1) && isfinite(m2) ? (float)m1 : NAN;
        if (collapse) {
            double var = m2 - m1 * m1;
            w[0] = 1.0, mu[0] = m1, sd[0] = sqrt(var > 0 ? var : 0);
        }
        for (size_t k = 0; k < Kout; k++) {
            int ok = isfinite(z[r]);
            cols[0][k][r] = ok ? (float)w[k] : NAN;
            cols[1][k][r] = ok ? (float)mu[k] : NAN;
            cols[2][k][r] = ok ? (float)sd[k] : NAN;
        }
    }
    free(w);
    for (int c = 0; c < 3; c++) free(cols[c]);
    char text[32];
    snprintf(text, sizeof text, "%zu", Kout);
    pz_table_set_attr(out, "pdf", "gaussian_mixture");
    pz_table_set_attr(out, "pdf_ncomp", text);
    snprintf(text, sizeof text, "%zu", n);
    pz_table_set_attr(out, "ensemble_members", text);
    st->rows = rows, st->members = n, st->ncomp = Kout;
    return out;
}

int pz_ensemble(const char *const *paths, size_t n, const char *out_path, int collapse, pz_ensemble_stats *st,
                pz_err *err)
{
    memset(st, 0, sizeof *st);
    if (n == 0) return pz_errf(err, "an ensemble needs at least one member");
    member *ms = pz_xcalloc(n, sizeof *ms);
    int rc = load_members(paths, n, ms, err);
    if (!rc) {
        pz_table *out = combine(ms, n, collapse, st);
        if (out->ncols > PZ_STAGE_TABLE_MAX_COLUMNS)
            rc = pz_errf(err, "the mixture of %zu members has %zu components: %zu columns, more than the %d a "
                              "predictions table holds (use pdf: gaussian)",
                         n, total_components(ms, n), out->ncols, PZ_STAGE_TABLE_MAX_COLUMNS);
        else
            rc = pz_stage_table_write(out_path, out, err);
        pz_table_free(out);
    }
    for (size_t i = 0; i < n; i++) pz_table_free(ms[i].t);
    free(ms);
    return rc;
}

/* ---- the stage ---- */

typedef struct {
    const char *pdf;
} ensemble_params;

static const pz_param_def ENSEMBLE_PARAMS[] = {
    {PZ_PARAM("pdf", PZ_PT_STRING, "mixture",
              "mixture: every member's components; gaussian: their moment-matched Gaussian"),
     .choices = "mixture|gaussian", .field = PZ_FIELD(ensemble_params, pdf)},
    {0}};
static const pz_io_def ENSEMBLE_INPUTS[] = {
    {"predictions", PZ_IO_ANY, 0, "the members' predictions tables (same rows, same order), e.g. one per seed"},
    {0}};
static const pz_io_def ENSEMBLE_OUTPUTS[] = {
    {"predictions", PZ_IO_ONE, 0, "one predictions table whose p(z) is the members' mixture", PZ_STAGE_TABLE_EXT}, {0}};

static int ensemble_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const ensemble_params *p = params;
    const char **paths = NULL, *out;
    size_t n = 0;
    if (pz_spec_inputs(spec, "predictions", &paths, &n, err) || pz_spec_output(spec, "predictions", &out, err)) {
        free(paths);
        return -1;
    }
    pz_ensemble_stats st;
    int rc = pz_ensemble(paths, n, out, p->pdf && !strcmp(p->pdf, "gaussian"), &st, err);
    if (!rc)
        *summary = pz_xasprintf("pzflow-ensemble: %zu rows, %zu members, p(z) with %zu component%s (%zu rows NaN)",
                                st.rows, st.members, st.ncomp, st.ncomp > 1 ? "s" : "", st.nan_rows);
    free(paths);
    return rc;
}

const pz_stage_def pz_nn_ensemble_stage = {
    .prog = "pzflow-ensemble", .docs = "docs/network.md",
    .summary = "combine predictions of several models (a seed ensemble) into one p(z): their mixture",
    .params = ENSEMBLE_PARAMS, .inputs = ENSEMBLE_INPUTS, .outputs = ENSEMBLE_OUTPUTS,
    .params_size = sizeof(ensemble_params), .run = ensemble_stage};
