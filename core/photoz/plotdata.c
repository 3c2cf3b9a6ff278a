#include "photoz/plotdata.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/evaluate.h"
#include "util/progress.h"

/* Edge k of n equal bins. Computed as lo + (hi - lo) k / n, not lo + k w: for lo = 0 this is
 * the correctly rounded k hi / n, so edge 3 of (0, 1.5] in 5 bins is the double nearest 0.9. */
static double bin_edge(const pz_bins *b, size_t k)
{
    return b->lo + (b->hi - b->lo) * (double)k / (double)b->n;
}

long pz_bin_index(const pz_bins *b, double x)
{
    if (!(x > b->lo && x <= b->hi)) return -1; /* NaN fails too */
    long n = (long)b->n;
    long k = (long)ceil((x - b->lo) / (b->hi - b->lo) * (double)n) - 1;
    if (k < 0) k = 0;
    if (k >= n) k = n - 1;
    /* rounding in the division can land next to the right bin: settle against the edges */
    while (k > 0 && x <= bin_edge(b, (size_t)k)) k--;
    while (k < n - 1 && x > bin_edge(b, (size_t)k + 1)) k++;
    return k;
}

size_t pz_histogram(const pz_bins *b, const double *x, size_t n, long *counts)
{
    size_t in = 0;
    for (size_t i = 0; i < n; i++) {
        long k = pz_bin_index(b, x[i]);
        if (k >= 0) counts[k]++, in++;
    }
    return in;
}

/* --- CSV ----------------------------------------------------------------------------------- */

static void csv_string(FILE *out, const char *p, size_t width)
{
    size_t l = strnlen(p, width);
    int quote = memchr(p, ',', l) || memchr(p, '"', l) || memchr(p, '\n', l);
    if (!quote) {
        fwrite(p, 1, l, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < l; i++) {
        if (p[i] == '"') fputc('"', out);
        fputc(p[i], out);
    }
    fputc('"', out);
}

int pz_table_write_csv(FILE *out, const pz_table *t, pz_err *err)
{
    for (size_t j = 0; j < t->ncols; j++) fprintf(out, "%s%s", j ? "," : "", t->cols[j].name);
    fputc('\n', out);
    for (size_t i = 0; i < t->nrows; i++) {
        for (size_t j = 0; j < t->ncols; j++) {
            const pz_column *c = &t->cols[j];
            if (j) fputc(',', out);
            if (c->type == PZ_STR) {
                csv_string(out, (const char *)c->data + i * c->width, c->width);
                continue;
            }
            double v = pz_col_f64(c, i);
            if (isnan(v)) fputs("nan", out);
            else if (c->type == PZ_F64 || c->type == PZ_F32) fprintf(out, "%.10g", v);
            else fprintf(out, "%.0f", v);
        }
        fputc('\n', out);
    }
    if (ferror(out)) return pz_errf(err, "writing CSV failed");
    return 0;
}

/* --- small table helpers ------------------------------------------------------------------- */

static void put_str(pz_column *c, size_t row, const char *s)
{
    size_t l = strlen(s);
    memcpy((char *)c->data + row * c->width, s, l < c->width ? l : c->width);
}

static int str_is(const pz_column *c, size_t row, const char *s)
{
    const char *p = (const char *)c->data + row * c->width;
    size_t l = strlen(s);
    return l <= c->width && !memcmp(p, s, l) && (l == c->width || p[l] == 0);
}

static size_t width_of(const char *const *s, size_t n)
{
    size_t w = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(s[i]) > w) w = strlen(s[i]);
    return w;
}

static double *column_values(const pz_table *t, const char *name)
{
    const pz_column *c = pz_table_col(t, name);
    double *v = pz_xmalloc((t->nrows + 1) * sizeof *v);
    for (size_t i = 0; i < t->nrows; i++) v[i] = pz_col_f64(c, i);
    return v;
}

/* --- params -------------------------------------------------------------------------------- */

/* The stage's params, read once from PLOT_DATA_PARAMS (below) by pz_stage_main; the nested
 * ones (lists of maps, bins) arrive as the nodes the table hands over and are read here. */
typedef struct plot_params {
    const pz_ynode *datasets, *predictions, *seeds;
    const pz_ynode *z_bins, *mag_bins, *color_bins, *scatter_bins;
    pz_strs bands, metrics; /* empty: the defaults */
    const char *mag_column, *mag_band, *z_pred_column, *z_true_column;
    long seed_index;
} plot_params;

/* One number of a bins map, if given (absent: keep the default). */
static int bins_field(const pz_spec *spec, const pz_ynode *map, const char *key, const char *field, double *out,
                      int integer, pz_err *err)
{
    const pz_ynode *v = pz_ymap_get(map, field);
    if (!v) return 0;
    long l;
    int rc = integer ? pz_yscalar_long(v, spec->path, &l, err) : pz_yscalar_double(v, spec->path, out, err);
    if (rc < 0) return pz_err_prefix(err, "param '%s.%s': ", key, field);
    if (integer) *out = (double)l;
    return 0;
}

