/* Every HDF5 file pzflow writes is created here (h5util.h: the deterministic file, dataset and
 * group primitives the model file uses too), and every table is written here:
 *
 * - astropy's table layout (pz_table_write_hdf5 and the streaming writer, backends.h): one
 *   compound dataset `__astropy_table__` (astropy's own default name), one record per row,
 *   chunked with an unlimited first dimension so it can grow, and beside it the YAML header
 *   `__astropy_table__.__table_column_meta__` (tablemeta.c) with units, descriptions, the table's
 *   attributes and astropy's MaskedColumn entries. astropy `Table.read(path)` finds the table
 *   with no arguments (the only compound dataset) and restores units and masks.
 * - GalaxiesML's layout, a group of 1-D datasets (pz_table_write_hdf5_columns), for the mock of
 *   that survey's files only.
 *
 * Deterministic bytes: no object timestamps, libver bounds fixed at (V18, V18), creation-ordered
 * links, explicit little-endian file types, and the streaming writer buffers rows and writes
 * whole HDF5 chunks in order, so the file depends on the rows alone and not on how a caller
 * split them into appends (tested: several appends == one write, byte for byte). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/backends.h"
#include "table/h5table.h"
#include "table/h5util.h"
#include "table/tablemeta.h"

#define TABLE_NAME "__astropy_table__"
#define CHUNK_BYTES (64u << 10) /* bytes of records per HDF5 chunk */

/* ---- deterministic files (h5util.h) ------------------------------------------------------- */

hid_t pz_h5_create(const char *path, pz_err *err)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (f < 0) {
        char why[204];
        pz_errf(err, "%s: cannot create HDF5 file%s", path, pz_h5_reason(why));
    }
    return f;
}

int pz_h5_close(hid_t f, const char *path, pz_err *err)
{
    if (H5Fclose(f) < 0) return pz_errf(err, "%s: closing HDF5 file failed (disk full?)", path);
    return 0;
}

