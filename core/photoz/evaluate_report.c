/* The evaluate stage's Markdown summary (built from the metrics table alone, so `pzflow show`
 * can print it from the metrics table) and the stage's params/inputs/outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/evaluate.h"

/* --- reading the tidy table back ----------------------------------------------------------- */

typedef struct mtab {
    const pz_table *t;
    const pz_column *model, *test, *versus, *selection, *stat, *zlo;
} mtab;

static int mtab_open(const pz_table *t, mtab *m, pz_err *err)
{
    m->t = t;
    if (!(m->model = pz_table_need(t, "model", "metrics", err)) || !(m->test = pz_table_need(t, "test", "metrics", err)) ||
        !(m->selection = pz_table_need(t, "selection", "metrics", err)) ||
        !(m->stat = pz_table_need(t, "stat", "metrics", err)) || !(m->zlo = pz_table_need(t, "z_lo", "metrics", err)) ||
        !(m->versus = pz_table_need(t, "versus", "metrics", err)))
        return -1;
    const char *need[] = {"n", "bias", "nmad", "rms", "outlier", "catastrophic", "pass_all", "pass_bias",
                          "pass_scatter", "pass_outlier", "seed", "z_hi"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!pz_table_need(t, need[i], "metrics", err)) return -1;
    return 0;
}

/* Fixed-width string cell compared with a C string. */
static int cell_is(const pz_column *c, size_t row, const char *s)
{
    const char *p = (const char *)c->data + row * c->width;
    size_t l = strlen(s);
    return l <= c->width && !memcmp(p, s, l) && (l == c->width || p[l] == 0);
}

static char *cell_str(const pz_column *c, size_t row)
{
    const char *p = (const char *)c->data + row * c->width;
    return strndup(p, c->width);
}

static double val(const mtab *m, size_t row, const char *col)
{
    return pz_col_f64(pz_table_col(m->t, col), row);
}

/* The row of (model, test, selection, stat[, z_lo]) that is no ratio row; -1 when absent. */
static long find_row(const mtab *m, const char *model, const char *test, const char *selection, const char *stat,
                     double zlo)
{
    for (size_t i = 0; i < m->t->nrows; i++)
        if (cell_is(m->model, i, model) && cell_is(m->test, i, test) && cell_is(m->selection, i, selection) &&
            cell_is(m->stat, i, stat) && cell_is(m->versus, i, "") && (isnan(zlo) || pz_col_f64(m->zlo, i) == zlo))
            return (long)i;
    return -1;
}

/* The ratio row (stat) of model against baseline `versus`; -1 when absent. */
static long find_ratio(const mtab *m, const char *model, const char *test, const char *versus, const char *selection,
                       const char *stat)
{
    for (size_t i = 0; i < m->t->nrows; i++)
        if (cell_is(m->model, i, model) && cell_is(m->test, i, test) && cell_is(m->versus, i, versus) &&
            cell_is(m->selection, i, selection) && cell_is(m->stat, i, stat))
            return (long)i;
    return -1;
}

typedef struct label_pairs {
    char **model, **test;
    size_t n;
} label_pairs;

/* Distinct (model, test) pairs in table order. */
static void pairs_of(const mtab *m, label_pairs *p)
{
    p->model = pz_xmalloc((m->t->nrows + 1) * sizeof *p->model);
    p->test = pz_xmalloc((m->t->nrows + 1) * sizeof *p->test);
    p->n = 0;
    for (size_t i = 0; i < m->t->nrows; i++) {
        if (!cell_is(m->stat, i, "mean")) continue;
        char *mo = cell_str(m->model, i), *te = cell_str(m->test, i);
        size_t k = 0;
        while (k < p->n && (strcmp(p->model[k], mo) || strcmp(p->test[k], te))) k++;
        if (k < p->n) {
            free(mo);
            free(te);
            continue;
        }
        p->model[p->n] = mo;
        p->test[p->n++] = te;
    }
}

static void pairs_free(label_pairs *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->model[i]), free(p->test[i]);
    free(p->model);
    free(p->test);
}

/* --- formatting ---------------------------------------------------------------------------- */

static void put_num(FILE *out, const char *fmt, double v)
{
    if (isnan(v)) fputs("n/a", out);
    else fprintf(out, fmt, v);
}

/* Galaxies per seed, with the non-finite predictions excluded from the metrics when there are
 * any (mean per seed): a metric over fewer galaxies than the test set must say so. */
