/* Tables as flat HDF5 groups, GalaxiesML style: one dataset per column under "/", first axis =
 * row; string columns are fixed-length byte strings of shape (N,1); booleans are the int8 enum
 * h5py writes; table attributes are variable-length UTF-8 string attributes of "/".
 *
 * Written files are byte-deterministic: no object timestamps, fixed library-version bounds,
 * contiguous datasets, creation-ordered links (so columns read back in the table's order).
 * HDF5 prints its error stack to stderr by default; every entry point switches that off for its
 * duration and turns failures into one pz_err line naming the file and dataset. */
#include "table/table.h"
#include "table/h5links.h"
#include "table/h5util.h"
#include "util/crashnote.h"
#include "util/suggest.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Integer columns with a null mask are stored with this sentinel in the missing rows and a
 * dataset attribute `null_value` holding it, so the mask survives a round trip. */
#define NULL_ATTR "null_value"
#define UNIT_ATTR "unit"

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(data, 200, "%s", e->desc);
    return 0;
}

/* HDF5's own description of the innermost error, for context: ": reason", or "" when HDF5
 * gives none (so messages never end in an empty ": " or "()"). */
static const char *hdf5_reason(char buf[204])
{
    char desc[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, desc);
    snprintf(buf, 204, "%s%s", desc[0] ? ": " : "", desc);
    return buf;
}

/* --- types ------------------------------------------------------------------------------- */

static hid_t mem_type(pz_coltype t, size_t width)
{
    switch (t) {
    case PZ_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case PZ_F32: return H5Tcopy(H5T_NATIVE_FLOAT);
    case PZ_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case PZ_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case PZ_I16: return H5Tcopy(H5T_NATIVE_INT16);
    case PZ_U8: return H5Tcopy(H5T_NATIVE_UINT8);
    case PZ_BOOL: {
        /* numpy bool as h5py stores it: enum of int8 {FALSE=0, TRUE=1}. */
        hid_t e = H5Tenum_create(H5T_NATIVE_INT8);
        int8_t v = 0;
        H5Tenum_insert(e, "FALSE", &v);
        v = 1;
        H5Tenum_insert(e, "TRUE", &v);
        return e;
    }
    case PZ_STR: {
        hid_t s = H5Tcopy(H5T_C_S1);
        H5Tset_size(s, width);
        H5Tset_strpad(s, H5T_STR_NULLPAD); /* numpy 'S' dtype */
        return s;
    }
    }
    return -1;
}

static int is_bool_enum(hid_t ft)
{
    if (H5Tget_class(ft) != H5T_ENUM || H5Tget_size(ft) != 1 || H5Tget_nmembers(ft) != 2) return 0;
    char *a = H5Tget_member_name(ft, 0), *b = H5Tget_member_name(ft, 1);
    int ok = a && b && ((!strcmp(a, "FALSE") && !strcmp(b, "TRUE")) || (!strcmp(a, "TRUE") && !strcmp(b, "FALSE")));
    H5free_memory(a);
    H5free_memory(b);
    return ok;
}

/* The column type a file datatype is read as; -1 if it is not a table column type. */
static int column_type_of(hid_t ft, pz_coltype *out)
{
    size_t size = H5Tget_size(ft);
    switch (H5Tget_class(ft)) {
    case H5T_FLOAT: *out = size > 4 ? PZ_F64 : PZ_F32; return 0;
    case H5T_INTEGER:
        if (H5Tget_sign(ft) == H5T_SGN_NONE)
            *out = size == 1 ? PZ_U8 : size == 2 ? PZ_I32 : PZ_I64; /* widen so values fit */
        else
            *out = size == 1 || size == 2 ? PZ_I16 : size == 4 ? PZ_I32 : PZ_I64;
        return 0;
    case H5T_ENUM:
        if (!is_bool_enum(ft)) return -1;
        *out = PZ_BOOL;
        return 0;
    case H5T_STRING: *out = PZ_STR; return 0;
    default: return -1;
    }
}

/* --- writing ----------------------------------------------------------------------------- */

