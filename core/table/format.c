/* Reading a table without caring whether it is FITS or HDF5: the format is told from the file's
 * first bytes, never its name, so a misnamed file still reads and a text file named .fits gets
 * one clear error. */
#include "table/table.h"

#include <stdio.h>
#include <string.h>

int pz_table_format(const char *path, pz_format *fmt, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pz_errf(err, "%s: cannot open: %m", path);
    char head[9] = {0};
    size_t n = fread(head, 1, 8, f);
    fclose(f);
    if (n >= 6 && memcmp(head, "SIMPLE", 6) == 0) return *fmt = PZ_FMT_FITS, 0;
    if (n >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return *fmt = PZ_FMT_HDF5, 0;
    return pz_errf(err, "%s: neither a FITS nor an HDF5 file", path);
}

int pz_table_info_any(const char *path, int hdu, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err)
{
    pz_format fmt;
    if (pz_table_format(path, &fmt, err) < 0) return -1;
    return fmt == PZ_FMT_FITS ? pz_table_info_fits(path, hdu, cols, ncols, nrows, err)
                              : pz_table_info_hdf5(path, cols, ncols, nrows, err);
}

int pz_table_read_any(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err)
{
    pz_format fmt;
    if (pz_table_format(path, &fmt, err) < 0) return -1;
    return fmt == PZ_FMT_FITS ? pz_table_read_fits_rows(path, hdu, columns, ncolumns, start, count, out, err)
                              : pz_table_read_hdf5(path, columns, ncolumns, start, count, out, err);
}