static void put_count(FILE *out, const mtab *m, long row)
{
    put_num(out, "%.0f", val(m, row, "n"));
    const pz_column *nan_col = pz_table_col(m->t, "n_nan");
    double nn = nan_col ? pz_col_f64(nan_col, (size_t)row) : 0;
    if (nn > 0) fprintf(out, " (+%g NaN excluded)", nn);
}

/* "mean ± std" (just the mean when there is one seed). */
static void put_mean_std(FILE *out, const mtab *m, long mean, long std, const char *col, const char *fmt)
{
    put_num(out, fmt, val(m, mean, col));
    double s = std >= 0 ? val(m, std, col) : NAN;
    if (!isnan(s)) {
        fputs(" ± ", out);
        fprintf(out, fmt, s);
    }
}

static void put_goals(FILE *out, const mtab *m, long mean)
{
    if (isnan(val(m, mean, "pass_all"))) {
        fputs("n/a", out);
        return;
    }
    if (val(m, mean, "pass_all") == 1) {
        fputs("PASS", out);
        return;
    }
    fputs("FAIL (", out);
    const char *names[3] = {"bias", "scatter", "outliers"}, *cols[3] = {"pass_bias", "pass_scatter", "pass_outlier"};
    int first = 1;
    for (int i = 0; i < 3; i++)
        if (val(m, mean, cols[i]) != 1) fprintf(out, "%s%s", first ? "" : ", ", names[i]), first = 0;
    fputs(")", out);
}

static void put_std_cells(FILE *out, const mtab *m, long mean, long std)
{
    static const char *const cols[5] = {"bias", "nmad", "rms", "outlier", "catastrophic"};
    static const char *const fmts[5] = {"%+.5f", "%.4f", "%.4f", "%.4f", "%.4f"};
    for (int c = 0; c < 5; c++) {
        fputs(" | ", out);
        if (c == 0) {
            /* std is printed unsigned */
            put_num(out, fmts[0], val(m, mean, cols[0]));
            double s = std >= 0 ? val(m, std, cols[0]) : NAN;
            if (!isnan(s)) fprintf(out, " ± %.5f", s);
        } else {
            put_mean_std(out, m, mean, std, cols[c], fmts[c]);
        }
    }
}

static int seed_count(const mtab *m, const char *model, const char *test)
{
    int n = 0;
    for (size_t i = 0; i < m->t->nrows; i++)
        n += cell_is(m->model, i, model) && cell_is(m->test, i, test) && cell_is(m->selection, i, "all") &&
             cell_is(m->stat, i, "seed");
    return n;
}

static void summary_table(FILE *out, const mtab *m, const label_pairs *p, const char *selection)
{
    fputs("| model | test set | seeds | galaxies/seed | bias | NMAD | RMS | outlier fraction | catastrophic fraction | "
          "LSST goals |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n", out);
    for (size_t k = 0; k < p->n; k++) {
        long mean = find_row(m, p->model[k], p->test[k], selection, "mean", NAN);
        long std = find_row(m, p->model[k], p->test[k], selection, "std", NAN);
        if (mean < 0) continue;
        fprintf(out, "| %s | %s | %d | ", p->model[k], p->test[k], seed_count(m, p->model[k], p->test[k]));
        put_count(out, m, mean);
        if (val(m, mean, "n") == 0 || isnan(val(m, mean, "n"))) {
            fputs(" | n=0 | n=0 | n=0 | n=0 | n=0 | n/a |\n", out);
            continue;
        }
        put_std_cells(out, m, mean, std);
        fputs(" | ", out);
        put_goals(out, m, mean);
        fputs(" |\n", out);
    }
}

/* "2.47 [0.60, 42.13]": the ratio and its interval (just the ratio when there is none). */
static void put_ratio(FILE *out, const mtab *m, long r, long lo, long hi, const char *col)
{
    put_num(out, "%.2f", val(m, r, col));
    double l = lo >= 0 ? val(m, lo, col) : NAN, h = hi >= 0 ? val(m, hi, col) : NAN;
    if (isnan(l) || isnan(h)) return;
    fprintf(out, " [%.2f, %.2f]", l, h);
}