hid_t pz_h5_group_new(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

int pz_h5_write_array(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank, const hsize_t *dims,
                      const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t ds = H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    int rc = ds < 0 || (n > 0 && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ? -1 : 0;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return rc;
}

/* ---- column types in files ---------------------------------------------------------------- */

/* The little-endian file type of a column (bool: h5py's int8 enum, which numpy reads as '?'). */
static hid_t file_type(pz_coltype t, size_t width)
{
    switch (t) {
    case PZ_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case PZ_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case PZ_I64: return H5Tcopy(H5T_STD_I64LE);
    case PZ_I32: return H5Tcopy(H5T_STD_I32LE);
    case PZ_I16: return H5Tcopy(H5T_STD_I16LE);
    case PZ_U8: return H5Tcopy(H5T_STD_U8LE);
    case PZ_BOOL: return pz_h5_bool_type(H5T_STD_I8LE);
    case PZ_STR: return pz_h5_mem_type(PZ_STR, width);
    }
    return -1;
}

static int is_integer(pz_coltype t)
{
    return t != PZ_F64 && t != PZ_F32 && t != PZ_STR;
}

/* What a missing integer holds in the file, beside its mask: the type's minimum (255 for
 * u8/bool), so a reader that ignores the mask sees an impossible value, not a plausible one. */
static void store_sentinel(void *p, pz_coltype t)
{
    switch (t) {
    case PZ_I64: { int64_t v = INT64_MIN; memcpy(p, &v, 8); break; }
    case PZ_I32: { int32_t v = INT32_MIN; memcpy(p, &v, 4); break; }
    case PZ_I16: { int16_t v = INT16_MIN; memcpy(p, &v, 2); break; }
    default: *(uint8_t *)p = 255; break;
    }
}

static int has_nulls(const pz_column *c, size_t nrows)
{
    if (!c->null || !is_integer(c->type)) return 0;
    for (size_t i = 0; i < nrows; i++)
        if (c->null[i]) return 1;
    return 0;
}

static int check_names(const char *path, const pz_table *t, pz_err *err)
{
    for (size_t j = 0; j < t->ncols; j++) {
        if (!t->cols[j].name[0]) return pz_errf(err, "%s: column %zu has an empty name", path, j + 1);
        for (size_t k = 0; k < j; k++)
            if (!strcmp(t->cols[j].name, t->cols[k].name))
                return pz_errf(err, "%s: two columns are named '%s'", path, t->cols[j].name);
    }
    return 0;
}

/* ---- astropy's layout, streaming ---------------------------------------------------------- */

struct pz_hdf5_writer {
    char *path;
    hid_t file, dset, mtype;
    size_t ncols;
    pz_coltype *type;
    size_t *width, *offset, *mask_offset; /* mask_offset (size_t)-1: no mask column */
    char **name;
    size_t record, chunk_rows, buffered;
    hsize_t written;
    char *buf;
    int failed;
};

static void writer_free(pz_hdf5_writer *w)
{
    for (size_t j = 0; j < w->ncols; j++) free(w->name[j]);
    free(w->name);
    free(w->type);
    free(w->width);
    free(w->offset);
    free(w->mask_offset);
    free(w->buf);
    free(w->path);
    free(w);
}

/* File and memory compound types: the columns in order, each masked one followed by its bool
 * "<name>.mask", packed (numpy's layout for the same dtype). */
static int record_types(pz_hdf5_writer *w, hid_t *ftype)
{
    size_t size = 0;
    for (size_t j = 0; j < w->ncols; j++) {
        w->offset[j] = size;
        size += w->width[j];
        if (w->mask_offset[j] != (size_t)-1) w->mask_offset[j] = size++;
    }
    w->record = size;
    *ftype = H5Tcreate(H5T_COMPOUND, size);
    w->mtype = H5Tcreate(H5T_COMPOUND, size);
    int rc = *ftype < 0 || w->mtype < 0 ? -1 : 0;
    for (size_t j = 0; j < w->ncols && rc == 0; j++) {
        hid_t ft = file_type(w->type[j], w->width[j]), mt = pz_h5_mem_type(w->type[j], w->width[j]);
        if (H5Tinsert(*ftype, w->name[j], w->offset[j], ft) < 0 || H5Tinsert(w->mtype, w->name[j], w->offset[j], mt) < 0)
            rc = -1;
        H5Tclose(ft);
        H5Tclose(mt);
        if (rc == 0 && w->mask_offset[j] != (size_t)-1) {
            char *m = pz_xasprintf("%s" PZ_MASK_SUFFIX, w->name[j]);
            ft = file_type(PZ_BOOL, 1), mt = pz_h5_mem_type(PZ_BOOL, 1);
            if (H5Tinsert(*ftype, m, w->mask_offset[j], ft) < 0 || H5Tinsert(w->mtype, m, w->mask_offset[j], mt) < 0)
                rc = -1;
            H5Tclose(ft);
            H5Tclose(mt);
            free(m);
        }
    }
    return rc;
}

/* The header dataset: the YAML lines as fixed-length byte strings (numpy 'S', as astropy writes). */
static int write_header(hid_t f, const pz_table *proto, const unsigned char *masked)
{
    char *yaml = pz_table_meta_yaml(proto, masked);
    size_t nlines = 0, width = 1;
    for (char *p = yaml, *e; (e = strchr(p, '\n')); p = e + 1, nlines++)
        if ((size_t)(e - p) > width) width = (size_t)(e - p);
    char *lines = pz_xcalloc(nlines * width + 1, 1);
    size_t i = 0;
    for (char *p = yaml, *e; (e = strchr(p, '\n')); p = e + 1, i++) memcpy(lines + i * width, p, (size_t)(e - p));
    hid_t st = pz_h5_mem_type(PZ_STR, width);
    hsize_t dims[1] = {nlines};
    int rc = pz_h5_write_array(f, TABLE_NAME PZ_H5_META_SUFFIX, st, st, 1, dims, lines);
    H5Tclose(st);
    free(lines);
    free(yaml);
    return rc;
}

static int create_dataset(pz_hdf5_writer *w, hid_t ftype)
{
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {w->chunk_rows};
    hid_t sp = H5Screate_simple(1, dims, maxdims), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    H5Pset_chunk(dcpl, 1, chunk);
    /* no chunk cache: every write is one whole chunk, which then goes straight to the file */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
    w->dset = H5Dcreate2(w->file, TABLE_NAME, ftype, sp, H5P_DEFAULT, dcpl, dapl);
    H5Pclose(dapl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return w->dset < 0 ? -1 : 0;
}

/* A table without columns has no record type: its attributes go on the root group, and it
 * reads back as the empty table it was. */
static int write_no_columns(pz_hdf5_writer *w, const pz_table *proto)
{
    for (size_t i = 0; i < proto->nattrs; i++)
        if (pz_h5_write_string_attr(w->file, proto->attr_keys[i], proto->attr_vals[i]) < 0) return -1;
    return 0;
}

/* astropy's mask column "<name>.mask" must not be a column of its own. */
static int mask_name_taken(const char *path, const pz_table *t, const unsigned char *masked, pz_err *err)
{
    int rc = 0;
    for (size_t j = 0; j < t->ncols && rc == 0; j++) {
        if (!masked[j]) continue;
        char *m = pz_xasprintf("%s" PZ_MASK_SUFFIX, t->cols[j].name);
        if (pz_table_col(t, m))
            rc = pz_errf(err, "%s: column '%s' has missing values, and its mask column would be named '%s', which is "
                              "already a column", path, t->cols[j].name, m);
        free(m);
    }
    return rc;
}

pz_hdf5_writer *pz_hdf5_writer_open(const char *path, const pz_table *proto, pz_err *err)
{
    if (check_names(path, proto, err) < 0) return NULL;
    pz_hdf5_writer *w = pz_xcalloc(1, sizeof *w);
    size_t n = proto->ncols;
    w->path = pz_xstrdup(path);
    w->ncols = n;
    w->type = pz_xcalloc(n + 1, sizeof *w->type);
    w->width = pz_xcalloc(n + 1, sizeof *w->width);
    w->offset = pz_xcalloc(n + 1, sizeof *w->offset);
    w->mask_offset = pz_xcalloc(n + 1, sizeof *w->mask_offset);
    w->name = pz_xcalloc(n + 1, sizeof *w->name);
    unsigned char *masked = pz_xcalloc(n + 1, 1);
    w->dset = w->mtype = -1;
    for (size_t j = 0; j < n; j++) {
        const pz_column *c = &proto->cols[j];
        w->name[j] = pz_xstrdup(c->name);
        w->type[j] = c->type;
        w->width[j] = c->type == PZ_STR ? (c->width ? c->width : 1) : pz_coltype_size(c->type);
        masked[j] = c->null && is_integer(c->type);
        w->mask_offset[j] = masked[j] ? 0 : (size_t)-1;
    }
    if (mask_name_taken(path, proto, masked, err) < 0) {
        free(masked);
        writer_free(w);
        return NULL;
    }
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    char why[204];
    hid_t ftype = -1;
    w->file = pz_h5_create(path, err);
    int rc = w->file < 0 ? -1 : 0;
    if (rc == 0 && n == 0) {
        if (write_no_columns(w, proto) < 0) rc = pz_errf(err, "%s: writing attributes failed%s", path, pz_h5_reason(why));
    } else if (rc == 0) {
        if (record_types(w, &ftype) < 0) rc = pz_errf(err, "%s: a column cannot be a member of an HDF5 table%s", path, pz_h5_reason(why));
        w->chunk_rows = w->record < CHUNK_BYTES ? CHUNK_BYTES / w->record : 1;
        if (rc == 0 && create_dataset(w, ftype) < 0) rc = pz_errf(err, "%s: creating the table failed%s", path, pz_h5_reason(why));
        if (rc == 0 && write_header(w->file, proto, masked) < 0)
            rc = pz_errf(err, "%s: writing the table header failed%s", path, pz_h5_reason(why));
        w->buf = pz_xcalloc(w->chunk_rows, w->record ? w->record : 1);
    }
    if (ftype >= 0) H5Tclose(ftype);
    free(masked);
    pz_h5_quiet_end(&q);
    if (rc < 0) {
        pz_hdf5_writer_close(w, NULL);
        return NULL;
    }
    return w;
}

/* Write the buffered rows at the end of the dataset. */
static int flush(pz_hdf5_writer *w)
{
    if (w->buffered == 0) return 0;
    hsize_t size[1] = {w->written + w->buffered}, off[1] = {w->written}, cnt[1] = {w->buffered};
    int rc = H5Dset_extent(w->dset, size) < 0 ? -1 : 0;
    hid_t fsp = rc == 0 ? H5Dget_space(w->dset) : -1, msp = H5Screate_simple(1, cnt, NULL);
    if (fsp < 0 || H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
        H5Dwrite(w->dset, w->mtype, msp, fsp, H5P_DEFAULT, w->buf) < 0)
        rc = -1;
    if (fsp >= 0) H5Sclose(fsp);
    H5Sclose(msp);
    w->written += w->buffered;
    w->buffered = 0;
    return rc;
}

/* Chunk columns must be the writer's, in order (a string may be narrower: it is padded). */
static int check_chunk(const pz_hdf5_writer *w, const pz_table *t, pz_err *err)
{
    if (t->ncols != w->ncols)
        return pz_errf(err, "%s: a chunk of %zu columns appended to a table of %zu", w->path, t->ncols, w->ncols);
    for (size_t j = 0; j < w->ncols; j++) {
        const pz_column *c = &t->cols[j];
        if (strcmp(c->name, w->name[j]) || c->type != w->type[j] || (c->type == PZ_STR && c->width > w->width[j]))
            return pz_errf(err, "%s: appended column %zu is '%s' (%s), where the table has '%s' (%s%s)", w->path, j + 1,
                           c->name, pz_coltype_name(c->type), w->name[j], pz_coltype_name(w->type[j]),
                           w->type[j] == PZ_STR ? ", narrower" : "");
        if (w->mask_offset[j] == (size_t)-1 && has_nulls(c, t->nrows))
            return pz_errf(err, "%s: column '%s' has missing values, but the table was opened without a null mask for "
                                "it (give the prototype column a null array)", w->path, c->name);
    }
    return 0;
}

/* Column j's rows [from, from + n) of t into records [at, at + n) of the buffer, column by
 * column (a tight strided copy per column: 5x faster than row by row). */
static void pack_column(pz_hdf5_writer *w, const pz_column *c, size_t j, size_t from, size_t n, size_t at)
{
    size_t width = w->width[j], rec = w->record;
    char *out = w->buf + at * rec + w->offset[j];
    const char *in = (const char *)c->data + from * c->width;
    if (c->type == PZ_STR)
        for (size_t i = 0; i < n; i++) {
            memset(out + i * rec, 0, width);
            memcpy(out + i * rec, in + i * c->width, c->width);
        }
    else if (width == 8)
        for (size_t i = 0; i < n; i++) memcpy(out + i * rec, in + i * 8, 8); /* fixed sizes: inlined */
    else if (width == 4)
        for (size_t i = 0; i < n; i++) memcpy(out + i * rec, in + i * 4, 4);
    else
        for (size_t i = 0; i < n; i++) memcpy(out + i * rec, in + i * width, width);
    if (!c->null && w->mask_offset[j] == (size_t)-1) return;
    for (size_t i = 0; i < n; i++) {
        int missing = c->null && c->null[from + i];
        char *at_rec = out + i * rec;
        if (missing && is_integer(c->type)) store_sentinel(at_rec, c->type);
        else if (missing && c->type == PZ_F64) memcpy(at_rec, &(double){NAN}, 8);
        else if (missing && c->type == PZ_F32) memcpy(at_rec, &(float){NAN}, 4);
        if (w->mask_offset[j] != (size_t)-1) w->buf[(at + i) * rec + w->mask_offset[j]] = (char)missing;
    }
}

int pz_hdf5_writer_append(pz_hdf5_writer *w, const pz_table *chunk, pz_err *err)
{
    if (w->failed) return pz_errf(err, "%s: an earlier write failed", w->path);
    if (check_chunk(w, chunk, err) < 0) {
        w->failed = 1; /* the file would lack these rows: it must not pass for complete */
        return -1;
    }
    if (w->ncols == 0) return 0;
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    int rc = 0;
    for (size_t done = 0; done < chunk->nrows && rc == 0;) {
        size_t n = chunk->nrows - done, room = w->chunk_rows - w->buffered;
        if (n > room) n = room;
        for (size_t j = 0; j < w->ncols; j++) pack_column(w, &chunk->cols[j], j, done, n, w->buffered);
        w->buffered += n;
        done += n;
        if (w->buffered == w->chunk_rows && flush(w) < 0) {
            char why[204];
            rc = pz_errf(err, "%s: writing rows failed (disk full?)%s", w->path, pz_h5_reason(why));
        }
    }
    pz_h5_quiet_end(&q);
    if (rc < 0) w->failed = 1;
    return rc;
}

int pz_hdf5_writer_close(pz_hdf5_writer *w, pz_err *err)
{
    if (!w) return 0;
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    char why[204];
    int rc = 0;
    if (w->failed) rc = pz_errf(err, "%s: an earlier write failed", w->path);
    else if (w->dset >= 0 && flush(w) < 0) rc = pz_errf(err, "%s: writing rows failed (disk full?)%s", w->path, pz_h5_reason(why));
    if (w->dset >= 0) H5Dclose(w->dset);
    if (w->mtype >= 0) H5Tclose(w->mtype);
    if (w->file >= 0 && H5Fclose(w->file) < 0 && rc == 0)
        rc = pz_errf(err, "%s: closing HDF5 file failed (disk full?)", w->path);
    pz_h5_quiet_end(&q);
    writer_free(w);
    return rc;
}

int pz_table_write_hdf5(const char *path, const pz_table *t, pz_err *err)
{
    pz_hdf5_writer *w = pz_hdf5_writer_open(path, t, err);
    if (!w) return -1;
    int rc = pz_hdf5_writer_append(w, t, err);
    if (pz_hdf5_writer_close(w, rc < 0 ? NULL : err) < 0) rc = -1;
    return rc;
}

/* ---- GalaxiesML's layout ------------------------------------------------------------------ */

/* One dataset per column; strings of shape (N,1); a missing integer holds the sentinel and the
 * dataset an attribute `null_value` with it, so the mask survives (hdf5.c reads it back). */
static int write_flat_column(hid_t file, const pz_table *t, const pz_column *c)
{
    hsize_t dims[2] = {t->nrows, 1};
    hid_t ft = file_type(c->type, c->width), mt = pz_h5_mem_type(c->type, c->width);
    const void *data = c->data;
    void *copy = NULL;
    int nulls = has_nulls(c, t->nrows);
    if (nulls) { /* the caller's table is not touched */
        copy = pz_xmalloc(t->nrows * c->width + 1);
        memcpy(copy, c->data, t->nrows * c->width);
        for (size_t i = 0; i < t->nrows; i++)
            if (c->null[i]) store_sentinel((char *)copy + i * c->width, c->type);
        data = copy;
    }
    int rc = pz_h5_write_array(file, c->name, ft, mt, c->type == PZ_STR ? 2 : 1, dims, data);
    hid_t ds = rc == 0 ? H5Dopen2(file, c->name, H5P_DEFAULT) : -1;
    if (rc == 0 && ds < 0) rc = -1;
    if (rc == 0 && c->unit && pz_h5_write_string_attr(ds, "unit", c->unit) < 0) rc = -1;
    if (rc == 0 && nulls) {
        hid_t asp = H5Screate(H5S_SCALAR);
        char buf[8];
        store_sentinel(buf, c->type);
        hid_t a = H5Acreate2(ds, "null_value", ft, asp, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, mt, buf) < 0) rc = -1;
        if (a >= 0) H5Aclose(a);
        H5Sclose(asp);
    }
    if (ds >= 0) H5Dclose(ds);
    free(copy);
    H5Tclose(ft);
    H5Tclose(mt);
    return rc;
}

int pz_table_write_hdf5_columns(const char *path, const pz_table *t, pz_err *err)
{
    if (check_names(path, t, err) < 0) return -1;
    for (size_t j = 0; j < t->ncols; j++)
        if (strchr(t->cols[j].name, '/') || !strcmp(t->cols[j].name, "."))
            return pz_errf(err, "%s: column name '%s' cannot be an HDF5 dataset name", path, t->cols[j].name);
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    char why[204];
    hid_t f = pz_h5_create(path, err);
    int rc = f < 0 ? -1 : 0;
    for (size_t j = 0; j < t->ncols && rc == 0; j++)
        if (write_flat_column(f, t, &t->cols[j]) < 0)
            rc = pz_errf(err, "%s: writing column '%s' failed%s", path, t->cols[j].name, pz_h5_reason(why));
    for (size_t i = 0; i < t->nattrs && rc == 0; i++)
        if (pz_h5_write_string_attr(f, t->attr_keys[i], t->attr_vals[i]) < 0)
            rc = pz_errf(err, "%s: writing attribute '%s' failed%s", path, t->attr_keys[i], pz_h5_reason(why));
    if (f >= 0 && pz_h5_close(f, path, rc < 0 ? NULL : err) < 0) rc = -1;
    pz_h5_quiet_end(&q);
    return rc;
}
