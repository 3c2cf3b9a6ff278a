/* Ingest stages: catalogue -> canonical pzflow table. See ingest.h and docs/tables.md. */
#include "photoz/ingest.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/progress.h"

const char *const pz_hsc_bands[PZ_HSC_NBANDS] = {"g", "r", "i", "z", "y"};
/* formats.md: official COSMOS2020 corrections for HSC g, r, i, z, y. */
const double pz_cosmos_mw_k[PZ_HSC_NBANDS] = {3.69, 2.715, 2.0, 1.515, 1.298};
const double pz_cosmos_zp_offset[PZ_HSC_NBANDS] = {0.128, 0.127, 0.094, 0.084, 0.100};

static pz_column *band_col(const pz_table *t, const char *fmt, size_t b)
{
    char name[64];
    snprintf(name, sizeof name, fmt, pz_hsc_bands[b]);
    return pz_table_col(t, name);
}

/* The magnitude, flux and flux-error columns of one band (any may be NULL). */
typedef struct {
    pz_column *mag, *flux, *fluxerr;
} band_cols;

static band_cols find_band(const pz_table *t, size_t b, const char *mag, const char *flux, const char *fluxerr)
{
    band_cols c = {band_col(t, mag, b), band_col(t, flux, b), band_col(t, fluxerr, b)};
    return c;
}

/* Shift a band's magnitude by dm (mag) and scale its flux and flux error to match. */
static void shift_band(const band_cols *c, size_t row, double dm)
{
    double scale = pow(10.0, -0.4 * dm);
    if (c->mag) pz_col_set_f64(c->mag, row, pz_col_f64(c->mag, row) + dm);
    if (c->flux) pz_col_set_f64(c->flux, row, pz_col_f64(c->flux, row) * scale);
    if (c->fluxerr) pz_col_set_f64(c->fluxerr, row, pz_col_f64(c->fluxerr, row) * scale);
}

/* --- bad-value checks --------------------------------------------------------------------- */

typedef struct {
    int64_t id;
    size_t row;
} id_row;

static int cmp_id_row(const void *a, const void *b)
{
    const id_row *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* An integer id as int64 (exact: HSC ids have 17 digits, more than a double holds); 0 when
 * the row is null. */
static int id_value(const pz_column *c, size_t row, int64_t *v)
{
    if (c->null && c->null[row]) return 0;
    switch (c->type) {
    case PZ_I64: *v = ((const int64_t *)c->data)[row]; return 1;
    case PZ_I32: *v = ((const int32_t *)c->data)[row]; return 1;
    case PZ_I16: *v = ((const int16_t *)c->data)[row]; return 1;
    case PZ_U8: case PZ_BOOL: *v = ((const uint8_t *)c->data)[row]; return 1;
    default: return 0;
    }
}

static const pz_column *id_column(const pz_table *t)
{
    const pz_column *c = pz_table_col(t, "object_id");
    if (!c) c = pz_table_col(t, "id");
    return c && c->type != PZ_STR && c->type != PZ_F32 && c->type != PZ_F64 ? c : NULL;
}

/* Duplicated ids: sort (id, row) pairs, O(n log n). Each group of equal ids keeps its first
 * row; the repeats are cleared in keep[]. Returns the number of repeated rows; *nvalues = ids
 * that repeat, *first = the group whose first row comes earliest (its first two rows). */
static size_t find_duplicates(const pz_column *c, size_t nrows, uint8_t *keep, size_t *nvalues, id_row first[2])
{
    id_row *p = pz_xmalloc((nrows ? nrows : 1) * sizeof *p);
    size_t n = 0, repeats = 0;
    for (size_t r = 0; r < nrows; r++)
        if (id_value(c, r, &p[n].id)) p[n++].row = r;
    qsort(p, n, sizeof *p, cmp_id_row);
    *nvalues = 0;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && p[j].id == p[i].id; j++) keep[p[j].row] = 0;
        if (j - i < 2) continue;
        if (!*nvalues || p[i].row < first[0].row) first[0] = p[i], first[1] = p[i + 1];
        (*nvalues)++;
        repeats += j - i - 1;
    }
    free(p);
    return repeats;
}

