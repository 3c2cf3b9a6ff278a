/* CSV and ECSV writing. CSV: a header line of names, then rows. ECSV 1.0 (astropy's format):
 * the same rows after a "# " YAML header giving each column's datatype, unit and description
 * and the table's attributes as meta, so astropy Table.read gets the table back whole.
 *
 * Numbers are written in the fewest digits that read back to the same value (a float32 as a
 * float32), NaN as nan, a missing integer or bool as an empty field; strings are quoted when
 * they hold the delimiter, a quote, a line break, edge spaces, or are empty. */
#include "table/backends.h"
#include "util/sbuf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pz_csv_writer {
    FILE *f;
    char *path;
    pz_sbuf line;
};

static const char *ecsv_datatype(pz_coltype t)
{
    static const char *const names[] = {[PZ_F64] = "float64", [PZ_F32] = "float32", [PZ_I64] = "int64",
                                        [PZ_I32] = "int32",   [PZ_I16] = "int16",   [PZ_U8] = "uint8",
                                        [PZ_BOOL] = "bool",   [PZ_STR] = "string"};
    return names[t];
}

/* A YAML double-quoted scalar: safe for any text. */
static void put_yaml_string(pz_sbuf *b, const char *s)
{
    pz_sb_puts(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') pz_sb_printf(b, "\\%c", c);
        else if (c == '\n') pz_sb_puts(b, "\\n");
        else if (c == '\t') pz_sb_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f) pz_sb_printf(b, "\\x%02x", c);
        else pz_sb_put(b, s, 1);
    }
    pz_sb_puts(b, "\"");
}

static void put_field_text(pz_sbuf *b, const char *s, size_t n)
{
    int quote = n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[0] == '#';
    for (size_t i = 0; i < n && !quote; i++) quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        pz_sb_put(b, s, n);
        return;
    }
    pz_sb_puts(b, "\"");
    for (size_t i = 0; i < n; i++) pz_sb_put(b, s[i] == '"' ? "\"\"" : s + i, s[i] == '"' ? 2 : 1);
    pz_sb_puts(b, "\"");
}

static void ecsv_header(pz_sbuf *b, const pz_table *proto)
{
    pz_sb_puts(b, "# %ECSV 1.0\n# ---\n# delimiter: ','\n# datatype:\n");
    for (size_t j = 0; j < proto->ncols; j++) {
        const pz_column *c = &proto->cols[j];
        pz_sb_puts(b, "# - {name: ");
        put_yaml_string(b, c->name);
        if (c->unit && c->unit[0]) pz_sb_puts(b, ", unit: "), put_yaml_string(b, c->unit);
        pz_sb_printf(b, ", datatype: %s", ecsv_datatype(c->type));
        if (c->desc && c->desc[0]) pz_sb_puts(b, ", description: "), put_yaml_string(b, c->desc);
        pz_sb_puts(b, "}\n");
    }
    if (proto->nattrs) {
        pz_sb_puts(b, "# meta: !!omap\n");
        for (size_t i = 0; i < proto->nattrs; i++) {
            pz_sb_puts(b, "# - {");
            put_yaml_string(b, proto->attr_keys[i]);
            pz_sb_puts(b, ": ");
            put_yaml_string(b, proto->attr_vals[i]);
            pz_sb_puts(b, "}\n");
        }
    }
    pz_sb_puts(b, "# schema: astropy-2.0\n");
}

static int flush_line(pz_csv_writer *w, pz_err *err)
{
    if (w->line.len && fwrite(w->line.p, 1, w->line.len, w->f) != w->line.len)
        return pz_errf(err, "%s: write failed: %s", w->path, strerror(errno));
    w->line.len = 0;
    if (w->line.p) w->line.p[0] = 0;
    return 0;
}

pz_csv_writer *pz_csv_writer_open(const char *path, pz_format fmt, const pz_table *proto, pz_err *err)
{
    pz_csv_writer *w = pz_xcalloc(1, sizeof *w);
    w->path = pz_xstrdup(path);
    w->f = fopen(path, "wb");
    if (!w->f) {
        pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
        pz_csv_writer_close(w, err);
        return NULL;
    }
    if (fmt == PZ_FMT_ECSV) ecsv_header(&w->line, proto);
    for (size_t j = 0; j < proto->ncols; j++) {
        if (j) pz_sb_puts(&w->line, ",");
        put_field_text(&w->line, proto->cols[j].name, strlen(proto->cols[j].name));
    }
    pz_sb_puts(&w->line, "\n");
    if (flush_line(w, err) < 0) {
        pz_err ignore;
        pz_csv_writer_close(w, &ignore);
        return NULL;
    }
    return w;
}

/* The shortest %g that reads back as the same value. */
static void put_float(pz_sbuf *b, double v, int is_f32)
{
    char text[40];
    if (isnan(v) || isinf(v)) {
        pz_sb_puts(b, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = is_f32 ? 6 : 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        double back = strtod(text, NULL);
        if (is_f32 ? (float)back == (float)v : back == v) break;
    }
    pz_sb_puts(b, text);
}

static void put_cell(pz_sbuf *b, const pz_column *c, size_t row)
{
    const char *p = (const char *)c->data + row * c->width;
    if (c->null && c->null[row] && c->type != PZ_STR && c->type != PZ_F32 && c->type != PZ_F64) return;
    switch (c->type) {
    case PZ_STR: put_field_text(b, p, strnlen(p, c->width)); break;
    case PZ_BOOL: pz_sb_puts(b, *p ? "True" : "False"); break;
    case PZ_F32: case PZ_F64: put_float(b, pz_col_f64(c, row), c->type == PZ_F32); break;
    case PZ_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        pz_sb_printf(b, "%lld", (long long)v);
        break;
    }
    default: pz_sb_printf(b, "%.0f", pz_col_f64(c, row)); break;
    }
}

int pz_csv_writer_append(pz_csv_writer *w, const pz_table *chunk, pz_err *err)
{
    for (size_t i = 0; i < chunk->nrows; i++) {
        size_t at = w->line.len;
        for (size_t j = 0; j < chunk->ncols; j++) {
            if (j) pz_sb_puts(&w->line, ",");
            put_cell(&w->line, &chunk->cols[j], i);
        }
        if (w->line.len == at) pz_sb_puts(&w->line, "\"\""); /* a blank line would be skipped as no row */
        pz_sb_puts(&w->line, "\n");
        if (w->line.len > (1u << 16) && flush_line(w, err) < 0) return -1;
    }
    return flush_line(w, err);
}

int pz_csv_writer_close(pz_csv_writer *w, pz_err *err)
{
    if (!w) return 0;
    int rc = 0;
    if (w->f && fclose(w->f) != 0) rc = pz_errf(err, "%s: write failed: %s", w->path, strerror(errno));
    free(w->line.p);
    free(w->path);
    free(w);
    return rc;
}