static int bins_param(const pz_spec *spec, const pz_ynode *n, const char *key, pz_bins *b, pz_err *err)
{
    if (!n) return 0; /* keep the default */
    if (n->kind != PZ_Y_MAP)
        return pz_errf(err, "%s:%d:%d: param '%s': expected {lo, hi, n}", spec->path, n->line, n->col, key);
    double count = (double)b->n;
    if (bins_field(spec, n, key, "lo", &b->lo, 0, err) < 0 || bins_field(spec, n, key, "hi", &b->hi, 0, err) < 0 ||
        bins_field(spec, n, key, "n", &count, 1, err) < 0)
        return -1;
    if (!(b->hi > b->lo) || count < 1 || count > 100000)
        return pz_errf(err, "%s:%d:%d: param '%s': need lo < hi and 1 <= n <= 100000", spec->path, n->line, n->col, key);
    b->n = (size_t)count;
    return 0;
}

/* A list param of maps, each with the string fields `fields`: the first `nrequired` must be
 * there, the rest are optional (NULL when absent). */
static int map_list(const pz_spec *spec, const pz_ynode *node, const char *key, const char *const *fields, size_t nfields,
                    size_t nrequired, const char ***out, size_t *nitems, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SEQ || node->n == 0)
        return pz_errf(err, "param '%s': required, a list of maps", key);
    const char **v = pz_xcalloc(node->n * nfields + 1, sizeof *v);
    for (size_t i = 0; i < node->n; i++) {
        const pz_ynode *item = node->items[i];
        for (size_t f = 0; f < nfields; f++) {
            const pz_ynode *s = item->kind == PZ_Y_MAP ? pz_ymap_get(item, fields[f]) : NULL;
            if (!s && f >= nrequired && item->kind == PZ_Y_MAP) continue;
            if (!s || s->kind != PZ_Y_SCALAR) {
                free(v);
                return pz_errf(err, "%s:%d:%d: param '%s.%zu': needs a string '%s'", spec->path, item->line, item->col,
                               key, i, fields[f]);
            }
            v[i * nfields + f] = s->str;
        }
        for (size_t k = 0; k < item->n; k++) {
            size_t f = 0;
            while (f < nfields && strcmp(fields[f], item->keys[k]->str)) f++;
            if (f == nfields) {
                free(v);
                return pz_errf(err, "%s:%d:%d: param '%s.%zu': unknown key '%s'", spec->path, item->keys[k]->line,
                               item->keys[k]->col, key, i, item->keys[k]->str);
            }
        }
    }
    *out = v;
    *nitems = node->n;
    return 0;
}

/* One file of an input: the only one, or the `index`-th of a list. */
static int input_file(const pz_spec *spec, const char *name, long index, const char **path, pz_err *err)
{
    const char **paths;
    size_t n;
    if (pz_spec_inputs(spec, name, &paths, &n, err) < 0) return -1;
    if (index < 0 || (size_t)index >= n) {
        free(paths);
        return pz_errf(err, "input '%s': param seed_index %ld but the input has %zu file(s)", name, index, n);
    }
    *path = paths[index];
    free(paths);
    return 0;
}

/* --- Figure 1: distributions ------------------------------------------------------------------ */

#define FIG1_FIELDS 4 /* name, input, z, z_label (optional) */

typedef struct fig1_cfg {
    const char **datasets; /* FIG1_FIELDS strings per dataset */
    size_t ndatasets;
    const char **bands;
    size_t nbands;
    const char *mag_template; /* "%s_cmodel_mag" */
    const char *mag_band;
    pz_bins z, mag, color;
} fig1_cfg;

#define FIG1_MAX_Q 16

typedef struct quantity {
    char name[32];
    const pz_bins *bins;
    double *values;
    size_t n;
} quantity;

static char *mag_column(const fig1_cfg *c, const char *band)
{
    /* the template has exactly one %s (checked when reading params) */
    return pz_xasprintf(c->mag_template, band);
}

static int dataset_quantities(const fig1_cfg *c, const char *path, const char *zcol, quantity *q, size_t *nq,
                              pz_err *err)
{
    size_t ncols = 1 + c->nbands;
    char **cols = pz_xcalloc(ncols, sizeof *cols);
    cols[0] = pz_xstrdup(zcol);
    for (size_t b = 0; b < c->nbands; b++) cols[1 + b] = mag_column(c, c->bands[b]);
    pz_table *t = NULL;
    int rc = pz_table_read_any(path, 0, (const char *const *)cols, ncols, 0, (size_t)-1, &t, err);
    if (rc == 0) {
        size_t k = 0;
        snprintf(q[k].name, sizeof q[k].name, "z");
        q[k].bins = &c->z, q[k].values = column_values(t, cols[0]), q[k++].n = t->nrows;
        for (size_t b = 0; b < c->nbands; b++) {
            if (strcmp(c->bands[b], c->mag_band)) continue;
            snprintf(q[k].name, sizeof q[k].name, "%s", c->bands[b]);
            q[k].bins = &c->mag, q[k].values = column_values(t, cols[1 + b]), q[k++].n = t->nrows;
        }
        for (size_t b = 0; b + 1 < c->nbands; b++) {
            snprintf(q[k].name, sizeof q[k].name, "%s-%s", c->bands[b], c->bands[b + 1]);
            double *m1 = column_values(t, cols[1 + b]), *m2 = column_values(t, cols[2 + b]);
            for (size_t i = 0; i < t->nrows; i++) m1[i] -= m2[i];
            free(m2);
            q[k].bins = &c->color, q[k].values = m1, q[k++].n = t->nrows;
        }
        *nq = k;
    }
    pz_table_free(t);
    for (size_t i = 0; i < ncols; i++) free(cols[i]);
    free(cols);
    return rc;
}

/* The quantities of every file of an input (a dataset given as its training, validation and
 * test files is drawn whole), concatenated. */
