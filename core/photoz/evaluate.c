#include "photoz/evaluate.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/conformal.h"
#include "photoz/uq.h"
#include "util/progress.h"

/* Value columns of the tidy table, all f64 so every row type fits the same schema: the point
 * metrics, the goals, the p(z) metrics (NaN for a model without one), the PIT histogram, then
 * coverage_<pct> and width_<pct> of each interval level found in the inputs. */
enum {
    V_N, V_NNAN, V_M0, V_PASS_BIAS = V_M0 + PZ_M_COUNT, V_PASS_SCATTER, V_PASS_OUTLIER, V_PASS_ALL,
    V_PIT_KS, V_PIT_CVM, V_CRPS, V_CAT_IN95, V_PIT_KS_RAW, V_PIT_H0, V_LEVEL0 = V_PIT_H0 + PZ_EVAL_PIT_BINS,
    V_MAX = V_LEVEL0 + 2 * PZ_EVAL_MAX_LEVELS
};
#define V_COUNT V_MAX

/* Columns in use: the fixed ones and two per interval level. */
static int nvalues(const pz_eval_config *cfg)
{
    return V_LEVEL0 + 2 * (int)cfg->nlevels;
}

static void value_name(const pz_eval_config *cfg, int v, char *buf, size_t size)
{
    static const char *const extra[] = {"pass_bias", "pass_scatter", "pass_outlier", "pass_all",
                                        "pit_ks",    "pit_cvm",      "crps",         "catastrophic_in_95",
                                        "pit_ks_raw"};
    if (v == V_N) snprintf(buf, size, "n");
    else if (v == V_NNAN) snprintf(buf, size, "n_nan");
    else if (v < V_PASS_BIAS) snprintf(buf, size, "%s", pz_metric_names[v - V_M0]);
    else if (v < V_PIT_H0) snprintf(buf, size, "%s", extra[v - V_PASS_BIAS]);
    else if (v < V_LEVEL0) snprintf(buf, size, "pit_h%02d", v - V_PIT_H0);
    else snprintf(buf, size, "%s_%g", (v - V_LEVEL0) % 2 ? "width" : "coverage", cfg->levels[(v - V_LEVEL0) / 2]);
}

static const char *const AGG_STATS[4] = {"mean", "std", "p16", "p84"};

typedef struct eval_row {
    size_t group;
    int versus;            /* ratio rows: the baseline group's index into cfg->baselines; -1 otherwise */
    const char *selection; /* "lsst", "all", "bin" */
    double zlo, zhi;
    long seed;
    const char *stat;
    double v[V_COUNT];
} eval_row;

typedef struct row_list {
    eval_row *rows;
    size_t n, cap;
} row_list;

static eval_row *push_row(row_list *l)
{
    if (l->n == l->cap) l->rows = pz_xrealloc(l->rows, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->rows);
    eval_row *r = &l->rows[l->n++];
    memset(r, 0, sizeof *r);
    r->versus = -1;
    return r;
}

static double DEFAULT_BINS[] = {0, 0.3, 0.6, 0.9, 1.2, 1.5, 2, 3, 4};

