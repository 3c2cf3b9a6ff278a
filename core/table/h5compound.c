/* Tables stored as one compound dataset, one record per row: astropy's HDF5 layout (with its
 * `<name>.__table_column_meta__` YAML header for units, descriptions, attributes and masks),
 * h5py's structured arrays and PyTables'/pandas' `table` datasets.
 *
 * Only the fields asked for are kept: records are read as stored, 1 MB of them at a time (the
 * size of HDF5's own type-conversion buffer), and the requested fields taken out of each block,
 * so memory holds the requested columns plus one block, whatever the table's size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/backends.h"
#include "table/h5table.h"
#include "table/h5util.h"
#include "util/ytree.h"

#define BLOCK_BYTES (1u << 20) /* records per H5Dread, in bytes: HDF5's own conversion buffer size */

typedef struct {
    char *name;
    int ok;          /* a scalar column type pzflow reads */
    pz_coltype type;
    size_t size;     /* bytes in the file record */
    size_t offset;   /* in the file record */
    hid_t ft;
} member;

typedef struct {
    member *m;
    size_t n;
    size_t record;   /* file record size */
    hsize_t rows;
    int rank;
    pz_table_meta meta;
} compound;

static void compound_free(compound *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->m[i].name);
        H5Tclose(c->m[i].ft);
    }
    free(c->m);
    pz_table_meta_free(&c->meta);
}

/* The header lines of a fixed- or variable-length string dataset, joined with '\n'. */
static char *read_lines(hid_t ds, const char *where, const char *name, pz_err *err)
{
    hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    size_t width = H5Tget_size(ft);
    int vlen = H5Tis_variable_str(ft) > 0;
    char *text = NULL;
    if (H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 || n < 0) {
        pz_errf(err, "%s: '%s' is not a table header (a 1-D dataset of text lines)", where, name);
    } else if ((!vlen && (width == 0 || (size_t)n > PZ_YAML_MAX_FILE / width)) || (vlen && n > PZ_YAML_MAX_FILE / 16) ||
               (!vlen && n > 0 && pz_h5_data_in_file(ds, ft, (hsize_t)n) < 0)) {
        pz_errf(err, "%s: table header '%s' declares %lld lines the file does not hold or too long (file corrupt?)",
                where, name, (long long)n);
    } else if (vlen) {
        char **v = pz_xcalloc((size_t)n + 1, sizeof *v);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        int checked = n == 0 || pz_h5_check_vlen_dataset(ds, sp, sp, (size_t)n, where, err) == 0;
        if (n == 0 || (checked && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) {
            size_t len = 0;
            for (hssize_t i = 0; i < n; i++) len += (v[i] ? strlen(v[i]) : 0) + 1;
            text = pz_xcalloc(len + 1, 1);
            for (hssize_t i = 0, at = 0; i < n; i++) at += sprintf(text + at, "%s\n", v[i] ? v[i] : "");
            if (n) H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        } else if (checked) { /* else err says what the check found */
            pz_errf(err, "%s: reading table header '%s' failed (file corrupt?)", where, name);
        }
        H5Tclose(mt);
        free(v);
    } else {
        char *raw = pz_xcalloc((size_t)n * width + 1, 1);
        hid_t mt = H5Tcopy(ft);
        if (n == 0 || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
            text = pz_xcalloc((size_t)n * (width + 1) + 1, 1);
            size_t at = 0;
            for (hssize_t i = 0; i < n; i++) {
                const char *line = raw + (size_t)i * width;
                size_t len = strnlen(line, width);
                memcpy(text + at, line, len);
                at += len;
                text[at++] = '\n';
            }
        } else {
            pz_errf(err, "%s: reading table header '%s' failed (file corrupt?)", where, name);
        }
        H5Tclose(mt);
        free(raw);
    }
    H5Tclose(ft);
    H5Sclose(sp);
    return text;
}

/* astropy's header beside the dataset, if there is one. */
static int read_meta(const pz_h5_place *p, pz_table_meta *meta, pz_err *err)
{
    char *name = pz_xasprintf("%s" PZ_H5_META_SUFFIX, p->dsname);
    int rc = 0;
    if (H5Lexists(p->group, name, H5P_DEFAULT) > 0) {
        hid_t ds = pz_h5_open_dataset(p->group, p->where, name, err);
        char *text = ds < 0 ? NULL : read_lines(ds, p->where, name, err);
        if (ds >= 0) H5Dclose(ds);
        char *what = pz_xasprintf("%s, header '%s'", p->where, name);
        rc = text ? pz_table_meta_parse(text, strlen(text), what, meta, err) : -1;
        free(what);
        free(text);
    }
    if (rc == 0 && !meta->attrs) meta->attrs = pz_table_new(0);
    free(name);
    return rc;
}

static int compound_open(const pz_h5_place *p, compound *c, pz_err *err)
{
    memset(c, 0, sizeof *c);
    hid_t ft = H5Dget_type(p->dset), sp = H5Dget_space(p->dset);
    hsize_t dims[H5S_MAX_RANK] = {0};
    c->rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    c->rows = dims[0];
    c->record = H5Tget_size(ft);
    int nm = H5Tget_nmembers(ft);
    c->m = pz_xcalloc(nm > 0 ? (size_t)nm : 1, sizeof *c->m);
    for (int i = 0; i < nm; i++) {
        member *m = &c->m[c->n++];
        char *name = H5Tget_member_name(ft, (unsigned)i);
        m->name = pz_xstrdup(name ? name : "");
        H5free_memory(name);
        m->ft = H5Tget_member_type(ft, (unsigned)i);
        m->size = H5Tget_size(m->ft);
        m->offset = H5Tget_member_offset(ft, (unsigned)i);
        m->ok = pz_h5_column_type(m->ft, &m->type) == 0 && !(m->type == PZ_STR && H5Tis_variable_str(m->ft) > 0);
    }
    int rc = 0;
    if (pz_h5_data_in_file(p->dset, ft, c->rows) < 0)
        rc = pz_errf(err, "%s: table '%s' declares %llu rows of %zu bytes that the file does not hold "
                          "(corrupt, truncated or never written)",
                     p->where, p->dsname, (unsigned long long)c->rows, c->record);
    H5Tclose(ft);
    H5Sclose(sp);
    if (rc == 0) rc = read_meta(p, &c->meta, err);
    if (rc < 0) compound_free(c);
    return rc;
}

static long member_named(const compound *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->m[i].name, name)) return (long)i;
    return -1;
}

