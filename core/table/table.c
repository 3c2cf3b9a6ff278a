/* In-memory columnar tables: construction, typed access, row selection and concatenation.
 * File formats live in hdf5.c and fits.c; this file knows nothing about them. */
#include "table/table.h"
#include "util/suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t pz_coltype_size(pz_coltype t)
{
    switch (t) {
    case PZ_F64: case PZ_I64: return 8;
    case PZ_F32: case PZ_I32: return 4;
    case PZ_I16: return 2;
    case PZ_U8: case PZ_BOOL: return 1;
    case PZ_STR: return 0; /* per column */
    }
    return 0;
}

const char *pz_coltype_name(pz_coltype t)
{
    static const char *const names[] = {"f64", "f32", "i64", "i32", "i16", "u8", "bool", "str"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

pz_table *pz_table_new(size_t nrows)
{
    pz_table *t = pz_xcalloc(1, sizeof *t);
    t->nrows = nrows;
    return t;
}

static void column_clear(pz_column *c)
{
    free(c->name);
    free(c->data);
    free(c->null);
    free(c->unit);
    free(c->desc);
    memset(c, 0, sizeof *c);
}

void pz_table_free(pz_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->ncols; i++) column_clear(&t->cols[i]);
    free(t->cols);
    for (size_t i = 0; i < t->nattrs; i++) {
        free(t->attr_keys[i]);
        free(t->attr_vals[i]);
    }
    free(t->attr_keys);
    free(t->attr_vals);
    free(t);
}

pz_column *pz_table_col(const pz_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return &t->cols[i];
    return NULL;
}

void pz_table_drop(pz_table *t, const char *name)
{
    pz_column *c = pz_table_col(t, name);
    if (!c) return;
    column_clear(c);
    size_t i = (size_t)(c - t->cols);
    memmove(c, c + 1, (t->ncols - i - 1) * sizeof *c); /* the others keep their order */
    t->ncols--;
}

static size_t column_width(pz_coltype type, size_t width)
{
    return type == PZ_STR ? (width ? width : 1) : pz_coltype_size(type);
}

/* Adds a column over `data` (nrows x its width, zeroed), which the table then owns. */
static pz_column *add_column(pz_table *t, const char *name, pz_coltype type, size_t width, void *data)
{
    pz_column *c = pz_table_col(t, name);
    if (c) {
        column_clear(c); /* replaced in place: the column keeps its position */
    } else {
        /* Slots come in blocks of PZ_TABLE_COL_BLOCK so pointers from earlier calls stay valid
         * while a table has at most that many columns (see table.h). */
        if (t->ncols % PZ_TABLE_COL_BLOCK == 0)
            t->cols = pz_xrealloc(t->cols, (t->ncols + PZ_TABLE_COL_BLOCK) * sizeof *t->cols);
        c = &t->cols[t->ncols++];
        memset(c, 0, sizeof *c);
    }
    c->name = pz_xstrdup(name);
    c->type = type;
    c->width = column_width(type, width);
    c->data = data;
    return c;
}

pz_column *pz_table_add(pz_table *t, const char *name, pz_coltype type, size_t width)
{
    return add_column(t, name, type, width, pz_xcalloc(t->nrows ? t->nrows : 1, column_width(type, width)));
}

pz_column *pz_table_try_add(pz_table *t, const char *name, pz_coltype type, size_t width)
{
    void *data = calloc(t->nrows ? t->nrows : 1, column_width(type, width));
    return data ? add_column(t, name, type, width, data) : NULL;
}

pz_column *pz_table_need(const pz_table *t, const char *name, const char *what, pz_err *err)
{
    pz_column *c = pz_table_col(t, name);
    if (c) return c;
    char have[600] = "";
    size_t len = 0;
    for (size_t i = 0; i < t->ncols && len < sizeof have - 1; i++)
        len += snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "", t->cols[i].name);
    if (len >= sizeof have - 1) strcpy(have + sizeof have - 5, "...");
    const char **names = pz_xmalloc((t->ncols ? t->ncols : 1) * sizeof *names);
    for (size_t i = 0; i < t->ncols; i++) names[i] = t->cols[i].name;
    const char *guess = pz_closest_name(name, names, t->ncols);
    char dym[160] = "";
    if (guess) snprintf(dym, sizeof dym, " (did you mean '%s'?)", guess);
    free(names);
    pz_errf(err, "table '%s': no column '%s'%s (have: %s)", what, name, dym, t->ncols ? have : "none");
    return NULL;
}

