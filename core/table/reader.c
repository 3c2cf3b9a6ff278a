/* The streaming reader: any source, chunk by chunk, in file order. FITS keeps its file open
 * (the header is parsed once); HDF5 reads row ranges; CSV and ECSV go through their own
 * one-pass reader. Memory is one chunk whatever the file's size. */
#include "table/backends.h"

#include <stdlib.h>
#include <string.h>

struct pz_table_reader {
    pz_format fmt;
    pz_source src;
    char **cols;           /* requested columns (NULL = all) */
    size_t ncols;
    long nrows;
    size_t row;            /* next file row */
    pz_fits_reader *fits;
    pz_csv_reader *csv;
};

static char **copy_names(const char *const *names, size_t n)
{
    if (!names) return NULL;
    char **c = pz_xcalloc(n + 1, sizeof *c);
    for (size_t i = 0; i < n; i++) c[i] = pz_xstrdup(names[i]);
    return c;
}

/* HDF5: the row count, and a zero-row read that checks every requested column now. */
static int open_hdf5(pz_table_reader *r, pz_err *err)
{
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    if (pz_hdf5_info_at(r->src.path, r->src.loc, &info, &ninfo, &r->nrows, err) < 0) return -1;
    pz_colinfo_free(info, ninfo);
    pz_table *t = NULL;
    if (pz_hdf5_read_at(r->src.path, r->src.loc, (const char *const *)r->cols, r->ncols, 0, 0, &t, err) < 0) return -1;
    pz_table_free(t);
    return 0;
}

pz_table_reader *pz_table_reader_open(const pz_source *src, const char *const *columns, size_t ncolumns,
                                      pz_err *err)
{
    pz_format fmt;
    if (pz_table_format(src->path, &fmt, err) < 0) return NULL;
    pz_table_reader *r = pz_xcalloc(1, sizeof *r);
    r->fmt = fmt;
    r->src.path = pz_xstrdup(src->path);
    r->src.loc = src->loc ? pz_xstrdup(src->loc) : NULL;
    r->cols = copy_names(columns, ncolumns);
    r->ncols = columns ? ncolumns : 0;
    r->nrows = -1;
    int rc = 0;
    if (fmt == PZ_FMT_FITS) {
        r->fits = pz_fits_reader_open(src->path, src->loc, columns, ncolumns, err);
        if (r->fits) r->nrows = pz_fits_reader_nrows(r->fits);
        else rc = -1;
    } else if (fmt == PZ_FMT_HDF5) {
        rc = open_hdf5(r, err);
    } else if (src->loc) {
        rc = pz_errf(err, "%s: a text table file holds one table; there is no place '%s' inside it", src->path,
                     src->loc);
    } else {
        r->csv = pz_csv_reader_open(src->path, fmt, columns, ncolumns, err);
        pz_colinfo *info = NULL;
        size_t ninfo = 0;
        if (!r->csv || pz_csv_reader_info(r->csv, &info, &ninfo, &r->nrows, err) < 0) rc = -1;
        pz_colinfo_free(info, ninfo);
    }
    if (rc < 0) {
        pz_table_reader_close(r);
        return NULL;
    }
    return r;
}

long pz_table_reader_nrows(const pz_table_reader *r) { return r->nrows; }

int pz_table_reader_next(pz_table_reader *r, size_t maxrows, pz_table **out, pz_err *err)
{
    *out = NULL;
    if (maxrows == 0) maxrows = 1;
    if (r->csv) return pz_csv_reader_next(r->csv, maxrows, out, err);
    if (r->nrows >= 0 && r->row >= (size_t)r->nrows) return 0;
    size_t left = (size_t)r->nrows - r->row, n = maxrows < left ? maxrows : left;
    int rc = r->fits ? pz_fits_reader_read(r->fits, r->row, n, out, err)
                     : pz_hdf5_read_at(r->src.path, r->src.loc, (const char *const *)r->cols, r->ncols, r->row, n,
                                       out, err);
    if (rc == 0) r->row += (*out)->nrows;
    return rc;
}

void pz_table_reader_close(pz_table_reader *r)
{
    if (!r) return;
    pz_fits_reader_close(r->fits);
    pz_csv_reader_close(r->csv);
    for (size_t i = 0; r->cols && i < r->ncols; i++) free(r->cols[i]);
    free(r->cols);
    pz_source_free(&r->src);
    free(r);
}

#define SKIP_CHUNK 65536

int pz_table_reader_skip(pz_table_reader *r, size_t nrows, pz_err *err)
{
    if (!r->csv) {
        r->row += nrows;
        return 0;
    }
    while (nrows > 0) {
        pz_table *t = NULL;
        if (pz_csv_reader_next(r->csv, nrows < SKIP_CHUNK ? nrows : SKIP_CHUNK, &t, err) < 0) return -1;
        if (!t) return 0;
        nrows -= t->nrows;
        pz_table_free(t);
    }
    return 0;
}

int pz_table_reader_take(pz_table_reader *r, size_t count, pz_table **out, pz_err *err)
{
    pz_table **parts = NULL;
    size_t nparts = 0, got = 0;
    int rc = 0;
    while (got < count) {
        pz_table *t = NULL;
        size_t want = count - got < SKIP_CHUNK ? count - got : SKIP_CHUNK;
        if ((rc = pz_table_reader_next(r, want, &t, err)) < 0 || !t) break;
        parts = pz_xrealloc(parts, (nparts + 1) * sizeof *parts);
        parts[nparts++] = t;
        got += t->nrows;
    }
    if (rc == 0 && nparts == 0) { /* past the end: the columns, no rows */
        if (r->csv) rc = pz_csv_reader_next(r->csv, 0, out, err);
        else if (r->fits) rc = pz_fits_reader_read(r->fits, 0, 0, out, err);
        else rc = pz_hdf5_read_at(r->src.path, r->src.loc, (const char *const *)r->cols, r->ncols, 0, 0, out, err);
    } else if (rc == 0) {
        *out = nparts == 1 ? parts[0] : pz_table_concat(parts, nparts, err);
        if (!*out) rc = -1;
        if (nparts == 1) nparts = 0;
    }
    for (size_t i = 0; i < nparts; i++) pz_table_free(parts[i]);
    free(parts);
    return rc;
}
