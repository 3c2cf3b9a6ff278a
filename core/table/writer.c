/* One writer per format behind one interface: a table (or a stream of chunks) goes to FITS,
 * HDF5, CSV or ECSV, chosen by the caller (usually from the file name, pz_format_from_name). */
#include "table/backends.h"

#include <stdlib.h>
#include <string.h>

struct pz_table_writer {
    pz_format fmt;
    char *path;
    pz_table *proto;       /* columns the chunks must match */
    int failed;
    pz_fits_writer *fits;
    pz_hdf5_writer *hdf5;
    pz_csv_writer *csv;
};

pz_table_writer *pz_table_writer_open(const char *path, pz_format fmt, const pz_table *proto, pz_err *err)
{
    pz_table_writer *w = pz_xcalloc(1, sizeof *w);
    w->fmt = fmt;
    w->path = pz_xstrdup(path);
    w->proto = pz_table_take(proto, NULL, 0);
    int ok = 0;
    switch (fmt) {
    case PZ_FMT_FITS: ok = (w->fits = pz_fits_writer_open(path, proto, err)) != NULL; break;
    case PZ_FMT_HDF5: ok = (w->hdf5 = pz_hdf5_writer_open(path, proto, err)) != NULL; break;
    case PZ_FMT_CSV: case PZ_FMT_ECSV: ok = (w->csv = pz_csv_writer_open(path, fmt, proto, err)) != NULL; break;
    }
    if (!ok) {
        pz_table_free(w->proto);
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

/* A chunk whose columns are not the prototype's would write misaligned rows. */
static int check_chunk(const pz_table_writer *w, const pz_table *chunk, pz_err *err)
{
    if (chunk->ncols != w->proto->ncols)
        return pz_errf(err, "%s: a chunk of %zu columns appended to a table of %zu", w->path, chunk->ncols,
                       w->proto->ncols);
    for (size_t j = 0; j < chunk->ncols; j++) {
        const pz_column *a = &w->proto->cols[j], *b = &chunk->cols[j];
        if (strcmp(a->name, b->name) || a->type != b->type || (a->type == PZ_STR && a->width != b->width))
            return pz_errf(err, "%s: chunk column %zu is '%s' (%s), the table's is '%s' (%s)", w->path, j + 1, b->name,
                           pz_coltype_name(b->type), a->name, pz_coltype_name(a->type));
    }
    return 0;
}

int pz_table_writer_append(pz_table_writer *w, const pz_table *chunk, pz_err *err)
{
    int rc = check_chunk(w, chunk, err);
    if (rc == 0 && chunk->nrows > 0) {
        if (w->fits) rc = pz_fits_writer_append(w->fits, chunk, err);
        else if (w->hdf5) rc = pz_hdf5_writer_append(w->hdf5, chunk, err);
        else rc = pz_csv_writer_append(w->csv, chunk, err);
    }
    if (rc < 0) w->failed = 1;
    return rc;
}

int pz_table_writer_close(pz_table_writer *w, pz_err *err)
{
    if (!w) return 0;
    pz_err mine;
    int rc = w->fits ? pz_fits_writer_close(w->fits, &mine)
             : w->hdf5 ? pz_hdf5_writer_close(w->hdf5, &mine)
                       : pz_csv_writer_close(w->csv, &mine);
    if (rc < 0 && !w->failed) *err = mine;
    else if (w->failed) rc = pz_errf(err, "%s: incomplete: an earlier write to it failed", w->path);
    pz_table_free(w->proto);
    free(w->path);
    free(w);
    return rc;
}

int pz_table_write(const char *path, pz_format fmt, const pz_table *t, pz_err *err)
{
    pz_table_writer *w = pz_table_writer_open(path, fmt, t, err);
    if (!w) return -1;
    int rc = pz_table_writer_append(w, t, err);
    if (rc < 0) {
        pz_err ignore;
        pz_table_writer_close(w, &ignore);
        return -1;
    }
    return pz_table_writer_close(w, err);
}

int pz_stage_table_write(const char *path, const pz_table *t, pz_err *err)
{
    return pz_table_write(path, PZ_STAGE_TABLE_FORMAT, t, err);
}