static int dataset_files_quantities(const pz_spec *spec, const fig1_cfg *c, const char *input, const char *zcol,
                                    quantity *q, size_t *nq, pz_err *err)
{
    const char **paths;
    size_t npaths;
    if (pz_spec_inputs(spec, input, &paths, &npaths, err) < 0) return -1;
    size_t nq_max = 2 + c->nbands;
    quantity *part = pz_xcalloc(nq_max, sizeof *part);
    int rc = 0;
    *nq = 0;
    for (size_t f = 0; f < npaths && rc == 0; f++) {
        size_t k = 0;
        rc = dataset_quantities(c, paths[f], zcol, f ? part : q, &k, err);
        if (rc < 0 || f == 0) {
            *nq = k;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            q[j].values = pz_xrealloc(q[j].values, (q[j].n + part[j].n + 1) * sizeof *q[j].values);
            memcpy(q[j].values + q[j].n, part[j].values, part[j].n * sizeof *part[j].values);
            q[j].n += part[j].n;
            free(part[j].values);
            part[j].values = NULL;
        }
    }
    free(part);
    free(paths);
    return rc;
}

static pz_table *fig1_table(const pz_spec *spec, const fig1_cfg *c, pz_err *err)
{
    size_t nq_max = 2 + c->nbands, rows = 0;
    quantity *q = pz_xcalloc(c->ndatasets * nq_max, sizeof *q);
    size_t *nq = pz_xcalloc(c->ndatasets, sizeof *nq);
    pz_table *t = NULL;
    for (size_t d = 0; d < c->ndatasets; d++) {
        const char *name = c->datasets[FIG1_FIELDS * d], *input = c->datasets[FIG1_FIELDS * d + 1],
                   *zcol = c->datasets[FIG1_FIELDS * d + 2];
        if (dataset_files_quantities(spec, c, input, zcol, q + d * nq_max, &nq[d], err) < 0) {
            pz_err_prefix(err, "figure 1, dataset '%s': ", name);
            goto out;
        }
        for (size_t k = 0; k < nq[d]; k++) rows += q[d * nq_max + k].bins->n;
    }
    t = pz_table_new(rows);
    const char *names[FIG1_MAX_Q];
    size_t nn = 0;
    for (size_t d = 0; d < c->ndatasets && nn < FIG1_MAX_Q; d++) names[nn++] = c->datasets[FIG1_FIELDS * d];
    pz_table_add(t, "dataset", PZ_STR, width_of(names, nn));
    pz_table_add(t, "quantity", PZ_STR, 16);
    pz_table_add(t, "lo", PZ_F64, 0);
    pz_table_add(t, "hi", PZ_F64, 0);
    pz_table_add(t, "count", PZ_I64, 0);
    pz_table_add(t, "density", PZ_F64, 0);
    size_t r = 0;
    for (size_t d = 0; d < c->ndatasets; d++) {
        for (size_t k = 0; k < nq[d]; k++) {
            const quantity *qq = &q[d * nq_max + k];
            long *counts = pz_xcalloc(qq->bins->n, sizeof *counts);
            pz_histogram(qq->bins, qq->values, qq->n, counts);
            size_t finite = 0;
            for (size_t i = 0; i < qq->n; i++) finite += isfinite(qq->values[i]) != 0;
            double w = (qq->bins->hi - qq->bins->lo) / (double)qq->bins->n;
            for (size_t b = 0; b < qq->bins->n; b++, r++) {
                put_str(&t->cols[0], r, c->datasets[FIG1_FIELDS * d]);
                put_str(&t->cols[1], r, qq->name);
                ((double *)t->cols[2].data)[r] = bin_edge(qq->bins, b);
                ((double *)t->cols[3].data)[r] = bin_edge(qq->bins, b + 1);
                ((int64_t *)t->cols[4].data)[r] = counts[b];
                /* density over all finite values, so a histogram with tails outside the range
                 * integrates to the fraction inside it */
                ((double *)t->cols[5].data)[r] = finite ? (double)counts[b] / ((double)finite * w) : NAN;
            }
            free(counts);
        }
        /* N for the legends, and which redshift the z histogram is (a photo-z or a spec-z) */
        const char *name = c->datasets[FIG1_FIELDS * d], *zcol = c->datasets[FIG1_FIELDS * d + 2],
                   *zlabel = c->datasets[FIG1_FIELDS * d + 3];
        char *key = pz_xasprintf("n_%s", name), val[32];
        snprintf(val, sizeof val, "%zu", q[d * nq_max].n);
        pz_table_set_attr(t, key, val);
        free(key);
        key = pz_xasprintf("z_%s", name);
        pz_table_set_attr(t, key, zlabel ? zlabel : zcol);
        free(key);
    }
out:
    for (size_t i = 0; i < c->ndatasets * nq_max; i++) free(q[i].values);
    free(q);
    free(nq);
    return t;
}