static void ratio_table(FILE *out, const mtab *m, const label_pairs *p, const char *baseline, const char *selection)
{
    fprintf(out, "| test set | ratio | \\|mean bias\\| | mean \\|bias\\| | NMAD | RMS | outlier fraction | "
                 "catastrophic fraction |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < p->n; k++) {
        const char *mo = p->model[k], *te = p->test[k];
        long r = find_ratio(m, mo, te, baseline, selection, "ratio");
        if (r < 0) continue;
        long lo = find_ratio(m, mo, te, baseline, selection, "ratio_lo"), hi = find_ratio(m, mo, te, baseline, selection, "ratio_hi");
        fprintf(out, "| %s | %s / %s | ", te, baseline, mo);
        put_ratio(out, m, r, lo, hi, "bias");
        fputs(" | ", out);
        long ra = find_ratio(m, mo, te, baseline, selection, "ratio_mabs");
        if (ra < 0) fputs("n/a", out);
        else put_ratio(out, m, ra, find_ratio(m, mo, te, baseline, selection, "ratio_mabs_lo"),
                       find_ratio(m, mo, te, baseline, selection, "ratio_mabs_hi"), "bias");
        static const char *const cols[4] = {"nmad", "rms", "outlier", "catastrophic"};
        for (int c = 0; c < 4; c++) {
            fputs(" | ", out);
            put_ratio(out, m, r, lo, hi, cols[c]);
        }
        fputs(" |\n", out);
    }
}

static void bins_table(FILE *out, const mtab *m, const label_pairs *p)
{
    fputs("| model | test set | z_true bin | galaxies/seed | bias | NMAD | RMS | outlier fraction | catastrophic fraction "
          "|\n|---|---|---|---:|---:|---:|---:|---:|---:|\n", out);
    for (size_t k = 0; k < p->n; k++) {
        for (size_t i = 0; i < m->t->nrows; i++) {
            if (!cell_is(m->model, i, p->model[k]) || !cell_is(m->test, i, p->test[k]) ||
                !cell_is(m->selection, i, "bin") || !cell_is(m->stat, i, "mean"))
                continue;
            double lo = val(m, i, "z_lo"), hi = val(m, i, "z_hi");
            long std = find_row(m, p->model[k], p->test[k], "bin", "std", lo);
            fprintf(out, "| %s | %s | (%.2f, %.2f] | ", p->model[k], p->test[k], lo, hi);
            put_count(out, m, (long)i);
            if (!(val(m, i, "n") > 0)) {
                fputs(" | n=0 | n=0 | n=0 | n=0 | n=0 |\n", out);
                continue;
            }
            put_std_cells(out, m, (long)i, std);
            fputs(" |\n", out);
        }
    }
}

/* --- uncertainty ------------------------------------------------------------------------- */

/* The interval levels the tables show: 68 and 95 when present (every level is in the metrics table). */
static size_t shown_levels(const pz_table *t, double *pct)
{
    const char *s = pz_table_attr(t, "levels");
    size_t n = 0, all = 0;
    double v[64];
    for (char *end; s && *s && all < 64; s = *end == ',' ? end + 1 : end) {
        v[all] = strtod(s, &end);
        if (end == s) break;
        all++;
    }
    for (size_t i = 0; i < all; i++)
        if (v[i] == 68 || v[i] == 95) pct[n++] = v[i];
    for (size_t i = 0; n == 0 && i < all && i < 2; i++) pct[i] = v[i], n = i + 1;
    return n;
}

static int has_uq(const mtab *m, long row)
{
    if (!isnan(val(m, row, "pit_ks"))) return 1;
    for (size_t c = 0; c < m->t->ncols; c++)
        if (!strncmp(m->t->cols[c].name, "coverage_", 9) && !isnan(pz_col_f64(&m->t->cols[c], (size_t)row))) return 1;
    return 0;
}

static void put_cell(FILE *out, const mtab *m, long mean, long std, const char *col, const char *fmt)
{
    fputs(" | ", out);
    if (!pz_table_col(m->t, col)) fputs("n/a", out);
    else put_mean_std(out, m, mean, std, col, fmt);
}

static void uq_row(FILE *out, const mtab *m, long mean, long std, const double *lv, size_t nlv)
{
    put_cell(out, m, mean, std, "pit_ks", "%.4f");
    put_cell(out, m, mean, std, "pit_ks_raw", "%.4f");
    put_cell(out, m, mean, std, "pit_cvm", "%.3g");
    put_cell(out, m, mean, std, "crps", "%.4f");
    put_cell(out, m, mean, std, "nmad", "%.4f");
    for (size_t l = 0; l < nlv; l++) {
        char c[40], w[40];
        snprintf(c, sizeof c, "coverage_%g", lv[l]);
        snprintf(w, sizeof w, "width_%g", lv[l]);
        put_cell(out, m, mean, std, c, "%.3f");
        put_cell(out, m, mean, std, w, "%.3f");
    }
    put_cell(out, m, mean, std, "catastrophic_in_95", "%.3f");
    fputs(" |\n", out);
}

