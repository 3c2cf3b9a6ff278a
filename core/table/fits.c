/* FITS binary tables through cfitsio, reading only the requested columns.
 *
 * COSMOS2020 has 3491-byte rows and 1.7 M of them; a study needs ~30 of its 754 columns. We
 * read the table in row chunks of raw bytes (fits_read_tblbytes, one large read per chunk) and
 * pick each requested field out of the chunk ourselves, byte-swapping from big-endian. Memory is
 * the output columns plus one fixed-size chunk buffer, whatever the row width; cfitsio's own
 * per-column reads would cost one library call per column per ~30 rows.
 *
 * Column layout (byte offset of each field) is computed from the TFORMn keywords and checked
 * against NAXIS1, so a header we misunderstand fails loudly instead of reading wrong bytes. */
#include "table/backends.h"
#include "util/crashnote.h"

#include <errno.h>
#include <fitsio.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Target chunk size in bytes; at least fits_get_rowsize()'s optimal row count is used. */
#define CHUNK_BYTES (4u << 20)

typedef enum { DEC_LOGICAL, DEC_U8, DEC_I16, DEC_I32, DEC_I64, DEC_F32, DEC_F64, DEC_STR, DEC_SCALED } decode_kind;

typedef struct {
    const char *want;     /* requested name */
    int colnum;           /* 1-based */
    size_t offset, bytes; /* field position within a row */
    int typecode;
    decode_kind kind;
    int has_tnull;
    long long tnull;
    double scale, zero;
    pz_column *col;
} field;

int pz_fits_fail(pz_err *err, const char *path, int status, const char *what)
{
    char text[FLEN_STATUS];
    fits_get_errstatus(status, text);
    fits_clear_errmsg();
    return pz_errf(err, "%s: %s: %s (cfitsio status %d)", path, what, text, status);
}

static char *key_string(fitsfile *fp, const char *key, int n)
{
    char name[FLEN_KEYWORD], value[FLEN_VALUE];
    int status = 0;
    snprintf(name, sizeof name, "%s%d", key, n);
    if (fits_read_key(fp, TSTRING, name, value, NULL, &status)) {
        fits_clear_errmsg();
        return NULL;
    }
    return pz_xstrdup(value);
}

static double key_double(fitsfile *fp, const char *key, int n, double dflt)
{
    char name[FLEN_KEYWORD];
    double v;
    int status = 0;
    snprintf(name, sizeof name, "%s%d", key, n);
    if (fits_read_key(fp, TDOUBLE, name, &v, NULL, &status)) {
        fits_clear_errmsg();
        return dflt;
    }
    return v;
}

/* Bytes a field occupies in a row, from its TFORM. */
static size_t field_bytes(const char *tform, int typecode, long repeat, long width)
{
    if (typecode == TBIT) return (size_t)(repeat + 7) / 8;
    if (typecode == TSTRING) return (size_t)repeat;
    if (typecode < 0) return strchr(tform, 'Q') || strchr(tform, 'q') ? 16 : 8; /* heap descriptors */
    return (size_t)repeat * (size_t)width;
}

/* Choose how to decode a field and the column type it becomes. */
static int plan_field(field *f, long repeat, const char *name, const char *path, pz_coltype *type, size_t *width,
                      pz_err *err)
{
    int plain = f->scale == 1.0 && f->zero == 0.0;
    if (f->typecode == TSTRING) {
        f->kind = DEC_STR, *type = PZ_STR, *width = f->bytes ? f->bytes : 1;
        return 0;
    }
    if (repeat != 1)
        return pz_errf(err, "%s: column '%s' is a vector (repeat %ld: %ld values per row), where a scalar column is "
                            "expected; only scalar columns are supported",
                       path, name, repeat, repeat);
    *width = 0;
    switch (f->typecode) {
    case TLOGICAL: f->kind = DEC_LOGICAL, *type = PZ_BOOL; return 0;
    case TBYTE:
        if (plain) { f->kind = DEC_U8, *type = PZ_U8; return 0; }
        break;
    case TSHORT:
        if (plain) { f->kind = DEC_I16, *type = PZ_I16; return 0; }
        if (f->scale == 1.0 && f->zero == 32768.0) { f->kind = DEC_SCALED, *type = PZ_I32; return 0; }
        break;
    case TLONG:
        if (plain) { f->kind = DEC_I32, *type = PZ_I32; return 0; }
        if (f->scale == 1.0 && f->zero == 2147483648.0) { f->kind = DEC_SCALED, *type = PZ_I64; return 0; }
        break;
    case TLONGLONG:
        if (plain) { f->kind = DEC_I64, *type = PZ_I64; return 0; }
        break;
    case TFLOAT:
        if (plain) { f->kind = DEC_F32, *type = PZ_F32; return 0; }
        break;
    case TDOUBLE:
        if (plain) { f->kind = DEC_F64, *type = PZ_F64; return 0; }
        break;
    default:
        return pz_errf(err, "%s: column '%s' has an unsupported FITS type (TFORM code %d)", path, name, f->typecode);
    }
    /* general TSCAL/TZERO: a physical value, read as f64 (integer TNULL becomes NaN) */
    f->kind = DEC_SCALED, *type = PZ_F64;
    return 0;
}

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Raw stored integer of an integer field, for TNULL comparison. */
static long long raw_int(const field *f, const unsigned char *p)
{
    switch (f->typecode) {
    case TBYTE: return p[0];
    case TSHORT: return (int16_t)be16(p);
    case TLONG: return (int32_t)be32(p);
    case TLONGLONG: return (int64_t)be64(p);
    default: return 0;
    }
}

