/* pzflow-mock-survey: a large HSC-Wide-like mock survey catalogue, streamed to disk
 * (docs/survey.md); the work is pz_mock_survey_write in core/mock/mock_survey.c. */
#include <stdlib.h>
#include <string.h>

#include "mock/mock_survey.h"
#include "util/progress.h"
#include "util/spec.h"

typedef struct survey_params {
    long n_rows, seed;
    double ra, dec, ra_width, dec_width;
    const char *format;
} survey_params;

#define SF(m) PZ_FIELD(survey_params, m)
static const pz_param_def PARAMS[] = {
    {PZ_PARAM("n_rows", PZ_PT_INT, "10000000", "rows (detected objects) in the catalogue"), PZ_RANGE(0, PZ_OPEN),
     .field = SF(n_rows)},
    {PZ_PARAM("seed", PZ_PT_INT, "1", "random seed; row r depends only on the seed and r"), PZ_RANGE(0, PZ_OPEN),
     .field = SF(seed)},
    {PZ_PARAM("ra", PZ_PT_FLOAT, "150.1", "centre of the stripe, RA (deg)"), .field = SF(ra)},
    {PZ_PARAM("dec", PZ_PT_FLOAT, "2.2", "centre of the stripe, Dec (deg)"), PZ_RANGE(-90, 90), .field = SF(dec)},
    {PZ_PARAM("ra_width", PZ_PT_FLOAT, "30", "stripe width in RA (deg); ~105 deg2 with the default dec_width"),
     PZ_RANGE(0, 360), .field = SF(ra_width)},
    {PZ_PARAM("dec_width", PZ_PT_FLOAT, "3.5", "stripe height in Dec (deg), as an HSC-Wide field"), PZ_RANGE(0, 180),
     .field = SF(dec_width)},
    {PZ_PARAM("format", PZ_PT_STRING, "fits", "file format"), .choices = "fits|hdf5|csv|ecsv", .field = SF(format)},
    {0}};
static const pz_io_def NO_INPUTS[] = {{0}};
static const pz_io_def OUTPUTS[] = {{"catalog", PZ_IO_ONE, 0, "the survey catalogue"}, {0}};

static void on_rows(void *ctx, size_t done)
{
    const survey_params *sp = ctx;
    if (sp->n_rows > 0) pz_progress((double)done / (double)sp->n_rows * 0.99, "%zu rows", done);
}

static int survey_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const survey_params *sp = params;
    const char *path;
    if (pz_spec_output(spec, "catalog", &path, err) < 0) return -1;
    pz_mock_params phys;
    pz_mock_params_default(&phys);
    pz_survey_opts o = {.n_rows = sp->n_rows, .seed = sp->seed, .ra0 = sp->ra, .dec0 = sp->dec,
                        .ra_width = sp->ra_width, .dec_width = sp->dec_width,
                        .threads = spec->threads > 0 ? (int)spec->threads : 1, .progress = on_rows, .ctx = (void *)sp};
    static const struct { const char *name; pz_format fmt; } formats[] = {
        {"fits", PZ_FMT_FITS}, {"hdf5", PZ_FMT_HDF5}, {"csv", PZ_FMT_CSV}, {"ecsv", PZ_FMT_ECSV}};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (!strcmp(sp->format, formats[i].name)) o.format = formats[i].fmt;
    pz_survey_stats st;
    if (pz_mock_survey_write(path, &phys, &o, &st, err) < 0) return -1;
    pz_progress(1.0, "done");
    *summary = pz_xasprintf("pzflow-mock-survey: %zu rows (%.1f%% stars; %.1f%% of the objects drawn were detected)",
                            st.rows, st.rows ? 100.0 * st.stars / st.rows : 0.0,
                            st.drawn ? 100.0 * st.rows / st.drawn : 0.0);
    return 0;
}

static const pz_stage_def MOCK_SURVEY = {
    .prog = "pzflow-mock-survey", .docs = "docs/survey.md",
    .summary = "write a large mock HSC-Wide-like survey catalogue, streamed (10^7 rows by default)",
    .params = PARAMS, .inputs = NO_INPUTS, .outputs = OUTPUTS,
    .params_size = sizeof(survey_params), .run = survey_stage};

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &MOCK_SURVEY);
}