static int64_t null_sentinel(pz_coltype t)
{
    switch (t) {
    case PZ_I64: return INT64_MIN;
    case PZ_I32: return INT32_MIN;
    case PZ_I16: return INT16_MIN;
    default: return 255; /* u8, bool */
    }
}

static void store_sentinel(void *p, pz_coltype t, int64_t v)
{
    switch (t) {
    case PZ_I64: memcpy(p, &v, 8); break;
    case PZ_I32: { int32_t w = (int32_t)v; memcpy(p, &w, 4); break; }
    case PZ_I16: { int16_t w = (int16_t)v; memcpy(p, &w, 2); break; }
    default: *(uint8_t *)p = (uint8_t)v; break;
    }
}

static int has_nulls(const pz_column *c, size_t nrows)
{
    if (!c->null || c->type == PZ_F64 || c->type == PZ_F32 || c->type == PZ_STR) return 0;
    for (size_t i = 0; i < nrows; i++)
        if (c->null[i]) return 1;
    return 0;
}

static int write_column(hid_t file, const pz_table *t, const pz_column *c)
{
    hsize_t dims[2] = {t->nrows, 1};
    hid_t sp = H5Screate_simple(c->type == PZ_STR ? 2 : 1, dims, NULL);
    hid_t mt = mem_type(c->type, c->width);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t ds = H5Dcreate2(file, c->name, mt, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = ds < 0 ? -1 : 0;
    const void *data = c->data;
    void *copy = NULL;
    int nulls = has_nulls(c, t->nrows);
    if (nulls) {
        /* Missing integer rows get the sentinel in a copy; the caller's table is not touched. */
        int64_t s = null_sentinel(c->type);
        copy = pz_xmalloc(t->nrows * c->width + 1);
        memcpy(copy, c->data, t->nrows * c->width);
        for (size_t i = 0; i < t->nrows; i++)
            if (c->null[i]) store_sentinel((char *)copy + i * c->width, c->type, s);
        data = copy;
    }
    if (rc == 0 && t->nrows > 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) rc = -1;
    if (rc == 0 && c->unit && pz_h5_write_string_attr(ds, UNIT_ATTR, c->unit) < 0) rc = -1;
    if (rc == 0 && nulls) {
        hid_t asp = H5Screate(H5S_SCALAR);
        char buf[8];
        store_sentinel(buf, c->type, null_sentinel(c->type));
        hid_t a = H5Acreate2(ds, NULL_ATTR, mt, asp, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, mt, buf) < 0) rc = -1;
        if (a >= 0) H5Aclose(a);
        H5Sclose(asp);
    }
    free(copy);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Tclose(mt);
    H5Sclose(sp);
    return rc;
}

int pz_table_write_hdf5(const char *path, const pz_table *t, pz_err *err)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (!t->cols[j].name[0] || strchr(t->cols[j].name, '/') || !strcmp(t->cols[j].name, "."))
            return pz_errf(err, "%s: column name '%s' cannot be an HDF5 dataset name", path, t->cols[j].name);
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    int rc = 0;
    char why[204];
    if (f < 0) {
        rc = pz_errf(err, "%s: cannot create HDF5 file%s", path, hdf5_reason(why));
        pz_h5_quiet_end(&q);
        return rc;
    }
    for (size_t j = 0; j < t->ncols && rc == 0; j++)
        if (write_column(f, t, &t->cols[j]) < 0)
            rc = pz_errf(err, "%s: writing column '%s' failed%s", path, t->cols[j].name, hdf5_reason(why));
    for (size_t i = 0; i < t->nattrs && rc == 0; i++)
        if (pz_h5_write_string_attr(f, t->attr_keys[i], t->attr_vals[i]) < 0)
            rc = pz_errf(err, "%s: writing attribute '%s' failed%s", path, t->attr_keys[i], hdf5_reason(why));
    if (H5Fclose(f) < 0 && rc == 0) rc = pz_errf(err, "%s: closing HDF5 file failed (disk full?)", path);
    pz_h5_quiet_end(&q);
    return rc;
}