static void mark_null(pz_column *c, size_t row, size_t nrows)
{
    if (!c->null) c->null = pz_xcalloc(nrows ? nrows : 1, 1);
    c->null[row] = 1;
}

static void decode_scaled(const field *f, const unsigned char *p, size_t row, size_t nrows)
{
    pz_column *c = f->col;
    int is_int = f->typecode == TBYTE || f->typecode == TSHORT || f->typecode == TLONG || f->typecode == TLONGLONG;
    if (is_int && f->has_tnull && raw_int(f, p) == f->tnull) {
        if (c->type == PZ_F64) pz_col_set_f64(c, row, NAN);
        else mark_null(c, row, nrows);
        return;
    }
    double raw;
    if (is_int) raw = (double)raw_int(f, p);
    else if (f->typecode == TFLOAT) { uint32_t u = be32(p); float v; memcpy(&v, &u, 4); raw = v; }
    else { uint64_t u = be64(p); memcpy(&raw, &u, 8); }
    if (c->type == PZ_F64) {
        double v = raw * f->scale + f->zero;
        memcpy((char *)c->data + row * 8, &v, 8);
    } else if (c->type == PZ_I32) { /* unsigned 16-bit */
        int32_t v = (int32_t)(raw_int(f, p) + 32768);
        memcpy((char *)c->data + row * 4, &v, 4);
    } else { /* unsigned 32-bit */
        int64_t v = raw_int(f, p) + 2147483648LL;
        memcpy((char *)c->data + row * 8, &v, 8);
    }
}

static void decode_chunk(const field *f, const unsigned char *buf, size_t rowlen, size_t first, size_t n, size_t nrows)
{
    pz_column *c = f->col;
    const unsigned char *p = buf + f->offset;
    char *out = (char *)c->data + first * c->width;
    for (size_t i = 0; i < n; i++, p += rowlen) {
        size_t row = first + i;
        switch (f->kind) {
        case DEC_LOGICAL:
            out[i] = p[0] == 'T';
            if (p[0] != 'T' && p[0] != 'F') mark_null(c, row, nrows);
            break;
        case DEC_U8:
            out[i] = (char)p[0];
            if (f->has_tnull && p[0] == f->tnull) mark_null(c, row, nrows);
            break;
        case DEC_I16: {
            uint16_t u = be16(p);
            memcpy(out + 2 * i, &u, 2);
            if (f->has_tnull && (int16_t)u == f->tnull) mark_null(c, row, nrows);
            break;
        }
        case DEC_I32: case DEC_F32: {
            uint32_t u = be32(p);
            memcpy(out + 4 * i, &u, 4);
            if (f->kind == DEC_I32 && f->has_tnull && (int32_t)u == f->tnull) mark_null(c, row, nrows);
            break;
        }
        case DEC_I64: case DEC_F64: {
            uint64_t u = be64(p);
            memcpy(out + 8 * i, &u, 8);
            if (f->kind == DEC_I64 && f->has_tnull && (int64_t)u == f->tnull) mark_null(c, row, nrows);
            break;
        }
        case DEC_STR: memcpy(out + c->width * i, p, f->bytes); break;
        case DEC_SCALED: decode_scaled(f, p, row, nrows); break;
        }
    }
}

/* Column number for a requested name: a unique exact match, else a unique case-insensitive
 * match; 0 when absent, -1 when ambiguous, -2 when several columns have exactly this name
 * (reading either would be a silent choice). */
static int find_column(char *const *ttype, int ncols, const char *want)
{
    int found = 0;
    for (int j = 0; j < ncols; j++)
        if (ttype[j] && strcmp(ttype[j], want) == 0) {
            if (found) return -2;
            found = j + 1;
        }
    if (found) return found;
    for (int j = 0; j < ncols; j++) {
        if (ttype[j] && strcasecmp(ttype[j], want) == 0) {
            if (found) return -1;
            found = j + 1;
        }
    }
    return found;
}

typedef struct {
    fitsfile *fp;
    const char *path;
    int ncols;
    long long nrows;
    long rowlen;
    char **ttype, **tform;
    size_t *offset, *bytes;
    int *typecode;
    long *repeat;
} header;

static void header_free(header *h)
{
    for (int j = 0; j < h->ncols; j++) {
        free(h->ttype[j]);
        free(h->tform[j]);
    }
    free(h->ttype);
    free(h->tform);
    free(h->offset);
    free(h->bytes);
    free(h->typecode);
    free(h->repeat);
}

