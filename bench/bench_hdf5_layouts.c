/* The cost of astropy's HDF5 layout (one compound record per row) against the flat layout (one
 * dataset per column) for the read that matters: a few columns of a wide catalogue.
 *
 *   bench_hdf5_layouts [ROWS] [DIR]   (default 1000000 rows, DIR /tmp)
 *
 * Writes a table of 40 float32 columns both ways, then reads 5 columns of each, best of 5, and
 * prints CPU seconds (the machine may be shared: CPU time, not wall time) and the ratios. A row
 * store reads every record to take 5 of its 40 fields, 8x the bytes of the 5 flat columns, so a
 * ratio near 8 is what the layout costs, not overhead. Figures: docs/tables.md. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "table/table.h"

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double best_read(const char *path, const char *const *cols, size_t n)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        pz_table *t = NULL;
        pz_err err;
        double t0 = cpu();
        if (pz_table_read_hdf5(path, cols, n, 0, (size_t)-1, &t, &err) < 0) {
            fprintf(stderr, "bench_hdf5_layouts: %s\n", err.msg);
            exit(1);
        }
        double dt = cpu() - t0;
        if (dt < best) best = dt;
        pz_table_free(t);
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    pz_table *t = pz_table_new(n);
    for (int j = 0; j < 40; j++) {
        char name[16];
        snprintf(name, sizeof name, "c%02d", j);
        pz_column *c = pz_table_add(t, name, PZ_F32, 0);
        for (size_t i = 0; i < n; i++) ((float *)c->data)[i] = (float)((double)i * 0.001 + j);
    }
    char *compound = pz_xasprintf("%s/bench_hdf5_compound.h5", dir), *flat = pz_xasprintf("%s/bench_hdf5_flat.h5", dir);
    pz_err err;
    double t0 = cpu();
    if (pz_table_write_hdf5(compound, t, &err) < 0) return fprintf(stderr, "bench_hdf5_layouts: %s\n", err.msg), 1;
    double t1 = cpu();
    if (pz_table_write_hdf5_columns(flat, t, &err) < 0) return fprintf(stderr, "bench_hdf5_layouts: %s\n", err.msg), 1;
    double t2 = cpu();
    const char *cols[] = {"c03", "c11", "c19", "c27", "c35"};
    double rc = best_read(compound, cols, 5), rf = best_read(flat, cols, 5);
    printf("%zu rows x 40 f32 columns (CPU seconds)\n", n);
    printf("write all:     astropy layout %.3f  flat %.3f  ratio %.1f\n", t1 - t0, t2 - t1, (t1 - t0) / (t2 - t1));
    printf("read 5 of 40:  astropy layout %.3f  flat %.3f  ratio %.1f (bytes read: 8x)\n", rc, rf, rc / rf);
    remove(compound);
    remove(flat);
    free(compound);
    free(flat);
    pz_table_free(t);
    return 0;
}
