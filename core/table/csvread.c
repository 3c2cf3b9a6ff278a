/* CSV and ECSV reading, in two streaming passes and bounded memory (one record plus one chunk).
 *
 * CSV: '#' lines are comments, the first other line names the columns, fields are separated
 * by ',' and may be "quoted" ("" is a quote; a quoted field may span lines). The first pass
 * types each column from its cells: integers -> int64, numbers -> float64, True/False -> bool,
 * text -> string (as wide as its longest cell). A column whose first value is a number must
 * hold numbers: a later word is an error naming file, line and column, never a silent string.
 * ECSV: the "# " header is YAML (astropy's ECSV 1.0) declaring each column's datatype, unit and
 * description, the delimiter (' ' or ',') and the table's meta; the first pass checks cells
 * against it, counts rows and measures strings. Empty, NA, nan and null cells are missing:
 * NaN in a float column, a null in an integer or bool one. */
#include "table/backends.h"
#include "util/sbuf.h"
#include "util/ytree.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_NONE, K_INT, K_FLOAT, K_BOOL, K_STR } cell_kind;

typedef struct {
    char *name, *unit, *desc;
    pz_coltype type;      /* declared (ECSV) or inferred (CSV) */
    int declared;
    cell_kind kind;       /* CSV inference so far */
    long first_line;      /* where its first value was, for errors */
    size_t width;         /* longest string cell */
    int64_t imin, imax;   /* range of an integer column's values, checked against narrower types */
} csv_col;

struct pz_csv_reader {
    FILE *f;
    char *path;
    pz_format fmt;
    char delim;
    csv_col *cols;        /* every column of the file */
    size_t ncols;
    size_t *want;         /* the requested columns' indices */
    size_t nwant;
    pz_table *meta;       /* attributes (ECSV meta) */
    off_t data_at;        /* file offset and line of the first data record */
    long data_line;
    long line;            /* line of the record being read (1-based) */
    long nrows;           /* counted by the first pass */
    char *rec;            /* the current record, fields split in place */
    size_t reccap;
    char **field;         /* pointers into rec */
    size_t fieldcap, nfield;
};

/* ---- records ----------------------------------------------------------------------------- */

/* One physical line into r->rec at `at` (newline dropped); 0 at end of file. */
static int read_line(pz_csv_reader *r, size_t at, pz_err *err)
{
    size_t len = at;
    int c = 0, got = 0;
    while ((c = getc_unlocked(r->f)) != EOF) { /* one thread per reader */
        got = 1;
        if (c == '\n') break;
        if (len + 2 > r->reccap) {
            r->reccap = r->reccap ? 2 * r->reccap : 4096;
            r->rec = pz_xrealloc(r->rec, r->reccap);
        }
        r->rec[len++] = (char)c;
    }
    if (ferror(r->f)) return pz_errf(err, "%s:%ld: read error: %s", r->path, r->line, strerror(errno));
    if (!r->rec) r->rec = pz_xmalloc(r->reccap = 4096);
    if (len > at && r->rec[len - 1] == '\r') len--;
    r->rec[len] = 0;
    return got;
}

/* Split r->rec into fields in place; quoted fields lose their quotes and doubled quotes. A
 * quote left open continues the field on the next line. Returns 1 with fields, 0 at end of
 * file, -1 on error. */
