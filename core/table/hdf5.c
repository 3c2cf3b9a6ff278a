/* Reading tables from HDF5: the entry points of the back end, and tables stored as a group of
 * 1-D datasets (GalaxiesML style: one dataset per column, first axis = row; string columns
 * fixed-length byte strings of shape (N,1) or (N); booleans the int8 enum h5py writes; units in
 * a `unit` attribute; table attributes as string attributes of the group). Compound tables
 * (astropy's layout) are read in h5compound.c, the place of a table in a file is found in
 * h5place.c, and every writer is in h5write.c.
 *
 * HDF5 prints its error stack to stderr by default; every entry point switches that off for its
 * duration and turns failures into one pz_err line naming the file, place and dataset. */
#include "table/backends.h"
#include "table/h5table.h"
#include "table/h5util.h"
#include "table/table.h"
#include "util/crashnote.h"
#include "util/suggest.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Integer columns with a null mask written by pzflow before astropy's layout (and by the
 * GalaxiesML mock) hold this attribute: the sentinel stored in the missing rows. */
#define NULL_ATTR "null_value"
#define UNIT_ATTR "unit"

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(data, 200, "%s", e->desc);
    return 0;
}

const char *pz_h5_reason(char buf[204])
{
    char desc[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, desc);
    snprintf(buf, 204, "%s%s", desc[0] ? ": " : "", desc);
    return buf;
}

/* --- types ------------------------------------------------------------------------------- */

/* numpy bool as h5py stores it: enum of int8 {FALSE=0, TRUE=1}. */
hid_t pz_h5_bool_type(hid_t base)
{
    hid_t e = H5Tenum_create(base);
    int8_t v = 0;
    H5Tenum_insert(e, "FALSE", &v);
    v = 1;
    H5Tenum_insert(e, "TRUE", &v);
    return e;
}

hid_t pz_h5_mem_type(pz_coltype t, size_t width)
{
    switch (t) {
    case PZ_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case PZ_F32: return H5Tcopy(H5T_NATIVE_FLOAT);
    case PZ_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case PZ_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case PZ_I16: return H5Tcopy(H5T_NATIVE_INT16);
    case PZ_U8: return H5Tcopy(H5T_NATIVE_UINT8);
    case PZ_BOOL: return pz_h5_bool_type(H5T_NATIVE_INT8);
    case PZ_STR: {
        hid_t s = H5Tcopy(H5T_C_S1);
        H5Tset_size(s, width ? width : 1);
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

int pz_h5_column_type(hid_t ft, pz_coltype *out)
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

/* --- checks shared by both layouts ------------------------------------------------------- */

int pz_h5_too_big(const char *where, const char *name, size_t rows, size_t width, pz_err *err)
{
    pz_errf(err, "%s: dataset '%s' declares %zu rows of %zu bytes, more memory than this machine can give "
                 "(file corrupt?)", where, name, rows, width);
    return -2;
}

/* A corrupt or hostile dataspace can claim 2^40 rows in a 2 KB file, and the reader would ask
 * for terabytes before HDF5 saw anything wrong (found while fuzzing: pz_xcalloc aborted the
 * stage). Unfiltered data must be stored in full; filtered (compressed) data must at least be
 * stored, since its size in the file says little about its size in memory. Chunked data may be
 * stored partly (chunks never written read as the fill value), so it must hold at least one
 * byte per chunk it claims. */
int pz_h5_data_in_file(hid_t ds, hid_t ft, hsize_t rows)
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

hid_t pz_h5_open_dataset(hid_t g, const char *where, const char *name, pz_err *err)
{
    char why[204];
    if (pz_h5_check_types(g, name, where, err) < 0) return -2;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) pz_errf(err, "%s: cannot open dataset '%s' (file corrupt or truncated?)%s", where, name, pz_h5_reason(why));
    return ds < 0 ? -1 : ds;
}

/* Rows per H5Dread. HDF5 keeps ~2.5 KB of bookkeeping per chunk a read touches, all at once: a
 * compressed column of 2 M one-row chunks took 1.7 GB to read in one call (found by fuzz_hdf5;
 * tests/fuzz/hdf5/hdf5-tiny-chunks.h5). Reading at most 1024 chunks per call bounds that. */
size_t pz_h5_rows_per_read(hid_t ds, size_t n)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[H5S_MAX_RANK] = {0};
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) >= 1;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!chunked || chunk[0] == 0 || chunk[0] > n / 1024) return n;
    return (size_t)chunk[0] * 1024;
}