static int fig1_config(const pz_spec *spec, const plot_params *a, fig1_cfg *c, pz_err *err)
{
    static const char *const fields[FIG1_FIELDS] = {"name", "input", "z", "z_label"};
    static const char *default_bands[5] = {"g", "r", "i", "z", "y"};
    memset(c, 0, sizeof *c);
    c->z = (pz_bins){0, 4, 80};
    c->mag = (pz_bins){14, 28, 70};
    c->color = (pz_bins){-1, 3, 80};
    c->mag_template = a->mag_column;
    c->mag_band = a->mag_band;
    if (map_list(spec, a->datasets, "datasets", fields, FIG1_FIELDS, 3, &c->datasets, &c->ndatasets, err) < 0) return -1;
    if (c->ndatasets > FIG1_MAX_Q) return pz_errf(err, "param 'datasets': at most %d datasets", FIG1_MAX_Q);
    const char *const *bands = a->bands.v ? a->bands.v : default_bands;
    c->nbands = a->bands.v ? a->bands.n : 5;
    c->bands = pz_xmalloc((c->nbands ? c->nbands : 1) * sizeof *c->bands);
    memcpy(c->bands, bands, c->nbands * sizeof *c->bands);
    if (c->nbands < 1 || c->nbands > FIG1_MAX_Q - 2) return pz_errf(err, "param 'bands': 1 to %d bands", FIG1_MAX_Q - 2);
    const char *pct = strchr(c->mag_template, '%');
    if (!pct || pct[1] != 's' || strchr(pct + 2, '%'))
        return pz_errf(err, "param 'mag_column': needs exactly one %%s for the band (e.g. '%%s_cmodel_mag'), got '%s'",
                       c->mag_template);
    return bins_param(spec, a->z_bins, "z_bins", &c->z, err) < 0 || bins_param(spec, a->mag_bins, "mag_bins", &c->mag, err) < 0 ||
                   bins_param(spec, a->color_bins, "color_bins", &c->color, err) < 0
               ? -1
               : 0;
}

/* --- Figure 2: predicted vs true ------------------------------------------------------------ */

#define FIG2_FIELDS 3 /* model, input, test (optional: default GalaxiesML) */

typedef struct fig2_cfg {
    const char **preds; /* FIG2_FIELDS strings per panel */
    size_t npanels;
    long seed_index;
    const char *seed;   /* seeds[seed_index] when the `seeds` param lists them, else NULL */
    pz_bins b;
    const char *zp_col, *zt_col;
} fig2_cfg;

static const char *panel_test(const fig2_cfg *c, size_t m)
{
    const char *t = c->preds[FIG2_FIELDS * m + 2];
    return t ? t : "GalaxiesML";
}

/* The panel's own numbers, written as the table attribute "stats <model> @ <test>":
 * "seed n n_nan bias nmad outlier" over the grid's z_true range (docs/evaluate.md). */
static void panel_stats(pz_table *t, const fig2_cfg *c, size_t m, const pz_table *p)
{
    size_t n = p->nrows;
    double *zp = pz_xmalloc((n + 1) * sizeof *zp), *zt = pz_xmalloc((n + 1) * sizeof *zt);
    double *work = pz_xmalloc((3 * n + 1) * sizeof *work);
    for (size_t i = 0; i < n; i++) zp[i] = pz_col_f64(&p->cols[0], i), zt[i] = pz_col_f64(&p->cols[1], i);
    pz_metrics mt;
    pz_metrics_select(zp, zt, n, c->b.lo, c->b.hi, &mt, work);
    /* which seed: the pipeline's list says (param seeds), else the file's own attribute */
    const char *seed = c->seed ? c->seed : pz_table_attr(p, "seed");
    char *key = pz_xasprintf("stats %s @ %s", c->preds[FIG2_FIELDS * m], panel_test(c, m));
    char *val = seed && *seed && !strchr(seed, ' ')
                    ? pz_xasprintf("%s %ld %ld %.17g %.17g %.17g", seed, mt.n, mt.n_nan, mt.v[PZ_M_BIAS], mt.v[PZ_M_NMAD],
                                   mt.v[PZ_M_OUTLIER])
                    : pz_xasprintf("#%ld %ld %ld %.17g %.17g %.17g", c->seed_index + 1, mt.n, mt.n_nan, mt.v[PZ_M_BIAS],
                                   mt.v[PZ_M_NMAD], mt.v[PZ_M_OUTLIER]);
    pz_table_set_attr(t, key, val);
    free(key);
    free(val);
    free(zp);
    free(zt);
    free(work);
}

static int fig2_config(const pz_spec *spec, const plot_params *a, fig2_cfg *c, pz_err *err)
{
    static const char *const fields[FIG2_FIELDS] = {"model", "input", "test"};
    memset(c, 0, sizeof *c);
    c->b = (pz_bins){0, 4, 100};
    c->zp_col = a->z_pred_column, c->zt_col = a->z_true_column;
    c->seed_index = a->seed_index;
    if (map_list(spec, a->predictions, "predictions", fields, FIG2_FIELDS, 2, &c->preds, &c->npanels, err) < 0 ||
        bins_param(spec, a->scatter_bins, "scatter_bins", &c->b, err) < 0) {
        free(c->preds);
        return -1;
    }
    const pz_ynode *seeds = a->seeds; /* a list: the table says so */
    for (size_t i = 0; seeds && i < seeds->n; i++)
        if (seeds->items[i]->kind != PZ_Y_SCALAR) {
            free(c->preds);
            return pz_errf(err, "param 'seeds': item %zu is %s, expected a string", i, pz_ykind_name(seeds->items[i]->kind));
        }
    if (seeds && (size_t)c->seed_index < seeds->n) c->seed = seeds->items[c->seed_index]->str;
    return 0;
}