void pz_table_set_attr(pz_table *t, const char *key, const char *value)
{
    /* in any case: a table read from FITS has SEED where a stage sets seed, and a FITS header
     * holding both would read back as whichever came last */
    for (size_t i = 0; i < t->nattrs; i++) {
        if (strcasecmp(t->attr_keys[i], key) == 0) {
            free(t->attr_keys[i]);
            free(t->attr_vals[i]);
            t->attr_keys[i] = pz_xstrdup(key);
            t->attr_vals[i] = pz_xstrdup(value);
            return;
        }
    }
    t->attr_keys = pz_xrealloc(t->attr_keys, (t->nattrs + 1) * sizeof *t->attr_keys);
    t->attr_vals = pz_xrealloc(t->attr_vals, (t->nattrs + 1) * sizeof *t->attr_vals);
    t->attr_keys[t->nattrs] = pz_xstrdup(key);
    t->attr_vals[t->nattrs] = pz_xstrdup(value);
    t->nattrs++;
}

void pz_table_unset_attr(pz_table *t, const char *key)
{
    for (size_t i = 0; i < t->nattrs; i++) {
        if (strcmp(t->attr_keys[i], key)) continue;
        free(t->attr_keys[i]);
        free(t->attr_vals[i]);
        memmove(t->attr_keys + i, t->attr_keys + i + 1, (t->nattrs - i - 1) * sizeof *t->attr_keys);
        memmove(t->attr_vals + i, t->attr_vals + i + 1, (t->nattrs - i - 1) * sizeof *t->attr_vals);
        t->nattrs--;
        return;
    }
}

const char *pz_table_attr(const pz_table *t, const char *key)
{
    for (size_t i = 0; i < t->nattrs; i++)
        if (strcmp(t->attr_keys[i], key) == 0) return t->attr_vals[i];
    /* FITS keywords are upper case: "seed" written to FITS comes back as "SEED". */
    const char *found = NULL;
    for (size_t i = 0; i < t->nattrs; i++) {
        if (strcasecmp(t->attr_keys[i], key) != 0) continue;
        if (found) return NULL; /* two spellings: no silent choice */
        found = t->attr_vals[i];
    }
    return found;
}

static int is_integer_type(pz_coltype t)
{
    return t == PZ_I64 || t == PZ_I32 || t == PZ_I16 || t == PZ_U8 || t == PZ_BOOL;
}

/* Integer value of a non-null integer element (exact for i64, unlike the double path). */
static int64_t col_i64(const pz_column *c, size_t row)
{
    const char *p = (const char *)c->data + row * c->width;
    switch (c->type) {
    case PZ_I64: { int64_t v; memcpy(&v, p, 8); return v; }
    case PZ_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case PZ_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case PZ_U8: case PZ_BOOL: return *(const uint8_t *)p;
    case PZ_F64: { double v; memcpy(&v, p, 8); return (int64_t)v; }
    case PZ_F32: { float v; memcpy(&v, p, 4); return (int64_t)v; }
    case PZ_STR: return 0;
    }
    return 0;
}

double pz_col_f64(const pz_column *c, size_t row)
{
    if (c->null && c->null[row]) return NAN;
    const char *p = (const char *)c->data + row * c->width;
    switch (c->type) {
    case PZ_F64: { double v; memcpy(&v, p, 8); return v; }
    case PZ_F32: { float v; memcpy(&v, p, 4); return v; }
    case PZ_STR: return NAN;
    default: return (double)col_i64(c, row);
    }
}