/* --- reading ----------------------------------------------------------------------------- */

typedef struct {
    char **names;
    size_t n;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    l->names = pz_xrealloc(l->names, (l->n + 1) * sizeof *l->names);
    l->names[l->n++] = pz_xstrdup(name);
    return 0;
}

/* Dataset names of the root group in creation order when the file tracks it, else by name. */
static int list_root(hid_t f, name_list *l)
{
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    if (root < 0) return -1;
    hid_t gcpl = H5Gget_create_plist(root);
    unsigned flags = 0;
    if (gcpl >= 0) {
        H5Pget_link_creation_order(gcpl, &flags);
        H5Pclose(gcpl);
    }
    H5Gclose(root);
    H5_index_t idx = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    hsize_t pos = 0;
    return H5Literate(f, idx, H5_ITER_INC, &pos, collect_name, l) < 0 ? -1 : 0;
}

static void free_names(name_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
}

/* Open "/" of an HDF5 file, with a clear message for a missing, foreign or truncated file. */
static hid_t open_file(const char *path, pz_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        pz_errf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (H5Fis_hdf5(path) <= 0) {
        pz_errf(err, "%s: not an HDF5 file or truncated", path);
        return -1;
    }
    /* STRONG: closing the file also closes whatever a failed read left open, so a corrupt
     * file cannot leave objects behind. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f >= 0 && pz_h5_check_types(f, ".", path, err) < 0) { /* before any name is looked up */
        H5Fclose(f);
        return -1;
    }
    if (f >= 0 && pz_h5_check_links(f, path, err) < 0) { /* data in other files: not in the hash */
        H5Fclose(f);
        return -1;
    }
    if (f < 0) {
        char why[204];
        const char *reason = hdf5_reason(why); /* ": desc" or "" */
        if (reason[0]) pz_errf(err, "%s: not an HDF5 file or truncated (%s)", path, reason + 2);
        else pz_errf(err, "%s: not an HDF5 file or truncated", path);
    }
    return f;
}

/* A dataset is a table column when its shape is (N) or (N,1). */
static int column_shape(hid_t ds, hsize_t *nrows)
{
    hid_t sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[H5S_MAX_RANK];
    int ok = rank >= 1 && H5Sget_simple_extent_dims(sp, dims, NULL) == rank && (rank == 1 || (rank == 2 && dims[1] == 1));
    if (rank >= 1 && nrows) *nrows = dims[0];
    H5Sclose(sp);
    return ok ? rank : 0;
}

/* String attributes of the root group become table attributes; others are skipped. */
static int read_attrs(hid_t obj, const char *path, pz_table *t, pz_err *err)
{
    H5O_info_t oi;
    int rc = 0;
    if (H5Oget_info2(obj, &oi, H5O_INFO_NUM_ATTRS) < 0) return 0;
    for (hsize_t i = 0; i < oi.num_attrs && rc == 0; i++) {
        hid_t a = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0) continue;
        char key[256];
        char *v = NULL;
        if (H5Aget_name(a, sizeof key, key) >= 0) rc = pz_h5_read_string_attr(a, path, &v, err);
        if (v) pz_table_set_attr(t, key, v);
        free(v);
        H5Aclose(a);
    }
    return rc;
}

/* Turn rows holding the dataset's `null_value` into a null mask. */
static int apply_null_attr(hid_t ds, pz_column *c, size_t n)
{
    if (c->type == PZ_F64 || c->type == PZ_F32 || c->type == PZ_STR || H5Aexists(ds, NULL_ATTR) <= 0) return 0;
    hid_t a = H5Aopen(ds, NULL_ATTR, H5P_DEFAULT);
    hid_t mt = mem_type(c->type, c->width);
    char sentinel[8] = {0};
    int rc = a < 0 || H5Aread(a, mt, sentinel) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Tclose(mt);
    if (rc < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (memcmp((char *)c->data + i * c->width, sentinel, c->width) == 0) {
            if (!c->null) c->null = pz_xcalloc(n ? n : 1, 1);
            c->null[i] = 1;
        }
    }
    return 0;
}

