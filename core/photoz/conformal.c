#include "photoz/conformal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/progress.h"
#include "util/sbuf.h"

const char *const pz_score_names[PZ_SCORE_COUNT] = {"relative", "absolute", "normalized", "pit"};

/* --- the predictions table's uncertainty columns -------------------------------------------- */

/* The attribute pdf_pit_map, checked: 3..PZ_PIT_MAP_MAX numbers from 0 to 1, non-decreasing. */
static int read_pit_map(const pz_table *t, const char *what, pz_pdf_cols *out, pz_err *err)
{
    out->nmap = 0;
    const char *s = pz_table_attr(t, PZ_PIT_MAP_ATTR);
    if (!s) return 0;
    size_t n = 0;
    for (const char *p = s; *p;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || n == PZ_PIT_MAP_MAX || !(v >= (n ? out->map[n - 1] : 0) && v <= 1)) {
            n = 0;
            break;
        }
        out->map[n++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            n = 0;
            break;
        }
    }
    if (n < 3 || out->map[0] != 0 || out->map[n - 1] != 1)
        return pz_errf(err, "%s: attribute %s: expected 3 to %d comma-separated knots from 0 to 1, non-decreasing",
                       what, PZ_PIT_MAP_ATTR, PZ_PIT_MAP_MAX);
    out->nmap = n;
    return 0;
}

int pz_pdf_cols_find(const pz_table *t, const char *what, pz_pdf_cols *out, pz_err *err)
{
    const char *kind = pz_table_attr(t, "pdf");
    if (!kind || !*kind) return 0;
    if (strcmp(kind, "gaussian_mixture"))
        return pz_errf(err, "%s: attribute pdf = '%s': pzflow knows only 'gaussian_mixture'", what, kind);
    const char *ks = pz_table_attr(t, "pdf_ncomp");
    char *end = NULL;
    long k = ks ? strtol(ks, &end, 10) : 0;
    if (!ks || *end || k < 1 || k > PZ_PDF_MAX_COMPONENTS)
        return pz_errf(err, "%s: attribute pdf_ncomp = '%s': expected a count of mixture components 1..%d", what,
                       ks ? ks : "(missing)", PZ_PDF_MAX_COMPONENTS);
    out->k = (size_t)k;
    if (read_pit_map(t, what, out, err) < 0) return -1;
    for (long i = 0; i < k; i++) {
        char name[40];
        snprintf(name, sizeof name, "pdf_weight_%ld", i);
        if (!(out->w[i] = pz_table_need(t, name, what, err))) return -1;
        snprintf(name, sizeof name, "pdf_mean_%ld", i);
        if (!(out->mu[i] = pz_table_need(t, name, what, err))) return -1;
        snprintf(name, sizeof name, "pdf_std_%ld", i);
        if (!(out->sd[i] = pz_table_need(t, name, what, err))) return -1;
    }
    return 1;
}

int pz_pdf_row(const pz_pdf_cols *c, size_t row, double *w, double *mu, double *sd, pz_gmix *g)
{
    double sum = 0;
    for (size_t i = 0; i < c->k; i++) {
        w[i] = pz_col_f64(c->w[i], row);
        mu[i] = pz_col_f64(c->mu[i], row);
        sd[i] = pz_col_f64(c->sd[i], row);
        if (!isfinite(w[i]) || w[i] < 0 || !isfinite(mu[i]) || !(sd[i] > 0) || !isfinite(sd[i])) return -1;
        sum += w[i];
    }
    if (!(fabs(sum - 1) <= 1e-3)) return -1;
    for (size_t i = 0; i < c->k; i++) w[i] /= sum; /* float32 weights sum to 1 only within rounding */
    *g = (pz_gmix){c->k, w, mu, sd, c->nmap ? c->map : NULL, c->nmap};
    return 0;
}