/* `first`: the label columns ("model | test set"), nfirst of them. */
static void uq_header(FILE *out, const char *first, int nfirst, const double *lv, size_t nlv)
{
    fprintf(out, "| %s | PIT KS | PIT KS raw | PIT CvM | CRPS | NMAD |", first);
    for (size_t l = 0; l < nlv; l++) fprintf(out, " coverage %g%% | width %g%% |", lv[l], lv[l]);
    fputs(" catastrophic inside 95% |\n|", out);
    for (int i = 0; i < nfirst; i++) fputs("---|", out);
    fputs("---:|---:|---:|---:|---:|", out);
    for (size_t l = 0; l < nlv; l++) fputs("---:|---:|", out);
    fputs("---:|\n", out);
}

/* One row per (model, test set) with a p(z) or intervals, in one selection. */
static int uq_table(FILE *out, const mtab *m, const label_pairs *p, const char *selection, const double *lv, size_t nlv)
{
    int any = 0;
    for (size_t k = 0; k < p->n; k++) {
        long mean = find_row(m, p->model[k], p->test[k], selection, "mean", NAN);
        if (mean < 0 || !has_uq(m, mean)) continue;
        if (!any++) uq_header(out, "model | test set", 2, lv, nlv);
        fprintf(out, "| %s | %s", p->model[k], p->test[k]);
        uq_row(out, m, mean, find_row(m, p->model[k], p->test[k], selection, "std", NAN), lv, nlv);
    }
    return any;
}

static void uq_bins_table(FILE *out, const mtab *m, const label_pairs *p, const double *lv, size_t nlv)
{
    int any = 0;
    for (size_t k = 0; k < p->n; k++)
        for (size_t i = 0; i < m->t->nrows; i++) {
            if (!cell_is(m->model, i, p->model[k]) || !cell_is(m->test, i, p->test[k]) ||
                !cell_is(m->selection, i, "bin") || !cell_is(m->stat, i, "mean") || !has_uq(m, (long)i))
                continue;
            if (!any++) uq_header(out, "model | test set | z_true bin", 3, lv, nlv);
            double lo = val(m, i, "z_lo"), hi = val(m, i, "z_hi");
            fprintf(out, "| %s | %s | (%.2f, %.2f]", p->model[k], p->test[k], lo, hi);
            uq_row(out, m, (long)i, find_row(m, p->model[k], p->test[k], "bin", "std", lo), lv, nlv);
        }
}

static int any_uq(const mtab *m, const label_pairs *p)
{
    for (size_t k = 0; k < p->n; k++) {
        long mean = find_row(m, p->model[k], p->test[k], "all", "mean", NAN);
        if (mean >= 0 && has_uq(m, mean)) return 1;
    }
    return 0;
}

/* The window and whole-range tables (before the bins, which docs/results.md folds away). */
static void uq_sections(FILE *out, const mtab *m, const label_pairs *p, const double *w, const double *r)
{
    double lv[2];
    size_t nlv = shown_levels(m->t, lv);
    if (!any_uq(m, p)) return; /* no model has a p(z) or intervals */
    fprintf(out, "\n## Uncertainty, LSST window %g < z_true ≤ %g\n\n", w[0], w[1]);
    fputs("PIT = CDF of the p(z) at z_true: KS and Cramér-von Mises statistics against the uniform law (0 = "
          "calibrated; raw: of the mixture before its PIT recalibration, where there is one), mean CRPS (docs/uncertainty.md); NMAD of the point estimate beside it. Coverage: fraction "
          "of galaxies whose z_true lies in their interval; width: mean interval width; catastrophic inside 95%: "
          "fraction of the |z_pred − z_true| > 1 galaxies inside their own 95% interval. Mean ± std over seeds; "
          "n/a: the model has no p(z) or no such interval.\n\n",
          out);
    uq_table(out, m, p, "lsst", lv, nlv);
    fprintf(out, "\n## Uncertainty, whole range %g < z_true ≤ %g\n\n", r[0], r[1]);
    uq_table(out, m, p, "all", lv, nlv);
}