void pz_eval_config_default(pz_eval_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->window[0] = 0.3;
    cfg->window[1] = 1.5;
    cfg->range[0] = 0;
    cfg->range[1] = 4;
    cfg->bins = DEFAULT_BINS;
    cfg->nedges = sizeof DEFAULT_BINS / sizeof DEFAULT_BINS[0];
    cfg->goals = PZ_LSST_GOALS_DEFAULT;
    static const char *const default_baselines[1] = {"NN-Base"};
    cfg->baselines = default_baselines;
    cfg->nbaselines = 1;
    cfg->z_pred_col = "z_pred";
    cfg->z_true_col = "z_true";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --- reading one predictions file ---------------------------------------------------------- */

typedef struct preds {
    double *zp, *zt;
    double *pit, *crps;      /* NaN where there is no usable p(z) */
    double *pit_raw;         /* the PIT of the mixture before any recalibration map */
    double *lo[PZ_EVAL_MAX_LEVELS], *hi[PZ_EVAL_MAX_LEVELS]; /* per cfg level; NULL: not in this file */
    size_t n;
    long seed;
} preds;

static void preds_free(preds *p)
{
    free(p->zp), free(p->zt), free(p->pit), free(p->crps), free(p->pit_raw);
    for (size_t l = 0; l < PZ_EVAL_MAX_LEVELS; l++) free(p->lo[l]), free(p->hi[l]);
}

static double *column_values(const pz_column *c, size_t n)
{
    double *x = pz_xmalloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = pz_col_f64(c, i);
    return x;
}

/* PIT and CRPS of every row that has a usable p(z) (recalibrated, when the table says so), and
 * the PIT of its raw mixture. */
static int read_pdf(const pz_table *t, const char *path, preds *p, pz_err *err)
{
    pz_pdf_cols pc;
    int has = pz_pdf_cols_find(t, path, &pc, err);
    if (has < 0) return -1;
    p->pit = pz_xmalloc((p->n ? p->n : 1) * sizeof *p->pit);
    p->crps = pz_xmalloc((p->n ? p->n : 1) * sizeof *p->crps);
    p->pit_raw = pz_xmalloc((p->n ? p->n : 1) * sizeof *p->pit_raw);
    double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
    for (size_t i = 0; i < p->n; i++) {
        pz_gmix g;
        if (!has || pz_pdf_row(&pc, i, w, mu, sd, &g) < 0) {
            p->pit[i] = p->crps[i] = p->pit_raw[i] = NAN;
            continue;
        }
        p->pit[i] = pz_gmix_cdf(&g, p->zt[i]);
        p->crps[i] = pz_gmix_crps(&g, p->zt[i]);
        g.map = NULL;
        p->pit_raw[i] = pz_gmix_cdf(&g, p->zt[i]);
    }
    return 0;
}

static void read_intervals(const pz_eval_config *cfg, const pz_table *t, preds *p)
{
    for (size_t l = 0; l < cfg->nlevels; l++) {
        char lo[40], hi[40];
        pz_interval_colname(lo, sizeof lo, "lo", cfg->levels[l]);
        pz_interval_colname(hi, sizeof hi, "hi", cfg->levels[l]);
        const pz_column *cl = pz_table_col(t, lo), *ch = pz_table_col(t, hi);
        if (cl && ch) p->lo[l] = column_values(cl, p->n), p->hi[l] = column_values(ch, p->n);
    }
}

static int read_preds(const pz_eval_config *cfg, const char *path, long position, preds *p, pz_err *err)
{
    memset(p, 0, sizeof *p);
    pz_table *t = NULL;
    if (pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &t, err) < 0) return -1;
    pz_column *cp = pz_table_need(t, cfg->z_pred_col, path, err), *ct = cp ? pz_table_need(t, cfg->z_true_col, path, err) : NULL;
    if (!ct) {
        pz_table_free(t);
        return -1;
    }
    p->n = t->nrows;
    p->zp = column_values(cp, p->n);
    p->zt = column_values(ct, p->n);
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        if (!isfinite(p->zt[i]) || p->zt[i] <= -1)
            rc = pz_errf(err, "%s: column '%s' row %zu: true redshift %g is not a finite value > -1", path,
                         cfg->z_true_col, i, p->zt[i]);
        else if (cfg->nan_error && !isfinite(p->zp[i]))
            rc = pz_errf(err, "%s: column '%s' row %zu: prediction is %g (param nan_policy: error)", path,
                         cfg->z_pred_col, i, p->zp[i]);
    }
    if (rc == 0) rc = read_pdf(t, path, p, err);
    if (rc == 0) read_intervals(cfg, t, p);
    /* A `seed` root attribute (written by predict) names the seed; else the list position. */
    p->seed = position;
    const char *s = pz_table_attr(t, "seed");
    if (s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end != s && *end == 0) p->seed = v;
    }
    pz_table_free(t);
    if (rc < 0) preds_free(p);
    return rc;
}

