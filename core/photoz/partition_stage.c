/* Drivers of pzflow-partition and pzflow-merge (docs/survey.md): spec in, the library
 * (partition.h) does the streaming. */
#include "photoz/partition_stage.h"

#include <stdlib.h>
#include <string.h>

#include "photoz/partition.h"
#include "util/progress.h"

#define FORMAT_CHOICES "hdf5|fits|csv|ecsv"

static int format_named(const char *name, pz_format *fmt, pz_err *err)
{
    static const struct {
        const char *name;
        pz_format fmt;
    } names[] = {{"hdf5", PZ_FMT_HDF5}, {"fits", PZ_FMT_FITS}, {"csv", PZ_FMT_CSV}, {"ecsv", PZ_FMT_ECSV}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i].name)) return *fmt = names[i].fmt, 0;
    return pz_errf(err, "param 'format': unknown format '%s' (%s)", name, FORMAT_CHOICES);
}

static void on_fraction(void *ctx, double f)
{
    pz_progress(f < 1 ? f : 0.99, "%s", (const char *)ctx);
}

/* ---- partition ---- */

typedef struct partition_params {
    const char *by, *ordering, *ra, *dec, *format, *place;
    long rows_per_part, nside, chunk_rows, max_open;
} partition_params;

#define PF(m) PZ_FIELD(partition_params, m)
static const pz_param_def PARTITION_PARAMS[] = {
    {PZ_PARAM("by", PZ_PT_STRING, "rows", "rows: part k holds rows [k*rows_per_part, (k+1)*rows_per_part); healpix: "
                                          "each output is a HEALPix pixel"),
     .choices = "rows|healpix", .field = PF(by)},
    {PZ_PARAM("rows_per_part", PZ_PT_INT, "1000000", "rows in each part (by: rows); the last part may hold fewer"),
     PZ_RANGE(1, PZ_OPEN), .field = PF(rows_per_part)},
    {PZ_PARAM("nside", PZ_PT_INT, "32", "HEALPix resolution (by: healpix), a power of two; 12*nside^2 pixels"),
     PZ_RANGE(1, 536870912), .field = PF(nside)},
    {PZ_PARAM("ordering", PZ_PT_STRING, "nested", "HEALPix pixel numbering (by: healpix)"), .choices = "nested|ring",
     .field = PF(ordering)},
    {PZ_PARAM("ra", PZ_PT_STRING, "ra", "right ascension column, degrees (by: healpix)"), .field = PF(ra)},
    {PZ_PARAM("dec", PZ_PT_STRING, "dec", "declination column, degrees (by: healpix)"), .field = PF(dec)},
    {PZ_PARAM("format", PZ_PT_STRING, "fits", "file format of the parts (fits, as every pipeline table)"),
     .choices = FORMAT_CHOICES, .field = PF(format)},
    {PZ_PARAM("place", PZ_PT_STRING, NULL, "where the table is in the file: an HDF5 group or a FITS HDU (number or "
                                           "EXTNAME); default the first table"),
     .field = PF(place)},
    {PZ_PARAM("chunk_rows", PZ_PT_INT, "65536", "rows per read: memory is bounded by one chunk"), PZ_RANGE(1, PZ_OPEN),
     .field = PF(chunk_rows)},
    {PZ_PARAM("max_open", PZ_PT_INT, "256", "parts written at once (by: healpix); more parts take more passes over "
                                            "the catalogue"),
     PZ_RANGE(1, PZ_OPEN), .field = PF(max_open)},
    {0}};
static const pz_io_def PARTITION_INPUTS[] = {{"catalog", PZ_IO_ONE, 0, "the catalogue to split (HDF5, FITS, CSV, ECSV)"},
                                             {0}};
static const pz_io_def NO_FIXED_OUTPUTS[] = {{0}};

/* The spec's outputs as parts: every output name must be a part number or pixel. */
static pz_part *parts_of(const pz_spec *spec, size_t *n, pz_err *err)
{
    const pz_ynode *outs = spec->outputs;
    *n = outs ? outs->n : 0;
    if (*n == 0) {
        pz_errf(err, "no outputs: declare the parts as outputs, e.g. outputs: ${parts} with parts: range(0, 10)");
        return NULL;
    }
    pz_part *parts = pz_xcalloc(*n, sizeof *parts);
    for (size_t k = 0; k < *n; k++) {
        parts[k].id = pz_part_number(outs->keys[k]->str);
        parts[k].path = outs->items[k]->str;
        if (parts[k].id < 0 || !parts[k].path) {
            pz_errf(err, "output '%s' is not a part: the outputs of pzflow-partition are part numbers (0, 1, ...) "
                         "or HEALPix pixels, written without leading zeros",
                    outs->keys[k]->str);
            free(parts);
            return NULL;
        }
    }
    return parts;
}

