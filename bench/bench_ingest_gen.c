/* bench_ingest_gen COLUMNS.tsv OUT.fits NROWS [SEED]
 *
 * A COSMOS2020 CLASSIC-layout FITS file for the ingest benchmark: the real 754-column header
 * (TTYPE/TFORM/TUNIT/TNULL from cosmos2020_classic_columns.tsv, EXTNAME PHASE3CATALOG, 3491-byte
 * rows) filled with seeded random values (floats in plausible ranges, ~5% NaN, integer flags,
 * lp_type in {0,1,2,-9,-99}). Rows are built as big-endian bytes and written in large blocks,
 * so a full 1.7 M-row (6 GB) file takes about as long as the disk needs. */
#include <fitsio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define MAXCOLS 1000

typedef struct {
    char *name, *form, *unit, *tnull;
    char code;
    size_t bytes;
} col;

static uint64_t rng_next(uint64_t *s)
{ /* splitmix64: tiny, seedable, good enough for filler values */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static size_t load_columns(const char *tsv, col *cols)
{
    FILE *f = fopen(tsv, "r");
    if (!f) {
        perror(tsv);
        exit(1);
    }
    char line[4096];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) exit(1); /* header */
    while (fgets(line, sizeof line, f) && n < MAXCOLS) {
        line[strcspn(line, "\n")] = 0;
        char *fields[6] = {0}, *p = line;
        for (int k = 0; k < 6 && p; k++) {
            fields[k] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        col *c = &cols[n++];
        c->name = pz_xstrdup(fields[1]);
        c->form = pz_xstrdup(fields[2]);
        c->unit = pz_xstrdup(fields[3] ? fields[3] : "");
        c->tnull = pz_xstrdup(fields[4] ? fields[4] : "");
        c->code = c->form[strlen(c->form) - 1];
        c->bytes = c->code == 'D' || c->code == 'K' ? 8 : c->code == 'E' ? 4 : c->code == 'I' ? 2 : (size_t)atoi(c->form);
    }
    fclose(f);
    return n;
}

static void fill_row(const col *cols, size_t n, unsigned char *p, uint64_t *s, long row)
{
    for (size_t j = 0; j < n; j++) {
        const col *c = &cols[j];
        switch (c->code) {
        case 'D': {
            double v = uniform(s) < 0.05 ? 0.0 / 0.0 : uniform(s) * 3.0;
            if (j == 0 + 1) v = 149.4 + uniform(s) * 1.4; /* ALPHA_J2000 */
            if (j == 2) v = 1.5 + uniform(s) * 1.4;       /* DELTA_J2000 */
            uint64_t u;
            memcpy(&u, &v, 8);
            put_be(p, u, 8);
            break;
        }
        case 'E': {
            float v = uniform(s) < 0.05 ? 0.0f / 0.0f : (float)(18.0 + uniform(s) * 10.0);
            uint32_t u;
            memcpy(&u, &v, 4);
            put_be(p, u, 4);
            break;
        }
        case 'I': put_be(p, (uint64_t)(int64_t)(uniform(s) < 0.8 ? 0 : 1), 2); break;
        case 'K': {
            static const int64_t types[] = {0, 0, 0, 0, 0, 0, 1, 2, -9, -99};
            int64_t v = j == 0 ? row + 1 : types[rng_next(s) % 10];
            put_be(p, (uint64_t)v, 8);
            break;
        }
        default: memset(p, ' ', c->bytes); snprintf((char *)p, c->bytes, "x%ld", row % 100000); break;
        }
        p += c->bytes;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s columns.tsv out.fits nrows [seed]\n", argv[0]);
        return 2;
    }
    static col cols[MAXCOLS];
    size_t n = load_columns(argv[1], cols);
    long nrows = atol(argv[3]);
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    char **ttype = pz_xcalloc(n, sizeof *ttype), **tform = pz_xcalloc(n, sizeof *tform), **tunit = pz_xcalloc(n, sizeof *tunit);
    size_t rowlen = 0;
    for (size_t j = 0; j < n; j++) ttype[j] = cols[j].name, tform[j] = cols[j].form, tunit[j] = cols[j].unit, rowlen += cols[j].bytes;
    fitsfile *fp;
    int status = 0;
    remove(argv[2]);
    fits_create_file(&fp, argv[2], &status);
    fits_create_tbl(fp, BINARY_TBL, nrows, (int)n, ttype, tform, tunit, "PHASE3CATALOG", &status);
    for (size_t j = 0; j < n; j++) {
        if (!cols[j].tnull[0]) continue;
        char key[16];
        snprintf(key, sizeof key, "TNULL%zu", j + 1);
        long long v = atoll(cols[j].tnull);
        fits_write_key(fp, TLONGLONG, key, &v, NULL, &status);
    }
    size_t chunk = (16u << 20) / rowlen;
    unsigned char *buf = pz_xmalloc(chunk * rowlen);
    for (long first = 0; first < nrows && !status; first += (long)chunk) {
        long m = nrows - first < (long)chunk ? nrows - first : (long)chunk;
        for (long i = 0; i < m; i++) fill_row(cols, n, buf + (size_t)i * rowlen, &seed, first + i);
        fits_write_tblbytes(fp, first + 1, 1, (LONGLONG)m * (LONGLONG)rowlen, buf, &status);
    }
    fits_close_file(fp, &status);
    if (status) {
        fits_report_error(stderr, status);
        return 1;
    }
    printf("%s: %ld rows x %zu columns, %zu bytes a row\n", argv[2], nrows, n, rowlen);
    free(buf);
    return 0;
}