static int check_duplicates(pz_table **t, const char *path, const pz_ingest_checks *c, char **report,
                            pz_err *err)
{
    const pz_column *col = id_column(*t);
    if (!col) return 0;
    size_t nrows = (*t)->nrows, nvalues = 0;
    uint8_t *keep = pz_xmalloc(nrows ? nrows : 1);
    memset(keep, 1, nrows);
    id_row first[2] = {{0, 0}, {0, 0}};
    size_t repeats = find_duplicates(col, nrows, keep, &nvalues, first);
    int rc = 0;
    if (repeats && !c->drop_duplicates) {
        rc = pz_errf(err, "%s: column %s has %zu duplicated value%s (first: %lld at rows %zu and %zu); "
                     "set duplicates: drop to keep the first occurrence",
                     path, col->name, nvalues, nvalues == 1 ? "" : "s", (long long)first[0].id, first[0].row,
                     first[1].row);
    } else if (repeats) {
        *report = pz_xasprintf("dropped %zu rows repeating an earlier %s (%zu duplicated value%s, first: %lld)",
                               repeats, col->name, nvalues, nvalues == 1 ? "" : "s", (long long)first[0].id);
        size_t *rows = pz_xmalloc(nrows * sizeof *rows), n = 0;
        for (size_t r = 0; r < nrows; r++)
            if (keep[r]) rows[n++] = r;
        pz_table *kept = pz_table_take(*t, rows, n);
        free(rows);
        pz_table_free(*t);
        *t = kept;
    }
    free(keep);
    return rc;
}

static int is_magnitude(const pz_column *c)
{
    size_t n = strlen(c->name);
    return (c->type == PZ_F32 || c->type == PZ_F64) && n > 4 && strcmp(c->name + n - 4, "_mag") == 0;
}

/* Magnitudes outside (lo, hi): "g_mag 2, r_mag 1" appended to *report (NULL if none). */
static void check_magnitudes(pz_table *t, const pz_ingest_checks *c, char **report)
{
    char *list = NULL;
    for (size_t j = 0; j < t->ncols; j++) {
        pz_column *col = &t->cols[j];
        if (!is_magnitude(col)) continue;
        size_t n = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            double v = pz_col_f64(col, r);
            if (!isfinite(v) || (v > c->mag_lo && v < c->mag_hi)) continue;
            n++;
            if (!c->keep_sentinels) pz_col_set_f64(col, r, NAN);
        }
        if (!n) continue;
        char *more = pz_xasprintf("%s%s%s %zu", list ? list : "", list ? ", " : "", col->name, n);
        free(list);
        list = more;
    }
    if (!list) return;
    char *more = pz_xasprintf("%s%smagnitudes outside (%g, %g) %s: %s", *report ? *report : "", *report ? "; " : "",
                              c->mag_lo, c->mag_hi, c->keep_sentinels ? "kept" : "set to NaN", list);
    free(*report);
    free(list);
    *report = more;
}

const char *const pz_ingest_label_columns[] = {"specz_redshift", "lp_zPDF", NULL};

/* Finite label values outside (label_lo, label_hi) are an error naming the first one's row. */
static int check_labels(const pz_table *t, const char *path, const pz_ingest_checks *c, pz_err *err)
{
    for (const char *const *name = pz_ingest_label_columns; *name; name++) {
        const pz_column *col = pz_table_col(t, *name);
        if (!col || col->type == PZ_STR) continue;
        size_t n = 0, first = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            if (col->null && col->null[r]) continue;
            double v = pz_col_f64(col, r);
            if (!isfinite(v) || (v > c->label_lo && v < c->label_hi)) continue;
            if (!n++) first = r;
        }
        if (n)
            return pz_errf(err, "%s: label column %s has %zu value%s outside (%g, %g) (first: %g at row %zu); "
                                "a \"no redshift\" sentinel? cut those rows, or set label_range: [low, high] to keep "
                                "them and cut after ingest",
                           path, col->name, n, n == 1 ? "" : "s", c->label_lo, c->label_hi, pz_col_f64(col, first),
                           first);
    }
    return 0;
}

int pz_ingest_check(pz_table **t, const char *path, const pz_ingest_checks *c, pz_err *err)
{
    char *report = NULL;
    if (check_labels(*t, path, c, err) < 0) return -1; /* first: rows still as in the file */
    if (check_duplicates(t, path, c, &report, err) < 0) return -1;
    check_magnitudes(*t, c, &report);
    pz_table_set_attr(*t, "pzflow_ingest_checks", report ? report : "none");
    free(report);
    return 0;
}

