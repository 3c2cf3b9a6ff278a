/* Where a table is in an HDF5 file (h5table.h): "cat.h5" (the root group's 1-D datasets, or the
 * root's only compound dataset), "cat.h5:/photometry" (a group of 1-D datasets, or, when it has
 * none, its only compound dataset), "cat.h5:/photometry/table" (a compound dataset: astropy's,
 * h5py's or PyTables'/pandas' table layout).
 *
 * Every object on the way is checked before HDF5 decodes it (h5types.c: headers HDF5 1.10.8
 * would crash on; h5links.c: external links and storage), so the hostile-input checks hold at
 * any depth, not only in the root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "table/h5links.h"
#include "table/h5table.h"
#include "table/h5util.h"
#include "util/suggest.h"

int pz_h5_is_meta_name(const char *name)
{
    size_t n = strlen(name), k = strlen(PZ_H5_META_SUFFIX);
    return n >= k && !strcmp(name + n - k, PZ_H5_META_SUFFIX);
}

/* Open a file, with a clear message for a missing, foreign or truncated one. */
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
    if (f < 0) {
        char why[204];
        const char *reason = pz_h5_reason(why); /* ": desc" or "" */
        if (reason[0]) pz_errf(err, "%s: not an HDF5 file or truncated (%s)", path, reason + 2);
        else pz_errf(err, "%s: not an HDF5 file or truncated", path);
        return -1;
    }
    if (pz_h5_check_types(f, ".", path, err) < 0) { /* before any name is looked up */
        H5Fclose(f);
        return -1;
    }
    return f;
}

/* ---- what a group holds ------------------------------------------------------------------- */

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    pz_h5_names *l = data;
    l->names = pz_xrealloc(l->names, (l->n + 1) * sizeof *l->names);
    l->names[l->n++] = pz_xstrdup(name);
    return 0;
}

/* Link names of g in creation order when the file tracks it (pzflow's do), else by name. */
int pz_h5_list_links(hid_t g, pz_h5_names *l)
{
    hid_t gcpl = H5Gget_create_plist(g);
    unsigned flags = 0;
    if (gcpl >= 0) {
        H5Pget_link_creation_order(gcpl, &flags);
        H5Pclose(gcpl);
    }
    H5_index_t idx = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    hsize_t pos = 0;
    return H5Literate(g, idx, H5_ITER_INC, &pos, collect_name, l) < 0 ? -1 : 0;
}

void pz_h5_free_names(pz_h5_names *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

enum { OBJ_OTHER, OBJ_GROUP, OBJ_COLUMN, OBJ_TABLE, OBJ_ARRAY };

/* A dataset is a table (compound of one record per row) when its shape is (N) or (N,1). */
static int table_shape(hid_t ds, hsize_t *rows)
{
    hid_t sp = H5Dget_space(ds);
    hsize_t dims[H5S_MAX_RANK];
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, dims, NULL);
    if (sp >= 0) H5Sclose(sp);
    if (rank >= 1 && rows) *rows = dims[0];
    return rank == 1 || (rank == 2 && dims[1] == 1);
}

/* What object `name` of g is, checked first (never opened when HDF5 would crash on it). */
static int object_kind(hid_t g, const char *name)
{
    pz_err ignored;
    H5O_info_t oi;
    if (pz_h5_check_types(g, name, "", &ignored) < 0 || H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return OBJ_OTHER;
    if (oi.type == H5O_TYPE_GROUP) return OBJ_GROUP;
    if (oi.type != H5O_TYPE_DATASET) return OBJ_OTHER;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) return OBJ_OTHER;
    hid_t ft = H5Dget_type(ds);
    pz_coltype type;
    int shape = table_shape(ds, NULL), kind = OBJ_ARRAY;
    if (shape && H5Tget_class(ft) == H5T_COMPOUND) kind = OBJ_TABLE;
    else if (shape && pz_h5_column_type(ft, &type) == 0 && !pz_h5_is_meta_name(name)) kind = OBJ_COLUMN;
    H5Tclose(ft);
    H5Dclose(ds);
    return kind;
}

static void append(char *buf, size_t size, size_t *len, const char *fmt, const char *s)
{
    if (*len < size) *len += (size_t)snprintf(buf + *len, size - *len, fmt, s);
}