void pz_interval_colname(char *buf, size_t size, const char *which, double pct)
{
    snprintf(buf, size, "z_%s_%g", which, pct);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t pz_interval_levels(const pz_table *t, double *pct, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncols && n < max; i++) {
        const char *name = t->cols[i].name;
        if (strncmp(name, "z_lo_", 5)) continue;
        char *end;
        double p = strtod(name + 5, &end);
        if (*end || !(p > 0 && p < 100)) continue;
        char hi[40];
        pz_interval_colname(hi, sizeof hi, "hi", p);
        if (pz_table_col(t, hi)) pct[n++] = p;
    }
    qsort(pct, n, sizeof *pct, cmp_double);
    return n;
}

/* --- scores and intervals ------------------------------------------------------------------- */

double pz_conformal_score(pz_score_kind kind, double z_true, double z_pred, const pz_gmix *g)
{
    double mean, std;
    switch (kind) {
    case PZ_SCORE_RELATIVE:
        return isfinite(z_pred) && z_pred > -1 ? fabs(z_true - z_pred) / (1 + z_pred) : NAN;
    case PZ_SCORE_ABSOLUTE:
        return isfinite(z_pred) ? fabs(z_true - z_pred) : NAN;
    case PZ_SCORE_NORMALIZED:
        if (!g) return NAN;
        pz_gmix_moments(g, &mean, &std);
        return std > 0 ? fabs(z_true - mean) / std : NAN;
    case PZ_SCORE_PIT:
        return g ? fabs(pz_gmix_cdf(g, z_true) - 0.5) : NAN;
    default:
        return NAN;
    }
}

void pz_conformal_interval(pz_score_kind kind, double q, double z_pred, const pz_gmix *g, double *lo, double *hi)
{
    double mean, std;
    *lo = *hi = NAN;
    switch (kind) {
    case PZ_SCORE_RELATIVE:
        if (isfinite(z_pred) && z_pred > -1) *lo = z_pred - q * (1 + z_pred), *hi = z_pred + q * (1 + z_pred);
        break;
    case PZ_SCORE_ABSOLUTE:
        if (isfinite(z_pred)) *lo = z_pred - q, *hi = z_pred + q;
        break;
    case PZ_SCORE_NORMALIZED:
        if (!g) break;
        pz_gmix_moments(g, &mean, &std);
        *lo = mean - q * std, *hi = mean + q * std;
        break;
    case PZ_SCORE_PIT:
        if (!g) break;
        *lo = pz_gmix_quantile(g, 0.5 - q);
        *hi = pz_gmix_quantile(g, 0.5 + q);
        break;
    default:
        break;
    }
    if (*lo < 0) *lo = 0;
}

/* --- calibration and application ------------------------------------------------------------ */

typedef struct uq_view {
    const pz_column *zp, *zt;
    pz_pdf_cols pdf;
    int has_pdf;
    double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
    pz_gmix g;
} uq_view;

static int view_open(const pz_table *t, const char *what, const pz_conformal_opts *o, int need_true, uq_view *v,
                     pz_err *err)
{
    memset(v, 0, sizeof *v);
    if (!(v->zp = pz_table_need(t, o->z_pred_col, what, err))) return -1;
    if (need_true && !(v->zt = pz_table_need(t, o->z_true_col, what, err))) return -1;
    v->has_pdf = pz_pdf_cols_find(t, what, &v->pdf, err);
    return v->has_pdf < 0 ? -1 : 0;
}

/* The mixture of a row, or NULL when the table has none or the row's is not usable. */
static const pz_gmix *view_gmix(uq_view *v, size_t row)
{
    if (!v->has_pdf || pz_pdf_row(&v->pdf, row, v->w, v->mu, v->sd, &v->g) < 0) return NULL;
    return &v->g;
}

static int check_opts(const pz_conformal_opts *o, pz_err *err)
{
    if (o->nlevels == 0) return pz_errf(err, "param 'levels': need at least one coverage level");
    if (o->nlevels > 16) return pz_errf(err, "param 'levels': at most 16 levels (got %zu)", o->nlevels);
    for (size_t i = 0; i < o->nlevels; i++)
        if (!(o->levels[i] > 0 && o->levels[i] < 100))
            return pz_errf(err, "param 'levels': %g is not a percentage strictly between 0 and 100", o->levels[i]);
    return 0;
}