/* Read the table's shape and every field's position; check the file holds all rows. */
static int read_header(header *h, pz_err *err)
{
    int status = 0;
    if (fits_get_num_rowsll(h->fp, &h->nrows, &status) || fits_get_num_cols(h->fp, &h->ncols, &status) ||
        fits_read_key(h->fp, TLONG, "NAXIS1", &h->rowlen, NULL, &status))
        return pz_fits_fail(err, h->path, status, "reading the table header");
    h->ttype = pz_xcalloc(h->ncols + 1, sizeof *h->ttype);
    h->tform = pz_xcalloc(h->ncols + 1, sizeof *h->tform);
    h->offset = pz_xcalloc(h->ncols + 1, sizeof *h->offset);
    h->bytes = pz_xcalloc(h->ncols + 1, sizeof *h->bytes);
    h->typecode = pz_xcalloc(h->ncols + 1, sizeof *h->typecode);
    h->repeat = pz_xcalloc(h->ncols + 1, sizeof *h->repeat);
    /* One pass over the header for all names and forms: per-key lookups would rescan the
     * ~3000 header cards of COSMOS2020 for each of its 754 columns. */
    char **names = pz_xcalloc(h->ncols + 1, sizeof *names), **forms = pz_xcalloc(h->ncols + 1, sizeof *forms);
    for (int j = 0; j < h->ncols; j++) names[j] = pz_xcalloc(FLEN_VALUE, 1), forms[j] = pz_xcalloc(FLEN_VALUE, 1);
    LONGLONG rows;
    int tfields;
    LONGLONG pcount;
    char extname[FLEN_VALUE];
    fits_read_btblhdrll(h->fp, h->ncols, &rows, &tfields, names, forms, NULL, extname, &pcount, &status);
    for (int j = 0; j < h->ncols; j++) {
        if (status || !names[j][0]) free(names[j]), names[j] = NULL;
        else pz_fits_text_decode(names[j]);
        if (status || !forms[j][0]) free(forms[j]), forms[j] = NULL;
        h->ttype[j] = names[j], h->tform[j] = forms[j];
    }
    free(names);
    free(forms);
    if (status) return pz_fits_fail(err, h->path, status, "reading the table header");
    size_t pos = 0;
    for (int j = 0; j < h->ncols; j++) {
        long width;
        if (!h->tform[j] || fits_binary_tform(h->tform[j], &h->typecode[j], &h->repeat[j], &width, &status))
            return pz_errf(err, "%s: column %d ('%s') has a missing or invalid TFORM%d", h->path, j + 1,
                           h->ttype[j] ? h->ttype[j] : "?", j + 1);
        h->offset[j] = pos;
        h->bytes[j] = field_bytes(h->tform[j], h->typecode[j], h->repeat[j], width);
        pos += h->bytes[j];
    }
    if ((long)pos != h->rowlen)
        return pz_errf(err, "%s: TFORM widths add up to %zu bytes but NAXIS1 is %ld", h->path, pos, h->rowlen);
    LONGLONG headstart, datastart, dataend;
    struct stat st;
    if (fits_get_hduaddrll(h->fp, &headstart, &datastart, &dataend, &status))
        return pz_fits_fail(err, h->path, status, "locating the table data");
    long long need = datastart + (long long)h->rowlen * h->nrows;
    if (stat(h->path, &st) == 0 && st.st_size < need)
        return pz_errf(err, "%s: truncated: the table needs %lld bytes, the file has %lld", h->path, need,
                       (long long)st.st_size);
    return 0;
}

/* Two or more columns named exactly `name`: "columns 2 and 4 are both named 'ID'". */
static int same_name(const header *h, const char *name, pz_err *err)
{
    int first = 0, second = 0;
    for (int j = 0; j < h->ncols && !second; j++)
        if (h->ttype[j] && strcmp(h->ttype[j], name) == 0) *(first ? &second : &first) = j + 1;
    return pz_errf(err, "%s: columns %d and %d are both named '%s' (TTYPE%d, TTYPE%d); pzflow will not choose one "
                        "silently: rename one of them",
                   h->path, first, second, name, first, second);
}

/* A listing of a table with two columns of one name would let the caller pick either. */
static int check_unique_names(const header *h, pz_err *err)
{
    for (int j = 0; j < h->ncols; j++)
        if (h->ttype[j] && find_column(h->ttype, h->ncols, h->ttype[j]) == -2) return same_name(h, h->ttype[j], err);
    return 0;
}

/* Match requested names to columns, listing every missing or ambiguous one in one error, each
 * with the file's nearest name. */
static int match_fields(const header *h, const char *const *columns, size_t n, field *fields, pz_err *err)
{
    char missing[PZ_ERR_MAX / 2] = "";
    size_t len = 0, nbad = 0;
    const char **names = pz_xcalloc((size_t)h->ncols + 1, sizeof *names);
    for (int j = 0; j < h->ncols; j++) names[j] = h->ttype[j] ? h->ttype[j] : "";
    for (size_t k = 0; k < n; k++) {
        int c = find_column(h->ttype, h->ncols, columns[k]);
        fields[k].want = columns[k];
        fields[k].colnum = c;
        if (c > 0) continue;
        nbad++;
        if (c == -2) {
            free(names);
            return same_name(h, columns[k], err);
        }
        pz_describe_missing(missing, sizeof missing, &len, columns[k], names, (size_t)h->ncols, c < 0);
    }
    free(names);
    if (nbad)
        return pz_errf(err, "%s: missing %zu column%s: %s", h->path, nbad, nbad > 1 ? "s" : "", missing);
    return 0;
}