/* One panel's grid rows from one predictions file; the panel's stats as an attribute. */
static int fig2_panel(const pz_spec *spec, const fig2_cfg *c, size_t m, pz_table *t, pz_err *err)
{
    const char *path = NULL;
    const char *cols[2] = {c->zp_col, c->zt_col};
    pz_table *p = NULL;
    if (input_file(spec, c->preds[FIG2_FIELDS * m + 1], c->seed_index, &path, err) < 0 ||
        pz_table_read_any(path, 0, cols, 2, 0, (size_t)-1, &p, err) < 0)
        return pz_err_prefix(err, "figure 2, model '%s': ", c->preds[FIG2_FIELDS * m]);
    size_t cells = c->b.n * c->b.n, base = m * cells;
    for (size_t i = 0; i < cells; i++) {
        size_t it = i / c->b.n, ip = i % c->b.n; /* z_true-major */
        put_str(&t->cols[0], base + i, c->preds[FIG2_FIELDS * m]);
        put_str(&t->cols[1], base + i, panel_test(c, m));
        ((double *)t->cols[2].data)[base + i] = bin_edge(&c->b, it);
        ((double *)t->cols[3].data)[base + i] = bin_edge(&c->b, it + 1);
        ((double *)t->cols[4].data)[base + i] = bin_edge(&c->b, ip);
        ((double *)t->cols[5].data)[base + i] = bin_edge(&c->b, ip + 1);
    }
    int64_t *count = (int64_t *)t->cols[6].data + base;
    for (size_t i = 0; i < p->nrows; i++) {
        long it = pz_bin_index(&c->b, pz_col_f64(&p->cols[1], i)), ip = pz_bin_index(&c->b, pz_col_f64(&p->cols[0], i));
        if (it >= 0 && ip >= 0) count[(size_t)it * c->b.n + (size_t)ip]++;
    }
    panel_stats(t, c, m, p);
    pz_table_free(p);
    return 0;
}

static pz_table *fig2_table(const pz_spec *spec, const plot_params *a, pz_err *err)
{
    fig2_cfg c;
    if (fig2_config(spec, a, &c, err) < 0) return NULL;
    size_t cells = c.b.n * c.b.n;
    pz_table *t = pz_table_new(c.npanels * cells);
    const char **labels = pz_xmalloc(c.npanels * sizeof *labels), **tests = pz_xmalloc(c.npanels * sizeof *tests);
    for (size_t m = 0; m < c.npanels; m++) labels[m] = c.preds[FIG2_FIELDS * m], tests[m] = panel_test(&c, m);
    pz_table_add(t, "model", PZ_STR, width_of(labels, c.npanels));
    pz_table_add(t, "test", PZ_STR, width_of(tests, c.npanels));
    free(labels);
    free(tests);
    const char *names[5] = {"z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count"};
    for (int k = 0; k < 4; k++) pz_table_add(t, names[k], PZ_F64, 0);
    pz_table_add(t, names[4], PZ_I64, 0);
    for (size_t m = 0; m < c.npanels; m++)
        if (fig2_panel(spec, &c, m, t, err) < 0) {
            pz_table_free(t);
            free(c.preds);
            return NULL;
        }
    free(c.preds);
    return t;
}

/* --- Figure 3: metrics in the LSST window, and per redshift bin ------------------------------ */

double pz_fig3_goal(const pz_table *metrics, const char *metric)
{
    const char *key = !strcmp(metric, "bias") || !strcmp(metric, "bias_bw")          ? "goal_bias"
                      : !strcmp(metric, "nmad") || !strcmp(metric, "scatter_bw")     ? "goal_scatter"
                      : !strcmp(metric, "outlier") || !strcmp(metric, "outlier_bw") ? "goal_outlier"
                                                                                     : NULL;
    const char *v = key ? pz_table_attr(metrics, key) : NULL;
    return v ? strtod(v, NULL) : NAN;
}

/* Row of (model, test, selection, stat, z_lo) in the metrics table, or -1. */
static long metric_row(const pz_table *mt, size_t like, const char *selection, const char *stat)
{
    const pz_column *model = pz_table_col(mt, "model"), *test = pz_table_col(mt, "test"),
                    *sel = pz_table_col(mt, "selection"), *st = pz_table_col(mt, "stat"), *zlo = pz_table_col(mt, "z_lo");
    for (size_t i = 0; i < mt->nrows; i++)
        if (!memcmp((char *)model->data + i * model->width, (char *)model->data + like * model->width, model->width) &&
            !memcmp((char *)test->data + i * test->width, (char *)test->data + like * test->width, test->width) &&
            str_is(sel, i, selection) && str_is(st, i, stat) && pz_col_f64(zlo, i) == pz_col_f64(zlo, like))
            return (long)i;
    return -1;
}