int pz_eval_markdown(const pz_table *metrics, FILE *out, pz_err *err)
{
    mtab m;
    if (mtab_open(metrics, &m, err) < 0) return -1;
    const char *window = pz_table_attr(metrics, "lsst_window"), *range = pz_table_attr(metrics, "range");
    const char *baselines = pz_table_attr(metrics, "baselines");
    if (!baselines) baselines = pz_table_attr(metrics, "baseline");
    const char *gb = pz_table_attr(metrics, "goal_bias"), *gs = pz_table_attr(metrics, "goal_scatter"),
               *go = pz_table_attr(metrics, "goal_outlier");
    if (!window || !range || !gb || !gs || !go)
        return pz_errf(err, "metrics table lacks the attributes written by evaluate (lsst_window, range, goal_*)");
    double w[2] = {NAN, NAN}, r[2] = {NAN, NAN};
    sscanf(window, "%lf,%lf", &w[0], &w[1]);
    sscanf(range, "%lf,%lf", &r[0], &r[1]);
    label_pairs p;
    pairs_of(&m, &p);
    fprintf(out, "# Photo-z metrics\n\n");
    fprintf(out, "dz = (z_pred − z_true)/(1 + z_true); bias = median(dz); NMAD = 1.4826·median|dz − median(dz)|; "
                 "RMS = sqrt(mean dz²); outlier: |dz| > 0.15; catastrophic: |z_pred − z_true| > 1. "
                 "Values are mean ± standard deviation over seeds.\n\n");
    fprintf(out, "LSST goals: |bias| < %g, NMAD < %g, outlier fraction < %g (tested on the seed means).\n\n",
            strtod(gb, NULL), strtod(gs, NULL), strtod(go, NULL));
    fprintf(out, "## LSST window %g < z_true ≤ %g\n\n", w[0], w[1]);
    summary_table(out, &m, &p, "lsst");
    fprintf(out, "\n## Whole range %g < z_true ≤ %g\n\n", r[0], r[1]);
    summary_table(out, &m, &p, "all");
    char *list = strdup(baselines ? baselines : ""), *save = NULL;
    for (char *baseline = strtok_r(list, ",", &save); baseline; baseline = strtok_r(NULL, ",", &save)) {
        fprintf(out, "\n## Ratios %s / model, LSST window (> 1: the model improves on %s)\n\n", baseline, baseline);
        fputs("Ratios of the seed means, with 95% bootstrap intervals over seeds in brackets (10000 resamples of "
              "the seeds, paired seed by seed when both models have the same seeds, fixed RNG seed). Bias has two "
              "definitions: \\|mean bias\\| = \\|mean over seeds of the median bias\\| (seeds of opposite sign "
              "cancel), mean \\|bias\\| = mean over seeds of \\|median bias\\|. An interval that holds 1 means "
              "the seeds do not show that the model differs from the baseline.\n\n",
              out);
        ratio_table(out, &m, &p, baseline, "lsst");
        fprintf(out, "\n## Ratios %s / model, whole range\n\n", baseline);
        ratio_table(out, &m, &p, baseline, "all");
    }
    free(list);
    uq_sections(out, &m, &p, w, r);
    fputs("\n## Redshift bins (right-closed on z_true)\n\n", out);
    bins_table(out, &m, &p);
    if (any_uq(&m, &p)) {
        double lv[2];
        size_t nlv = shown_levels(metrics, lv);
        fputs("\n### Uncertainty in redshift bins\n\n", out);
        uq_bins_table(out, &m, &p, lv, nlv);
    }
    pairs_free(&p);
    if (ferror(out)) return pz_errf(err, "writing the Markdown table failed");
    return 0;
}

/* --- the stage ----------------------------------------------------------------------------- */

/* The stage's params, read once from EVALUATE_PARAMS (below). */
typedef struct {
    const pz_ynode *groups, *window, *range, *bins, *goals;
    pz_strs baseline;
    const char *nan_policy, *z_pred_column, *z_true_column;
} eval_params;

static int double_list(const pz_spec *spec, const pz_ynode *node, const char *key, double **out, size_t *n, pz_err *err)
{
    if (!node) return 1;
    if (node->kind != PZ_Y_SEQ)
        return pz_errf(err, "%s:%d:%d: param '%s': expected a list of numbers", spec->path, node->line, node->col, key);
    double *v = pz_xmalloc((node->n + 1) * sizeof *v);
    for (size_t i = 0; i < node->n; i++)
        if (pz_yscalar_double(node->items[i], spec->path, &v[i], err) < 0) {
            free(v);
            return pz_err_prefix(err, "param '%s': ", key);
        }
    *out = v;
    *n = node->n;
    return 0;
}