static void set_null(pz_column *c, size_t row, size_t nrows_hint, int is_null)
{
    if (!c->null && !is_null) return;
    if (!c->null) c->null = pz_xcalloc(nrows_hint ? nrows_hint : 1, 1);
    c->null[row] = (uint8_t)is_null;
}

/* The null mask needs the table's row count, which a column does not know; callers that may
 * create a mask pass it. pz_col_set_f64 cannot, so it only updates an existing mask and stores
 * NaN into integer columns as 0 with the mask set when one exists. */
static void col_set_i64(pz_column *c, size_t row, int64_t v)
{
    char *p = (char *)c->data + row * c->width;
    switch (c->type) {
    case PZ_I64: memcpy(p, &v, 8); break;
    case PZ_I32: { int32_t w = (int32_t)v; memcpy(p, &w, 4); break; }
    case PZ_I16: { int16_t w = (int16_t)v; memcpy(p, &w, 2); break; }
    case PZ_U8: *(uint8_t *)p = (uint8_t)v; break;
    case PZ_BOOL: *(uint8_t *)p = v != 0; break;
    case PZ_F64: { double d = (double)v; memcpy(p, &d, 8); break; }
    case PZ_F32: { float f = (float)v; memcpy(p, &f, 4); break; }
    case PZ_STR: break;
    }
}

void pz_col_set_f64(pz_column *c, size_t row, double v)
{
    char *p = (char *)c->data + row * c->width;
    switch (c->type) {
    case PZ_F64: memcpy(p, &v, 8); return;
    case PZ_F32: { float f = (float)v; memcpy(p, &f, 4); return; }
    case PZ_STR: return;
    default:
        if (c->null) c->null[row] = isnan(v);
        col_set_i64(c, row, isnan(v) ? 0 : c->type == PZ_BOOL ? (v != 0) : (int64_t)llround(v));
    }
}

int pz_table_matrix_f32(const pz_table *t, const char *const *cols, size_t ncols, float *out, int allow_nan,
                        pz_err *err)
{
    for (size_t j = 0; j < ncols; j++) {
        const pz_column *c = pz_table_need(t, cols[j], "matrix", err);
        if (!c) return -1;
        if (c->type == PZ_STR) return pz_errf(err, "column '%s' is a string column, not numeric", cols[j]);
        for (size_t r = 0; r < t->nrows; r++) {
            double v = pz_col_f64(c, r);
            if (!allow_nan && !isfinite(v))
                return pz_errf(err, "column '%s' row %zu: non-finite value %g", cols[j], r, v);
            out[r * ncols + j] = (float)v;
        }
    }
    return 0;
}

void pz_column_copy_meta(pz_column *dst, const pz_column *src)
{
    free(dst->unit);
    free(dst->desc);
    dst->unit = src->unit ? pz_xstrdup(src->unit) : NULL;
    dst->desc = src->desc ? pz_xstrdup(src->desc) : NULL;
    dst->has_null_value = src->has_null_value;
    dst->null_value = src->null_value;
}

static void copy_attrs(pz_table *dst, const pz_table *src)
{
    for (size_t i = 0; i < src->nattrs; i++) pz_table_set_attr(dst, src->attr_keys[i], src->attr_vals[i]);
}

pz_table *pz_table_take(const pz_table *t, const size_t *rows, size_t n)
{
    pz_table *o = pz_table_new(n);
    for (size_t j = 0; j < t->ncols; j++) {
        const pz_column *c = &t->cols[j];
        pz_column *d = pz_table_add(o, c->name, c->type, c->width);
        pz_column_copy_meta(d, c);
        for (size_t i = 0; i < n; i++)
            memcpy((char *)d->data + i * d->width, (const char *)c->data + rows[i] * c->width, c->width);
        if (c->null) {
            d->null = pz_xcalloc(n ? n : 1, 1);
            for (size_t i = 0; i < n; i++) d->null[i] = c->null[rows[i]];
        }
    }
    copy_attrs(o, t);
    return o;
}