static size_t count_empty(const pz_part *parts, size_t n)
{
    size_t empty = 0;
    for (size_t k = 0; k < n; k++) empty += parts[k].rows == 0;
    return empty;
}

static int partition_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const partition_params *pp = params;
    const char *path;
    pz_partition_opts o = {.by = strcmp(pp->by, "healpix") ? PZ_PARTITION_ROWS : PZ_PARTITION_HEALPIX,
                           .rows_per_part = pp->rows_per_part, .nside = pp->nside,
                           .ring = !strcmp(pp->ordering, "ring"), .ra = pp->ra, .dec = pp->dec,
                           .chunk_rows = (size_t)pp->chunk_rows, .max_open = (size_t)pp->max_open,
                           .progress = on_fraction, .ctx = "partitioning"};
    if (format_named(pp->format, &o.format, err) < 0 || pz_spec_input(spec, "catalog", &path, err) < 0) return -1;
    size_t n;
    pz_part *parts = parts_of(spec, &n, err);
    if (!parts) return -1;
    pz_source src = {.path = (char *)path, .loc = pp->place && *pp->place ? (char *)pp->place : NULL};
    size_t total = 0;
    int rc = pz_partition(&src, parts, n, &o, &total, err);
    if (rc == 0) {
        pz_progress(1.0, "done");
        size_t empty = count_empty(parts, n);
        if (o.by == PZ_PARTITION_ROWS)
            *summary = pz_xasprintf("pzflow-partition: %zu rows into %zu parts of up to %ld rows (%zu empty)", total, n,
                                    o.rows_per_part, empty);
        else
            *summary = pz_xasprintf("pzflow-partition: %zu rows into %zu HEALPix pixels (nside %ld, %s; %zu empty)",
                                    total, n, o.nside, pp->ordering, empty);
    }
    free(parts);
    return rc;
}

const pz_stage_def pz_partition_stage = {
    .prog = "pzflow-partition", .docs = "docs/survey.md",
    .summary = "split a catalogue into parts by row range or HEALPix pixel (streaming)",
    .params = PARTITION_PARAMS, .inputs = PARTITION_INPUTS, .outputs = NO_FIXED_OUTPUTS, .open_outputs = 1,
    .params_size = sizeof(partition_params), .run = partition_stage};

/* ---- merge ---- */

typedef struct merge_params {
    const char *format;
    long chunk_rows;
} merge_params;

static const pz_param_def MERGE_PARAMS[] = {
    {PZ_PARAM("format", PZ_PT_STRING, "same", "file format of the result; same: the first part's"),
     .choices = "same|" FORMAT_CHOICES, .field = PZ_FIELD(merge_params, format)},
    {PZ_PARAM("chunk_rows", PZ_PT_INT, "65536", "rows per read: memory is bounded by one chunk"), PZ_RANGE(1, PZ_OPEN),
     .field = PZ_FIELD(merge_params, chunk_rows)},
    {0}};
static const pz_io_def MERGE_INPUTS[] = {
    {"parts", PZ_IO_ANY, 0, "the tables to concatenate, in order (e.g. \"predict[*]/predictions\")"}, {0}};
static const pz_io_def MERGE_OUTPUTS[] = {{"table", PZ_IO_ONE, 0, "every part's rows, part after part"}, {0}};

static int merge_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const merge_params *mp = params;
    const char **paths = NULL, *out;
    size_t n = 0;
    if (pz_spec_inputs(spec, "parts", &paths, &n, err) < 0 || pz_spec_output(spec, "table", &out, err) < 0) {
        free(paths);
        return -1;
    }
    pz_format fmt;
    int rc = n == 0 ? pz_errf(err, "input 'parts' is empty") : 0;
    if (rc == 0)
        rc = strcmp(mp->format, "same") ? format_named(mp->format, &fmt, err) : pz_table_format(paths[0], &fmt, err);
    pz_source *srcs = pz_xcalloc(n + 1, sizeof *srcs);
    for (size_t i = 0; i < n; i++) srcs[i].path = (char *)paths[i];
    size_t rows = 0;
    if (rc == 0) rc = pz_merge(srcs, n, out, fmt, (size_t)mp->chunk_rows, &rows, err);
    if (rc == 0) {
        pz_progress(1.0, "done");
        *summary = pz_xasprintf("pzflow-merge: %zu rows from %zu parts", rows, n);
    }
    free(srcs);
    free(paths);
    return rc;
}

const pz_stage_def pz_merge_stage = {
    .prog = "pzflow-merge", .docs = "docs/survey.md",
    .summary = "concatenate per-part tables into one, in the order given (streaming)",
    .params = MERGE_PARAMS, .inputs = MERGE_INPUTS, .outputs = MERGE_OUTPUTS,
    .params_size = sizeof(merge_params), .run = merge_stage};