void pz_h5_describe_group(hid_t g, char *buf, size_t size)
{
    pz_h5_names l = {0};
    size_t len = 0;
    buf[0] = 0;
    pz_h5_list_links(g, &l);
    int any = 0;
    static const struct { int kind; const char *label; } kinds[] = {
        {OBJ_GROUP, "groups"}, {OBJ_TABLE, "tables (compound datasets)"}, {OBJ_COLUMN, "1-D datasets"},
        {OBJ_ARRAY, "other datasets"}};
    int *kind = pz_xmalloc((l.n ? l.n : 1) * sizeof *kind);
    for (size_t i = 0; i < l.n; i++) kind[i] = object_kind(g, l.names[i]);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        size_t shown = 0, count = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (kind[i] != kinds[k].kind) continue;
            if (count++ == 0) {
                append(buf, size, &len, any ? "; %s: " : "%s: ", kinds[k].label);
                any = 1;
            }
            if (shown < 12) append(buf, size, &len, shown++ ? ", %s" : "%s", l.names[i]);
        }
        if (count > shown) {
            char more[32];
            snprintf(more, sizeof more, "%zu more", count - shown);
            append(buf, size, &len, ", ... (%s)", more);
        }
    }
    if (!any) snprintf(buf, size, "nothing");
    free(kind);
    pz_h5_free_names(&l);
}

/* ---- finding the place -------------------------------------------------------------------- */

/* "no group or dataset 'x' in f.h5:/a (did you mean 'y'?); there: groups: ..." */
static int not_found(hid_t g, const char *path, const char *at, const char *name, pz_err *err)
{
    pz_h5_names l = {0};
    pz_h5_list_links(g, &l);
    const char *guess = pz_closest_name(name, (const char *const *)l.names, l.n);
    char there[PZ_ERR_MAX / 2];
    pz_h5_describe_group(g, there, sizeof there);
    int rc = pz_errf(err, "%s: no group or dataset '%s' in %s%s%s%s; %s holds %s", path, name, at[0] ? at : "/",
                     guess ? " (did you mean '" : "", guess ? guess : "", guess ? "'?)" : "", at[0] ? at : "/", there);
    pz_h5_free_names(&l);
    return rc;
}

/* A dataset named as the table: it must be compound. */
static int take_dataset(pz_h5_place *p, hid_t g, const char *name, pz_err *err)
{
    hid_t probe = pz_h5_open_dataset(g, p->where, name, err); /* the checks, then HDF5's open */
    if (probe < 0) return -1;
    H5Dclose(probe);
    /* No chunk cache: a table is read in blocks of whole chunks, each once, straight into the
     * reader's buffer (through a cache every chunk was copied twice: 15x slower). */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
    hid_t ds = H5Dopen2(g, name, dapl);
    H5Pclose(dapl);
    if (ds < 0) return pz_errf(err, "%s: cannot open dataset '%s' (file corrupt or truncated?)", p->where, name);
    hid_t ft = H5Dget_type(ds);
    int compound = H5Tget_class(ft) == H5T_COMPOUND, shape = table_shape(ds, NULL);
    H5Tclose(ft);
    if (!compound || !shape) {
        H5Dclose(ds);
        return pz_errf(err, "%s: a dataset that is not a table: a table is a group of 1-D datasets (name the group) "
                            "or a compound dataset of one record per row",
                       p->where);
    }
    p->dset = ds;
    p->dsname = pz_xstrdup(name);
    return 0;
}

/* The default in a group: its 1-D datasets, or, when it has none, its only compound dataset. */
static int default_table(pz_h5_place *p, pz_err *err)
{
    pz_h5_names l = {0};
    if (pz_h5_list_links(p->group, &l) < 0) {
        pz_h5_free_names(&l);
        return pz_errf(err, "%s: cannot list the group (file corrupt or truncated?)", p->where);
    }
    size_t columns = 0, tables = 0, table = 0;
    for (size_t i = 0; i < l.n; i++) {
        int k = object_kind(p->group, l.names[i]);
        columns += k == OBJ_COLUMN;
        if (k == OBJ_TABLE && tables++ == 0) table = i;
    }
    int rc = 0;
    if (columns == 0 && tables == 1) rc = take_dataset(p, p->group, l.names[table], err);
    else if (columns == 0 && tables > 1) {
        char there[PZ_ERR_MAX / 2];
        pz_h5_describe_group(p->group, there, sizeof there);
        rc = pz_errf(err, "%s: %zu tables and no 1-D datasets here: name the table, e.g. %s%s%s (here: %s)", p->where,
                     tables, p->where, strstr(p->where, ":/") ? "/" : ":/", l.names[table], there);
    }
    pz_h5_free_names(&l);
    return rc;
}

