/* The one FITS table writer: a BINTABLE in extension 1 after an empty primary HDU, as astropy,
 * TOPCAT and cfitsio expect. Columns carry TUNITn (unit), TCOMMn (description) and, for
 * integers, TNULLn (the stored value of a missing row); table attributes become header
 * keywords, long values through the CONTINUE long-string convention, names longer than 8
 * characters through HIERARCH (cfitsio upper-cases every keyword). Header text outside
 * printable ASCII goes in escaped (pz_fits_text_encode), as a FITS header can hold no other. TNULLn is written for an
 * integer column whose prototype has a null mask or a null_value. An attribute EXTNAME names the
 * HDU. No DATE or CHECKSUM card: the same table gives the same bytes.
 *
 * Rows are packed big-endian into a buffer and written with one fits_write_tblbytes per
 * chunk; cfitsio extends NAXIS2 as rows arrive, so a streamed table and a one-shot one are
 * the same file. */
#include "table/backends.h"

#include <endian.h>
#include <errno.h>
#include <fitsio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct pz_fits_writer {
    fitsfile *fp;
    char *path;
    size_t ncols, rowlen;
    size_t *offset;       /* of each field in a row */
    int64_t *tnull;       /* per column: the missing value of an integer column */
    int *has_tnull;
    long long nrows;
    unsigned char *buf;
    size_t bufrows;
};

static size_t field_width(const pz_column *c)
{
    return c->type == PZ_STR ? (c->width ? c->width : 1) : pz_coltype_size(c->type);
}

static void tform_of(const pz_column *c, char *out, size_t size)
{
    static const char code[] = {[PZ_F64] = 'D', [PZ_F32] = 'E', [PZ_I64] = 'K', [PZ_I32] = 'J',
                                [PZ_I16] = 'I', [PZ_U8] = 'B',  [PZ_BOOL] = 'L'};
    if (c->type == PZ_STR) snprintf(out, size, "%zuA", field_width(c));
    else snprintf(out, size, "%c", code[c->type]);
}

static int is_int(pz_coltype t) { return t == PZ_I64 || t == PZ_I32 || t == PZ_I16 || t == PZ_U8; }

/* The default null value, as the HDF5 writer's. */
static int64_t type_min(pz_coltype t)
{
    switch (t) {
    case PZ_I64: return INT64_MIN;
    case PZ_I32: return INT32_MIN;
    case PZ_I16: return INT16_MIN;
    default: return 255;
    }
}

/* A standard keyword once upper-cased: 1-8 of A-Z 0-9 _ -. */
static int standard_keyword(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 8) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') ||
              k[i] == '_' || k[i] == '-'))
            return 0;
    return 1;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int starts_escape(const char *s) { return s[0] == '\\' && s[1] == 'x' && is_hex(s[2]) && is_hex(s[3]); }

char *pz_fits_text_encode(const char *s)
{
    char *out = pz_xmalloc(4 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e || starts_escape(s)) o += sprintf(o, "\\x%02x", c);
        else *o++ = (char)c;
    }
    *o = 0;
    return out;
}

void pz_fits_text_decode(char *s)
{
    char *o = s;
    for (; *s; o++) {
        if (starts_escape(s)) {
            *o = (char)strtol((char[3]){s[2], s[3], 0}, NULL, 16);
            s += 4;
        } else {
            *o = *s++;
        }
    }
    *o = 0;
}

/* Keywords the writer owns; an attribute of that name would corrupt the header. */
static int reserved_keyword(const char *k)
{
    static const char *const fixed[] = {"SIMPLE", "XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "TFIELDS", "EXTEND",
                                        "END", "COMMENT", "HISTORY", "CONTINUE", "LONGSTRN", NULL};
    for (int i = 0; fixed[i]; i++)
        if (!strcasecmp(k, fixed[i])) return 1;
    if (!strncasecmp(k, "NAXIS", 5)) return 1;
    size_t i = 1;
    if (k[0] != 'T' && k[0] != 't') return 0;
    while ((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= 'a' && k[i] <= 'z')) i++;
    if (i == 1 || !k[i]) return 0;
    while (k[i] >= '0' && k[i] <= '9') i++;
    return !k[i];
}