int pz_cosmos_correct(pz_table *t, const pz_cosmos_opts *o, char **note, pz_err *err)
{
    pz_column *ebv = NULL, *off = pz_table_col(t, "total_off");
    if (o->extinction && !(ebv = pz_table_need(t, "ebv_mw", "cosmos2020 (extinction: true)", err))) return -1;
    int total = o->aperture_to_total && off != NULL;
    band_cols bands[PZ_HSC_NBANDS];
    for (size_t b = 0; b < PZ_HSC_NBANDS; b++) {
        bands[b] = find_band(t, b, "%s_mag", "%s_flux", "%s_fluxerr");
        if (!bands[b].mag) return pz_errf(err, "cosmos2020: no column '%s_mag'", pz_hsc_bands[b]);
    }
    for (size_t row = 0; row < t->nrows; row++) {
        for (size_t b = 0; b < PZ_HSC_NBANDS; b++) {
            double dm = 0;
            if (total) dm += pz_col_f64(off, row);                             /* mag + total_off */
            if (o->extinction) dm -= pz_cosmos_mw_k[b] * pz_col_f64(ebv, row); /* F * 10^(0.4 k EBV) */
            if (o->zeropoint) dm -= pz_cosmos_zp_offset[b];
            if (dm != 0 || isnan(dm)) shift_band(&bands[b], row, dm);
        }
    }
    *note = pz_xasprintf("aperture-to-total %s; Milky-Way extinction %s; HSC zero-point offsets %s",
                         total ? "added (total_off)" : o->aperture_to_total ? "not applicable" : "off",
                         o->extinction ? "corrected (k_grizy = 3.69, 2.715, 2.0, 1.515, 1.298 x EBV_MW)" : "off",
                         o->zeropoint ? "subtracted (0.128, 0.127, 0.094, 0.084, 0.100)" : "off");
    return 0;
}

int pz_ingest_cosmos2020(const char *path, const pz_cosmos_opts *o, pz_table **out, pz_err *err)
{
    pz_ingest_opts io = {.schema = o->schema ? o->schema : "classic", .variant = o->aperture, .checks = o->checks};
    pz_schema *s = pz_ingest_schema(&io, err);
    if (!s) return -1;
    pz_table *t = NULL;
    char *note = NULL;
    int rc = pz_ingest_read_schema(path, s, &io, &t, err);
    if (rc == 0 && o->aperture_to_total && s->variant && strcmp(s->variant, "auto") && !pz_table_col(t, "total_off"))
        rc = pz_errf(err, "%s: aperture %s needs its total_off column for aperture_to_total", path, s->variant);
    if (rc == 0) rc = pz_cosmos_correct(t, o, &note, err);
    if (rc == 0) {
        char *full = pz_xasprintf("schema %s%s%s; %s", s->id, s->variant ? ", aperture " : "",
                                  s->variant ? s->variant : "", note);
        pz_table_set_attr(t, "pzflow_corrections", full);
        free(full);
        *out = t;
    } else {
        pz_table_free(t);
    }
    free(note);
    pz_schema_free(s);
    return rc;
}

int pz_hsc_correct(pz_table *t, pz_err *err)
{
    for (size_t b = 0; b < PZ_HSC_NBANDS; b++) {
        pz_column *a = band_col(t, "a_%s", b);
        if (!a) return pz_errf(err, "hsc (extinction: true): no column 'a_%s'", pz_hsc_bands[b]);
        band_cols c = find_band(t, b, "%s_cmodel_mag", "%s_cmodel_flux", "%s_cmodel_fluxsigma");
        for (size_t row = 0; row < t->nrows; row++) shift_band(&c, row, -pz_col_f64(a, row));
    }
    return 0;
}

int pz_ingest_hsc(const char *path, const char *schema, int extinction, const pz_ingest_checks *checks,
                  pz_table **out, pz_err *err)
{
    pz_ingest_opts io = {.schema = schema ? schema : "pdr2", .checks = checks};
    pz_table *t = NULL;
    int rc = pz_ingest_read(path, &io, &t, err);
    if (rc == 0 && extinction) rc = pz_hsc_correct(t, err);
    if (rc == 0) {
        pz_table_set_attr(t, "pzflow_corrections",
                          extinction ? "Galactic extinction a_{b} subtracted from cmodel magnitudes" : "none");
        *out = t;
    } else {
        pz_table_free(t);
    }
    return rc;
}

static size_t count_missing(const pz_column *c, size_t nrows)
{
    size_t n = 0;
    if (c->type == PZ_STR) return 0;
    for (size_t i = 0; i < nrows; i++) n += !isfinite(pz_col_f64(c, i));
    return n;
}