static int setup_fields(const header *h, field *fields, size_t n, pz_table *t, pz_err *err)
{
    for (size_t k = 0; k < n; k++) {
        field *f = &fields[k];
        int j = f->colnum - 1;
        f->offset = h->offset[j];
        f->bytes = h->bytes[j];
        f->typecode = h->typecode[j];
        f->scale = key_double(h->fp, "TSCAL", j + 1, 1.0);
        f->zero = key_double(h->fp, "TZERO", j + 1, 0.0);
        char name[FLEN_KEYWORD];
        int status = 0;
        snprintf(name, sizeof name, "TNULL%d", j + 1);
        f->has_tnull = fits_read_key(h->fp, TLONGLONG, name, &f->tnull, NULL, &status) == 0;
        if (!f->has_tnull) fits_clear_errmsg();
        pz_coltype type = PZ_F64;
        size_t width = 0;
        if (plan_field(f, h->repeat[j], h->ttype[j], h->path, &type, &width, err) < 0) return -1;
        /* the table uses the file's spelling of the name */
        f->col = pz_table_add(t, h->ttype[j], type, width);
        if (f->has_tnull && (f->kind == DEC_U8 || f->kind == DEC_I16 || f->kind == DEC_I32 || f->kind == DEC_I64))
            f->col->has_null_value = 1, f->col->null_value = f->tnull;
        char *unit = key_string(h->fp, "TUNIT", j + 1);
        if (unit) pz_fits_text_decode(unit);
        if (unit && unit[0]) f->col->unit = unit;
        else free(unit);
    }
    /* Adding columns may have moved earlier ones (tables over PZ_TABLE_COL_BLOCK columns). */
    for (size_t k = 0; k < n; k++) fields[k].col = pz_table_col(t, h->ttype[fields[k].colnum - 1]);
    return 0;
}

/* File rows [start, start + count) into table rows [0, count). */
static int read_rows(const header *h, field *fields, size_t n, size_t start, size_t count, pz_err *err)
{
    long optimal = 1;
    int status = 0;
    fits_get_rowsize(h->fp, &optimal, &status);
    size_t rowlen = (size_t)h->rowlen, chunk = rowlen ? CHUNK_BYTES / rowlen : 1;
    if (chunk < (size_t)optimal) chunk = (size_t)optimal;
    if (chunk < 1) chunk = 1;
    unsigned char *buf = pz_xmalloc(chunk * rowlen + 1);
    int rc = 0;
    for (size_t first = 0; first < count && rc == 0; first += chunk) {
        size_t m = count - first < chunk ? count - first : chunk;
        status = 0;
        if (fits_read_tblbytes(h->fp, (LONGLONG)(start + first) + 1, 1, (LONGLONG)(m * rowlen), buf, &status)) {
            char what[64];
            snprintf(what, sizeof what, "reading rows %zu..%zu", start + first + 1, start + first + m);
            rc = pz_fits_fail(err, h->path, status, what);
            break;
        }
        for (size_t k = 0; k < n; k++) decode_chunk(&fields[k], buf, rowlen, first, m, count);
    }
    free(buf);
    return rc;
}

/* --- header pre-check ----------------------------------------------------------------------
 * cfitsio 4.2 (Debian 12) has two bugs that a corrupt header reaches, both found by fuzz_fits:
 *  - a malformed mandatory integer (a stray byte in NAXIS2's value) leaves a size uninitialised
 *    and cfitsio allocates that many bytes (tests/fuzz/fits/crash-naxis2-garbage.fits; valgrind:
 *    "conditional jump depends on uninitialised value" in ffgext);
 *  - an unquoted 70-character TTYPEn value overflows a 70-byte buffer in ffgtbp, and the
 *    fortified strcpy aborts the process (tests/fuzz/fits/crash-ttype-unquoted.fits).
 * So before cfitsio sees a file, every header up to the table's is checked: printable ASCII
 * only (as the standard requires), structural keywords hold plain integers, column-description
 * keywords hold quoted strings. The same walk tells a truncated file from a corrupt one. */

#define FITS_BLOCK 2880
#define FITS_CARD 80

/* BITPIX, NAXIS, NAXISn, PCOUNT, GCOUNT, TFIELDS: the keywords cfitsio sizes things by. */
static int structural_keyword(const char *card)
{
    static const char *const fixed[] = {"BITPIX  ", "NAXIS   ", "PCOUNT  ", "GCOUNT  ", "TFIELDS ", NULL};
    for (int i = 0; fixed[i]; i++)
        if (memcmp(card, fixed[i], 8) == 0) return 1;
    if (memcmp(card, "NAXIS", 5) != 0 || card[5] < '1' || card[5] > '9') return 0;
    for (int i = 6; i < 8; i++)
        if (card[i] != ' ' && (card[i] < '0' || card[i] > '9')) return 0;
    return 1;
}

/* TTYPEn, TFORMn, TUNITn, TDISPn, TDIMn: string values cfitsio copies into fixed buffers. */
static int string_keyword(const char *card)
{
    static const char *const prefixes[] = {"TTYPE", "TFORM", "TUNIT", "TDISP", "TDIM", NULL};
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (memcmp(card, prefixes[i], n) == 0 && card[n] >= '1' && card[n] <= '9') return 1;
    }
    return 0;
}

static int card_quoted(const char *card)
{
    if (card[8] != '=') return 1; /* not a value card (cfitsio ignores it as a column keyword) */
    int i = 9;
    while (i < FITS_CARD && card[i] == ' ') i++;
    return i < FITS_CARD && card[i] == '\'';
}