/* The calibration table's view, checked for the p(z) a PDF score needs. */
static int open_calibration(const pz_table *t, pz_score_kind kind, const char *z_pred_col, const char *z_true_col,
                            uq_view *v, pz_err *err)
{
    pz_conformal_opts o = {.z_pred_col = z_pred_col, .z_true_col = z_true_col};
    if (view_open(t, "calibration", &o, 1, v, err) < 0) return -1;
    int pdf_score = kind == PZ_SCORE_NORMALIZED || kind == PZ_SCORE_PIT;
    if (pdf_score && !v->has_pdf)
        return pz_errf(err, "score '%s' needs a p(z) (attribute pdf); the calibration table has none", pz_score_names[kind]);
    return 0;
}

/* Every calibration row's score into s and, when pit is not NULL, its PIT (NaN without a usable
 * p(z)): one pass, so each row's mixture is read once for both. */
static void score_rows(const pz_table *t, pz_score_kind kind, uq_view *v, double *s, double *pit)
{
    for (size_t i = 0; i < t->nrows; i++) {
        const pz_gmix *g = view_gmix(v, i);
        double zt = pz_col_f64(v->zt, i);
        s[i] = pz_conformal_score(kind, zt, pz_col_f64(v->zp, i), g);
        if (pit) pit[i] = g ? pz_gmix_cdf(g, zt) : NAN;
    }
}

int pz_conformal_scores(const pz_table *t, pz_score_kind kind, const char *z_pred_col, const char *z_true_col,
                        double *out, pz_err *err)
{
    uq_view v;
    if (open_calibration(t, kind, z_pred_col, z_true_col, &v, err) < 0) return -1;
    score_rows(t, kind, &v, out, NULL);
    return 0;
}

int pz_conformal_calibrate(const double *scores, size_t n, const pz_conformal_opts *o, pz_score_kind kind,
                           pz_conformal_result *res, pz_err *err)
{
    if (check_opts(o, err) < 0) return -1;
    res->score = kind;
    double *work = pz_xmalloc((n + 1) * sizeof *work);
    for (size_t l = 0; l < o->nlevels; l++) res->q[l] = pz_conformal_quantile(scores, n, o->levels[l] / 100, work, &res->ncal);
    free(work);
    if (res->ncal == 0) return pz_errf(err, "calibration: no galaxy with a finite score (%zu rows)", n);
    return 0;
}

/* The z_lo_<pct>, z_hi_<pct> columns of every level, added first: adding columns may move the
 * column array that views point into. */
static void add_interval_columns(pz_table *t, const double *levels, size_t nlevels)
{
    for (size_t l = 0; l < nlevels; l++) {
        char name[40];
        pz_interval_colname(name, sizeof name, "lo", levels[l]);
        pz_table_add(t, name, PZ_F32, 0);
        pz_interval_colname(name, sizeof name, "hi", levels[l]);
        pz_table_add(t, name, PZ_F32, 0);
    }
}

static void set_interval(pz_table *t, double pct, size_t row, double lo, double hi)
{
    char name[40];
    pz_interval_colname(name, sizeof name, "lo", pct);
    ((float *)pz_table_col(t, name)->data)[row] = (float)lo;
    pz_interval_colname(name, sizeof name, "hi", pct);
    ((float *)pz_table_col(t, name)->data)[row] = (float)hi;
}