pz_table *pz_fig3_table(const pz_table *mt, const char *selection, const char *const *metric_names, size_t nmetrics,
                        pz_err *err)
{
    const char *need[] = {"model", "test", "selection", "stat", "z_lo", "z_hi", "n", "n_nan"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!pz_table_need(mt, need[i], "metrics", err)) return NULL;
    for (size_t k = 0; k < nmetrics; k++)
        if (!pz_table_need(mt, metric_names[k], "metrics", err)) return pz_err_prefix(err, "param 'metrics': "), NULL;
    const pz_column *model = pz_table_col(mt, "model"), *test = pz_table_col(mt, "test"),
                    *sel = pz_table_col(mt, "selection"), *st = pz_table_col(mt, "stat");
    size_t nmean = 0;
    for (size_t i = 0; i < mt->nrows; i++) nmean += str_is(sel, i, selection) && str_is(st, i, "mean");
    pz_table *t = pz_table_new(nmean * nmetrics);
    pz_table_add(t, "model", PZ_STR, model->width);
    pz_table_add(t, "test", PZ_STR, test->width);
    pz_table_add(t, "metric", PZ_STR, width_of(metric_names, nmetrics));
    const char *cols[] = {"z_lo", "z_hi", "z_mid", "n", "n_nan", "mean", "std", "p16", "p84", "goal"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) pz_table_add(t, cols[k], PZ_F64, 0);
    size_t r = 0;
    /* metric-major, then (model, test) and bins in metrics-table order: each series is contiguous */
    for (size_t k = 0; k < nmetrics; k++) {
        const pz_column *mc = pz_table_col(mt, metric_names[k]);
        for (size_t i = 0; i < mt->nrows; i++) {
            if (!str_is(sel, i, selection) || !str_is(st, i, "mean")) continue;
            long s = metric_row(mt, i, selection, "std"), lo = metric_row(mt, i, selection, "p16"),
                 hi = metric_row(mt, i, selection, "p84");
            memcpy((char *)t->cols[0].data + r * t->cols[0].width, (char *)model->data + i * model->width, model->width);
            memcpy((char *)t->cols[1].data + r * t->cols[1].width, (char *)test->data + i * test->width, test->width);
            put_str(&t->cols[2], r, metric_names[k]);
            double zl = pz_col_f64(pz_table_col(mt, "z_lo"), i), zh = pz_col_f64(pz_table_col(mt, "z_hi"), i);
            double v[10] = {zl, zh, (zl + zh) / 2, pz_col_f64(pz_table_col(mt, "n"), i),
                           pz_col_f64(pz_table_col(mt, "n_nan"), i), pz_col_f64(mc, i),
                           s >= 0 ? pz_col_f64(mc, (size_t)s) : NAN, lo >= 0 ? pz_col_f64(mc, (size_t)lo) : NAN,
                           hi >= 0 ? pz_col_f64(mc, (size_t)hi) : NAN, pz_fig3_goal(mt, metric_names[k])};
            for (int c = 0; c < 10; c++) ((double *)t->cols[3 + c].data)[r] = v[c];
            r++;
        }
    }
    return t;
}

/* --- the stage ----------------------------------------------------------------------------- */

static int write_outputs(const pz_spec *spec, const char *fig, pz_table *t, pz_err *err)
{
    const char *path;
    if (pz_spec_output(spec, fig, &path, err) < 0 || pz_stage_table_write(path, t, err) < 0) return -1;
    char csv_name[32];
    snprintf(csv_name, sizeof csv_name, "%s.csv", fig);
    if (!pz_ymap_get(spec->outputs, csv_name)) return 0;
    if (pz_spec_output(spec, csv_name, &path, err) < 0) return -1;
    FILE *f = fopen(path, "w");
    if (!f) return pz_errf(err, "%s: cannot create: %m", path);
    int rc = pz_table_write_csv(f, t, err);
    if (fclose(f) != 0 && rc == 0) rc = pz_errf(err, "%s: write failed: %m", path);
    return rc;
}

static int has_output(const pz_spec *spec, const char *name)
{
    return pz_ymap_get(spec->outputs, name) != NULL;
}

/* Seeds behind the metrics table's aggregates: the seed rows of its first group's whole range. */
static size_t seed_count(const pz_table *mt)
{
    const pz_column *model = pz_table_col(mt, "model"), *test = pz_table_col(mt, "test"),
                    *sel = pz_table_col(mt, "selection"), *st = pz_table_col(mt, "stat");
    size_t n = 0;
    for (size_t i = 0; mt->nrows && i < mt->nrows; i++)
        n += !memcmp((char *)model->data + i * model->width, model->data, model->width) &&
             !memcmp((char *)test->data + i * test->width, test->data, test->width) && str_is(sel, i, "all") &&
             str_is(st, i, "seed");
    return n;
}

/* Figure 3 (output `fig3`: the LSST window, as the paper draws it) and its per-bin companion
 * (output `fig3_bins`), both from evaluate's metrics table. */
static int make_fig3(const pz_spec *spec, const plot_params *a, pz_err *err)
{
    static const char *default_metrics[4] = {"bias", "nmad", "rms", "outlier"};
    static const char *const outputs[2] = {"fig3", "fig3_bins"}, *const selections[2] = {"lsst", "bin"};
    const char *const *metrics = a->metrics.v ? a->metrics.v : default_metrics, *path;
    size_t n = a->metrics.v ? a->metrics.n : 4;
    pz_table *mt = NULL;
    int rc = pz_spec_input(spec, "metrics", &path, err) == 0 && pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &mt, err) == 0
             ? 0
             : -1;
    for (int k = 0; k < 2 && rc == 0; k++) {
        if (!has_output(spec, outputs[k])) continue;
        pz_table *t = pz_fig3_table(mt, selections[k], metrics, n, err);
        if (!t) {
            rc = -1;
            break;
        }
        for (const char *const *a = (const char *const[]){"goal_bias", "goal_scatter", "goal_outlier", "lsst_window", NULL}; *a; a++)
            if (pz_table_attr(mt, *a)) pz_table_set_attr(t, *a, pz_table_attr(mt, *a));
        char seeds[32];
        snprintf(seeds, sizeof seeds, "%zu", seed_count(mt));
        pz_table_set_attr(t, "seeds", seeds);
        rc = write_outputs(spec, outputs[k], t, err);
        pz_table_free(t);
    }
    if (rc < 0) pz_err_prefix(err, "figure 3: ");
    pz_table_free(mt);
    return rc;
}