char *pz_ingest_summary(const pz_table *t)
{
    size_t cap = 256, len = 0;
    char *s = pz_xmalloc(cap);
    len = (size_t)snprintf(s, cap, "%zu rows, %zu columns; missing values:", t->nrows, t->ncols);
    int any = 0;
    for (size_t j = 0; j < t->ncols; j++) {
        size_t n = count_missing(&t->cols[j], t->nrows);
        if (!n) continue;
        size_t need = len + strlen(t->cols[j].name) + 32;
        if (need > cap) s = pz_xrealloc(s, cap = need * 2);
        len += (size_t)snprintf(s + len, cap - len, "%s %s %zu", any ? "," : "", t->cols[j].name, n);
        any = 1;
    }
    if (!any) snprintf(s + len, cap - len, " none");
    const char *checks = pz_table_attr(t, "pzflow_ingest_checks");
    if (checks && strcmp(checks, "none") != 0) {
        char *line = pz_xasprintf("%s; %s", s, checks);
        free(s);
        s = line;
    }
    return s;
}

/* --- stages ------------------------------------------------------------------------------- */

/* The params of the three survey stages, read once from their tables (below). */
typedef struct ingest_params {
    const char *schema, *aperture;
    int extinction, aperture_to_total, zeropoint, passthrough;
    const pz_ynode *mapping;
    pz_ingest_check_params checks;
} ingest_params;

int pz_ingest_stage_schema(const pz_spec *spec, const char *param, const char **out, pz_err *err)
{
    *out = param;
    if (pz_spec_has_input(spec, "schema")) return pz_spec_input(spec, "schema", out, err);
    return 0;
}

static int write_output(const pz_spec *spec, const char *name, pz_table *t, pz_err *err)
{
    const char *path;
    if (pz_spec_output(spec, name, &path, err) < 0) return -1;
    return pz_stage_table_write(path, t, err);
}

static int get_range(const pz_ynode *range, const char *key, double *lo, double *hi, const char *example, pz_err *err)
{
    if (!range) return 0;
    if (range->n != 2 || pz_yscalar_double(range->items[0], "", lo, err) < 0 ||
        pz_yscalar_double(range->items[1], "", hi, err) < 0 || !(*lo < *hi))
        return pz_errf(err, "param '%s': expected [low, high] with low < high, e.g. %s", key, example);
    return 0;
}

int pz_ingest_get_checks(const pz_ingest_check_params *p, pz_ingest_checks *c, pz_err *err)
{
    *c = (pz_ingest_checks)PZ_INGEST_CHECKS_DEFAULT;
    c->drop_duplicates = strcmp(p->duplicates, "drop") == 0; /* the table allows error|drop */
    c->keep_sentinels = strcmp(p->sentinels, "keep") == 0;   /* and nan|keep */
    return get_range(p->mag_range, "mag_range", &c->mag_lo, &c->mag_hi, "[0, 50]", err) ||
                   get_range(p->label_range, "label_range", &c->label_lo, &c->label_hi, "[0, 10]", err)
               ? -1
               : 0;
}

char *pz_ingest_stage_summary(const char *stage, const char *label, const char *path, const pz_table *t)
{
    char *body = pz_ingest_summary(t);
    char *line = pz_xasprintf("%s: %s%s%s: %s", stage, label ? label : "", label ? " " : "", path, body);
    free(body);
    return line;
}

static int stage_cosmos2020(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const ingest_params *p = params;
    pz_ingest_checks checks;
    pz_cosmos_opts o = {.aperture = p->aperture, .extinction = p->extinction,
                        .aperture_to_total = p->aperture_to_total, .zeropoint = p->zeropoint, .checks = &checks};
    const char *in;
    if (pz_ingest_stage_schema(spec, p->schema, &o.schema, err) < 0 || pz_ingest_get_checks(&p->checks, &checks, err) < 0 ||
        pz_spec_input(spec, "catalog", &in, err) < 0)
        return -1;
    pz_progress(0, "reading %s", in);
    pz_table *t = NULL;
    if (pz_ingest_cosmos2020(in, &o, &t, err) < 0) return -1;
    pz_progress(0.8, "writing %zu rows", t->nrows);
    int rc = write_output(spec, "catalog", t, err);
    if (rc == 0) *summary = pz_ingest_stage_summary("ingest-cosmos2020", NULL, in, t);
    pz_table_free(t);
    pz_progress(1, "done");
    return rc;
}

