/* Interim HDF5 hooks over the root-group reader and one-shot writer, so the format-independent
 * dispatch links before the HDF5 back end (helper `h5`, issue 12) replaces this file: places
 * other than the root are refused, and the streaming writer gathers its chunks and writes once
 * at close. */
#include "table/backends.h"

#include <stdlib.h>
#include <string.h>

static int root_only(const char *path, const char *loc, pz_err *err)
{
    if (!loc || !strcmp(loc, "/")) return 0;
    return pz_errf(err, "%s: reading the HDF5 group or dataset '%s' is not supported yet (only the root group)", path,
                   loc);
}

int pz_hdf5_info_at(const char *path, const char *loc, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    if (root_only(path, loc, err)) return -1;
    return pz_table_info_hdf5(path, cols, ncols, nrows, err);
}

int pz_hdf5_read_at(const char *path, const char *loc, const char *const *columns, size_t ncolumns, size_t start,
                    size_t count, pz_table **out, pz_err *err)
{
    if (root_only(path, loc, err)) return -1;
    return pz_table_read_hdf5(path, columns, ncolumns, start, count, out, err);
}

struct pz_hdf5_writer {
    char *path;
    pz_table *all;
};

pz_hdf5_writer *pz_hdf5_writer_open(const char *path, const pz_table *proto, pz_err *err)
{
    (void)err;
    pz_hdf5_writer *w = pz_xcalloc(1, sizeof *w);
    w->path = pz_xstrdup(path);
    w->all = pz_table_take(proto, NULL, 0);
    return w;
}

int pz_hdf5_writer_append(pz_hdf5_writer *w, const pz_table *chunk, pz_err *err)
{
    pz_table *two[2] = {w->all, (pz_table *)chunk};
    pz_table *joined = pz_table_concat(two, 2, err);
    if (!joined) return -1;
    pz_table_free(w->all);
    w->all = joined;
    return 0;
}

int pz_hdf5_writer_close(pz_hdf5_writer *w, pz_err *err)
{
    if (!w) return 0;
    int rc = pz_table_write_hdf5(w->path, w->all, err);
    pz_table_free(w->all);
    free(w->path);
    free(w);
    return rc;
}