/* The columns a table shows: scalar members that are not some column's mask. */
static int shown(const compound *c, size_t i)
{
    return c->m[i].ok && !pz_table_meta_is_mask(&c->meta, c->m[i].name);
}

int pz_h5_compound_info(const pz_h5_place *p, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    compound c;
    if (compound_open(p, &c, err) < 0) return -1;
    pz_colinfo *info = pz_xcalloc(c.n + 1, sizeof *info);
    size_t n = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (!shown(&c, i)) continue;
        info[n].name = pz_xstrdup(c.m[i].name);
        info[n].type = c.m[i].type;
        info[n].width = c.m[i].type == PZ_STR ? c.m[i].size : pz_coltype_size(c.m[i].type);
        n++;
    }
    *cols = info, *ncols = n, *nrows = (long)c.rows;
    compound_free(&c);
    return 0;
}

/* The members read: each requested column once, and the mask of each that has one. */
typedef struct {
    long *member; /* member index per field */
    size_t n;
} fields;

static size_t field_of(fields *f, long member)
{
    for (size_t k = 0; k < f->n; k++)
        if (f->member[k] == member) return k;
    f->member[f->n] = member;
    return f->n++;
}

/* Requested names to members: -1 missing, -2 ambiguous but for case, -3 not a scalar column. */
static int resolve(const pz_h5_place *p, const compound *c, const char *const *columns, size_t ncolumns, long *which,
                   pz_err *err)
{
    const char **all = pz_xcalloc(c->n + 1, sizeof *all), **have = pz_xcalloc(c->n + 1, sizeof *have);
    size_t nhave = 0, nmissing = 0;
    for (size_t i = 0; i < c->n; i++) {
        all[i] = c->m[i].name;
        if (shown(c, i)) have[nhave++] = c->m[i].name;
    }
    int rc = 0;
    for (size_t j = 0; j < ncolumns && rc == 0; j++) {
        which[j] = pz_match_name(all, c->n, columns[j]);
        if (which[j] >= 0 && !c->m[which[j]].ok)
            rc = pz_errf(err, "%s: field '%s' of table '%s' is not a column of one scalar per row (an array, nested or "
                              "variable-length field)", p->where, c->m[which[j]].name, p->dsname);
        nmissing += which[j] < 0;
    }
    if (rc == 0 && nmissing) {
        char text[PZ_ERR_MAX / 2];
        pz_h5_missing_text(columns, which, ncolumns, have, nhave, text, sizeof text);
        rc = pz_errf(err, "%s: %s", p->where, text);
    }
    free(all);
    free(have);
    return rc;
}