int pz_h5_read_attrs(hid_t obj, const char *where, pz_table *t, pz_err *err)
{
    H5O_info_t oi;
    int rc = 0;
    if (H5Oget_info2(obj, &oi, H5O_INFO_NUM_ATTRS) < 0) return 0;
    for (hsize_t i = 0; i < oi.num_attrs && rc == 0; i++) {
        hid_t a = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0) continue;
        char key[256];
        char *v = NULL;
        if (H5Aget_name(a, sizeof key, key) >= 0) rc = pz_h5_read_string_attr(a, where, &v, err);
        if (v && strcmp(key, UNIT_ATTR) && strcmp(key, NULL_ATTR)) pz_table_set_attr(t, key, v);
        free(v);
        H5Aclose(a);
    }
    return rc;
}

/* The name closest to a missing column, skipping names that are themselves requested:
 * 'g_cmodel_mag' is one edit from 'r_cmodel_mag', but when it is read as itself it is no typo. */
static const char *closest_unwanted(const char *name, const char *const *have, size_t nhave, const char *const *wanted,
                                    size_t nwanted)
{
    const char **c = pz_xmalloc((nhave ? nhave : 1) * sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < nhave; i++) {
        int w = 0;
        for (size_t j = 0; j < nwanted && !w; j++) w = !strcmp(have[i], wanted[j]);
        if (!w) c[k++] = have[i];
    }
    const char *g = pz_closest_name(name, c, k);
    free(c);
    return g;
}

void pz_h5_missing_text(const char *const *wanted, const long *found, size_t nwanted, const char *const *have,
                        size_t nhave, char *buf, size_t size)
{
    size_t len = 0, nmissing = 0;
    for (size_t j = 0; j < nwanted; j++) nmissing += found[j] < 0;
    len = (size_t)snprintf(buf, size, "missing %zu column%s: ", nmissing, nmissing > 1 ? "s" : "");
    int first = 1;
    for (size_t j = 0; j < nwanted && len < size; j++) {
        if (found[j] >= 0) continue;
        const char *guess = found[j] == -2 ? NULL : closest_unwanted(wanted[j], have, nhave, wanted, nwanted);
        len += (size_t)snprintf(buf + len, size - len, "%s%s", first ? "" : ", ", wanted[j]);
        if (len < size && guess) len += (size_t)snprintf(buf + len, size - len, " (did you mean '%s'?)", guess);
        if (len < size && found[j] == -2)
            len += (size_t)snprintf(buf + len, size - len, " (several columns match it but for case)");
        first = 0;
    }
}

/* --- group tables ------------------------------------------------------------------------ */

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

/* Turn rows holding the dataset's `null_value` into a null mask. */
static int apply_null_attr(hid_t ds, pz_column *c, size_t n)
{
    if (c->type == PZ_F64 || c->type == PZ_F32 || c->type == PZ_STR || H5Aexists(ds, NULL_ATTR) <= 0) return 0;
    hid_t a = H5Aopen(ds, NULL_ATTR, H5P_DEFAULT);
    hid_t mt = pz_h5_mem_type(c->type, c->width);
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

/* Variable-length string dataset (h5py's default for Python str): copied into a fixed-width
 * column as wide as the longest value. */
static int read_vlen_strings(hid_t ds, hid_t fsp, hid_t msp, size_t n, pz_table *t, const char *where,
                             const char *name, const char *as, hid_t ft, pz_err *err)
{
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        H5Tclose(mt);
        return pz_h5_too_big(where, name, n, sizeof *v, err);
    }
    int rc = n && H5Dread(ds, mt, msp, fsp, H5P_DEFAULT, v) < 0 ? -1 : 0;
    size_t width = 1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (v[i] && strlen(v[i]) > width) width = strlen(v[i]);
    if (rc == 0) {
        pz_column *c = pz_table_add(t, as, PZ_STR, width);
        for (size_t i = 0; i < n; i++)
            if (v[i]) memcpy((char *)c->data + i * width, v[i], strlen(v[i]));
    }
    if (n && rc == 0) H5Dvlen_reclaim(mt, msp, H5P_DEFAULT, v);
    free(v);
    H5Tclose(mt);
    return rc;
}

