/* Fuzz target: the FITS binary-table reader (pz_table_read_fits, pz_table_info_fits).
 *
 * The input bytes are the whole file, handed over as an in-memory file (memfd) by its
 * /proc/self/fd path, since the reader takes a path and checks the file size against the
 * header. The reader is asked for every column, for a few named ones (as the ingest stages do),
 * and for a second HDU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "table/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("table.fits", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    static const char *const named[] = {"ID", "ra", "i_cmodel_mag", "lp_zPDF", "name", "FLAG_COMBINED"};
    pz_err err;
    pz_table *t = NULL;
    if (pz_table_read_fits(path, 1, NULL, 0, &t, &err) == 0) pz_table_free(t);
    t = NULL;
    if (pz_table_read_fits(path, 1, named, sizeof named / sizeof *named, &t, &err) == 0) pz_table_free(t);
    t = NULL;
    if (pz_table_read_fits(path, 2, named, 2, &t, &err) == 0) pz_table_free(t);
    pz_colinfo *cols = NULL;
    size_t ncols = 0;
    long nrows = 0;
    if (pz_table_info_fits(path, 1, &cols, &ncols, &nrows, &err) == 0) pz_colinfo_free(cols, ncols);
    close(fd);
    return 0;
}