/* Fill the missing rows its mask marks: integers get the null mask, floats NaN. */
static void apply_mask(pz_column *col, const uint8_t *mask, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!mask[i]) continue;
        if (col->type == PZ_F64 || col->type == PZ_F32) pz_col_set_f64(col, i, NAN);
        else if (col->type != PZ_STR) {
            if (!col->null) col->null = pz_xcalloc(n ? n : 1, 1);
            col->null[i] = 1;
        }
    }
}

/* Rows per chunk of a chunked dataset, 0 otherwise. */
static size_t chunk_rows(hid_t ds)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t dims[H5S_MAX_RANK] = {0};
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, dims) >= 1;
    if (dcpl >= 0) H5Pclose(dcpl);
    return chunked ? (size_t)dims[0] : 0;
}

/* Field k of b records in `raw` into `to` (b elements of the column's memory type). A field
 * whose file type is the memory type is copied; others (another byte order or width, an enum
 * by names) are gathered into `tmp` and converted there by HDF5. */
static int extract(const compound *c, const fields *f, size_t k, const char *raw, size_t b, char *to, size_t w,
                   char *tmp)
{
    const member *m = &c->m[f->member[k]];
    hid_t mt = m->type == PZ_STR ? H5Tcopy(m->ft) : pz_h5_mem_type(m->type, 0);
    if (m->type == PZ_STR) H5Tset_strpad(mt, H5T_STR_NULLPAD);
    int same = H5Tequal(m->ft, mt) > 0, rc = 0;
    char *dst = same ? to : tmp;
    for (size_t i = 0; i < b; i++) memcpy(dst + i * m->size, raw + i * c->record + m->offset, m->size);
    if (!same) {
        rc = H5Tconvert(m->ft, mt, b, tmp, NULL, H5P_DEFAULT) < 0 ? -1 : 0;
        if (rc == 0) memcpy(to, tmp, b * w);
    }
    H5Tclose(mt);
    return rc;
}

/* Rows [start, start + n) of the fields into the table's columns (dest[k] NULL: a mask field,
 * into masks[k]). Records are read whole, as stored (no conversion, the fastest HDF5 path), a
 * block of at most BLOCK_BYTES at a time, and the fields taken from them: memory holds one
 * block of records (the size of HDF5's own conversion buffer) besides the columns read.
 * Converting a compound of a few members in HDF5 instead ran 30x slower (docs/tables.md). */
static int read_rows(const pz_h5_place *p, const compound *c, const fields *f, size_t start, size_t n,
                     pz_column **dest, uint8_t **masks)
{
    size_t block = BLOCK_BYTES / (c->record ? c->record : 1), widest = 16;
    size_t limit = pz_h5_rows_per_read(p->dset, n), chunk = chunk_rows(p->dset);
    if (chunk && block > chunk) block -= block % chunk; /* whole chunks: each read once, straight in */
    if (block == 0) block = 1;
    if (block > limit) block = limit;
    if (block > n) block = n;
    for (size_t k = 0; k < f->n; k++) {
        const member *m = &c->m[f->member[k]];
        if (m->size > widest) widest = m->size;
    }
    hid_t rt = H5Dget_type(p->dset), fsp = H5Dget_space(p->dset);
    char *raw = block ? malloc(block * (c->record ? c->record : 1)) : NULL, *tmp = block ? malloc(block * widest) : NULL;
    int rc = (block && (!raw || !tmp)) || fsp < 0 || rt < 0 ? -1 : 0;
    for (size_t done = 0; done < n && rc == 0; done += block) {
        size_t b = n - done < block ? n - done : block;
        hsize_t off[2] = {start + done, 0}, cnt[2] = {b, 1};
        hid_t msp = H5Screate_simple(1, cnt, NULL);
        if (H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
            H5Dread(p->dset, rt, msp, fsp, H5P_DEFAULT, raw) < 0)
            rc = -1;
        H5Sclose(msp);
        for (size_t k = 0; k < f->n && rc == 0; k++) {
            size_t w = dest[k] ? dest[k]->width : 1;
            char *to = dest[k] ? (char *)dest[k]->data + done * w : (char *)masks[k] + done;
            rc = extract(c, f, k, raw, b, to, w, tmp);
        }
    }
    free(raw);
    free(tmp);
    if (fsp >= 0) H5Sclose(fsp);
    if (rt >= 0) H5Tclose(rt);
    return rc;
}