/* pz_conformal_intervals, leaving the predictions table's view open in *vp for what follows. */
static int add_intervals(pz_table *pred, const pz_conformal_opts *o, const pz_conformal_result *res, uq_view *vp,
                         pz_err *err)
{
    if (check_opts(o, err) < 0) return -1;
    add_interval_columns(pred, o->levels, o->nlevels);
    if (view_open(pred, "predictions", o, 0, vp, err) < 0) return -1;
    int pdf_score = res->score == PZ_SCORE_NORMALIZED || res->score == PZ_SCORE_PIT;
    if (pdf_score && !vp->has_pdf)
        return pz_errf(err, "param 'score': '%s' needs a p(z) (attribute pdf); the predictions table has none",
                       pz_score_names[res->score]);
    for (size_t l = 0; l < o->nlevels; l++) {
        char key[48], val[40];
        for (size_t i = 0; i < pred->nrows; i++) {
            double lo, hi;
            pz_conformal_interval(res->score, res->q[l], pz_col_f64(vp->zp, i), pdf_score ? view_gmix(vp, i) : NULL,
                                  &lo, &hi);
            set_interval(pred, o->levels[l], i, lo, hi);
        }
        snprintf(key, sizeof key, "conformal_q_%g", o->levels[l]);
        snprintf(val, sizeof val, "%.9g", res->q[l]);
        pz_table_set_attr(pred, key, val);
    }
    char n[32];
    snprintf(n, sizeof n, "%zu", res->ncal);
    pz_table_set_attr(pred, "conformal_score", pz_score_names[res->score]);
    pz_table_set_attr(pred, "conformal_calibration_n", n);
    return 0;
}

int pz_conformal_intervals(pz_table *pred, const pz_conformal_opts *o, const pz_conformal_result *res, pz_err *err)
{
    uq_view vp;
    return add_intervals(pred, o, res, &vp, err);
}

int pz_pdf_intervals(pz_table *pred, const double *levels, size_t nlevels, pz_err *err)
{
    pz_conformal_opts o = {.levels = levels, .nlevels = nlevels};
    if (check_opts(&o, err) < 0) return -1;
    add_interval_columns(pred, levels, nlevels);
    uq_view v = {0};
    if ((v.has_pdf = pz_pdf_cols_find(pred, "predictions", &v.pdf, err)) < 0) return -1;
    if (!v.has_pdf) return pz_errf(err, "predictions: no p(z) (attribute pdf), so no intervals of its own");
    for (size_t i = 0; i < pred->nrows; i++) {
        const pz_gmix *g = view_gmix(&v, i);
        for (size_t l = 0; l < nlevels; l++) {
            double c = levels[l] / 100, lo = g ? pz_gmix_quantile(g, 0.5 - c / 2) : NAN;
            set_interval(pred, levels[l], i, lo > 0 || isnan(lo) ? lo : 0, g ? pz_gmix_quantile(g, 0.5 + c / 2) : NAN);
        }
    }
    pz_table_set_attr(pred, "interval_method", "pdf_quantile");
    return 0;
}

/* Fit G to the calibration galaxies' PITs pit[0..n) and record it on the predictions table
 * (vc, vp: the two tables' views). Both tables' p(z) must be raw mixtures: a second map on top
 * of the first would be a different function. */
static int recalibrate(const uq_view *vc, const uq_view *vp, const double *pit, size_t n, pz_table *pred,
                       const pz_conformal_opts *o, size_t *nmap, pz_err *err)
{
    if (!vc->has_pdf || !vp->has_pdf)
        return pz_errf(err, "param 'recalibrate': needs a p(z) (attribute pdf); the %s table has none",
                       vc->has_pdf ? "predictions" : "calibration");
    if (vc->pdf.nmap || vp->pdf.nmap)
        return pz_errf(err, "param 'recalibrate': the %s table's p(z) is recalibrated already (attribute %s)",
                       vc->pdf.nmap ? "calibration" : "predictions", PZ_PIT_MAP_ATTR);
    size_t nknots = o->recalibrate;
    if (nknots != PZ_RECALIBRATE_AUTO && (nknots < 3 || nknots > PZ_PIT_MAP_MAX))
        return pz_errf(err, "param 'recalibrate_knots': %zu knots; expected 3 to %d", nknots, PZ_PIT_MAP_MAX);
    double knots[PZ_PIT_MAP_MAX], *work = pz_xmalloc((n + 1) * sizeof *work);
    size_t used = pz_pit_map_fit(pit, n, work, knots, &nknots);
    free(work);
    if (used < 10 * nknots)
        return pz_errf(err, "param 'recalibrate': %zu calibration galaxies with a usable p(z) for %zu knots; "
                            "need at least 10 per knot (fewer recalibrate_knots, or a larger calibration split)",
                       used, nknots);
    pz_sbuf b = {0};
    for (size_t j = 0; j < nknots; j++) pz_sb_printf(&b, "%s%.9g", j ? "," : "", knots[j]);
    pz_table_set_attr(pred, PZ_PIT_MAP_ATTR, b.p);
    free(b.p);
    *nmap = nknots;
    return 0;
}