static int split_record(pz_csv_reader *r, pz_err *err)
{
    size_t pos = 0;
    long start_line = r->line;
    r->nfield = 0;
    for (;;) {
        /* skip spaces before a field (and runs of the space delimiter) */
        while (r->rec[pos] == ' ' || (r->delim != '\t' && r->rec[pos] == '\t')) pos++;
        if (r->nfield == r->fieldcap) {
            r->fieldcap = r->fieldcap ? 2 * r->fieldcap : 64;
            r->field = pz_xrealloc(r->field, r->fieldcap * sizeof *r->field);
        }
        /* store offsets while the buffer may move; turned into pointers at the end */
        size_t out = pos;
        r->field[r->nfield++] = (char *)(uintptr_t)out;
        if (r->rec[pos] == '"') {
            pos++;
            for (;;) {
                if (!r->rec[pos]) { /* newline inside quotes: the field goes on */
                    r->rec[out++] = '\n';
                    size_t keep = out;
                    r->line++;
                    int got = read_line(r, pos + 1, err);
                    if (got < 0) return -1;
                    if (!got)
                        return pz_errf(err, "%s:%ld: a quoted field opened here is never closed", r->path, start_line);
                    memmove(r->rec + keep, r->rec + pos + 1, strlen(r->rec + pos + 1) + 1);
                    pos = keep;
                    continue;
                }
                if (r->rec[pos] == '"' && r->rec[pos + 1] == '"') r->rec[out++] = '"', pos += 2;
                else if (r->rec[pos] == '"') { pos++; break; }
                else r->rec[out++] = r->rec[pos++];
            }
            if (r->delim != ' ')
                while (r->rec[pos] == ' ') pos++;
            if (r->rec[pos] && r->rec[pos] != r->delim)
                return pz_errf(err, "%s:%ld: field %zu: text after a closing quote", r->path, r->line, r->nfield);
        } else {
            while (r->rec[pos] && r->rec[pos] != r->delim) r->rec[out++] = r->rec[pos++];
            while (out > (size_t)(uintptr_t)r->field[r->nfield - 1] && r->rec[out - 1] == ' ') out--;
        }
        char next = r->rec[pos];
        r->rec[out] = 0;
        if (!next) break;
        pos++; /* the delimiter */
        if (r->delim == ' ') {
            while (r->rec[pos] == ' ') pos++;
            if (!r->rec[pos]) break;
        }
    }
    for (size_t i = 0; i < r->nfield; i++) r->field[i] = r->rec + (uintptr_t)r->field[i];
    return 1;
}

static int is_comment_or_blank(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == '#' || !*s;
}

/* The next data record, skipping comments and blank lines. 1, 0 at the end, -1 on error. */
static int next_record(pz_csv_reader *r, pz_err *err)
{
    for (;;) {
        r->line++;
        int got = read_line(r, 0, err);
        if (got <= 0) return got;
        if (!is_comment_or_blank(r->rec)) return split_record(r, err);
    }
}

/* ---- cells -------------------------------------------------------------------------------- */

static int is_missing(const char *s)
{
    static const char *const tokens[] = {"", "NA", "N/A", "nan", "null", "None", "--", NULL};
    if (*s && *s != 'N' && *s != 'n' && *s != '-') return 0; /* most cells: a number */
    for (int i = 0; tokens[i]; i++)
        if (!strcasecmp(s, tokens[i])) return 1;
    return 0;
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end || errno) return -1;
    *v = x;
    return 0;
}

static int parse_float(const char *s, double *v)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || (errno && fabs(x) > 1)) return -1; /* underflow to ~0 is a value */
    *v = x;
    return 0;
}

static int parse_bool(const char *s, int *v)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "T")) return *v = 1, 0;
    if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "F")) return *v = 0, 0;
    return -1;
}

static cell_kind kind_of(const char *s)
{
    int64_t i;
    double d;
    int b;
    if (parse_int(s, &i) == 0) return K_INT;
    if (parse_float(s, &d) == 0) return K_FLOAT;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) return K_BOOL;
    (void)b;
    return K_STR;
}

static const char *kind_name(cell_kind k)
{
    return k == K_INT ? "an integer" : k == K_FLOAT ? "a number" : k == K_BOOL ? "True/False" : "text";
}

static int bad_cell(const pz_csv_reader *r, size_t j, const char *cell, const char *expected, pz_err *err)
{
    return pz_errf(err, "%s:%ld: column '%s' (field %zu): '%.60s' is not %s", r->path, r->line, r->cols[j].name,
                   j + 1, cell, expected);
}