/* Append rows of `src` into `dst` at row `at`, converting to dst's type. */
static void append_column(pz_column *dst, size_t at, size_t total, const pz_column *src, size_t n)
{
    if (dst->type == PZ_STR) {
        for (size_t i = 0; i < n; i++) {
            char *p = (char *)dst->data + (at + i) * dst->width;
            memcpy(p, (const char *)src->data + i * src->width, src->width < dst->width ? src->width : dst->width);
        }
        return;
    }
    int exact = dst->type == src->type;
    if (exact) memcpy((char *)dst->data + at * dst->width, src->data, n * dst->width);
    for (size_t i = 0; i < n; i++) {
        int missing = src->null && src->null[i];
        if (!exact) {
            if (is_integer_type(dst->type) && is_integer_type(src->type))
                col_set_i64(dst, at + i, missing ? 0 : col_i64(src, i));
            else if (is_integer_type(dst->type) && isnan(pz_col_f64(src, i)))
                missing = 1, col_set_i64(dst, at + i, 0);
            else
                pz_col_set_f64(dst, at + i, pz_col_f64(src, i));
        }
        if (is_integer_type(dst->type)) set_null(dst, at + i, total, missing);
    }
}

pz_table *pz_table_concat(pz_table *const *ts, size_t n, pz_err *err)
{
    if (n == 0) return pz_table_new(0);
    const pz_table *first = ts[0];
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        if (ts[k]->ncols != first->ncols) {
            pz_errf(err, "concat: table %zu has %zu columns, table 0 has %zu", k, ts[k]->ncols, first->ncols);
            return NULL;
        }
        for (size_t j = 0; j < first->ncols; j++) {
            const pz_column *c = pz_table_col(ts[k], first->cols[j].name);
            if (!c) {
                pz_errf(err, "concat: table %zu has no column '%s'", k, first->cols[j].name);
                return NULL;
            }
            if ((c->type == PZ_STR) != (first->cols[j].type == PZ_STR)) {
                pz_errf(err, "concat: column '%s' is %s in table %zu but %s in table 0", c->name,
                        pz_coltype_name(c->type), k, pz_coltype_name(first->cols[j].type));
                return NULL;
            }
        }
        total += ts[k]->nrows;
    }
    pz_table *o = pz_table_new(total);
    for (size_t j = 0; j < first->ncols; j++) {
        const pz_column *f = &first->cols[j];
        size_t width = f->width;
        for (size_t k = 1; k < n && f->type == PZ_STR; k++) {
            const pz_column *c = pz_table_col(ts[k], f->name);
            if (c->width > width) width = c->width; /* strings widen, never truncate */
        }
        pz_column *d = pz_table_add(o, f->name, f->type, width);
        pz_column_copy_meta(d, f);
        size_t at = 0;
        for (size_t k = 0; k < n; k++) {
            append_column(d, at, total, pz_table_col(ts[k], f->name), ts[k]->nrows);
            at += ts[k]->nrows;
        }
    }
    copy_attrs(o, first);
    return o;
}

pz_column *pz_column_copy_rows(pz_table *dst, const char *name, const pz_column *src, const size_t *rows,
                               size_t n)
{
    pz_column *d = pz_table_add(dst, name, src->type, src->width);
    pz_column_copy_meta(d, src);
    for (size_t i = 0; i < n; i++)
        memcpy((char *)d->data + i * d->width, (const char *)src->data + rows[i] * src->width, src->width);
    if (src->null) {
        d->null = pz_xcalloc(n ? n : 1, 1);
        for (size_t i = 0; i < n; i++) d->null[i] = src->null[rows[i]];
    }
    return d;
}