static int write_attrs(pz_fits_writer *w, const pz_table *proto, pz_err *err)
{
    int status = 0;
    for (size_t i = 0; i < proto->nattrs; i++) {
        const char *k = proto->attr_keys[i], *v = proto->attr_vals[i];
        if (!strcasecmp(k, "EXTNAME")) continue; /* written by fits_create_tbl */
        /* an input file's checksums (a FITS catalogue's attributes carried by ingest) would be
         * wrong for this file */
        if (!strcasecmp(k, "CHECKSUM") || !strcasecmp(k, "DATASUM")) continue;
        if (reserved_keyword(k))
            return pz_errf(err, "%s: attribute '%s' is a FITS structure keyword; rename it", w->path, k);
        /* cfitsio upper-cases every keyword (readers find them in any case, pz_table_attr);
         * a name longer than 8 or with other characters goes into a HIERARCH card. */
        char *key = pz_fits_text_encode(k), *value = pz_fits_text_encode(v);
        char *name = standard_keyword(k) ? pz_xstrdup(k) : pz_xasprintf("HIERARCH %s", key);
        fits_write_key_longstr(w->fp, name, value, "", &status);
        free(name), free(key), free(value);
        if (status) return pz_fits_fail(err, w->path, status, "writing attribute");
    }
    return 0;
}

static int write_column_keys(pz_fits_writer *w, const pz_table *proto, pz_err *err)
{
    int status = 0;
    for (size_t j = 0; j < proto->ncols && !status; j++) {
        const pz_column *c = &proto->cols[j];
        char key[FLEN_KEYWORD];
        w->has_tnull[j] = is_int(c->type) && (c->has_null_value || c->null);
        w->tnull[j] = c->has_null_value ? c->null_value : type_min(c->type);
        if (w->has_tnull[j]) {
            snprintf(key, sizeof key, "TNULL%zu", j + 1);
            LONGLONG v = w->tnull[j];
            fits_write_key(w->fp, TLONGLONG, key, &v, "", &status);
        }
        if (c->desc && c->desc[0]) {
            char *desc = pz_fits_text_encode(c->desc);
            snprintf(key, sizeof key, "TCOMM%zu", j + 1);
            fits_write_key_longstr(w->fp, key, desc, "", &status);
            free(desc);
        }
    }
    return status ? pz_fits_fail(err, w->path, status, "writing column keywords") : 0;
}

static int create_table(pz_fits_writer *w, const pz_table *proto, pz_err *err)
{
    size_t n = proto->ncols;
    if (n > 999) /* TFIELDS: the standard's limit (astropy and STILTS hold to it) */
        return pz_errf(err, "%s: %zu columns, more than the 999 a FITS table holds", w->path, n);
    char **ttype = pz_xcalloc(n + 1, sizeof *ttype), **tform = pz_xcalloc(n + 1, sizeof *tform),
         **tunit = pz_xcalloc(n + 1, sizeof *tunit);
    for (size_t j = 0; j < n; j++) {
        const pz_column *c = &proto->cols[j];
        ttype[j] = pz_fits_text_encode(c->name);
        tform[j] = pz_xmalloc(24);
        tform_of(c, tform[j], 24);
        tunit[j] = pz_fits_text_encode(c->unit ? c->unit : "");
    }
    const char *attr = pz_table_attr(proto, "EXTNAME");
    char *extname = attr ? pz_fits_text_encode(attr) : NULL;
    int status = 0;
    fits_create_img(w->fp, BYTE_IMG, 0, NULL, &status);
    fits_create_tbl(w->fp, BINARY_TBL, 0, (int)n, ttype, tform, tunit, extname, &status);
    for (size_t j = 0; j < n; j++) free(ttype[j]), free(tform[j]), free(tunit[j]);
    free(extname);
    free(ttype);
    free(tform);
    free(tunit);
    return status ? pz_fits_fail(err, w->path, status, "creating the table") : 0;
}

static void writer_free(pz_fits_writer *w)
{
    free(w->path);
    free(w->offset);
    free(w->tnull);
    free(w->has_tnull);
    free(w->buf);
    free(w);
}

pz_fits_writer *pz_fits_writer_open(const char *path, const pz_table *proto, pz_err *err)
{
    pz_fits_writer *w = pz_xcalloc(1, sizeof *w);
    w->path = pz_xstrdup(path);
    w->ncols = proto->ncols;
    w->offset = pz_xcalloc(w->ncols + 1, sizeof *w->offset);
    w->tnull = pz_xcalloc(w->ncols + 1, sizeof *w->tnull);
    w->has_tnull = pz_xcalloc(w->ncols + 1, sizeof *w->has_tnull);
    for (size_t j = 0; j < w->ncols; j++) w->offset[j] = w->rowlen, w->rowlen += field_width(&proto->cols[j]);
    int status = 0, rc = 0;
    if (unlink(path) != 0 && errno != ENOENT) rc = pz_errf(err, "%s: cannot replace: %m", path);
    /* diskfile: the name is a plain path, no cfitsio extended syntax */
    else if (fits_create_diskfile(&w->fp, path, &status)) rc = pz_fits_fail(err, path, status, "cannot create");
    if (rc == 0) rc = create_table(w, proto, err);
    if (rc == 0) rc = write_column_keys(w, proto, err);
    if (rc == 0) rc = write_attrs(w, proto, err);
    if (rc < 0) {
        pz_err ignore;
        pz_fits_writer_close(w, &ignore);
        unlink(path);
        return NULL;
    }
    return w;
}