/* The interval levels of every input, merged and ascending (the table has one coverage and one
 * width column per level). Reads only the files' column names. */
static int find_levels(pz_eval_config *cfg, const pz_eval_group *groups, size_t ngroups, pz_err *err)
{
    cfg->nlevels = 0;
    for (size_t g = 0; g < ngroups; g++)
        for (size_t f = 0; f < groups[g].npaths; f++) {
            pz_colinfo *cols;
            size_t ncols;
            long nrows;
            if (pz_table_info_any(groups[g].paths[f], 0, &cols, &ncols, &nrows, err) < 0)
                return pz_err_prefix(err, "input '%s': ", groups[g].input);
            pz_table *names = pz_table_new(0); /* the column names alone, for pz_interval_levels */
            for (size_t c = 0; c < ncols; c++) pz_table_add(names, cols[c].name, PZ_U8, 0);
            pz_colinfo_free(cols, ncols);
            double pct[PZ_EVAL_MAX_LEVELS];
            size_t n = pz_interval_levels(names, pct, PZ_EVAL_MAX_LEVELS);
            pz_table_free(names);
            for (size_t i = 0; i < n; i++) {
                size_t k = 0;
                while (k < cfg->nlevels && cfg->levels[k] != pct[i]) k++;
                if (k < cfg->nlevels) continue;
                if (cfg->nlevels == PZ_EVAL_MAX_LEVELS)
                    return pz_errf(err, "input '%s': more than %d interval levels across the inputs", groups[g].input,
                                   PZ_EVAL_MAX_LEVELS);
                cfg->levels[cfg->nlevels++] = pct[i];
            }
        }
    qsort(cfg->levels, cfg->nlevels, sizeof cfg->levels[0], cmp_double);
    return 0;
}

/* --- per-seed and aggregated rows ---------------------------------------------------------- */

static size_t nselections(const pz_eval_config *cfg)
{
    return 2 + cfg->nedges - 1;
}

static void selection_of(const pz_eval_config *cfg, size_t k, const char **name, double *lo, double *hi)
{
    if (k == 0) *name = "lsst", *lo = cfg->window[0], *hi = cfg->window[1];
    else if (k == 1) *name = "all", *lo = cfg->range[0], *hi = cfg->range[1];
    else *name = "bin", *lo = cfg->bins[k - 2], *hi = cfg->bins[k - 1];
}

static void set_passes(const pz_eval_config *cfg, double *v)
{
    int met = pz_lsst_goals_met(&cfg->goals, v[V_M0 + PZ_M_BIAS], v[V_M0 + PZ_M_NMAD], v[V_M0 + PZ_M_OUTLIER]);
    int known = v[V_N] > 0;
    v[V_PASS_BIAS] = known ? !!(met & PZ_GOAL_BIAS) : NAN;
    v[V_PASS_SCATTER] = known ? !!(met & PZ_GOAL_SCATTER) : NAN;
    v[V_PASS_OUTLIER] = known ? !!(met & PZ_GOAL_OUTLIER) : NAN;
    v[V_PASS_ALL] = known ? met == PZ_GOAL_ALL : NAN;
}

/* The uncertainty values of the galaxies with lo < z_true <= hi and a finite z_pred (the rows the
 * point metrics use). `work` holds 3n doubles. */