static int card_printable(const char *card)
{
    for (int i = 0; i < FITS_CARD; i++)
        if (card[i] < 0x20 || card[i] > 0x7e) return 0;
    return 1;
}

/* The value of a fixed-format integer card: "KEYWORD = <spaces>[+-]digits<spaces>[/ comment]". */
static int card_int(const char *card, long long *v)
{
    if (card[8] != '=' || card[9] != ' ') return -1;
    int i = 10, neg = 0, digits = 0;
    while (i < FITS_CARD && card[i] == ' ') i++;
    if (i < FITS_CARD && (card[i] == '+' || card[i] == '-')) neg = card[i++] == '-';
    long long x = 0;
    for (; i < FITS_CARD && card[i] >= '0' && card[i] <= '9'; i++, digits++) {
        if (digits == 18) return -1; /* keeps x and the size products below far from overflow */
        x = 10 * x + (card[i] - '0');
    }
    while (i < FITS_CARD && card[i] == ' ') i++;
    if (!digits || (i < FITS_CARD && card[i] != '/')) return -1;
    *v = neg ? -x : x;
    return 0;
}

typedef struct {
    long long bitpix, naxis, pcount, gcount, axes; /* axes: product of NAXISn, NAXIS1 = 0 left out */
    int axis1_zero, groups;                        /* NAXIS1 = 0 with GROUPS = T: random groups */
} hdu_size;

static void note_card(hdu_size *z, const char *card, long long v)
{
    if (!memcmp(card, "BITPIX  ", 8)) z->bitpix = v;
    else if (!memcmp(card, "NAXIS   ", 8)) z->naxis = v;
    else if (!memcmp(card, "PCOUNT  ", 8)) z->pcount = v;
    else if (!memcmp(card, "GCOUNT  ", 8)) z->gcount = v;
    else if (memcmp(card, "NAXIS", 5) != 0) return; /* TFIELDS: checked, not needed for the size */
    else if (!memcmp(card, "NAXIS1  ", 8) && v == 0) z->axis1_zero = 1;
    else if (v < 0 || z->axes < 0 || z->axes > (1LL << 62) / (v ? v : 1)) z->axes = -1;
    else z->axes *= v;
}

/* Bytes of data after a header (unpadded); -1 if the sizes make no sense. */
static long long data_bytes(const hdu_size *z)
{
    if (z->naxis == 0 || (z->axis1_zero && !z->groups)) return 0;
    long long bytes_per = (z->bitpix < 0 ? -z->bitpix : z->bitpix) / 8;
    if (z->axes < 0 || z->pcount < 0 || z->gcount < 0 || z->gcount > (1LL << 31) || z->naxis > 999 ||
        bytes_per > 8 || z->axes > (1LL << 50) || z->pcount > (1LL << 50))
        return -1;
    return bytes_per * z->gcount * (z->pcount + z->axes);
}

/* What a header walk saw of each HDU, for choosing one by name and listing them in errors. */
typedef struct {
    char xtension[FLEN_VALUE]; /* "" for the primary HDU */
    char extname[FLEN_VALUE];
    long long naxis, naxis2;
} hdu_entry;

typedef struct {
    hdu_entry *e;
    int n;
} hdu_list;

/* The string value of a card, quotes removed ('' is a quote), trailing blanks dropped. */
static void card_string(const char *card, char *out)
{
    int i = 10, k = 0;
    while (i < FITS_CARD && card[i] == ' ') i++;
    if (i < FITS_CARD && card[i] == '\'') {
        for (i++; i < FITS_CARD && k < FLEN_VALUE - 1; i++) {
            if (card[i] == '\'' && (i + 1 >= FITS_CARD || card[i + 1] != '\'')) break;
            if (card[i] == '\'') i++;
            out[k++] = card[i];
        }
    }
    while (k > 0 && out[k - 1] == ' ') k--;
    out[k] = 0;
}

static void note_hdu_card(hdu_list *list, const char *card, long long v)
{
    hdu_entry *e = &list->e[list->n - 1];
    if (!memcmp(card, "XTENSION= ", 10)) card_string(card, e->xtension);
    else if (!memcmp(card, "EXTNAME = ", 10)) card_string(card, e->extname);
    else if (!memcmp(card, "NAXIS2  ", 8)) e->naxis2 = v;
    else if (!memcmp(card, "NAXIS   ", 8)) e->naxis = v;
}

/* 0 when every header up to HDU `hdu` has well-formed structural keywords (or the file ends
 * first, which cfitsio reports better); -1 with an error naming the HDU and keyword. With a
 * `list`, each HDU walked is recorded there. */