static void pack_field(const pz_fits_writer *w, size_t j, const pz_column *c, size_t row, unsigned char *p)
{
    const char *v = (const char *)c->data + row * c->width;
    int null = c->null && c->null[row];
    switch (c->type) {
    case PZ_STR: {
        size_t len = strnlen(v, c->width), width = field_width(c);
        memset(p, 0, width);
        memcpy(p, v, len);
        break;
    }
    case PZ_BOOL: *p = null ? 0 : *v ? 'T' : 'F'; break;
    case PZ_U8: *p = null ? (unsigned char)w->tnull[j] : (unsigned char)*v; break;
    case PZ_I16: {
        uint16_t x;
        memcpy(&x, v, 2);
        if (null) x = (uint16_t)w->tnull[j];
        x = htobe16(x);
        memcpy(p, &x, 2);
        break;
    }
    case PZ_I32: case PZ_F32: {
        uint32_t x;
        memcpy(&x, v, 4);
        if (null && c->type == PZ_I32) x = (uint32_t)w->tnull[j];
        x = htobe32(x);
        memcpy(p, &x, 4);
        break;
    }
    case PZ_I64: case PZ_F64: {
        uint64_t x;
        memcpy(&x, v, 8);
        if (null && c->type == PZ_I64) x = (uint64_t)w->tnull[j];
        x = htobe64(x);
        memcpy(p, &x, 8);
        break;
    }
    }
}

/* A missing integer in a column opened without a null value (no TNULL keyword) cannot be
 * written: the prototype must have had a null mask or a null_value for that column. */
static int check_nulls(const pz_fits_writer *w, const pz_table *chunk, pz_err *err)
{
    for (size_t j = 0; j < chunk->ncols; j++) {
        const pz_column *c = &chunk->cols[j];
        if (!c->null || w->has_tnull[j] || !is_int(c->type)) continue;
        for (size_t i = 0; i < chunk->nrows; i++)
            if (c->null[i])
                return pz_errf(err, "%s: column '%s' (%s) has a missing value in row %lld but no null value was "
                                    "declared when the file was opened (give the first chunk a null mask)",
                               w->path, c->name, pz_coltype_name(c->type), w->nrows + (long long)i + 1);
    }
    return 0;
}

#define CHUNK_BYTES (4u << 20)

int pz_fits_writer_append(pz_fits_writer *w, const pz_table *chunk, pz_err *err)
{
    if (check_nulls(w, chunk, err) < 0) return -1;
    if (!w->buf) {
        w->bufrows = w->rowlen ? CHUNK_BYTES / w->rowlen : 1;
        if (w->bufrows < 1) w->bufrows = 1;
        w->buf = pz_xmalloc(w->bufrows * (w->rowlen ? w->rowlen : 1));
    }
    for (size_t first = 0; first < chunk->nrows; first += w->bufrows) {
        size_t m = chunk->nrows - first < w->bufrows ? chunk->nrows - first : w->bufrows;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < w->ncols; j++)
                pack_field(w, j, &chunk->cols[j], first + i, w->buf + i * w->rowlen + w->offset[j]);
        int status = 0;
        if (w->rowlen && fits_write_tblbytes(w->fp, (LONGLONG)w->nrows + 1, 1, (LONGLONG)(m * w->rowlen), w->buf,
                                             &status))
            return pz_fits_fail(err, w->path, status, "writing rows");
        if (!w->rowlen) { /* a table with no columns still has rows */
            LONGLONG rows = w->nrows + (LONGLONG)m;
            fits_update_key(w->fp, TLONGLONG, "NAXIS2", &rows, NULL, &status);
        }
        w->nrows += (long long)m;
    }
    return 0;
}

int pz_fits_writer_close(pz_fits_writer *w, pz_err *err)
{
    if (!w) return 0;
    int status = 0, rc = 0;
    if (w->fp && fits_close_file(w->fp, &status)) rc = pz_fits_fail(err, w->path, status, "closing");
    writer_free(w);
    return rc;
}