static int read_selected(const pz_h5_place *p, compound *c, const char *const *names, const long *which, size_t nsel,
                         size_t start, size_t n, pz_table *t, pz_err *err)
{
    fields f = {pz_xcalloc(2 * nsel + 1, sizeof(long)), 0};
    size_t *col_field = pz_xcalloc(nsel + 1, sizeof *col_field);
    long *mask_field = pz_xcalloc(nsel + 1, sizeof *mask_field);
    for (size_t j = 0; j < nsel; j++) {
        col_field[j] = field_of(&f, which[j]);
        const pz_meta_col *mc = pz_table_meta_col(&c->meta, c->m[which[j]].name);
        long mm = mc && mc->mask ? member_named(c, mc->mask) : -1;
        mask_field[j] = mm >= 0 && c->m[mm].ok && c->m[mm].type != PZ_STR ? (long)field_of(&f, mm) : -1;
    }
    pz_column **dest = pz_xcalloc(f.n + 1, sizeof *dest);
    uint8_t **masks = pz_xcalloc(f.n + 1, sizeof *masks);
    int rc = 0;
    for (size_t j = 0; j < nsel && rc == 0; j++) {
        const member *m = &c->m[which[j]];
        if (dest[col_field[j]]) continue; /* asked for twice: read once, added once */
        pz_column *col = pz_table_try_add(t, names[j], m->type, m->type == PZ_STR ? m->size : 0);
        if (!col) rc = pz_h5_too_big(p->where, m->name, n, m->size, err);
        else dest[col_field[j]] = col;
    }
    for (size_t k = 0; k < f.n && rc == 0; k++)
        if (!dest[k] && !(masks[k] = calloc(n ? n : 1, 1))) rc = pz_h5_too_big(p->where, c->m[f.member[k]].name, n, 1, err);
    /* pointers into t->cols move as columns are added: fetch them again by name */
    for (size_t j = 0; j < nsel && rc == 0; j++) dest[col_field[j]] = pz_table_col(t, names[j]);
    if (rc == 0 && n && read_rows(p, c, &f, start, n, dest, masks) < 0) {
        char why[204];
        rc = pz_errf(err, "%s: reading table '%s' failed (file corrupt or truncated?)%s", p->where, p->dsname,
                     pz_h5_reason(why));
    }
    for (size_t j = 0; j < nsel && rc == 0; j++) {
        pz_column *col = pz_table_col(t, names[j]);
        const pz_meta_col *mc = pz_table_meta_col(&c->meta, c->m[which[j]].name);
        if (mask_field[j] >= 0) apply_mask(col, masks[mask_field[j]], n);
        if (mc && mc->unit && !col->unit) col->unit = pz_xstrdup(mc->unit);
        if (mc && mc->desc && !col->desc) col->desc = pz_xstrdup(mc->desc);
    }
    for (size_t k = 0; k < f.n; k++) free(masks[k]);
    free(masks);
    free(dest);
    free(mask_field);
    free(col_field);
    free(f.member);
    return rc;
}

int pz_h5_compound_read(const pz_h5_place *p, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                        pz_table **out, pz_err *err)
{
    compound c;
    if (compound_open(p, &c, err) < 0) return -1;
    size_t nsel = 0;
    const char **names = pz_xcalloc((columns ? ncolumns : c.n) + 1, sizeof *names);
    long *which = pz_xcalloc((columns ? ncolumns : c.n) + 1, sizeof *which);
    int rc = 0;
    if (columns) {
        rc = resolve(p, &c, columns, ncolumns, which, err);
        for (size_t j = 0; j < ncolumns; j++) names[j] = columns[j];
        nsel = ncolumns;
    } else {
        for (size_t i = 0; i < c.n; i++)
            if (shown(&c, i)) names[nsel] = c.m[i].name, which[nsel++] = (long)i;
    }
    if (rc == 0 && start > c.rows)
        rc = pz_errf(err, "%s: start row %zu beyond the %llu rows", p->where, start, (unsigned long long)c.rows);
    pz_table *t = NULL;
    if (rc == 0) {
        size_t n = count == (size_t)-1 || start + count > c.rows ? (size_t)c.rows - start : count;
        t = pz_table_new(n);
        rc = read_selected(p, &c, names, which, nsel, start, n, t, err);
    }
    if (rc == 0) rc = pz_h5_read_attrs(p->dset, p->where, t, err); /* astropy without serialize_meta */
    for (size_t i = 0; rc == 0 && i < c.meta.attrs->nattrs; i++)
        pz_table_set_attr(t, c.meta.attrs->attr_keys[i], c.meta.attrs->attr_vals[i]);
    free(names);
    free(which);
    compound_free(&c);
    if (rc < 0) {
        pz_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}