/* Rows [start, start + n) of a column dataset of `rank` 1 or 2 into `out` (`width` bytes a row). */
static int read_in_blocks(hid_t ds, hid_t mt, int rank, size_t start, size_t n, void *out, size_t width)
{
    size_t block = pz_h5_rows_per_read(ds, n);
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
static int unequal_lengths(const char *where, const char *name, hsize_t rows, const char *ref, hsize_t nref,
                           pz_err *err)
{
    return pz_errf(err, "%s: columns of unequal length: '%s' has %llu rows, '%s' has %llu (a table's columns must all "
                        "have the same number of rows)",
                   where, name, (unsigned long long)rows, ref, (unsigned long long)nref);
}

/* Dataset `name` of g as column `as`; `ref` names the column whose row count nfile is. */
static int read_column(hid_t g, const char *where, const char *name, const char *as, const char *ref, hsize_t nfile,
                       size_t start, size_t n, pz_table *t, pz_err *err)
{
    char why[204];
    hid_t ds = pz_h5_open_dataset(g, where, name, err);
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
                     where, name, shape);
    } else if (rows != nfile)
        rc = unequal_lengths(where, name, rows, ref, nfile, err);
    else if (pz_h5_column_type(ft, &type) < 0)
        rc = pz_errf(err, "%s: dataset '%s' has an unsupported data type", where, name);
    else if (pz_h5_data_in_file(ds, ft, rows) < 0)
        rc = pz_errf(err, "%s: dataset '%s' declares %llu rows of %zu bytes that the file does not hold "
                          "(corrupt, truncated or never written)", where, name, (unsigned long long)rows, H5Tget_size(ft));
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
        rc = pz_h5_check_vlen_dataset(ds, msp, fsp, n, where, err) < 0
                 ? -2
                 : read_vlen_strings(ds, fsp, msp, n, t, where, name, as, ft, err);
    } else {
        pz_column *c = pz_table_try_add(t, as, type, type == PZ_STR ? H5Tget_size(ft) : 0);
        if (!c) {
            rc = pz_h5_too_big(where, name, n, type == PZ_STR ? H5Tget_size(ft) : pz_coltype_size(type), err);
            goto done;
        }
        hid_t mt = type == PZ_STR ? H5Tcopy(ft) : pz_h5_mem_type(type, c->width);
        if (n && read_in_blocks(ds, mt, rank, start, n, c->data, c->width) < 0) rc = -1;
        H5Tclose(mt);
        if (rc == 0 && apply_null_attr(ds, c, n) < 0) rc = -1;
        if (rc == 0 && pz_h5_string_attr(ds, UNIT_ATTR, where, &c->unit, err) < 0) rc = -2; /* err says why */
    }
done:
    if (rc == -1) pz_errf(err, "%s: reading dataset '%s' failed (file corrupt or truncated?)%s", where, name, pz_h5_reason(why));
    H5Sclose(msp);
    H5Sclose(fsp);
    H5Tclose(ft);
    H5Dclose(ds);
    return rc < 0 ? -1 : 0;
}

/* A group's column datasets: 1-D/(N,1) datasets of a column type, astropy headers excluded;
 * `bad` gets -1 with err set when one is corrupt in a way HDF5 would crash on. */
typedef struct {
    pz_h5_names all;   /* every link, for "did you mean" */
    char **names;      /* the columns, in file order */
    hsize_t *rows;
    size_t n;
} group_columns;

static void free_columns(group_columns *gc)
{
    pz_h5_free_names(&gc->all);
    for (size_t i = 0; i < gc->n; i++) free(gc->names[i]);
    free(gc->names);
    free(gc->rows);
}

/* `open`: open every dataset to keep only columns (all-columns reads; a corrupt one is an
 * error). Otherwise only names are listed, so a corrupt dataset not asked for stays unopened. */