/* The three steps of conformal.h with the recalibration after them, each table's view opened
 * once: the calibration rows' scores and PITs come from one pass. */
int pz_conformal_apply(const pz_table *cal, pz_table *pred, const pz_conformal_opts *o, pz_conformal_result *res,
                       pz_err *err)
{
    if (check_opts(o, err) < 0) return -1;
    int has_cal = pz_table_attr(cal, "pdf") && *pz_table_attr(cal, "pdf");
    pz_score_kind kind = o->score >= 0 ? (pz_score_kind)o->score : has_cal ? PZ_SCORE_NORMALIZED : PZ_SCORE_RELATIVE;
    res->nmap = 0;
    double *s = pz_xmalloc((cal->nrows + 1) * sizeof *s);
    double *pit = o->recalibrate ? pz_xmalloc((cal->nrows + 1) * sizeof *pit) : NULL;
    uq_view vc, vp;
    int rc = open_calibration(cal, kind, o->z_pred_col, o->z_true_col, &vc, err);
    if (rc == 0) score_rows(cal, kind, &vc, s, pit);
    rc = rc < 0 || pz_conformal_calibrate(s, cal->nrows, o, kind, res, err) < 0 ||
                 add_intervals(pred, o, res, &vp, err) < 0 ||
                 (pit && recalibrate(&vc, &vp, pit, cal->nrows, pred, o, &res->nmap, err) < 0)
             ? -1
             : 0;
    free(s);
    free(pit);
    return rc;
}

/* --- the stage ------------------------------------------------------------------------------ */

typedef struct conformal_params {
    const pz_ynode *levels;
    const char *score, *z_pred_column, *z_true_column;
    int recalibrate;
    long recalibrate_knots;
} conformal_params;

static int read_levels(const pz_spec *spec, const pz_ynode *node, double *out, size_t *n, pz_err *err)
{
    static const double dflt[2] = {68, 95};
    if (!node) {
        memcpy(out, dflt, sizeof dflt);
        *n = 2;
        return 0;
    }
    if (node->kind != PZ_Y_SEQ || node->n == 0 || node->n > 16)
        return pz_errf(err, "%s:%d:%d: param 'levels': expected a list of 1 to 16 percentages", spec->path, node->line,
                       node->col);
    for (size_t i = 0; i < node->n; i++)
        if (pz_yscalar_double(node->items[i], spec->path, &out[i], err) < 0) return pz_err_prefix(err, "param 'levels': ");
    *n = node->n;
    return 0;
}

static int read_table(const pz_spec *spec, const char *input, pz_table **t, pz_err *err)
{
    const char *path;
    if (pz_spec_input(spec, input, &path, err) < 0) return -1;
    if (pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, t, err) < 0) return pz_err_prefix(err, "input '%s': ", input);
    return 0;
}