static void uq_select(const pz_eval_config *cfg, const preds *p, double lo, double hi, double *v, double *work)
{
    double *pit = work, *raw = work + p->n, *scratch = work + 2 * p->n;
    size_t npit = 0, nraw = 0, nsel = 0;
    double crps = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!(p->zt[i] > lo && p->zt[i] <= hi) || !isfinite(p->zp[i])) continue;
        nsel++;
        if (isfinite(p->pit_raw[i])) raw[nraw++] = p->pit_raw[i];
        if (isfinite(p->pit[i])) pit[npit++] = p->pit[i], crps += p->crps[i];
    }
    v[V_PIT_KS_RAW] = pz_pit_ks(raw, nraw, scratch);
    v[V_PIT_KS] = pz_pit_ks(pit, npit, scratch);
    v[V_PIT_CVM] = pz_pit_cvm(pit, npit, scratch);
    v[V_CRPS] = npit ? crps / npit : NAN;
    pz_pit_hist(pit, npit, PZ_EVAL_PIT_BINS, &v[V_PIT_H0]);
    v[V_CAT_IN95] = NAN;
    for (size_t l = 0; l < cfg->nlevels; l++) {
        double *cov = &v[V_LEVEL0 + 2 * l], *width = cov + 1;
        *cov = *width = NAN;
        if (!p->lo[l] || nsel == 0) continue;
        size_t in = 0, n = 0, ncat = 0, cat_in = 0;
        double wsum = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (!(p->zt[i] > lo && p->zt[i] <= hi) || !isfinite(p->zp[i])) continue;
            int inside = p->zt[i] >= p->lo[l][i] && p->zt[i] <= p->hi[l][i];
            n++;
            in += inside;
            wsum += p->hi[l][i] - p->lo[l][i];
            if (fabs(p->zp[i] - p->zt[i]) > PZ_CATASTROPHIC_DZ) ncat++, cat_in += inside;
        }
        *cov = (double)in / n;
        *width = wsum / n;
        if (cfg->levels[l] == 95) v[V_CAT_IN95] = ncat ? (double)cat_in / ncat : NAN;
    }
}

static void seed_rows(const pz_eval_config *cfg, size_t g, const preds *p, row_list *rows, double *work)
{
    for (size_t k = 0; k < nselections(cfg); k++) {
        eval_row *r = push_row(rows);
        r->group = g;
        r->seed = p->seed;
        r->stat = "seed";
        selection_of(cfg, k, &r->selection, &r->zlo, &r->zhi);
        pz_metrics m;
        pz_metrics_select(p->zp, p->zt, p->n, r->zlo, r->zhi, &m, work);
        r->v[V_N] = (double)m.n;
        r->v[V_NNAN] = (double)m.n_nan;
        for (int j = 0; j < PZ_M_COUNT; j++) r->v[V_M0 + j] = m.v[j];
        set_passes(cfg, r->v);
        uq_select(cfg, p, r->zlo, r->zhi, r->v, work);
    }
}

/* Rows first..first+nseeds*nsel hold one group's seed rows, seed-major. */
static void aggregate_rows(const pz_eval_config *cfg, size_t g, size_t first, size_t nseeds, row_list *rows)
{
    size_t nsel = nselections(cfg);
    double *x = pz_xmalloc(nseeds * sizeof *x), *work = pz_xmalloc(nseeds * sizeof *work);
    for (size_t k = 0; k < nsel; k++) {
        eval_row agg[4];
        memset(agg, 0, sizeof agg);
        for (int v = 0; v < nvalues(cfg); v++) {
            for (size_t s = 0; s < nseeds; s++) x[s] = rows->rows[first + s * nsel + k].v[v];
            pz_agg a;
            pz_aggregate(x, nseeds, &a, work);
            agg[0].v[v] = a.mean, agg[1].v[v] = a.std, agg[2].v[v] = a.p16, agg[3].v[v] = a.p84;
        }
        set_passes(cfg, agg[0].v); /* goals of the mean, not the mean of the pass flags */
        for (int a = 1; a < 4; a++) agg[a].v[V_PASS_BIAS] = agg[a].v[V_PASS_SCATTER] = agg[a].v[V_PASS_OUTLIER] =
            agg[a].v[V_PASS_ALL] = NAN;
        const eval_row *model = &rows->rows[first + k];
        const char *selection = model->selection;
        double zlo = model->zlo, zhi = model->zhi;
        for (int a = 0; a < 4; a++) {
            eval_row *r = push_row(rows); /* may move the array: `model` is not used after this */
            *r = agg[a];
            r->group = g;
            r->selection = selection;
            r->zlo = zlo;
            r->zhi = zhi;
            r->seed = -1;
            r->versus = -1;
            r->stat = AGG_STATS[a];
        }
    }
    free(x);
    free(work);
}

