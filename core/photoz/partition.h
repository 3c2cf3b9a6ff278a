/* Survey catalogues as parts (issue 14): split a catalogue into parts by row range or by HEALPix
 * pixel, and put per-part results back together. Both stream through the table reader and
 * writer (table/table.h), so memory is bounded by a chunk of rows, never by the catalogue.
 *
 * Parts are named by numbers: a part number k (rows k*R .. (k+1)*R - 1) or a HEALPix pixel.
 * Every row lands in exactly one part; a row whose part is not among the ones asked for is an
 * error (never a silently dropped row). A part that no row falls in is written with no rows.
 * Within a part, rows keep the catalogue's order; so merging the row-range parts in part order
 * gives back the catalogue's order. docs/survey.md. */
#ifndef PZ_PARTITION_H
#define PZ_PARTITION_H

#include <stddef.h>
#include <stdint.h>
#include "table/table.h"
#include "util/err.h"

typedef enum { PZ_PARTITION_ROWS, PZ_PARTITION_HEALPIX } pz_partition_by;

typedef struct pz_partition_opts {
    pz_partition_by by;
    long rows_per_part;      /* ROWS: part k holds rows [k * rows_per_part, (k + 1) * rows_per_part) */
    long nside;              /* HEALPIX: the resolution, a power of two */
    int ring;                /* HEALPIX: RING pixel numbers (default NESTED, where close numbers are close on the sky) */
    const char *ra, *dec;    /* HEALPIX: position columns, degrees */
    pz_format format;        /* of the parts */
    size_t chunk_rows;       /* rows per read (0: 65536) */
    size_t max_open;         /* HEALPIX: parts written at once; more parts take more passes over the input (0: 256) */
    void (*progress)(void *ctx, double fraction);
    void *ctx;
} pz_partition_opts;

typedef struct pz_part {
    int64_t id;              /* part number (ROWS) or pixel (HEALPIX) */
    const char *path;        /* where the part is written */
    size_t rows;             /* out: rows written */
} pz_part;

/* Write every part of `src`. *total receives the rows read (may be NULL). Parts are given in any
 * order; two parts with the same id are an error. */
int pz_partition(const pz_source *src, pz_part *parts, size_t nparts, const pz_partition_opts *o, size_t *total,
                 pz_err *err);

/* HEALPix pixel of a position in degrees (chealpix ang2pix); -1 when ra or dec is not finite or
 * dec is outside [-90, 90]. */
int64_t pz_healpix_pixel(long nside, int ring, double ra_deg, double dec_deg);

/* A part name as a number: decimal digits only, no sign, no leading zero; -1 otherwise. */
int64_t pz_part_number(const char *name);

/* Concatenate tables with the same columns, in the order given, into `out` (streaming). Columns
 * must agree in name and type, and attributes in value (parts of one model's predictions);
 * otherwise an error names the first part that differs. *rows receives the rows written. */
int pz_merge(const pz_source *parts, size_t n, const char *out, pz_format fmt, size_t chunk_rows, size_t *rows,
             pz_err *err);

#endif