/* --- Figure 5: uncertainty (PIT histogram, coverage curve, interval width against redshift) -- */

typedef struct fig5_rows {
    pz_table *t;
    size_t n;
} fig5_rows;

static void fig5_put(fig5_rows *r, const pz_table *mt, size_t row, const char *panel, const char *metric, double x,
                     double xlo, double xhi, const char *selection)
{
    const pz_column *mc = pz_table_col(mt, metric);
    double mean = mc ? pz_col_f64(mc, row) : NAN;
    if (isnan(mean)) return;
    long s = metric_row(mt, row, selection, "std");
    if (r->n == r->t->nrows) return; /* sized by the caller: never reached */
    const pz_column *model = pz_table_col(mt, "model"), *test = pz_table_col(mt, "test");
    memcpy((char *)r->t->cols[0].data + r->n * r->t->cols[0].width, (char *)model->data + row * model->width, model->width);
    memcpy((char *)r->t->cols[1].data + r->n * r->t->cols[1].width, (char *)test->data + row * test->width, test->width);
    put_str(&r->t->cols[2], r->n, panel);
    double v[5] = {x, xlo, xhi, mean, s >= 0 ? pz_col_f64(mc, (size_t)s) : NAN};
    for (int c = 0; c < 5; c++) ((double *)r->t->cols[3 + c].data)[r->n] = v[c];
    r->n++;
}

/* Levels of the metrics table's attribute `levels` ("10,20,...,95"). */
static size_t levels_of(const pz_table *mt, double *out, size_t max)
{
    const char *s = pz_table_attr(mt, "levels");
    size_t n = 0;
    for (char *end; s && *s && n < max; s = *end == ',' ? end + 1 : end) {
        out[n] = strtod(s, &end);
        if (end == s) break;
        n++;
    }
    return n;
}

pz_table *pz_fig5_table(const pz_table *mt, pz_err *err)
{
    const char *need[] = {"model", "test", "selection", "stat", "z_lo", "z_hi"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!pz_table_need(mt, need[i], "metrics", err)) return NULL;
    double lv[64];
    size_t nl = levels_of(mt, lv, 64);
    const pz_column *model = pz_table_col(mt, "model"), *test = pz_table_col(mt, "test"),
                    *sel = pz_table_col(mt, "selection"), *st = pz_table_col(mt, "stat");
    fig5_rows r = {pz_table_new(mt->nrows * (10 + 2 * nl) + 1), 0};
    pz_table_add(r.t, "model", PZ_STR, model->width);
    pz_table_add(r.t, "test", PZ_STR, test->width);
    pz_table_add(r.t, "panel", PZ_STR, 8);
    const char *cols[] = {"x", "x_lo", "x_hi", "mean", "std"};
    for (size_t k = 0; k < 5; k++) pz_table_add(r.t, cols[k], PZ_F64, 0);
    for (size_t i = 0; i < mt->nrows; i++) {
        if (!str_is(st, i, "mean")) continue;
        if (str_is(sel, i, "all")) {
            for (int b = 0; b < 10; b++) {
                char c[16];
                snprintf(c, sizeof c, "pit_h%02d", b);
                fig5_put(&r, mt, i, "pit", c, (b + 0.5) / 10, b / 10.0, (b + 1) / 10.0, "all");
            }
            for (size_t l = 0; l < nl; l++) {
                char c[40];
                snprintf(c, sizeof c, "coverage_%g", lv[l]);
                fig5_put(&r, mt, i, "coverage", c, lv[l] / 100, lv[l] / 100, lv[l] / 100, "all");
            }
        } else if (str_is(sel, i, "bin")) {
            double zl = pz_col_f64(pz_table_col(mt, "z_lo"), i), zh = pz_col_f64(pz_table_col(mt, "z_hi"), i);
            for (size_t l = 0; l < nl; l++) {
                if (lv[l] != 68 && lv[l] != 95) continue;
                char c[40], panel[16];
                snprintf(c, sizeof c, "width_%g", lv[l]);
                snprintf(panel, sizeof panel, "width_%g", lv[l]);
                fig5_put(&r, mt, i, panel, c, (zl + zh) / 2, zl, zh, "bin");
            }
        }
    }
    r.t->nrows = r.n; /* the columns hold at least n rows; the rest is never read */
    return r.t;
}

static int make_fig5(const pz_spec *spec, pz_err *err)
{
    const char *path;
    pz_table *mt = NULL;
    if (pz_spec_input(spec, "metrics", &path, err) < 0 || pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, &mt, err) < 0)
        return pz_err_prefix(err, "figure 5: ");
    pz_table *t = pz_fig5_table(mt, err);
    int rc = t ? 0 : -1;
    if (t) {
        char seeds[32];
        snprintf(seeds, sizeof seeds, "%zu", seed_count(mt));
        pz_table_set_attr(t, "seeds", seeds);
        rc = write_outputs(spec, "fig5", t, err);
    }
    pz_table_free(t);
    pz_table_free(mt);
    return rc < 0 ? pz_err_prefix(err, "figure 5: ") : 0;
}