/* A compressed dataset may declare any number of rows: its size in the file bounds nothing. */
static int too_big(const char *path, const char *name, size_t rows, size_t width, pz_err *err)
{
    pz_errf(err, "%s: dataset '%s' declares %zu rows of %zu bytes, more memory than this machine can give "
                 "(file corrupt?)", path, name, rows, width);
    return -2;
}

/* Variable-length string dataset (h5py's default for Python str): copied into a fixed-width
 * column as wide as the longest value. */
static int read_vlen_strings(hid_t ds, hid_t fsp, hid_t msp, size_t n, pz_table *t, const char *path, const char *name,
                             hid_t ft, pz_err *err)
{
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        H5Tclose(mt);
        return too_big(path, name, n, sizeof *v, err);
    }
    int rc = n && H5Dread(ds, mt, msp, fsp, H5P_DEFAULT, v) < 0 ? -1 : 0;
    size_t width = 1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (v[i] && strlen(v[i]) > width) width = strlen(v[i]);
    if (rc == 0) {
        pz_column *c = pz_table_add(t, name, PZ_STR, width);
        for (size_t i = 0; i < n; i++)
            if (v[i]) memcpy((char *)c->data + i * width, v[i], strlen(v[i]));
    }
    if (n && rc == 0) H5Dvlen_reclaim(mt, msp, H5P_DEFAULT, v);
    free(v);
    H5Tclose(mt);
    return rc;
}

/* 0 when the file holds the data the dataset declares. A corrupt or hostile dataspace can claim
 * 2^40 rows in a 2 KB file, and the reader would ask for terabytes before HDF5 saw anything
 * wrong (found while fuzzing: pz_xcalloc aborted the stage). Unfiltered data must be stored in
 * full; filtered (compressed) data must at least be stored, since its size in the file says
 * little about its size in memory. */
static int data_in_file(hid_t ds, hid_t ft, hsize_t rows)
{
    size_t elem = H5Tget_size(ft);
    if (rows == 0) return 0;
    if (elem == 0 || rows > (hsize_t)-1 / elem) return -1;
    hsize_t stored = H5Dget_storage_size(ds);
    hid_t dcpl = H5Dget_create_plist(ds);
    int filters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    return stored == 0 || (filters == 0 && stored < rows * elem) ? -1 : 0;
}

/* H5Dopen2 after checking the types HDF5 would copy (h5types.c): -2 when they are corrupt, -1
 * when HDF5 cannot open the dataset; err says which. */
static hid_t open_dataset(hid_t f, const char *path, const char *name, pz_err *err)
{
    char why[204];
    if (pz_h5_check_types(f, name, path, err) < 0) return -2;
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) pz_errf(err, "%s: cannot open dataset '%s' (file corrupt or truncated?)%s", path, name, hdf5_reason(why));
    return ds < 0 ? -1 : ds;
}

/* Rows per H5Dread. HDF5 keeps ~2.5 KB of bookkeeping per chunk a read touches, all at once: a
 * compressed column of 2 M one-row chunks took 1.7 GB to read in one call (found by fuzz_hdf5;
 * tests/fuzz/hdf5/hdf5-tiny-chunks.h5). Reading at most 1024 chunks per call bounds that. */
static size_t rows_per_read(hid_t ds, size_t n)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[H5S_MAX_RANK] = {0};
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) >= 1;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!chunked || chunk[0] == 0 || chunk[0] > n / 1024) return n;
    return (size_t)chunk[0] * 1024;
}

/* Rows [start, start + n) of a column dataset of `rank` 1 or 2 into `out` (`width` bytes a row). */
static int read_in_blocks(hid_t ds, hid_t mt, int rank, size_t start, size_t n, void *out, size_t width)
{
    size_t block = rows_per_read(ds, n);
    hid_t fsp = H5Dget_space(ds);
    int rc = fsp < 0 ? -1 : 0;
    for (size_t done = 0; done < n && rc == 0; done += block) {
        hsize_t off[2] = {start + done, 0}, cnt[2] = {n - done < block ? n - done : block, 1};
        hid_t msp = H5Screate_simple(rank, cnt, NULL);
        if (H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
            H5Dread(ds, mt, msp, fsp, H5P_DEFAULT, (char *)out + done * width) < 0)
            rc = -1;
        H5Sclose(msp);
    }
    if (fsp >= 0) H5Sclose(fsp);
    return rc;
}