static const eval_row *find_mean(const row_list *rows, size_t g, const char *selection)
{
    for (size_t i = 0; i < rows->n; i++) {
        const eval_row *r = &rows->rows[i];
        if (r->group == g && !strcmp(r->stat, "mean") && !strcmp(r->selection, selection)) return r;
    }
    return NULL;
}

/* One metric's per-seed values of group g in a selection ("lsst" or "all"), in seed order. */
static size_t seed_values(const row_list *rows, size_t g, const char *selection, int v, double *out)
{
    size_t n = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const eval_row *r = &rows->rows[i];
        if (r->group == g && !strcmp(r->stat, "seed") && !strcmp(r->selection, selection)) out[n++] = r->v[v];
    }
    return n;
}

/* The ratio rows of model group g against baseline group b in one selection: for each of the
 * two definitions (pz_ratio_kind) the ratio of the seed means and its bootstrap interval. */
static void ratio_rows_of(const row_list *rows_in, size_t b, size_t g, int versus, const char *selection,
                          size_t nseeds_max, row_list *rows)
{
    static const char *const stats[2][3] = {{"ratio", "ratio_lo", "ratio_hi"},
                                            {"ratio_mabs", "ratio_mabs_lo", "ratio_mabs_hi"}};
    const eval_row *mg = find_mean(rows_in, g, selection);
    eval_row out[2][3];
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++) {
            out[k][j] = *mg;
            out[k][j].stat = stats[k][j];
            out[k][j].versus = versus;
            for (int v = 0; v < V_COUNT; v++) out[k][j].v[v] = NAN;
        }
    double *xb = pz_xmalloc(nseeds_max * sizeof *xb), *xm = pz_xmalloc(nseeds_max * sizeof *xm);
    for (int j = 0; j < PZ_M_COUNT; j++) {
        size_t nb = seed_values(rows_in, b, selection, V_M0 + j, xb), nm = seed_values(rows_in, g, selection, V_M0 + j, xm);
        for (int k = 0; k < 2; k++) {
            out[k][0].v[V_M0 + j] = pz_ratio_of_means(xb, nb, xm, nm, (pz_ratio_kind)k);
            pz_ratio_interval(xb, nb, xm, nm, (pz_ratio_kind)k, PZ_EVAL_BOOTSTRAP_N, PZ_EVAL_BOOTSTRAP_SEED,
                              PZ_EVAL_BOOTSTRAP_LEVEL, &out[k][1].v[V_M0 + j], &out[k][2].v[V_M0 + j]);
        }
    }
    free(xb);
    free(xm);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++) *push_row(rows) = out[k][j];
}

static void ratio_rows(const pz_eval_config *cfg, const pz_eval_group *groups, size_t ngroups, row_list *rows)
{
    static const char *const sels[2] = {"lsst", "all"};
    size_t nseeds_max = 1;
    for (size_t g = 0; g < ngroups; g++)
        if (groups[g].npaths > nseeds_max) nseeds_max = groups[g].npaths;
    /* rows grows while ratio rows are pushed: read the seed rows from a frozen copy */
    row_list frozen = {pz_xmalloc((rows->n + 1) * sizeof *rows->rows), rows->n, rows->n};
    memcpy(frozen.rows, rows->rows, rows->n * sizeof *rows->rows);
    for (size_t k = 0; k < cfg->nbaselines; k++) {
        const char *base = cfg->baselines[k];
        for (size_t g = 0; g < ngroups; g++) {
            if (!strcmp(groups[g].model, base)) continue;
            size_t b = 0;
            while (b < ngroups && (strcmp(groups[b].model, base) || strcmp(groups[b].test, groups[g].test))) b++;
            if (b == ngroups) continue; /* no baseline on this test set */
            for (int s = 0; s < 2; s++) ratio_rows_of(&frozen, b, g, (int)k, sels[s], nseeds_max, rows);
        }
    }
    free(frozen.rows);
}

