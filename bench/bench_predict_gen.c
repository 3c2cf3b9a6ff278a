/* Inputs of bench/bench_predict.sh: a model file with the paper's network (5 -> 4 x 200 -> 1,
 * skip connection, Glorot weights; speed does not depend on what it learned) and a FITS catalogue
 * of N rows (object_id int64, five cmodel magnitudes float32 in mag: 28 bytes a row), written in
 * 1M-row pieces through cfitsio so memory stays flat at any N.
 *
 * Usage: bench_predict_gen N MODEL.h5 CATALOG.fits */
#include <fitsio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/model.h"

static int write_model(const char *path)
{
    static const char *const features[] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag",
                                           "y_cmodel_mag"};
    int hidden[] = {200, 200, 200, 200};
    pz_err err;
    pz_net *net = pz_net_new(5, hidden, 4, 1, &err);
    if (!net) return fprintf(stderr, "bench_predict_gen: %s\n", err.msg), -1;
    pz_net_init_glorot(net, 1);
    pz_scaler s;
    pz_scaler_init(&s, 5);
    for (int j = 0; j < 5; j++) s.min[j] = 17.0, s.max[j] = 28.0;
    pz_model *m = pz_model_new(net, features, 5, &s);
    pz_scaler_free(&s);
    for (int j = 0; j < 5; j++) pz_model_set_str(&m->units[j], "mag");
    m->seed = 1;
    int rc = pz_model_save(path, m, &err);
    if (rc) fprintf(stderr, "bench_predict_gen: %s\n", err.msg);
    pz_model_free(m);
    return rc;
}

static int write_catalog(const char *path, long long n)
{
    char *ttype[] = {"object_id", "g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag", "y_cmodel_mag"};
    char *tform[] = {"K", "E", "E", "E", "E", "E"};
    char *tunit[] = {"", "mag", "mag", "mag", "mag", "mag"};
    fitsfile *f;
    int status = 0;
    char name[4096];
    snprintf(name, sizeof name, "!%s", path);
    fits_create_file(&f, name, &status);
    fits_create_tbl(f, BINARY_TBL, 0, 6, ttype, tform, tunit, "CATALOG", &status);
    const long long piece = 1 << 20;
    int64_t *id = malloc(sizeof *id * piece);
    float *mag = malloc(sizeof *mag * piece * 5);
    uint64_t state = 42;
    for (long long start = 0; start < n && !status; start += piece) {
        long long k = n - start < piece ? n - start : piece;
        for (long long r = 0; r < k; r++) {
            id[r] = 40000000000LL + start + r;
            float base = 0;
            for (int j = 0; j < 5; j++) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                float u = (float)((state >> 40) / 16777216.0);
                if (j == 0) base = 20.0f + 5.0f * u;
                mag[j * piece + r] = base + (float)j * 0.1f * u - 0.2f;
            }
        }
        long long row = start + 1;
        fits_write_col(f, TLONGLONG, 1, row, 1, k, id, &status);
        for (int j = 0; j < 5; j++) fits_write_col(f, TFLOAT, 2 + j, row, 1, k, mag + j * piece, &status);
    }
    fits_close_file(f, &status);
    free(id), free(mag);
    if (status) {
        char text[FLEN_STATUS];
        fits_get_errstatus(status, text);
        fprintf(stderr, "bench_predict_gen: %s: %s\n", path, text);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_predict_gen N MODEL.h5 CATALOG.fits\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    if (n < 1) return fprintf(stderr, "bench_predict_gen: N must be >= 1\n"), 2;
    return write_model(argv[2]) || write_catalog(argv[3], n) ? 1 : 0;
}