static int stage_hsc(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const ingest_params *p = params;
    const char *schema, *in;
    int ext = p->extinction;
    pz_ingest_checks checks;
    if (pz_ingest_stage_schema(spec, p->schema, &schema, err) < 0 || pz_ingest_get_checks(&p->checks, &checks, err) < 0 ||
        pz_spec_input(spec, "catalog", &in, err) < 0)
        return -1;
    pz_progress(0, "reading %s", in);
    pz_table *t = NULL;
    if (pz_ingest_hsc(in, schema, ext, &checks, &t, err) < 0) return -1;
    int rc = write_output(spec, "catalog", t, err);
    if (rc == 0) *summary = pz_ingest_stage_summary("ingest-hsc", NULL, in, t);
    pz_table_free(t);
    pz_progress(1, "done");
    return rc;
}

/* GalaxiesML-like schema with the `mapping` param applied. */
static pz_schema *galaxiesml_schema(const pz_spec *spec, const ingest_params *p, pz_err *err)
{
    const char *name;
    if (pz_ingest_stage_schema(spec, p->schema, &name, err) < 0) return NULL;
    pz_schema *s = pz_schema_load(pz_ingest_schema_name(name), NULL, err);
    const pz_ynode *map = p->mapping; /* a map: the table says so */
    if (!s || !map) return s;
    for (size_t i = 0; i < map->n; i++) {
        if (map->items[i]->kind != PZ_Y_SCALAR ||
            pz_schema_map(s, map->keys[i]->str, map->items[i]->str, err) < 0) {
            if (map->items[i]->kind != PZ_Y_SCALAR) pz_errf(err, "param 'mapping.%s': expected a column name", map->keys[i]->str);
            pz_schema_free(s);
            return NULL;
        }
    }
    return s;
}

static int stage_galaxiesml(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const ingest_params *p = params;
    static const char *const splits[] = {"training", "validation", "testing", "catalog"};
    pz_ingest_checks checks;
    pz_ingest_opts o = {.passthrough = p->passthrough, .checks = &checks};
    if (pz_ingest_get_checks(&p->checks, &checks, err) < 0) return -1;
    pz_schema *s = galaxiesml_schema(spec, p, err);
    if (!s) return -1;
    size_t cap = 64, len = 0, done = 0;
    char *line = pz_xcalloc(cap, 1);
    int rc = 0;
    for (size_t k = 0; k < 4 && rc == 0; k++) {
        const char *in;
        if (!pz_spec_has_input(spec, splits[k])) continue;
        if (pz_spec_input(spec, splits[k], &in, err) < 0) { rc = -1; break; }
        pz_progress((double)done / 3, "reading %s", in);
        pz_table *t = NULL;
        rc = pz_ingest_read_schema(in, s, &o, &t, err);
        if (rc == 0) rc = write_output(spec, splits[k], t, err);
        if (rc == 0) {
            /* one line per split */
            char *part = pz_ingest_stage_summary("ingest-galaxiesml", splits[k], in, t);
            size_t need = len + strlen(part) + 4;
            if (need > cap) line = pz_xrealloc(line, cap = need * 2);
            len += (size_t)snprintf(line + len, cap - len, "%s%s", done ? "\n" : "", part);
            free(part);
            done++;
        }
        pz_table_free(t);
    }
    if (rc == 0 && !done) rc = pz_errf(err, "ingest-galaxiesml: no input (expected training, validation, testing or catalog)");
    pz_schema_free(s);
    if (rc < 0) {
        free(line);
        return -1;
    }
    *summary = line;
    pz_progress(1, "done");
    return 0;
}

/* ---- declarations: --describe, --help and the engine's load-time check come from these ---- */

/* A schema is a file (a path param: the engine hashes it into the stage key) or one of the
 * schemas built into pzflow, by name. */
#define IP(m) PZ_FIELD(ingest_params, m)
#define SCHEMA_PARAM(dflt) \
    {PZ_PARAM("schema", PZ_PT_PATH, dflt, "dataset schema: a YAML file (schemas/datasets.md) or a built-in name"), \
     .choices = PZ_INGEST_BUILTIN_SCHEMAS, .field = IP(schema)}
#define CHECK_PARAMS PZ_INGEST_CHECK_PARAMS(ingest_params, checks)