/* "(300, 5)": a dataset's shape for messages. */
static void shape_text(hid_t ds, char *buf, size_t size)
{
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    size_t len = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    if (len < size) snprintf(buf + len, size - len, ")");
    H5Sclose(sp);
}

/* The error for two columns of one table with different row counts: never a silent choice of
 * which rows belong together. */
static int unequal_lengths(const char *path, const char *name, hsize_t rows, const char *ref, hsize_t nref,
                           pz_err *err)
{
    return pz_errf(err, "%s: columns of unequal length: '%s' has %llu rows, '%s' has %llu (a table's columns must all "
                        "have the same number of rows)",
                   path, name, (unsigned long long)rows, ref, (unsigned long long)nref);
}

/* `ref` names the column whose row count nfile is, for the unequal-length error. */
static int read_column(hid_t f, const char *path, const char *name, const char *ref, hsize_t nfile, size_t start,
                       size_t n, pz_table *t, pz_err *err)
{
    char why[204];
    hid_t ds = open_dataset(f, path, name, err);
    if (ds < 0) return -1;
    hsize_t rows = 0;
    int rank = column_shape(ds, &rows);
    hid_t ft = H5Dget_type(ds);
    pz_coltype type;
    int rc = 0;
    if (!rank) {
        char shape[96];
        shape_text(ds, shape, sizeof shape);
        rc = pz_errf(err, "%s: dataset '%s' is not a table column: its shape is %s, where a column of one scalar per "
                          "row, shape (N) or (N,1), is expected",
                     path, name, shape);
    } else if (rows != nfile)
        rc = unequal_lengths(path, name, rows, ref, nfile, err);
    else if (column_type_of(ft, &type) < 0)
        rc = pz_errf(err, "%s: dataset '%s' has an unsupported data type", path, name);
    else if (data_in_file(ds, ft, rows) < 0)
        rc = pz_errf(err, "%s: dataset '%s' declares %llu rows of %zu bytes that the file does not hold "
                          "(corrupt, truncated or never written)", path, name, (unsigned long long)rows, H5Tget_size(ft));
    if (rc < 0) {
        H5Tclose(ft);
        H5Dclose(ds);
        return rc;
    }
    hid_t fsp = H5Dget_space(ds);
    hsize_t off[2] = {start, 0}, cnt[2] = {n, 1};
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, off, NULL, cnt, NULL);
    hid_t msp = H5Screate_simple(rank, cnt, NULL);
    if (type == PZ_STR && H5Tis_variable_str(ft) > 0) {
        rc = pz_h5_check_vlen_dataset(ds, msp, fsp, n, path, err) < 0 ? -2 : read_vlen_strings(ds, fsp, msp, n, t, path, name, ft, err);
    } else {
        pz_column *c = pz_table_try_add(t, name, type, type == PZ_STR ? H5Tget_size(ft) : 0);
        if (!c) {
            rc = too_big(path, name, n, type == PZ_STR ? H5Tget_size(ft) : pz_coltype_size(type), err);
            goto done;
        }
        hid_t mt = type == PZ_STR ? H5Tcopy(ft) : mem_type(type, c->width);
        if (n && read_in_blocks(ds, mt, rank, start, n, c->data, c->width) < 0) rc = -1;
        H5Tclose(mt);
        if (rc == 0 && apply_null_attr(ds, c, n) < 0) rc = -1;
        if (rc == 0 && pz_h5_string_attr(ds, UNIT_ATTR, path, &c->unit, err) < 0) rc = -2; /* err says why */
    }