int pz_spec_double_list(const pz_spec *spec, const char *key, double **out, size_t *n, pz_err *err)
{
    return double_list(spec, pz_spec_param(spec, key), key, out, n, err);
}

static int pair_param(const pz_spec *spec, const pz_ynode *node, const char *key, double out[2], pz_err *err)
{
    double *v = NULL;
    size_t n = 0;
    int rc = double_list(spec, node, key, &v, &n, err);
    if (rc != 0) return rc;
    if (n != 2) {
        free(v);
        return pz_errf(err, "param '%s': expected [lo, hi], got %zu numbers", key, n);
    }
    out[0] = v[0], out[1] = v[1];
    free(v);
    return 0;
}

static int group_field(const pz_spec *spec, const pz_ynode *item, size_t i, const char *key, const char **out,
                       pz_err *err)
{
    const pz_ynode *n = pz_ymap_get(item, key);
    if (!n || n->kind != PZ_Y_SCALAR)
        return pz_errf(err, "%s:%d:%d: param 'groups.%zu': needs a string '%s'", spec->path, item->line, item->col, i,
                       key);
    *out = n->str;
    return 0;
}

static int read_groups(const pz_spec *spec, const pz_ynode *node, pz_eval_group **out, size_t *n, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SEQ || node->n == 0)
        return pz_errf(err, "param 'groups': required, a list of {model, test, input}");
    pz_eval_group *g = pz_xcalloc(node->n, sizeof *g);
    for (size_t i = 0; i < node->n; i++) {
        const pz_ynode *item = node->items[i];
        if (item->kind != PZ_Y_MAP) {
            free(g);
            return pz_errf(err, "%s:%d:%d: param 'groups.%zu': expected {model, test, input}", spec->path, item->line,
                           item->col, i);
        }
        for (size_t k = 0; k < item->n; k++) {
            const char *key = item->keys[k]->str;
            if (strcmp(key, "model") && strcmp(key, "test") && strcmp(key, "input")) {
                free(g);
                return pz_errf(err, "%s:%d:%d: param 'groups.%zu': unknown key '%s' (known: model, test, input)",
                               spec->path, item->keys[k]->line, item->keys[k]->col, i, key);
            }
        }
        if (group_field(spec, item, i, "model", &g[i].model, err) < 0 ||
            group_field(spec, item, i, "test", &g[i].test, err) < 0 ||
            group_field(spec, item, i, "input", &g[i].input, err) < 0 ||
            pz_spec_inputs(spec, g[i].input, &g[i].paths, &g[i].npaths, err) < 0) {
            for (size_t k = 0; k < i; k++) free(g[k].paths);
            free(g);
            return -1;
        }
    }
    *out = g;
    *n = node->n;
    return 0;
}

static int read_config(const pz_spec *spec, const eval_params *a, pz_eval_config *cfg, double **bins_owned, pz_err *err)
{
    pz_eval_config_default(cfg);
    *bins_owned = NULL;
    if (pair_param(spec, a->window, "window", cfg->window, err) < 0 || pair_param(spec, a->range, "range", cfg->range, err) < 0)
        return -1;
    int rc = double_list(spec, a->bins, "bins", bins_owned, &cfg->nedges, err);
    if (rc < 0) return -1;
    if (rc == 0) cfg->bins = *bins_owned;
    const pz_ynode *goals = a->goals; /* a map: the table says so */
    for (size_t k = 0; goals && k < goals->n; k++) {
        const char *key = goals->keys[k]->str;
        double *slot = !strcmp(key, "bias") ? &cfg->goals.bias : !strcmp(key, "scatter") ? &cfg->goals.scatter
                       : !strcmp(key, "outlier") ? &cfg->goals.outlier : NULL;
        if (!slot)
            return pz_errf(err, "%s:%d:%d: param 'goals': unknown key '%s' (known: bias, scatter, outlier)", spec->path,
                           goals->keys[k]->line, goals->keys[k]->col, key);
        if (pz_yscalar_double(goals->items[k], spec->path, slot, err) < 0) return pz_err_prefix(err, "param 'goals.%s': ", key);
    }
    /* `baseline: ""` (or []) asks for no ratios */
    if (pz_spec_param(spec, "baseline")) { /* absent: the default, {"NN-Base"} (the field starts empty) */
        cfg->baselines = a->baseline.v;
        cfg->nbaselines = a->baseline.n == 1 && !*a->baseline.v[0] ? 0 : a->baseline.n;
    }
    cfg->nan_error = !strcmp(a->nan_policy, "error"); /* the table allows exclude|error */
    cfg->z_pred_col = a->z_pred_column;
    cfg->z_true_col = a->z_true_column;
    return 0;
}

