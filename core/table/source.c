/* Sources: a file and a place inside it ("cat.h5:/photometry", "cat.fits[2]", "cat.fits[PHOT]"),
 * and the format-independent column listing and row reads over the per-format back ends.
 *
 * A spec that names an existing file is taken whole, so a file whose name holds ':' or '[' is
 * never split; otherwise the place is cut off only where the rest names an existing file. */
#include "table/backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static void set_source(pz_source *src, const char *path, size_t pathlen, const char *loc, size_t loclen)
{
    src->path = pz_xmalloc(pathlen + 1);
    memcpy(src->path, path, pathlen);
    src->path[pathlen] = 0;
    src->loc = NULL;
    if (loc) {
        src->loc = pz_xmalloc(loclen + 1);
        memcpy(src->loc, loc, loclen);
        src->loc[loclen] = 0;
    }
}

/* "path[loc]": the bracket form, for any format. */
static int split_bracket(const char *spec, pz_source *src, int need_file)
{
    size_t n = strlen(spec);
    const char *open = strrchr(spec, '[');
    if (n < 2 || spec[n - 1] != ']' || !open || open == spec) return 0;
    size_t pathlen = (size_t)(open - spec);
    char *path = pz_xmalloc(pathlen + 1);
    memcpy(path, spec, pathlen);
    path[pathlen] = 0;
    int ok = !need_file || is_file(path);
    free(path);
    if (ok) set_source(src, spec, pathlen, open + 1, n - pathlen - 2);
    return ok;
}

/* "path:loc": the HDF5 form; the first ':' whose left side is an existing file, else (nothing
 * exists) the first ":/". */
static int split_colon(const char *spec, pz_source *src, int need_file)
{
    for (const char *c = strchr(spec, ':'); c; c = strchr(c + 1, ':')) {
        size_t pathlen = (size_t)(c - spec);
        if (pathlen == 0) continue;
        char *path = pz_xmalloc(pathlen + 1);
        memcpy(path, spec, pathlen);
        path[pathlen] = 0;
        int ok = need_file ? is_file(path) : c[1] == '/';
        free(path);
        if (ok) {
            set_source(src, spec, pathlen, c + 1, strlen(c + 1));
            return 1;
        }
    }
    return 0;
}

int pz_source_parse(const char *spec, pz_source *src, pz_err *err)
{
    src->path = src->loc = NULL;
    if (!spec || !spec[0]) return pz_errf(err, "empty table source (expected a file name, e.g. cat.fits[1] or cat.h5:/group)");
    if (is_file(spec)) {
        set_source(src, spec, strlen(spec), NULL, 0);
        return 0;
    }
    int found = split_bracket(spec, src, 1) || split_colon(spec, src, 1) || split_bracket(spec, src, 0) ||
                split_colon(spec, src, 0);
    if (!found) set_source(src, spec, strlen(spec), NULL, 0);
    if (src->loc && !src->loc[0]) {
        pz_source_free(src);
        return pz_errf(err, "%s: empty place after the file name (write the file name alone for the default table)",
                       spec);
    }
    return 0;
}

void pz_source_free(pz_source *src)
{
    if (!src) return;
    free(src->path);
    free(src->loc);
    src->path = src->loc = NULL;
}

char *pz_source_str(const pz_source *src)
{
    if (!src->loc) return pz_xstrdup(src->path);
    if (src->loc[0] == '/') return pz_xasprintf("%s:%s", src->path, src->loc);
    return pz_xasprintf("%s[%s]", src->path, src->loc);
}

/* A text file has no places: "cat.csv[2]" is a mistake worth naming. */
static int no_place(const pz_source *src, pz_format fmt, pz_err *err)
{
    if (!src->loc) return 0;
    return pz_errf(err, "%s: a%s file holds one table; there is no place '%s' inside it", src->path,
                   fmt == PZ_FMT_CSV ? " CSV" : "n ECSV", src->loc);
}

int pz_table_info_src(const pz_source *src, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    pz_format fmt;
    if (pz_table_format(src->path, &fmt, err) < 0) return -1;
    switch (fmt) {
    case PZ_FMT_FITS: return pz_fits_info_at(src->path, src->loc, cols, ncols, nrows, err);
    case PZ_FMT_HDF5: return pz_hdf5_info_at(src->path, src->loc, cols, ncols, nrows, err);
    case PZ_FMT_CSV: case PZ_FMT_ECSV: break;
    }
    if (no_place(src, fmt, err)) return -1;
    pz_csv_reader *r = pz_csv_reader_open(src->path, fmt, NULL, 0, err);
    if (!r) return -1;
    long rows = -1;
    int rc = pz_csv_reader_info(r, cols, ncols, &rows, err);
    if (rc == 0) *nrows = rows;
    pz_csv_reader_close(r);
    return rc;
}

int pz_table_read_src(const pz_source *src, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err)
{
    pz_format fmt;
    if (pz_table_format(src->path, &fmt, err) < 0) return -1;
    if (fmt == PZ_FMT_FITS) return pz_fits_read_at(src->path, src->loc, columns, ncolumns, start, count, out, err);
    if (fmt == PZ_FMT_HDF5) return pz_hdf5_read_at(src->path, src->loc, columns, ncolumns, start, count, out, err);
    if (no_place(src, fmt, err)) return -1;
    /* Text files are read from the start: skip `start` rows chunk by chunk, keep `count`. */
    pz_table_reader *r = pz_table_reader_open(src, columns, ncolumns, err);
    if (!r) return -1;
    int rc = pz_table_reader_skip(r, start, err);
    if (rc == 0) rc = pz_table_reader_take(r, count, out, err);
    pz_table_reader_close(r);
    return rc;
}

/* The old entry points: an HDU number for FITS (0: the first table HDU), the root group for HDF5. */
static pz_source hdu_source(const char *path, int hdu, pz_format fmt, char *buf, size_t size)
{
    snprintf(buf, size, "%d", hdu);
    pz_source s = {(char *)path, fmt == PZ_FMT_FITS && hdu > 0 ? buf : NULL};
    return s;
}

int pz_table_info_any(const char *path, int hdu, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    pz_format fmt;
    char buf[24];
    if (pz_table_format(path, &fmt, err) < 0) return -1;
    pz_source s = hdu_source(path, hdu, fmt, buf, sizeof buf);
    return pz_table_info_src(&s, cols, ncols, nrows, err);
}

int pz_table_read_any(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err)
{
    pz_format fmt;
    char buf[24];
    if (pz_table_format(path, &fmt, err) < 0) return -1;
    pz_source s = hdu_source(path, hdu, fmt, buf, sizeof buf);
    return pz_table_read_src(&s, columns, ncolumns, start, count, out, err);
}