/* CSV first pass: a column's kind is set by its first value; numbers widen int -> float. */
static int infer_cell(pz_csv_reader *r, size_t j, const char *cell, pz_err *err)
{
    csv_col *c = &r->cols[j];
    size_t len = strlen(cell);
    if (len > c->width) c->width = len;
    if (is_missing(cell)) return 0;
    cell_kind k = kind_of(cell);
    if (c->kind == K_NONE) c->kind = k, c->first_line = r->line;
    else if (c->kind == K_INT && k == K_FLOAT) c->kind = K_FLOAT;
    else if (c->kind == K_FLOAT && k == K_INT) return 0;
    else if (c->kind != k && c->kind != K_STR)
        return pz_errf(err, "%s:%ld: column '%s' (field %zu): '%.60s' is not %s, as its first value (line %ld) was",
                       r->path, r->line, c->name, j + 1, cell, kind_name(c->kind), c->first_line);
    return 0;
}

/* ECSV first pass: the cell must be what the header declared. */
static int check_cell(pz_csv_reader *r, size_t j, const char *cell, pz_err *err)
{
    csv_col *c = &r->cols[j];
    size_t len = strlen(cell);
    if (len > c->width) c->width = len;
    if (c->type == PZ_STR || is_missing(cell)) return 0;
    int64_t i;
    double d;
    int b;
    switch (c->type) {
    case PZ_F64: case PZ_F32: return parse_float(cell, &d) ? bad_cell(r, j, cell, "a number", err) : 0;
    case PZ_BOOL: return parse_bool(cell, &b) ? bad_cell(r, j, cell, "True or False", err) : 0;
    default:
        if (parse_int(cell, &i)) return bad_cell(r, j, cell, "an integer", err);
        if (i < c->imin || i > c->imax) return bad_cell(r, j, cell, "in the range of its declared datatype", err);
        return 0;
    }
}

/* ---- the ECSV header ---------------------------------------------------------------------- */