static const pz_param_def COSMOS_PARAMS[] = {
    SCHEMA_PARAM("classic"),
    {PZ_PARAM("aperture", PZ_PT_STRING, NULL, "aperture of the fluxes (aper2, aper3, ...; default: the schema's)"),
     .field = IP(aperture)},
    {PZ_PARAM("extinction", PZ_PT_BOOL, "true", "correct Milky-Way extinction"), .field = IP(extinction)},
    {PZ_PARAM("aperture_to_total", PZ_PT_BOOL, "true", "scale aperture fluxes to total"), .field = IP(aperture_to_total)},
    {PZ_PARAM("zeropoint", PZ_PT_BOOL, "false", "apply the COSMOS2020 zero-point offsets"), .field = IP(zeropoint)},
    CHECK_PARAMS,
    {0}};
static const pz_param_def HSC_PARAMS[] = {
    SCHEMA_PARAM("pdr2"),
    {PZ_PARAM("extinction", PZ_PT_BOOL, "false", "correct Milky-Way extinction"), .field = IP(extinction)},
    CHECK_PARAMS,
    {0}};
static const pz_param_def GALAXIESML_PARAMS[] = {
    SCHEMA_PARAM("galaxiesml"),
    {PZ_PARAM("mapping", PZ_PT_MAP, NULL, "canonical column name -> the file's column name"), .field = IP(mapping)},
    {PZ_PARAM("passthrough", PZ_PT_BOOL, "false", "keep columns the schema does not name"), .field = IP(passthrough)},
    CHECK_PARAMS,
    {0}};
static const pz_io_def CATALOG_INPUT[] = {{"catalog", PZ_IO_ONE, 0, "the survey's catalogue file"},
                                          {"schema", PZ_IO_ONE, 1, "the schema as a file input (instead of the param)"},
                                          {0}};
static const pz_io_def CATALOG_OUTPUT[] = {{"catalog", PZ_IO_ONE, 0, "the catalogue in canonical columns", PZ_STAGE_TABLE_EXT}, {0}};
static const pz_io_def GML_INPUTS[] = {{"training", PZ_IO_ONE, 1, "GalaxiesML training split"},
                                       {"validation", PZ_IO_ONE, 1, "GalaxiesML validation split"},
                                       {"testing", PZ_IO_ONE, 1, "GalaxiesML testing split"},
                                       {"catalog", PZ_IO_ONE, 1, "one GalaxiesML-like file"},
                                       {"schema", PZ_IO_ONE, 1, "the schema as a file input (instead of the param)"},
                                       {0}};
static const pz_io_def GML_OUTPUTS[] = {{"training", PZ_IO_ONE, 1, "canonical training split", PZ_STAGE_TABLE_EXT},
                                        {"validation", PZ_IO_ONE, 1, "canonical validation split", PZ_STAGE_TABLE_EXT},
                                        {"testing", PZ_IO_ONE, 1, "canonical testing split", PZ_STAGE_TABLE_EXT},
                                        {"catalog", PZ_IO_ONE, 1, "canonical catalogue", PZ_STAGE_TABLE_EXT},
                                        {0}};

const pz_stage_def pz_ingest_stage_cosmos2020 = {
    .prog = "pzflow-ingest-cosmos2020", .docs = "docs/tables.md",
    .summary = "read COSMOS2020 through its schema into canonical columns (extinction, aperture-to-total)",
    .params = COSMOS_PARAMS, .inputs = CATALOG_INPUT, .outputs = CATALOG_OUTPUT,
    .run = stage_cosmos2020, .params_size = sizeof(ingest_params)};
const pz_stage_def pz_ingest_stage_hsc = {
    .prog = "pzflow-ingest-hsc", .docs = "docs/tables.md",
    .summary = "read an HSC object table through its schema into canonical columns",
    .params = HSC_PARAMS, .inputs = CATALOG_INPUT, .outputs = CATALOG_OUTPUT,
    .run = stage_hsc, .params_size = sizeof(ingest_params)};
const pz_stage_def pz_ingest_stage_galaxiesml = {
    .prog = "pzflow-ingest-galaxiesml", .docs = "docs/tables.md",
    .summary = "read GalaxiesML (or a GalaxiesML-like file) through its schema into canonical columns",
    .params = GALAXIESML_PARAMS, .inputs = GML_INPUTS, .outputs = GML_OUTPUTS,
    .run = stage_galaxiesml, .params_size = sizeof(ingest_params)};
