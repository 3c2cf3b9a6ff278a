/* Fuzz target: the HDF5 table reader (pz_table_read_hdf5, pz_hdf5_nrows, pz_table_info_hdf5, and
 * pz_hdf5_read_at / pz_hdf5_info_at at places inside the file: groups and compound datasets).
 *
 * The input bytes are the whole file, written to one scratch file on tmpfs that is rewritten for
 * every input. (A memfd's /proc/self/fd path does not work here: HDF5 1.10 resolves the name
 * with realpath(), which fails for "/memfd:... (deleted)".) The reader is asked for every
 * column, for a few named ones, and for a row range (as chunked prediction does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "table/backends.h"
#include "table/table.h"

static char path[256];

static void remove_scratch(void) { unlink(path); }

/* The scratch file's name, created on first use (in /dev/shm when there is one). */
static const char *scratch_path(void)
{
    if (path[0]) return path;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/pzflow-fuzz-hdf5-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror(path);
        abort();
    }
    close(fd);
    atexit(remove_scratch);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = scratch_path();
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) return 0;
    ssize_t wrote = write(fd, data, size);
    close(fd);
    if (wrote != (ssize_t)size) return 0;
    static const char *const named[] = {"object_id", "i_cmodel_mag", "specz_redshift", "name"};
    pz_err err;
    pz_table *t = NULL;
    pz_hdf5_nrows(path, &err);
    if (pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &t, &err) == 0) pz_table_free(t);
    t = NULL;
    if (pz_table_read_hdf5(path, named, sizeof named / sizeof *named, 1, 2, &t, &err) == 0) pz_table_free(t);
    pz_colinfo *cols = NULL;
    size_t ncols = 0;
    long nrows = 0;
    if (pz_table_info_hdf5(path, &cols, &ncols, &nrows, &err) == 0) pz_colinfo_free(cols, ncols);
    /* the places of tests/fuzz/hdf5/layout-*.h5: a group, a nested group, a compound table */
    static const char *const places[] = {"/photometry", "/photometry/deep", "/data"};
    for (size_t k = 0; k < sizeof places / sizeof *places; k++) {
        t = NULL;
        if (pz_hdf5_read_at(path, places[k], NULL, 0, 0, (size_t)-1, &t, &err) == 0) pz_table_free(t);
        t = NULL;
        if (pz_hdf5_read_at(path, places[k], named, 2, 1, 2, &t, &err) == 0) pz_table_free(t);
        if (pz_hdf5_info_at(path, places[k], &cols, &ncols, &nrows, &err) == 0) pz_colinfo_free(cols, ncols);
    }
    return 0;
}