static int check_headers(const char *path, int hdu, hdu_list *list, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char block[FITS_BLOCK];
    int rc = 0;
    for (int h = 0; h <= hdu && rc == 0; h++) {
        hdu_size z = {.bitpix = 8, .gcount = 1, .axes = 1};
        int end = 0, ncards = 0;
        if (list) {
            list->e = pz_xrealloc(list->e, (size_t)(h + 1) * sizeof *list->e);
            memset(&list->e[h], 0, sizeof list->e[h]);
            list->n = h + 1;
        }
        while (!end && rc == 0) {
            size_t got = fread(block, 1, FITS_BLOCK, f);
            if (got != FITS_BLOCK) {
                /* No HDU h at all, or a primary header cut short: cfitsio's messages say it. */
                if (h > 0 && (ncards > 0 || got > 0))
                    rc = pz_errf(err, "%s: truncated: the file ends inside the header of HDU %d", path, h);
                if (list) list->n = h; /* HDU h is not there */
                goto done;
            }
            for (int c = 0; c < FITS_BLOCK / FITS_CARD && !end && rc == 0; c++) {
                const char *card = block + c * FITS_CARD;
                long long v = 0;
                ncards++;
                if (!card_printable(card))
                    rc = pz_errf(err, "%s: HDU %d: header card %d holds non-ASCII bytes (corrupt file?)", path, h,
                                 ncards);
                else if (memcmp(card, "END     ", 8) == 0) end = 1;
                else if (memcmp(card, "GROUPS  = ", 10) == 0) z.groups = card[29] == 'T';
                else if (structural_keyword(card) && card_int(card, &v) < 0)
                    rc = pz_errf(err, "%s: HDU %d: header keyword %.8s does not hold a plain integer (corrupt file?)",
                                 path, h, card);
                else if (string_keyword(card) && !card_quoted(card))
                    rc = pz_errf(err, "%s: HDU %d: header keyword %.8s does not hold a quoted string (corrupt file?)",
                                 path, h, card);
                else if (structural_keyword(card)) note_card(&z, card, v);
                if (list && rc == 0) note_hdu_card(list, card, v);
            }
        }
        long long size = rc == 0 ? data_bytes(&z) : 0, at = ftello(f);
        struct stat st;
        if (rc == 0 && size < 0)
            rc = pz_errf(err, "%s: HDU %d: impossible data size in the header (corrupt file?)", path, h);
        else if (rc == 0 && h == hdu && fstat(fileno(f), &st) == 0 && st.st_size - at < size)
            rc = pz_errf(err, "%s: truncated: the table needs %lld bytes, the file has %lld", path, at + size,
                         (long long)st.st_size); /* read_header's wording */
        else if (rc == 0 && h < hdu && fseeko(f, (size + FITS_BLOCK - 1) / FITS_BLOCK * FITS_BLOCK, SEEK_CUR) != 0)
            goto done;
    }
done:
    fclose(f);
    return rc;
}

static int open_table(const char *path, int hdu, fitsfile **fp, pz_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return pz_errf(err, "%s: %s", path, strerror(errno));
    if (check_headers(path, hdu, NULL, err) < 0) return -1;
    int status = 0, type = 0;
    /* diskfile: the name is a plain path, no cfitsio extended syntax ("file.fits[1]") */
    if (fits_open_diskfile(fp, path, READONLY, &status)) {
        *fp = NULL;
        return pz_fits_fail(err, path, status, "not a FITS file or truncated");
    }
    if (fits_movabs_hdu(*fp, hdu + 1, &type, &status))
        return pz_fits_fail(err, path, status, hdu == 1 ? "no table extension (HDU 1)" : "no such HDU");
    if (type != BINARY_TBL) return pz_errf(err, "%s: HDU %d is not a binary table", path, hdu);
    return 0;
}

/* --- choosing an HDU ----------------------------------------------------------------------- */

static int is_table_hdu(const hdu_entry *e)
{
    return !strcmp(e->xtension, "BINTABLE") || !strcmp(e->xtension, "TABLE");
}

/* "HDU 1 BINTABLE 'PHOT' 100 rows, HDU 2 IMAGE": what a user can choose from. */
static void describe_hdus(const hdu_list *l, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < l->n && len < size - 1; i++) {
        const hdu_entry *e = &l->e[i];
        len += (size_t)snprintf(buf + len, size - len, "%sHDU %d %s", i ? ", " : "", i,
                                i == 0 ? "primary" : e->xtension[0] ? e->xtension : "?");
        if (len < size - 1 && e->extname[0]) len += (size_t)snprintf(buf + len, size - len, " '%s'", e->extname);
        if (len < size - 1 && is_table_hdu(e))
            len += (size_t)snprintf(buf + len, size - len, " %lld rows", e->naxis >= 2 ? e->naxis2 : 0);
    }
    if (len >= size - 1 && size > 4) memcpy(buf + size - 4, "...", 4);
}

static int hdu_error(const char *path, const hdu_list *l, pz_err *err, const char *fmt, const char *what)
{
    char have[PZ_ERR_MAX / 2], msg[PZ_ERR_MAX / 4];
    describe_hdus(l, have, sizeof have);
    snprintf(msg, sizeof msg, fmt, what);
    return pz_errf(err, "%s: %s; the file has %s", path, msg, have);
}

/* The HDU number `loc` names: digits are a number, anything else an EXTNAME (any case);
 * NULL is the first table. */