/* --- the tidy table ------------------------------------------------------------------------ */

static size_t label_width(const pz_eval_group *groups, size_t ngroups, int test)
{
    size_t w = 1;
    for (size_t g = 0; g < ngroups; g++) {
        size_t l = strlen(test ? groups[g].test : groups[g].model);
        if (l > w) w = l;
    }
    return w;
}

static void set_str(pz_column *c, size_t row, const char *s)
{
    size_t l = strlen(s);
    memcpy((char *)c->data + row * c->width, s, l < c->width ? l : c->width);
}

static char *fmt_list(const double *x, size_t n)
{
    size_t cap = 32 * n + 2;
    char *s = pz_xmalloc(cap);
    s[0] = 0;
    for (size_t i = 0; i < n; i++) snprintf(s + strlen(s), cap - strlen(s), "%s%.17g", i ? "," : "", x[i]);
    return s;
}

static void set_attr_double(pz_table *t, const char *key, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    pz_table_set_attr(t, key, buf);
}

static pz_table *rows_to_table(const pz_eval_config *cfg, const pz_eval_group *groups, size_t ngroups,
                               const row_list *rows)
{
    pz_table *t = pz_table_new(rows->n);
    pz_table_add(t, "model", PZ_STR, label_width(groups, ngroups, 0));
    pz_table_add(t, "test", PZ_STR, label_width(groups, ngroups, 1));
    pz_table_add(t, "versus", PZ_STR, label_width(groups, ngroups, 0));
    pz_table_add(t, "selection", PZ_STR, 4);
    pz_table_add(t, "stat", PZ_STR, 13);
    pz_table_add(t, "seed", PZ_I64, 0);
    pz_table_add(t, "z_lo", PZ_F64, 0);
    pz_table_add(t, "z_hi", PZ_F64, 0);
    for (int v = 0; v < nvalues(cfg); v++) {
        char name[48];
        value_name(cfg, v, name, sizeof name);
        pz_table_add(t, name, PZ_F64, 0);
    }
    for (size_t i = 0; i < rows->n; i++) {
        const eval_row *r = &rows->rows[i];
        set_str(&t->cols[0], i, groups[r->group].model);
        set_str(&t->cols[1], i, groups[r->group].test);
        set_str(&t->cols[2], i, r->versus >= 0 ? cfg->baselines[r->versus] : "");
        set_str(&t->cols[3], i, r->selection);
        set_str(&t->cols[4], i, r->stat);
        ((int64_t *)t->cols[5].data)[i] = r->seed;
        ((double *)t->cols[6].data)[i] = r->zlo;
        ((double *)t->cols[7].data)[i] = r->zhi;
        for (int v = 0; v < nvalues(cfg); v++) ((double *)t->cols[8 + v].data)[i] = r->v[v];
    }
    char *s = fmt_list(cfg->window, 2);
    pz_table_set_attr(t, "lsst_window", s);
    free(s);
    s = fmt_list(cfg->range, 2);
    pz_table_set_attr(t, "range", s);
    free(s);
    s = fmt_list(cfg->bins, cfg->nedges);
    pz_table_set_attr(t, "bins", s);
    free(s);
    set_attr_double(t, "goal_bias", cfg->goals.bias);
    set_attr_double(t, "goal_scatter", cfg->goals.scatter);
    set_attr_double(t, "goal_outlier", cfg->goals.outlier);
    /* `baseline`: the first (the paper's NN-Base), as before; `baselines`: all, comma-separated */
    pz_table_set_attr(t, "baseline", cfg->nbaselines ? cfg->baselines[0] : "");
    size_t len = 1;
    for (size_t k = 0; k < cfg->nbaselines; k++) len += strlen(cfg->baselines[k]) + 1;
    char *all = pz_xmalloc(len);
    all[0] = 0;
    for (size_t k = 0; k < cfg->nbaselines; k++) strcat(strcat(all, k ? "," : ""), cfg->baselines[k]);
    pz_table_set_attr(t, "baselines", all);
    free(all);
    s = fmt_list(cfg->levels, cfg->nlevels);
    pz_table_set_attr(t, "levels", s);
    free(s);
    return t;
}