static int write_markdown(const char *path, const pz_table *t, pz_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return pz_errf(err, "%s: cannot create: %m", path);
    int rc = pz_eval_markdown(t, f, err);
    if (fclose(f) != 0 && rc == 0) rc = pz_errf(err, "%s: write failed: %m", path);
    if (rc < 0) pz_err_prefix(err, "%s: ", path);
    return rc;
}

static int evaluate_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    (void)summary;
    const eval_params *a = params;
    pz_eval_config cfg;
    double *bins = NULL;
    pz_eval_group *groups = NULL;
    size_t ngroups = 0;
    const char *metrics_path, *table_path;
    int rc = -1;
    if (read_config(spec, a, &cfg, &bins, err) < 0 || read_groups(spec, a->groups, &groups, &ngroups, err) < 0 ||
        pz_spec_output(spec, "metrics", &metrics_path, err) < 0 || pz_spec_output(spec, "table", &table_path, err) < 0)
        goto out;
    pz_table *t = pz_evaluate(&cfg, groups, ngroups, err);
    if (!t) goto out;
    rc = pz_stage_table_write(metrics_path, t, err) < 0 || write_markdown(table_path, t, err) < 0 ? -1 : 0;
    pz_table_free(t);
out:
    for (size_t g = 0; g < ngroups; g++) free(groups[g].paths);
    free(groups);
    free(bins);
    return rc;
}

/* The stage's params: read once into eval_params by pz_stage_main (util/spec.h). */
#define EF(m) PZ_FIELD(eval_params, m)
static const pz_param_def EVALUATE_PARAMS[] = {
    {PZ_PARAM("groups", PZ_PT_LIST, NULL, "one {model, test, input} per table row; input names the predictions"),
     .required = 1, .field = EF(groups)},
    {PZ_PARAM("window", PZ_PT_LIST, "[0.3, 1.5]", "redshift window of the headline metrics [low, high]"),
     .field = EF(window)},
    {PZ_PARAM("range", PZ_PT_LIST, "[0, 4]", "redshift range of the binned metrics [low, high]"), .field = EF(range)},
    {PZ_PARAM("bins", PZ_PT_LIST, NULL, "edges of the redshift bins (default: docs/evaluate.md)"), .field = EF(bins)},
    {PZ_PARAM("goals", PZ_PT_MAP, NULL, "LSST goals {bias, scatter, outlier} (default: the SRD's)"),
     .field = EF(goals)},
    {PZ_PARAM("baseline", PZ_PT_STRINGS, "NN-Base", "model(s) the others are compared with, one ratio table each (empty: none)"),
     .field = EF(baseline)},
    {PZ_PARAM("nan_policy", PZ_PT_STRING, "exclude", "non-finite predictions: exclude them or fail"),
     .choices = "exclude|error", .field = EF(nan_policy)},
    {PZ_PARAM("z_pred_column", PZ_PT_STRING, "z_pred", "predicted-redshift column"), .field = EF(z_pred_column)},
    {PZ_PARAM("z_true_column", PZ_PT_STRING, "z_true", "true-redshift column"), .field = EF(z_true_column)},
    {0}};
static const pz_io_def EVALUATE_OUTPUTS[] = {{"metrics", PZ_IO_ONE, 0, "every metric per model, test set and seed", PZ_STAGE_TABLE_EXT},
                                             {"table", PZ_IO_ONE, 0, "the metric table (Markdown)", ".md"}, {0}};

const pz_stage_def pz_evaluate_stage = {
    .prog = "pzflow-evaluate", .docs = "docs/evaluate.md",
    .summary = "photo-z metrics of every (model, test set) over seeds",
    .params = EVALUATE_PARAMS, .open_inputs = 1, .outputs = EVALUATE_OUTPUTS,
    .params_size = sizeof(eval_params), .run = evaluate_stage};