static int resolve_hdu(const char *path, const char *loc, int *hdu, pz_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return pz_errf(err, "%s: %s", path, strerror(errno));
    hdu_list l = {0};
    if (check_headers(path, INT_MAX, &l, err) < 0) {
        free(l.e);
        return -1;
    }
    int rc = 0, found = -1;
    char *end = NULL;
    long num = loc ? strtol(loc, &end, 10) : 0;
    if (!loc) {
        for (int i = 1; i < l.n && found < 0; i++)
            if (is_table_hdu(&l.e[i])) found = i;
        if (found < 0) rc = hdu_error(path, &l, err, "no table HDU%s", "");
    } else if (end != loc && !*end) {
        if (num < 1 || num >= l.n)
            rc = hdu_error(path, &l, err, num == 0 ? "HDU 0 is the primary HDU, not a table%s" : "no HDU %s", loc);
        else if (!is_table_hdu(&l.e[num])) rc = hdu_error(path, &l, err, "HDU %s is not a table", loc);
        else found = (int)num;
    } else {
        for (int i = 1; i < l.n && rc == 0; i++) {
            if (strcasecmp(l.e[i].extname, loc) != 0) continue;
            if (found >= 0) rc = hdu_error(path, &l, err, "several HDUs are named '%s' (choose one by number)", loc);
            found = i;
        }
        if (rc == 0 && found < 0) rc = hdu_error(path, &l, err, "no HDU named '%s'", loc);
        else if (rc == 0 && !is_table_hdu(&l.e[found])) rc = hdu_error(path, &l, err, "HDU '%s' is not a table", loc);
    }
    free(l.e);
    if (rc == 0) *hdu = found;
    return rc;
}

/* --- attributes and descriptions ------------------------------------------------------------ */

/* Keywords the table's structure or its columns own; everything else is an attribute. */
static int structure_keyword(const char *name)
{
    static const char *const fixed[] = {"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "TFIELDS",
                                        "EXTEND", "COMMENT", "HISTORY", "CONTINUE", "LONGSTRN", "", "END", NULL};
    for (int i = 0; fixed[i]; i++)
        if (!strcmp(name, fixed[i])) return 1;
    if (!strncmp(name, "NAXIS", 5)) return 1;
    /* column keywords: T + letters + column number (TTYPE3, TCOMM12, TNULL1, TLMIN2) */
    size_t i = 1;
    if (name[0] != 'T') return 0;
    while (name[i] >= 'A' && name[i] <= 'Z') i++;
    if (i == 1 || !name[i]) return 0;
    while (name[i] >= '0' && name[i] <= '9') i++;
    return !name[i];
}

/* The header's own keywords become table attributes; string values in full (long-string
 * CONTINUE cards joined). */
static int read_attrs(fitsfile *fp, const char *path, pz_table *t, pz_err *err)
{
    int nkeys = 0, status = 0;
    if (fits_get_hdrspace(fp, &nkeys, NULL, &status)) return pz_fits_fail(err, path, status, "reading the header");
    for (int i = 1; i <= nkeys; i++) {
        char name[FLEN_KEYWORD + 80], value[FLEN_VALUE], comment[FLEN_COMMENT];
        if (fits_read_keyn(fp, i, name, value, comment, &status))
            return pz_fits_fail(err, path, status, "reading the header");
        if (structure_keyword(name) || !value[0]) continue;
        if (value[0] == '\'') {
            char *full = NULL;
            if (fits_read_key_longstr(fp, name, &full, NULL, &status))
                return pz_fits_fail(err, path, status, "reading a long string keyword");
            char *text = pz_xstrdup(full);
            fits_free_memory(full, &status);
            pz_fits_text_decode(text);
            pz_fits_text_decode(name);
            pz_table_set_attr(t, name, text);
            free(text);
        } else {
            pz_fits_text_decode(name);
            pz_table_set_attr(t, name, value);
        }
    }
    return 0;
}

/* --- the open table ------------------------------------------------------------------------- */

struct pz_fits_reader {
    header h;
    field *fields;
    size_t n;
    pz_table *proto; /* the columns (types, units, descriptions) and attributes, no rows */
};

void pz_fits_reader_close(pz_fits_reader *r)
{
    if (!r) return;
    int status = 0;
    if (r->h.fp) fits_close_file(r->h.fp, &status);
    fits_clear_errmsg();
    header_free(&r->h);
    free(r->fields);
    pz_table_free(r->proto);
    free((char *)r->h.path);
    free(r);
}

/* TCOMMn, in full when it runs over CONTINUE cards. */
static void read_descriptions(pz_fits_reader *r)
{
    for (size_t k = 0; k < r->n; k++) {
        char key[FLEN_KEYWORD], *desc = NULL;
        int status = 0;
        snprintf(key, sizeof key, "TCOMM%d", r->fields[k].colnum);
        if (fits_read_key_longstr(r->h.fp, key, &desc, NULL, &status) == 0 && desc[0]) {
            r->fields[k].col->desc = pz_xstrdup(desc);
            pz_fits_text_decode(r->fields[k].col->desc);
        }
        if (desc) fits_free_memory(desc, &status);
        fits_clear_errmsg();
    }
}

static pz_fits_reader *open_reader(const char *path, int hdu, const char *const *columns, size_t ncolumns,
                                   pz_err *err)
{
    pz_fits_reader *r = pz_xcalloc(1, sizeof *r);
    r->h.path = pz_xstrdup(path);
    pz_crash_note_reading(path, "cfitsio");
    int rc = open_table(path, hdu, &r->h.fp, err);
    if (rc == 0) rc = read_header(&r->h, err);
    if (rc == 0 && !columns) { /* NULL = every column */
        columns = (const char *const *)r->h.ttype, ncolumns = (size_t)r->h.ncols;
        for (int j = 0; j < r->h.ncols && rc == 0; j++)
            if (!r->h.ttype[j]) rc = pz_errf(err, "%s: HDU %d: column %d has no name (TTYPE%d)", path, hdu, j + 1, j + 1);
    }
    r->n = ncolumns;
    r->fields = pz_xcalloc(ncolumns + 1, sizeof *r->fields);
    r->proto = pz_table_new(0);
    if (rc == 0) rc = match_fields(&r->h, columns, ncolumns, r->fields, err);
    if (rc == 0) rc = setup_fields(&r->h, r->fields, ncolumns, r->proto, err);
    if (rc == 0) read_descriptions(r);
    if (rc == 0) rc = read_attrs(r->h.fp, path, r->proto, err);
    pz_crash_note_done();
    if (rc < 0) {
        pz_fits_reader_close(r);
        return NULL;
    }
    return r;
}

