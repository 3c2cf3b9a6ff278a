/* A large mock survey catalogue (issue 14): HSC-Wide-like photometry of n rows, streamed to disk
 * in blocks, never all in memory. The physics is the mock sky's (mock_population.h, mock_sed.h,
 * mock_hsc.h): galaxies from the luminosity functions and SEDs, stars from their counts and
 * colours, Galactic extinction, CModel noise at the HSC-Wide depths, detection at S/N >= 5 in i.
 * Rows are detected objects, uniform over an equatorial stripe (an HSC-Wide-like field).
 *
 * Determinism: row r is made by block r / PZ_SURVEY_BLOCK, whose random stream is seeded by
 * (seed, block) alone. So the same seed gives the same rows whatever the thread count, and
 * raising n_rows appends rows, leaving the earlier ones as they were. docs/survey.md. */
#ifndef PZ_MOCK_SURVEY_H
#define PZ_MOCK_SURVEY_H

#include <stddef.h>
#include "mock/mock_params.h"
#include "table/table.h"

#define PZ_SURVEY_BLOCK 65536

typedef struct pz_survey_opts {
    long n_rows;
    long seed;
    double ra0, dec0;          /* stripe centre, degrees */
    double ra_width, dec_width;/* stripe size, degrees (of RA on the sky's coordinate, of Dec) */
    pz_format format;
    int threads;               /* blocks made at once */
    void (*progress)(void *ctx, size_t rows_done);
    void *ctx;
} pz_survey_opts;

typedef struct pz_survey_stats {
    size_t rows, stars, drawn; /* rows written, of which stars; objects drawn (detected or not) */
} pz_survey_stats;

/* Write the catalogue to `path`. `phys` gives the physics (the mock sky's params; its seed and
 * sizes are not used). */
int pz_mock_survey_write(const char *path, const pz_mock_params *phys, const pz_survey_opts *o, pz_survey_stats *st,
                         pz_err *err);

#endif