static int check_config(const pz_eval_config *cfg, const pz_eval_group *groups, size_t ngroups, pz_err *err)
{
    if (ngroups == 0) return pz_errf(err, "no groups to evaluate");
    if (cfg->nedges < 2) return pz_errf(err, "param 'bins': need at least two edges");
    for (size_t k = 1; k < cfg->nedges; k++)
        if (!(cfg->bins[k] > cfg->bins[k - 1])) return pz_errf(err, "param 'bins': edges must increase (%g after %g)", cfg->bins[k], cfg->bins[k - 1]);
    if (!(cfg->window[1] > cfg->window[0])) return pz_errf(err, "param 'window': need lo < hi");
    if (!(cfg->range[1] > cfg->range[0])) return pz_errf(err, "param 'range': need lo < hi");
    for (size_t g = 0; g < ngroups; g++) {
        if (groups[g].npaths == 0) return pz_errf(err, "input '%s': no prediction files", groups[g].input);
        for (size_t h = 0; h < g; h++)
            if (!strcmp(groups[g].model, groups[h].model) && !strcmp(groups[g].test, groups[h].test))
                return pz_errf(err, "groups: model '%s' on test '%s' is listed twice (inputs '%s' and '%s')",
                               groups[g].model, groups[g].test, groups[h].input, groups[g].input);
    }
    for (size_t k = 0; k < cfg->nbaselines; k++) {
        size_t g = 0;
        while (g < ngroups && strcmp(groups[g].model, cfg->baselines[k])) g++;
        if (g == ngroups) return pz_errf(err, "param 'baseline': model '%s' is not in groups", cfg->baselines[k]);
    }
    return 0;
}

pz_table *pz_evaluate(const pz_eval_config *cfg_in, const pz_eval_group *groups, size_t ngroups, pz_err *err)
{
    pz_eval_config c = *cfg_in, *cfg = &c;
    if (check_config(cfg, groups, ngroups, err) < 0 || find_levels(cfg, groups, ngroups, err) < 0) return NULL;
    size_t total = 0, done = 0;
    for (size_t g = 0; g < ngroups; g++) total += groups[g].npaths;
    row_list rows = {0};
    for (size_t g = 0; g < ngroups; g++) {
        size_t first = rows.n;
        for (size_t s = 0; s < groups[g].npaths; s++) {
            preds p;
            if (read_preds(cfg, groups[g].paths[s], (long)s, &p, err) < 0) {
                pz_err_prefix(err, "input '%s': ", groups[g].input);
                free(rows.rows);
                return NULL;
            }
            double *work = pz_xmalloc((3 * p.n + 1) * sizeof *work);
            seed_rows(cfg, g, &p, &rows, work);
            free(work);
            preds_free(&p);
            pz_progress((double)++done / total, "%s on %s, seed %ld", groups[g].model, groups[g].test, p.seed);
        }
        aggregate_rows(cfg, g, first, groups[g].npaths, &rows);
    }
    ratio_rows(cfg, groups, ngroups, &rows);
    pz_table *t = rows_to_table(cfg, groups, ngroups, &rows);
    free(rows.rows);
    return t;
}