static int plot_data_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    (void)summary;
    const plot_params *a = params;
    if (!has_output(spec, "fig1") && !has_output(spec, "fig2") && !has_output(spec, "fig3") &&
        !has_output(spec, "fig3_bins") && !has_output(spec, "fig5"))
        return pz_errf(err, "no output: declare at least one of fig1, fig2, fig3, fig3_bins, fig5");
    if (has_output(spec, "fig1")) {
        fig1_cfg c;
        int rc = fig1_config(spec, a, &c, err);
        pz_table *t = rc == 0 ? fig1_table(spec, &c, err) : NULL;
        rc = t ? write_outputs(spec, "fig1", t, err) : -1;
        pz_table_free(t);
        free(c.datasets);
        free(c.bands);
        if (rc < 0) return -1;
        pz_progress(0.4, "figure 1");
    }
    if (has_output(spec, "fig2")) {
        pz_table *t = fig2_table(spec, a, err);
        int rc = t ? write_outputs(spec, "fig2", t, err) : -1;
        pz_table_free(t);
        if (rc < 0) return -1;
        pz_progress(0.8, "figure 2");
    }
    if ((has_output(spec, "fig3") || has_output(spec, "fig3_bins")) && make_fig3(spec, a, err) < 0) return -1;
    if (has_output(spec, "fig5") && make_fig5(spec, err) < 0) return -1;
    pz_progress(1, "figures 1-3 and 5 data");
    return 0;
}

/* The stage's params: read once into plot_params by pz_stage_main (util/spec.h). */
#define PF(m) PZ_FIELD(plot_params, m)
static const pz_param_def PLOT_DATA_PARAMS[] = {
    {PZ_PARAM("datasets", PZ_PT_LIST, NULL, "Figure 1: one {name, input, z, z_label (optional)} per dataset"),
     .field = PF(datasets)},
    {PZ_PARAM("bands", PZ_PT_STRINGS, "[g, r, i, z, y]", "bands of the colour panels"), .field = PF(bands)},
    {PZ_PARAM("mag_column", PZ_PT_STRING, "%s_cmodel_mag", "magnitude column template (the band replaces %s)"),
     .field = PF(mag_column)},
    {PZ_PARAM("mag_band", PZ_PT_STRING, "i", "band of the magnitude histograms"), .field = PF(mag_band)},
    {PZ_PARAM("z_bins", PZ_PT_ANY, NULL, "redshift histogram bins"), .field = PF(z_bins)},
    {PZ_PARAM("mag_bins", PZ_PT_ANY, NULL, "magnitude histogram bins"), .field = PF(mag_bins)},
    {PZ_PARAM("color_bins", PZ_PT_ANY, NULL, "colour histogram bins"), .field = PF(color_bins)},
    {PZ_PARAM("predictions", PZ_PT_LIST, NULL, "Figure 2: one {model, input, test (optional)} per panel"),
     .field = PF(predictions)},
    {PZ_PARAM("seed_index", PZ_PT_INT, "0", "which seed's predictions Figure 2 draws"), PZ_RANGE(0, PZ_OPEN),
     .field = PF(seed_index)},
    {PZ_PARAM("seeds", PZ_PT_LIST, NULL, "the pipeline's seed list, so Figure 2 names seeds[seed_index]"),
     .field = PF(seeds)},
    {PZ_PARAM("scatter_bins", PZ_PT_ANY, NULL, "bins of the Figure 2 density maps"), .field = PF(scatter_bins)},
    {PZ_PARAM("z_pred_column", PZ_PT_STRING, "z_pred", "predicted-redshift column"), .field = PF(z_pred_column)},
    {PZ_PARAM("z_true_column", PZ_PT_STRING, "z_true", "true-redshift column"), .field = PF(z_true_column)},
    {PZ_PARAM("metrics", PZ_PT_STRINGS, "[bias, nmad, rms, outlier]", "metrics of Figure 3 and its per-bin companion"),
     .field = PF(metrics)},
    {0}};
static const pz_io_def PLOT_DATA_INPUTS[] = {{"metrics", PZ_IO_ONE, 1, "evaluate's metrics table"}, {0}};
static const pz_io_def PLOT_DATA_OUTPUTS[] = {
    {"fig1", PZ_IO_ONE, 1, "Figure 1 data", PZ_STAGE_TABLE_EXT}, {"fig1.csv", PZ_IO_ONE, 1, "Figure 1 data (CSV)"},
    {"fig2", PZ_IO_ONE, 1, "Figure 2 data", PZ_STAGE_TABLE_EXT}, {"fig2.csv", PZ_IO_ONE, 1, "Figure 2 data (CSV)"},
    {"fig3", PZ_IO_ONE, 1, "Figure 3 data, LSST window", PZ_STAGE_TABLE_EXT}, {"fig3.csv", PZ_IO_ONE, 1, "Figure 3 data (CSV)"},
    {"fig3_bins", PZ_IO_ONE, 1, "Figure 3b data, per redshift bin", PZ_STAGE_TABLE_EXT},
    {"fig3_bins.csv", PZ_IO_ONE, 1, "Figure 3b data (CSV)"},
    {"fig5", PZ_IO_ONE, 1, "Figure 5 data: PIT histogram, coverage curve, interval width by redshift", PZ_STAGE_TABLE_EXT},
    {"fig5.csv", PZ_IO_ONE, 1, "Figure 5 data (CSV)"},
    {0}};

const pz_stage_def pz_plot_data_stage = {
    .prog = "pzflow-plot-data", .docs = "docs/evaluate.md", .summary = "the data behind Figures 1-3, 3b and 5 (FITS + CSV)",
    .params = PLOT_DATA_PARAMS, .inputs = PLOT_DATA_INPUTS, .open_inputs = 1, .outputs = PLOT_DATA_OUTPUTS,
    .params_size = sizeof(plot_params), .run = plot_data_stage};