static int list_columns(hid_t g, const char *where, int open, group_columns *gc, pz_err *err)
{
    memset(gc, 0, sizeof *gc);
    if (pz_h5_list_links(g, &gc->all) < 0)
        return pz_errf(err, "%s: cannot list the group (file corrupt or truncated?)", where);
    gc->names = pz_xcalloc(gc->all.n + 1, sizeof *gc->names);
    gc->rows = pz_xcalloc(gc->all.n + 1, sizeof *gc->rows);
    for (size_t i = 0; i < gc->all.n && !open; i++)
        if (!pz_h5_is_meta_name(gc->all.names[i])) gc->names[gc->n++] = pz_xstrdup(gc->all.names[i]);
    for (size_t i = 0; i < gc->all.n && open; i++) {
        const char *name = gc->all.names[i];
        H5O_info_t oi;
        if (pz_h5_is_meta_name(name)) continue;
        if (H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
            char why[204];
            return pz_errf(err, "%s: cannot read object '%s' (file corrupt or truncated?)%s", where, name, pz_h5_reason(why));
        }
        if (oi.type != H5O_TYPE_DATASET) continue; /* subgroups are not columns */
        hid_t ds = pz_h5_open_dataset(g, where, name, err);
        if (ds < 0) return -1;
        hsize_t r = 0;
        hid_t ft = H5Dget_type(ds);
        pz_coltype type;
        int col = column_shape(ds, &r) != 0 && pz_h5_column_type(ft, &type) == 0;
        H5Tclose(ft);
        H5Dclose(ds);
        if (!col) continue; /* images and other arrays: only read when named (an error then) */
        gc->names[gc->n] = pz_xstrdup(name);
        gc->rows[gc->n++] = r;
    }
    return 0;
}