static int conformal_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const conformal_params *a = params;
    double levels[16];
    pz_conformal_opts o = {.levels = levels, .z_pred_col = a->z_pred_column, .z_true_col = a->z_true_column, .score = -1,
                           .recalibrate = !a->recalibrate             ? 0
                                          : a->recalibrate_knots == 0 ? PZ_RECALIBRATE_AUTO
                                                                      : (size_t)a->recalibrate_knots};
    for (int k = 0; k < PZ_SCORE_COUNT; k++)
        if (!strcmp(a->score, pz_score_names[k])) o.score = k;
    const char *out_path;
    if (read_levels(spec, a->levels, levels, &o.nlevels, err) < 0 || pz_spec_output(spec, "predictions", &out_path, err) < 0)
        return -1;
    pz_table *cal = NULL, *pred = NULL;
    pz_conformal_result res;
    pz_progress(0.0, "reading");
    int rc = read_table(spec, "calibration", &cal, err) < 0 || read_table(spec, "predictions", &pred, err) < 0 ||
                     pz_conformal_apply(cal, pred, &o, &res, err) < 0
                 ? -1
                 : 0;
    if (rc == 0) {
        pz_progress(0.6, "writing %zu rows", pred->nrows);
        rc = pz_stage_table_write(out_path, pred, err);
    }
    if (rc == 0) {
        char *s = pz_xasprintf("conformal intervals (%s score, %zu calibration galaxies):", pz_score_names[res.score],
                               res.ncal);
        for (size_t l = 0; l < o.nlevels; l++) {
            char *t = pz_xasprintf("%s %g%% q = %.4g", s, levels[l], res.q[l]);
            free(s);
            s = t;
        }
        *summary = res.nmap ? pz_xasprintf("%s; p(z) recalibrated by its calibration PITs (%zu knots)\n", s, res.nmap)
                            : pz_xasprintf("%s\n", s);
        free(s);
        pz_progress(1.0, "done");
    }
    pz_table_free(cal);
    pz_table_free(pred);
    return rc;
}

#define CF(m) PZ_FIELD(conformal_params, m)
static const pz_param_def CONFORMAL_PARAMS[] = {
    {PZ_PARAM("levels", PZ_PT_LIST, "[68, 95]", "coverage levels in percent; one z_lo_<pct>, z_hi_<pct> pair each"),
     .field = CF(levels)},
    {PZ_PARAM("score", PZ_PT_STRING, "auto", "nonconformity score (auto: normalized with a p(z), else relative)"),
     .choices = "auto|relative|absolute|normalized|pit", .field = CF(score)},
    {PZ_PARAM("z_pred_column", PZ_PT_STRING, "z_pred", "predicted-redshift column"), .field = CF(z_pred_column)},
    {PZ_PARAM("z_true_column", PZ_PT_STRING, "z_true", "true-redshift column of the calibration table"),
     .field = CF(z_true_column)},
    {PZ_PARAM("recalibrate", PZ_PT_BOOL, "false",
              "also recalibrate the p(z) by the calibration galaxies' PITs (attribute pdf_pit_map)"),
     .field = CF(recalibrate)},
    {PZ_PARAM("recalibrate_knots", PZ_PT_INT, "0",
              "knots of the recalibration map (101: the PITs' percentiles; 0: one per ~100 calibration galaxies, 5..101)"),
     PZ_RANGE(0, PZ_PIT_MAP_MAX), .field = CF(recalibrate_knots)},
    {0}};
static const pz_io_def CONFORMAL_INPUTS[] = {
    {"calibration", PZ_IO_ONE, 0, "the model's predictions on a held-out calibration split, with z_true (never the test set)"},
    {"predictions", PZ_IO_ONE, 0, "the predictions to give intervals"},
    {0}};
static const pz_io_def CONFORMAL_OUTPUTS[] = {{"predictions", PZ_IO_ONE, 0, "the predictions with z_lo_<pct>, z_hi_<pct>", PZ_STAGE_TABLE_EXT},
                                              {0}};

const pz_stage_def pz_conformal_stage = {
    .prog = "pzflow-conformal", .docs = "docs/uncertainty.md",
    .summary = "split-conformal prediction intervals, calibrated on a held-out split",
    .params = CONFORMAL_PARAMS, .inputs = CONFORMAL_INPUTS, .outputs = CONFORMAL_OUTPUTS,
    .params_size = sizeof(conformal_params), .run = conformal_stage};