done:
    if (rc == -1) pz_errf(err, "%s: reading dataset '%s' failed (file corrupt or truncated?)%s", path, name, hdf5_reason(why));
    H5Sclose(msp);
    H5Sclose(fsp);
    H5Tclose(ft);
    H5Dclose(ds);
    return rc < 0 ? -1 : 0;
}

/* Rows of the first column-shaped dataset, whose name *ref gets (NULL: none); 0 rows for a file
 * without datasets. */
static int file_rows(hid_t f, const name_list *l, hsize_t *rows, const char **ref)
{
    *rows = 0;
    *ref = NULL;
    for (size_t i = 0; i < l->n; i++) {
        pz_err ignored;
        hid_t ds = open_dataset(f, "", l->names[i], &ignored);
        if (ds < 0) continue; /* a subgroup, or corrupt: the column's own read says which */
        hsize_t r;
        int rank = column_shape(ds, &r);
        H5Dclose(ds);
        if (rank) {
            *rows = r;
            *ref = l->names[i];
            return 0;
        }
    }
    return 0;
}

static int is_dataset(hid_t f, const char *name)
{
    H5O_info_t oi;
    return H5Oget_info_by_name2(f, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 && oi.type == H5O_TYPE_DATASET;
}


/* The root name closest to a missing column, skipping names that are themselves requested:
 * 'g_cmodel_mag' is one edit from 'r_cmodel_mag', but when it is read as itself it is no typo. */
static const char *closest_unwanted(const char *name, const name_list *l, const char *const *wanted, size_t nwanted)
{
    const char **c = pz_xmalloc((l->n ? l->n : 1) * sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        int w = 0;
        for (size_t j = 0; j < nwanted && !w; j++) w = !strcmp(l->names[i], wanted[j]);
        if (!w) c[k++] = l->names[i];
    }
    const char *g = pz_closest_name(name, c, k);
    free(c);
    return g;
}

static int read_table(hid_t f, const char *path, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err)
{
    name_list l = {0};
    if (list_root(f, &l) < 0) {
        free_names(&l);
        return pz_errf(err, "%s: cannot list the root group (file corrupt or truncated?)", path);
    }
    hsize_t nfile;
    const char *ref;
    file_rows(f, &l, &nfile, &ref);
    int rc = 0;
    if (columns) {
        /* Check every requested name first so one error lists all missing columns. */
        char missing[PZ_ERR_MAX / 2] = "";
        size_t len = 0, nmissing = 0;
        for (size_t j = 0; j < ncolumns; j++) {
            if (H5Lexists(f, columns[j], H5P_DEFAULT) > 0 && is_dataset(f, columns[j])) continue;
            nmissing++;
            const char *guess = closest_unwanted(columns[j], &l, columns, ncolumns);
            if (len < sizeof missing - 1 && guess)
                len += snprintf(missing + len, sizeof missing - len, "%s%s (did you mean '%s'?)", len ? ", " : "",
                                columns[j], guess);
            else if (len < sizeof missing - 1)
                len += snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", columns[j]);
        }
        if (nmissing) rc = pz_errf(err, "%s: missing %zu column%s: %s", path, nmissing, nmissing > 1 ? "s" : "", missing);
        else if (ncolumns) {
            hid_t ds = open_dataset(f, path, columns[0], err);
            if (ds < 0) rc = -1;
            else {
                column_shape(ds, &nfile);
                ref = columns[0];
                H5Dclose(ds);
            }
        }
    }
    if (rc == 0 && start > nfile)
        rc = pz_errf(err, "%s: start row %zu beyond the %llu rows", path, start, (unsigned long long)nfile);
    if (rc < 0) {
        free_names(&l);
        return rc;
    }
    size_t n = count == (size_t)-1 || start + count > nfile ? (size_t)nfile - start : count;
    pz_table *t = pz_table_new(n);
    if (columns) {
        for (size_t j = 0; j < ncolumns && rc == 0; j++) rc = read_column(f, path, columns[j], ref, nfile, start, n, t, err);
    } else {
        for (size_t i = 0; i < l.n && rc == 0; i++) {
            H5O_info_t oi;
            if (H5Oget_info_by_name2(f, l.names[i], &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
                char why[204];
                rc = pz_errf(err, "%s: cannot read object '%s' (file corrupt or truncated?)%s", path, l.names[i],
                             hdf5_reason(why));
                break;
            }
            if (oi.type != H5O_TYPE_DATASET) continue; /* subgroups are not columns */
            hid_t ds = open_dataset(f, path, l.names[i], err);
            if (ds < 0) {
                rc = -1;
                break;
            }
            hsize_t r;
            int col = column_shape(ds, &r) != 0; /* a column of another length is an error below */
            hid_t ft = H5Dget_type(ds);
            pz_coltype type;
            col = col && column_type_of(ft, &type) == 0;
            H5Tclose(ft);
            H5Dclose(ds);
            if (col) rc = read_column(f, path, l.names[i], ref, nfile, start, n, t, err);
        }
    }
    if (rc == 0) rc = read_attrs(f, path, t, err);
    free_names(&l);
    if (rc < 0) {
        pz_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int pz_table_read_hdf5(const char *path, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                       pz_table **out, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    pz_crash_note_reading(path, "HDF5");
    hid_t f = open_file(path, err);
    int rc = f < 0 ? -1 : read_table(f, path, columns, ncolumns, start, count, out, err);
    if (f >= 0) H5Fclose(f);
    pz_crash_note_done();
    pz_h5_quiet_end(&q);
    return rc;
}

long pz_hdf5_nrows(const char *path, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    pz_crash_note_reading(path, "HDF5");
    hid_t f = open_file(path, err);
    long rows = -1;
    if (f >= 0) {
        name_list l = {0};
        hsize_t r = 0;
        const char *ref;
        if (list_root(f, &l) < 0)
            pz_errf(err, "%s: cannot list the root group (file corrupt or truncated?)", path);
        else if (file_rows(f, &l, &r, &ref) == 0)
            rows = (long)r;
        free_names(&l);
        H5Fclose(f);
    }
    pz_crash_note_done();
    pz_h5_quiet_end(&q);
    return rows;
}

int pz_table_info_hdf5(const char *path, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    pz_crash_note_reading(path, "HDF5");
    hid_t f = open_file(path, err);
    int rc = f < 0 ? -1 : 0;
    name_list l = {0};
    if (rc == 0 && list_root(f, &l) < 0)
        rc = pz_errf(err, "%s: cannot list the root group (file corrupt or truncated?)", path);
    hsize_t rows = 0;
    const char *ref = NULL;
    if (rc == 0) file_rows(f, &l, &rows, &ref);
    pz_colinfo *info = pz_xcalloc(l.n + 1, sizeof *info);
    size_t n = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (!is_dataset(f, l.names[i])) continue;
        hid_t ds = open_dataset(f, path, l.names[i], err);
        if (ds == -2) rc = -1; /* HDF5 would crash on it: say so rather than skip it */
        if (ds < 0) continue;
        hsize_t r;
        hid_t ft = H5Dget_type(ds);
        pz_coltype type;
        int col = column_shape(ds, &r) != 0 && column_type_of(ft, &type) == 0;
        if (col && r != rows) rc = unequal_lengths(path, l.names[i], r, ref, rows, err);
        else if (col) {
            info[n].name = pz_xstrdup(l.names[i]);
            info[n].type = type;
            /* variable-length strings: width unknown until read */
            info[n].width = type == PZ_STR ? (H5Tis_variable_str(ft) > 0 ? 0 : H5Tget_size(ft)) : pz_coltype_size(type);
            n++;
        }
        H5Tclose(ft);
        H5Dclose(ds);
    }
    free_names(&l);
    if (f >= 0) H5Fclose(f);
    pz_crash_note_done();
    pz_h5_quiet_end(&q);
    if (rc < 0) {
        pz_colinfo_free(info, n);
        return -1;
    }
    *cols = info, *ncols = n, *nrows = (long)rows;
    return 0;
}