static int ecsv_type(const char *dt, pz_coltype *t, int64_t *lo, int64_t *hi)
{
    static const struct { const char *name; pz_coltype type; int64_t lo, hi; } map[] = {
        {"bool", PZ_BOOL, 0, 1},
        {"int8", PZ_I16, INT8_MIN, INT8_MAX},
        {"int16", PZ_I16, INT16_MIN, INT16_MAX},
        {"int32", PZ_I32, INT32_MIN, INT32_MAX},
        {"int64", PZ_I64, INT64_MIN, INT64_MAX},
        {"uint8", PZ_U8, 0, UINT8_MAX},
        {"uint16", PZ_I32, 0, UINT16_MAX},
        {"uint32", PZ_I64, 0, UINT32_MAX},
        {"uint64", PZ_I64, 0, INT64_MAX},
        {"float16", PZ_F32, 0, 0},
        {"float32", PZ_F32, 0, 0},
        {"float64", PZ_F64, 0, 0},
        {"float128", PZ_F64, 0, 0},
        {"string", PZ_STR, 0, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(dt, map[i].name)) return *t = map[i].type, *lo = map[i].lo, *hi = map[i].hi, 0;
    return -1;
}

static const char *yscalar(const pz_ynode *map, const char *key)
{
    const pz_ynode *n = pz_ymap_get(map, key);
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static int ecsv_columns(pz_csv_reader *r, const pz_ynode *dts, pz_err *err)
{
    if (!dts || dts->kind != PZ_Y_SEQ)
        return pz_errf(err, "%s: ECSV header has no 'datatype' list of columns", r->path);
    r->ncols = dts->n;
    r->cols = pz_xcalloc(r->ncols + 1, sizeof *r->cols);
    for (size_t j = 0; j < dts->n; j++) {
        const pz_ynode *d = dts->items[j];
        const char *name = d->kind == PZ_Y_MAP ? yscalar(d, "name") : NULL, *dt = name ? yscalar(d, "datatype") : NULL;
        csv_col *c = &r->cols[j];
        if (!name || !dt)
            return pz_errf(err, "%s:%d: ECSV column %zu needs a name and a datatype", r->path, d->line, j + 1);
        c->name = pz_xstrdup(name);
        c->declared = 1;
        if (ecsv_type(dt, &c->type, &c->imin, &c->imax) < 0)
            return pz_errf(err, "%s:%d: ECSV column '%s' has datatype '%s', which pzflow cannot read (it reads bool, "
                                "int8..int64, uint8..uint64, float16..float128 and string)",
                           r->path, d->line, name, dt);
        if (pz_ymap_get(d, "subtype"))
            return pz_errf(err, "%s:%d: ECSV column '%s' is multidimensional (subtype); only scalar columns are read",
                           r->path, d->line, name);
        if (yscalar(d, "unit")) c->unit = pz_xstrdup(yscalar(d, "unit"));
        if (yscalar(d, "description")) c->desc = pz_xstrdup(yscalar(d, "description"));
    }
    return 0;
}

/* meta: a map, or astropy's !!omap (a list of one-pair maps); scalar values become attributes. */
static void ecsv_meta(pz_csv_reader *r, const pz_ynode *meta)
{
    if (!meta) return;
    const pz_ynode *const *maps = meta->kind == PZ_Y_SEQ ? (const pz_ynode *const *)meta->items : &meta;
    size_t nmaps = meta->kind == PZ_Y_SEQ ? meta->n : 1;
    for (size_t m = 0; m < nmaps; m++) {
        const pz_ynode *map = maps[m];
        if (map->kind != PZ_Y_MAP) continue;
        for (size_t i = 0; i < map->n; i++)
            if (map->items[i]->kind == PZ_Y_SCALAR) pz_table_set_attr(r->meta, map->keys[i]->str, map->items[i]->str);
    }
}

/* Read the "# " lines up to the column names into YAML and take columns, delimiter, meta. */
static int read_ecsv_header(pz_csv_reader *r, pz_err *err)
{
    pz_sbuf yaml = {0};
    pz_sb_puts(&yaml, "");
    int rc = 0;
    for (;;) {
        long at = ftell(r->f);
        r->line++;
        int got = read_line(r, 0, err);
        if (got < 0) { rc = -1; break; }
        if (!got || r->rec[0] != '#') {
            fseek(r->f, at, SEEK_SET);
            r->line--;
            break;
        }
        /* one YAML line per file line, so YAML errors name the file's line */
        const char *text = r->rec + 1;
        if (*text == ' ') text++;
        if (r->line > 1) pz_sb_puts(&yaml, text); /* line 1 is "# %ECSV 1.0" */
        pz_sb_puts(&yaml, "\n");
    }
    pz_ynode *root = rc == 0 ? pz_yaml_load_string(yaml.p, yaml.len, r->path, err) : NULL;
    free(yaml.p);
    if (!root) return -1;
    const char *delim = yscalar(root, "delimiter");
    r->delim = delim && delim[0] ? delim[0] : ' ';
    if (r->delim != ' ' && r->delim != ',')
        rc = pz_errf(err, "%s: ECSV delimiter '%s' is neither a space nor a comma", r->path, delim);
    if (rc == 0) rc = ecsv_columns(r, pz_ymap_get(root, "datatype"), err);
    if (rc == 0) ecsv_meta(r, pz_ymap_get(root, "meta"));
    pz_ynode_free(root);
    return rc;
}

/* ---- opening: the names line, the requested columns, the first pass ---------------------- */

static int read_names(pz_csv_reader *r, pz_err *err)
{
    int got = next_record(r, err);
    if (got < 0) return -1;
    if (!got) return pz_errf(err, "%s: no header line naming the columns", r->path);
    if (r->fmt == PZ_FMT_ECSV) {
        for (size_t j = 0; j < r->nfield && j < r->ncols; j++)
            if (strcmp(r->field[j], r->cols[j].name))
                return pz_errf(err, "%s:%ld: column %zu is named '%s' here but '%s' in the ECSV header", r->path,
                               r->line, j + 1, r->field[j], r->cols[j].name);
        if (r->nfield != r->ncols)
            return pz_errf(err, "%s:%ld: %zu column names, the ECSV header declares %zu", r->path, r->line, r->nfield,
                           r->ncols);
        return 0;
    }
    r->ncols = r->nfield;
    r->cols = pz_xcalloc(r->ncols + 1, sizeof *r->cols);
    for (size_t j = 0; j < r->ncols; j++) {
        if (!r->field[j][0]) return pz_errf(err, "%s:%ld: column %zu has no name", r->path, r->line, j + 1);
        r->cols[j].name = pz_xstrdup(r->field[j]);
    }
    return 0;
}

static int choose_columns(pz_csv_reader *r, const char *const *columns, size_t ncolumns, pz_err *err)
{
    const char **names = pz_xcalloc(r->ncols + 1, sizeof *names);
    for (size_t j = 0; j < r->ncols; j++) names[j] = r->cols[j].name;
    int rc = 0;
    for (size_t j = 0; j < r->ncols && rc == 0; j++)
        for (size_t k = j + 1; k < r->ncols && rc == 0; k++)
            if (!strcmp(names[j], names[k]))
                rc = pz_errf(err, "%s: columns %zu and %zu are both named '%s'; pzflow will not choose one silently",
                             r->path, j + 1, k + 1, names[j]);
    r->nwant = columns ? ncolumns : r->ncols;
    r->want = pz_xcalloc(r->nwant + 1, sizeof *r->want);
    char missing[PZ_ERR_MAX / 2] = "";
    size_t len = 0, nbad = 0;
    for (size_t k = 0; k < r->nwant && rc == 0; k++) {
        long j = columns ? pz_match_name(names, r->ncols, columns[k]) : (long)k;
        if (j >= 0) {
            r->want[k] = (size_t)j;
            continue;
        }
        nbad++;
        pz_describe_missing(missing, sizeof missing, &len, columns[k], names, r->ncols, j == -2);
    }
    free(names);
    if (rc == 0 && nbad)
        rc = pz_errf(err, "%s: missing %zu column%s: %s", r->path, nbad, nbad > 1 ? "s" : "", missing);
    return rc;
}

static void settle_types(pz_csv_reader *r)
{
    for (size_t j = 0; j < r->ncols; j++) {
        csv_col *c = &r->cols[j];
        if (c->declared) continue;
        c->type = c->kind == K_INT ? PZ_I64 : c->kind == K_BOOL ? PZ_BOOL : c->kind == K_STR ? PZ_STR : PZ_F64;
    }
}

/* The first pass: every record the right length, every cell of its column's kind. */
static int first_pass(pz_csv_reader *r, pz_err *err)
{
    int got;
    r->nrows = 0;
    while ((got = next_record(r, err)) > 0) {
        if (r->nfield != r->ncols)
            return pz_errf(err, "%s:%ld: %zu fields, the header names %zu columns", r->path, r->line, r->nfield,
                           r->ncols);
        for (size_t j = 0; j < r->ncols; j++)
            if ((r->fmt == PZ_FMT_ECSV ? check_cell : infer_cell)(r, j, r->field[j], err) < 0) return -1;
        r->nrows++;
    }
    if (got < 0) return -1;
    settle_types(r);
    r->line = r->data_line;
    if (fseeko(r->f, r->data_at, SEEK_SET) != 0) return pz_errf(err, "%s: cannot seek: %s", r->path, strerror(errno));
    return 0;
}

pz_csv_reader *pz_csv_reader_open(const char *path, pz_format fmt, const char *const *columns, size_t ncolumns,
                                  pz_err *err)
{
    pz_csv_reader *r = pz_xcalloc(1, sizeof *r);
    r->path = pz_xstrdup(path);
    r->fmt = fmt;
    r->delim = ',';
    r->meta = pz_table_new(0);
    r->f = fopen(path, "rb");
    int rc = r->f ? 0 : pz_errf(err, "%s: cannot open: %s", path, strerror(errno));
    if (rc == 0 && fmt == PZ_FMT_ECSV) rc = read_ecsv_header(r, err);
    if (rc == 0) rc = read_names(r, err);
    if (rc == 0) rc = choose_columns(r, columns, ncolumns, err);
    if (rc == 0) {
        r->data_at = ftello(r->f);
        r->data_line = r->line;
        rc = first_pass(r, err);
    }
    if (rc < 0) {
        pz_csv_reader_close(r);
        return NULL;
    }
    return r;
}

int pz_csv_reader_info(pz_csv_reader *r, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    (void)err;
    pz_colinfo *info = pz_xcalloc(r->ncols + 1, sizeof *info);
    for (size_t j = 0; j < r->ncols; j++) {
        const csv_col *c = &r->cols[j];
        info[j].name = pz_xstrdup(c->name);
        info[j].type = c->type;
        info[j].width = c->type == PZ_STR ? (c->width ? c->width : 1) : pz_coltype_size(c->type);
    }
    *cols = info, *ncols = r->ncols, *nrows = r->nrows;
    return 0;
}

/* ---- the second pass: chunks --------------------------------------------------------------- */

static pz_table *empty_chunk(const pz_csv_reader *r, size_t n)
{
    pz_table *t = pz_table_take(r->meta, NULL, 0);
    t->nrows = n;
    for (size_t k = 0; k < r->nwant; k++) {
        const csv_col *c = &r->cols[r->want[k]];
        pz_column *d = pz_table_add(t, c->name, c->type, c->width ? c->width : 1);
        if (c->unit) d->unit = pz_xstrdup(c->unit);
        if (c->desc) d->desc = pz_xstrdup(c->desc);
    }
    return t;
}

static void mark_null(pz_column *c, size_t row, size_t n)
{
    if (!c->null) c->null = pz_xcalloc(n ? n : 1, 1);
    c->null[row] = 1;
}

/* The first pass checked every cell, so parsing here cannot fail. */
static void store_cell(pz_column *c, size_t row, size_t n, const char *cell)
{
    if (c->type == PZ_STR) {
        strncpy((char *)c->data + row * c->width, cell, c->width);
        return;
    }
    if (is_missing(cell)) {
        if (c->type == PZ_F64 || c->type == PZ_F32) pz_col_set_f64(c, row, NAN);
        else mark_null(c, row, n);
        return;
    }
    int64_t i;
    double d;
    int b;
    if (c->type == PZ_BOOL) {
        parse_bool(cell, &b);
        ((uint8_t *)c->data)[row] = (uint8_t)b;
    } else if (c->type == PZ_I64 && parse_int(cell, &i) == 0) {
        memcpy((char *)c->data + 8 * row, &i, 8); /* exact beyond 2^53 */
    } else {
        parse_float(cell, &d);
        pz_col_set_f64(c, row, d);
    }
}

int pz_csv_reader_next(pz_csv_reader *r, size_t maxrows, pz_table **out, pz_err *err)
{
    *out = NULL;
    if (maxrows == 0) {
        *out = empty_chunk(r, 0);
        return 0;
    }
    pz_table *t = NULL;
    size_t n = 0;
    int got = 0;
    while (n < maxrows && (got = next_record(r, err)) > 0) {
        if (!t) t = empty_chunk(r, maxrows);
        if (r->nfield != r->ncols) /* the file changed since the first pass */
            got = pz_errf(err, "%s:%ld: %zu fields, the header names %zu columns", r->path, r->line, r->nfield, r->ncols);
        if (got < 0) break;
        for (size_t k = 0; k < r->nwant; k++) store_cell(&t->cols[k], n, maxrows, r->field[r->want[k]]);
        n++;
    }
    if (got < 0) {
        pz_table_free(t);
        return -1;
    }
    if (t) t->nrows = n; /* the columns keep their maxrows capacity */
    *out = t;
    return 0;
}

void pz_csv_reader_close(pz_csv_reader *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    for (size_t j = 0; j < r->ncols; j++) {
        free(r->cols[j].name);
        free(r->cols[j].unit);
        free(r->cols[j].desc);
    }
    free(r->cols);
    free(r->want);
    pz_table_free(r->meta);
    free(r->rec);
    free(r->field);
    free(r->path);
    free(r);
}