/* Follow one component of the location from the current group. 1: reached a dataset. */
static int step(pz_h5_place *p, const char *path, const char *at, const char *name, int last, pz_err *err)
{
    if (H5Lexists(p->group, name, H5P_DEFAULT) <= 0) return not_found(p->group, path, at, name, err);
    if (pz_h5_check_link(p->group, name, p->where, err) < 0 || pz_h5_check_types(p->group, name, p->where, err) < 0)
        return -1;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(p->group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        char why[204];
        return pz_errf(err, "%s: cannot read object '%s' (file corrupt or truncated?)%s", p->where, name, pz_h5_reason(why));
    }
    if (oi.type == H5O_TYPE_DATASET) {
        if (!last) return pz_errf(err, "%s: '%s' in %s is a dataset, not a group", p->where, name, at[0] ? at : "/");
        return take_dataset(p, p->group, name, err) < 0 ? -1 : 1;
    }
    if (oi.type != H5O_TYPE_GROUP) return pz_errf(err, "%s: '%s' is neither a group nor a dataset", p->where, name);
    hid_t g = H5Gopen2(p->group, name, H5P_DEFAULT);
    if (g < 0) return pz_errf(err, "%s: cannot open group '%s' (file corrupt or truncated?)", p->where, name);
    H5Gclose(p->group);
    p->group = g;
    return 0;
}

/* Walk "/a/b/c" from the root; p->group ends at the last group reached. */
static int walk(pz_h5_place *p, const char *path, const char *loc, pz_err *err)
{
    char *copy = pz_xstrdup(loc), *save = NULL;
    size_t len = strlen(copy);
    char *at = pz_xcalloc(len + 2, 1);
    int rc = 0;
    for (char *c = strtok_r(copy, "/", &save); c && rc == 0; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) continue;
        char *rest = save;
        while (rest && *rest == '/') rest++;
        rc = step(p, path, at, c, !rest || !*rest, err);
        strcat(at, "/");
        strcat(at, c);
    }
    free(at);
    free(copy);
    return rc < 0 ? -1 : rc;
}

int pz_h5_place_open(const char *path, const char *loc, pz_h5_place *p, pz_err *err)
{
    *p = (pz_h5_place){-1, -1, -1, NULL, NULL};
    int root = !loc || !loc[strspn(loc, "/.")];
    p->where = root ? pz_xstrdup(path) : pz_xasprintf("%s:%s%s", path, loc[0] == '/' ? "" : "/", loc);
    p->file = open_file(path, err);
    if (p->file < 0) goto fail;
    p->group = H5Gopen2(p->file, "/", H5P_DEFAULT);
    if (p->group < 0) {
        pz_errf(err, "%s: cannot list the root group (file corrupt or truncated?)", path);
        goto fail;
    }
    int reached = root ? 0 : walk(p, path, loc, err);
    if (reached < 0) goto fail;
    /* Data in other files would not be in the input's hash (h5links.c). */
    if (reached == 0 && pz_h5_check_links(p->group, p->where, err) < 0) goto fail;
    if (reached == 1 && pz_h5_check_link(p->group, p->dsname, p->where, err) < 0) goto fail;
    if (reached == 0 && default_table(p, err) < 0) goto fail;
    return 0;
fail:
    pz_h5_place_close(p);
    return -1;
}

void pz_h5_place_close(pz_h5_place *p)
{
    if (p->dset >= 0) H5Dclose(p->dset);
    if (p->group >= 0) H5Gclose(p->group);
    if (p->file >= 0) H5Fclose(p->file);
    free(p->where);
    free(p->dsname);
    *p = (pz_h5_place){-1, -1, -1, NULL, NULL};
}