pz_fits_reader *pz_fits_reader_open(const char *path, const char *loc, const char *const *columns, size_t ncolumns,
                                    pz_err *err)
{
    int hdu;
    if (resolve_hdu(path, loc, &hdu, err) < 0) return NULL;
    return open_reader(path, hdu, columns, ncolumns, err);
}

long pz_fits_reader_nrows(const pz_fits_reader *r) { return (long)r->h.nrows; }

int pz_fits_reader_read(pz_fits_reader *r, size_t start, size_t count, pz_table **out, pz_err *err)
{
    size_t nrows = (size_t)r->h.nrows;
    if (start > nrows) start = nrows;
    if (count > nrows - start) count = nrows - start;
    pz_table *t = pz_table_take(r->proto, NULL, 0);
    t->nrows = count;
    for (size_t j = 0; j < t->ncols; j++) { /* take gave 0-row columns: size them */
        pz_column *c = &t->cols[j];
        free(c->data);
        free(c->null);
        c->null = NULL;
        c->data = pz_xcalloc(count ? count : 1, c->width);
    }
    for (size_t k = 0; k < r->n; k++) r->fields[k].col = pz_table_col(t, r->proto->cols[k].name);
    pz_crash_note_reading(r->h.path, "cfitsio");
    int rc = read_rows(&r->h, r->fields, r->n, start, count, err);
    pz_crash_note_done();
    if (rc < 0) {
        pz_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

static int read_once(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                     size_t count, pz_table **out, pz_err *err)
{
    pz_fits_reader *r = open_reader(path, hdu, columns, ncolumns, err);
    if (!r) return -1;
    int rc = pz_fits_reader_read(r, start, count, out, err);
    pz_fits_reader_close(r);
    return rc;
}

int pz_fits_read_at(const char *path, const char *loc, const char *const *columns, size_t ncolumns, size_t start,
                    size_t count, pz_table **out, pz_err *err)
{
    int hdu;
    if (resolve_hdu(path, loc, &hdu, err) < 0) return -1;
    return read_once(path, hdu, columns, ncolumns, start, count, out, err);
}

int pz_table_read_fits(const char *path, int hdu, const char *const *columns, size_t ncolumns, pz_table **out,
                       pz_err *err)
{
    return read_once(path, hdu, columns, ncolumns, 0, (size_t)-1, out, err);
}

int pz_table_read_fits_rows(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                            size_t count, pz_table **out, pz_err *err)
{
    return read_once(path, hdu, columns, ncolumns, start, count, out, err);
}

int pz_fits_info_at(const char *path, const char *loc, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    int hdu;
    if (resolve_hdu(path, loc, &hdu, err) < 0) return -1;
    return pz_table_info_fits(path, hdu, cols, ncols, nrows, err);
}

int pz_table_info_fits(const char *path, int hdu, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    header h = {0};
    h.path = path;
    pz_crash_note_reading(path, "cfitsio");
    int status = 0, rc = open_table(path, hdu, &h.fp, err);
    if (rc == 0) rc = read_header(&h, err);
    if (rc == 0) rc = check_unique_names(&h, err);
    if (rc == 0) {
        pz_colinfo *info = pz_xcalloc(h.ncols + 1, sizeof *info);
        size_t n = 0;
        for (int j = 0; j < h.ncols; j++) {
            if (!h.ttype[j]) continue;
            field f = {.bytes = h.bytes[j], .typecode = h.typecode[j]};
            f.scale = key_double(h.fp, "TSCAL", j + 1, 1.0);
            f.zero = key_double(h.fp, "TZERO", j + 1, 0.0);
            pz_coltype type = PZ_F64;
            size_t width = 0;
            pz_err ignore;
            /* A vector is listed with its element type: a schema that needs the column then reads
             * it, and the read says it is a vector, instead of the column looking absent. */
            if (plan_field(&f, h.repeat[j] > 1 ? 1 : h.repeat[j], h.ttype[j], path, &type, &width, &ignore) < 0)
                continue; /* unreadable (bit, complex, variable-length) */
            info[n].name = pz_xstrdup(h.ttype[j]);
            info[n].type = type;
            info[n].width = type == PZ_STR ? width : pz_coltype_size(type);
            n++;
        }
        *cols = info, *ncols = n, *nrows = (long)h.nrows;
    }
    if (h.fp) fits_close_file(h.fp, &status);
    fits_clear_errmsg();
    pz_crash_note_done();
    header_free(&h);
    return rc;
}

void pz_colinfo_free(pz_colinfo *cols, size_t ncols)
{
    if (!cols) return;
    for (size_t i = 0; i < ncols; i++) free(cols[i].name);
    free(cols);
}