/* Which dataset each requested name is; err lists every missing one at once. */
static int resolve_columns(const group_columns *gc, hid_t g, const char *where, const char *const *columns,
                           size_t ncolumns, const char **actual, pz_err *err)
{
    long *found = pz_xcalloc(ncolumns + 1, sizeof *found);
    size_t nmissing = 0;
    for (size_t j = 0; j < ncolumns; j++) {
        /* any dataset may be named (an image is then an error naming its shape) */
        found[j] = strchr(columns[j], '/') ? -1 : pz_match_name((const char *const *)gc->all.names, gc->all.n, columns[j]);
        H5O_info_t oi;
        if (found[j] >= 0 && (H5Oget_info_by_name2(g, gc->all.names[found[j]], &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
                              oi.type != H5O_TYPE_DATASET || pz_h5_is_meta_name(gc->all.names[found[j]])))
            found[j] = -1;
        if (found[j] >= 0) actual[j] = gc->all.names[found[j]];
        nmissing += found[j] < 0;
    }
    int rc = 0;
    if (nmissing) {
        char text[PZ_ERR_MAX / 2];
        char there[PZ_ERR_MAX / 2];
        pz_h5_missing_text(columns, found, ncolumns, (const char *const *)gc->names, gc->n, text, sizeof text);
        pz_h5_describe_group(g, there, sizeof there);
        rc = pz_errf(err, "%s: %s; the group holds %s", where, text, there);
    }
    free(found);
    return rc;
}

static int group_read(const pz_h5_place *p, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                      pz_table **out, pz_err *err)
{
    group_columns gc;
    const char **actual = pz_xcalloc(ncolumns + 1, sizeof *actual);
    int rc = list_columns(p->group, p->where, !columns, &gc, err);
    hsize_t nfile = gc.n ? gc.rows[0] : 0;
    const char *ref = gc.n ? gc.names[0] : NULL;
    if (rc == 0 && columns) rc = resolve_columns(&gc, p->group, p->where, columns, ncolumns, actual, err);
    if (rc == 0 && columns && ncolumns) {
        /* the first requested dataset sets the row count (it may be outside gc: an image) */
        hid_t ds = pz_h5_open_dataset(p->group, p->where, actual[0], err);
        if (ds < 0) rc = -1;
        else {
            column_shape(ds, &nfile);
            ref = actual[0];
            H5Dclose(ds);
        }
    }
    if (rc == 0 && start > nfile)
        rc = pz_errf(err, "%s: start row %zu beyond the %llu rows", p->where, start, (unsigned long long)nfile);
    pz_table *t = NULL;
    if (rc == 0) {
        size_t n = count == (size_t)-1 || start + count > nfile ? (size_t)nfile - start : count;
        t = pz_table_new(n);
        if (columns)
            for (size_t j = 0; j < ncolumns && rc == 0; j++)
                rc = read_column(p->group, p->where, actual[j], columns[j], ref, nfile, start, n, t, err);
        else
            for (size_t i = 0; i < gc.n && rc == 0; i++)
                rc = read_column(p->group, p->where, gc.names[i], gc.names[i], ref, nfile, start, n, t, err);
    }
    if (rc == 0) rc = pz_h5_read_attrs(p->group, p->where, t, err);
    free(actual);
    free_columns(&gc);
    if (rc < 0) {
        pz_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

static int group_info(const pz_h5_place *p, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    group_columns gc;
    int rc = list_columns(p->group, p->where, 1, &gc, err);
    pz_colinfo *info = pz_xcalloc(gc.n + 1, sizeof *info);
    size_t n = 0;
    for (size_t i = 0; i < gc.n && rc == 0; i++) {
        if (gc.rows[i] != gc.rows[0]) {
            rc = unequal_lengths(p->where, gc.names[i], gc.rows[i], gc.names[0], gc.rows[0], err);
            break;
        }
        hid_t ds = pz_h5_open_dataset(p->group, p->where, gc.names[i], err);
        if (ds < 0) {
            rc = -1;
            break;
        }
        hid_t ft = H5Dget_type(ds);
        pz_coltype type;
        pz_h5_column_type(ft, &type);
        info[n].name = pz_xstrdup(gc.names[i]);
        info[n].type = type;
        /* variable-length strings: width unknown until read */
        info[n].width = type == PZ_STR ? (H5Tis_variable_str(ft) > 0 ? 0 : H5Tget_size(ft)) : pz_coltype_size(type);
        n++;
        H5Tclose(ft);
        H5Dclose(ds);
    }
    long rows = gc.n ? (long)gc.rows[0] : 0;
    free_columns(&gc);
    if (rc < 0) {
        pz_colinfo_free(info, n);
        return -1;
    }
    *cols = info, *ncols = n, *nrows = rows;
    return 0;
}

/* --- entry points ------------------------------------------------------------------------ */

/* Every entry point: HDF5 quiet, the crash note naming the file, the place opened and closed. */
typedef struct {
    pz_h5_quiet q;
    pz_h5_place p;
} session;

static int session_open(session *s, const char *path, const char *loc, pz_err *err)
{
    pz_h5_quiet_begin(&s->q);
    pz_crash_note_reading(path, "HDF5");
    return pz_h5_place_open(path, loc, &s->p, err);
}

static void session_close(session *s)
{
    pz_h5_place_close(&s->p);
    pz_crash_note_done();
    pz_h5_quiet_end(&s->q);
}

int pz_hdf5_read_at(const char *path, const char *loc, const char *const *columns, size_t ncolumns, size_t start,
                    size_t count, pz_table **out, pz_err *err)
{
    session s;
    int rc = session_open(&s, path, loc, err);
    if (rc == 0)
        rc = s.p.dset >= 0 ? pz_h5_compound_read(&s.p, columns, ncolumns, start, count, out, err)
                           : group_read(&s.p, columns, ncolumns, start, count, out, err);
    session_close(&s);
    return rc;
}

int pz_hdf5_info_at(const char *path, const char *loc, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    session s;
    int rc = session_open(&s, path, loc, err);
    if (rc == 0)
        rc = s.p.dset >= 0 ? pz_h5_compound_info(&s.p, cols, ncols, nrows, err) : group_info(&s.p, cols, ncols, nrows, err);
    session_close(&s);
    return rc;
}

int pz_table_read_hdf5(const char *path, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                       pz_table **out, pz_err *err)
{
    return pz_hdf5_read_at(path, NULL, columns, ncolumns, start, count, out, err);
}

int pz_table_info_hdf5(const char *path, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    return pz_hdf5_info_at(path, NULL, cols, ncols, nrows, err);
}

long pz_hdf5_nrows(const char *path, pz_err *err)
{
    pz_colinfo *cols = NULL;
    size_t n = 0;
    long rows = -1;
    if (pz_hdf5_info_at(path, NULL, &cols, &n, &rows, err) < 0) return -1;
    pz_colinfo_free(cols, n);
    return rows;
}
