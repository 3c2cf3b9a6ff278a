/* The generic ingest (pzflow-ingest): any table in any file pzflow reads, through a schema, an
 * inline column mapping, or both. The survey stages (ingest.c) are this plus their corrections.
 * Mapping syntax: docs/ingest.md. */
#include "photoz/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/progress.h"

const char *pz_ingest_schema_name(const char *name)
{
    static const char *const alias[][2] = {{"classic", "cosmos2020_classic"}, {"farmer", "cosmos2020_farmer"},
                                           {"pdr2", "hsc_pdr2"},               {"pdr3", "hsc_pdr3"}};
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(name, alias[i][0]) == 0) return alias[i][1];
    return name;
}

pz_schema *pz_ingest_schema(const pz_ingest_opts *o, pz_err *err)
{
    pz_schema *s = o->schema ? pz_schema_load(pz_ingest_schema_name(o->schema), o->variant, err) : pz_schema_new("inline");
    if (!s) return NULL;
    if (o->variant && !o->schema) {
        pz_schema_free(s);
        pz_errf(err, "param 'variant': '%s' needs a schema with variants", o->variant);
        return NULL;
    }
    if (o->columns && pz_schema_add_columns(s, o->columns, o->bands, o->columns_src, err) < 0) {
        pz_schema_free(s);
        return NULL;
    }
    return s;
}

/* Where to read: the source as written, with `at` (param, else the schema's) as its place. */
static int ingest_source(const char *source, const pz_ingest_opts *o, const pz_schema *s, pz_source *src, pz_err *err)
{
    if (pz_source_parse(source, src, err) < 0) return -1;
    if (o->at && src->loc && strcmp(o->at, src->loc)) {
        pz_source_free(src);
        return pz_errf(err, "%s: the place is given twice (in the path and as at: %s); give one", source, o->at);
    }
    if (!src->loc) src->loc = o->at ? pz_xstrdup(o->at) : pz_schema_place(s, src->path);
    return 0;
}

int pz_ingest_read_schema(const char *source, const pz_schema *s, const pz_ingest_opts *o, pz_table **out,
                          pz_err *err)
{
    pz_source src;
    if (ingest_source(source, o, s, &src, err) < 0) return -1;
    /* no mapping at all: every numeric column under its own name */
    int passthrough = o->passthrough || s->ncols == 0;
    pz_table *t = NULL;
    char *where = pz_source_str(&src);
    int rc = pz_schema_read_src(s, &src, passthrough, &t, err);
    if (rc == 0 && t->ncols == 0) rc = pz_errf(err, "%s: no numeric columns to read", where);
    if (rc == 0 && o->checks) rc = pz_ingest_check(&t, where, o->checks, err);
    if (rc == 0) {
        pz_table_set_attr(t, "pzflow_schema", s->id);
        *out = t;
    } else {
        pz_table_free(t);
    }
    free(where);
    pz_source_free(&src);
    return rc;
}

int pz_ingest_read(const char *source, const pz_ingest_opts *o, pz_table **out, pz_err *err)
{
    pz_schema *s = pz_ingest_schema(o, err);
    if (!s) return -1;
    int rc = pz_ingest_read_schema(source, s, o, out, err);
    pz_schema_free(s);
    return rc;
}

/* ---- the stage ---- */

typedef struct {
    const char *schema, *variant, *at;
    const pz_ynode *bands, *columns;
    int passthrough;
    pz_ingest_check_params checks;
} any_params;

static int stage_ingest(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const any_params *p = params;
    pz_ingest_checks checks;
    pz_ingest_opts o = {.schema = p->schema, .variant = p->variant, .at = p->at, .bands = p->bands,
                        .columns = p->columns, .columns_src = "param 'columns'", .passthrough = p->passthrough,
                        .checks = &checks};
    const char *in, *path;
    if (pz_ingest_stage_schema(spec, p->schema, &o.schema, err) < 0 || pz_ingest_get_checks(&p->checks, &checks, err) < 0 ||
        pz_spec_input(spec, "catalog", &in, err) < 0 || pz_spec_output(spec, "catalog", &path, err) < 0)
        return -1;
    pz_progress(0, "reading %s", in);
    pz_table *t = NULL;
    if (pz_ingest_read(in, &o, &t, err) < 0) return -1;
    pz_progress(0.8, "writing %zu rows", t->nrows);
    int rc = pz_stage_table_write(path, t, err);
    if (rc == 0) *summary = pz_ingest_stage_summary("ingest", NULL, in, t);
    pz_table_free(t);
    pz_progress(1, "done");
    return rc;
}

#define AP(m) PZ_FIELD(any_params, m)
static const pz_param_def INGEST_PARAMS[] = {
    {PZ_PARAM("schema", PZ_PT_PATH, NULL, "dataset schema: a YAML file (schemas/datasets.md) or a built-in name; "
                                          "none: only `columns`"),
     .choices = PZ_INGEST_BUILTIN_SCHEMAS, .field = AP(schema)},
    {PZ_PARAM("variant", PZ_PT_STRING, NULL, "the schema's variant (aperture), default: the schema's"), .field = AP(variant)},
    {PZ_PARAM("at", PZ_PT_STRING, NULL, "where the table is: HDF5 group or dataset (/photometry), FITS HDU number or "
                                        "EXTNAME; default: the schema's `at`, else the root / first table HDU"),
     .field = AP(at)},
    {PZ_PARAM("bands", PZ_PT_LIST, NULL, "bands that {b} in `columns` expands over, e.g. [g, r, i, z, y]"),
     .field = AP(bands)},
    {PZ_PARAM("columns", PZ_PT_MAP, NULL, "canonical name -> file column or {name, type, unit, null, required} "
                                          "(docs/ingest.md); adds to or overrides the schema's"),
     .field = AP(columns)},
    {PZ_PARAM("passthrough", PZ_PT_BOOL, "false", "also keep the numeric columns the mapping does not name"),
     .field = AP(passthrough)},
    PZ_INGEST_CHECK_PARAMS(any_params, checks),
    {0}};
static const pz_io_def INGEST_INPUTS[] = {
    {"catalog", PZ_IO_ONE, 0, "the catalogue: FITS, HDF5, CSV or ECSV (a place in it by `at`)"},
    {"schema", PZ_IO_ONE, 1, "the schema as a file input (instead of the param)"},
    {0}};
static const pz_io_def INGEST_OUTPUTS[] = {{"catalog", PZ_IO_ONE, 0, "the catalogue in canonical columns", PZ_STAGE_TABLE_EXT}, {0}};

const pz_stage_def pz_ingest_stage_any = {
    .prog = "pzflow-ingest", .docs = "docs/ingest.md",
    .summary = "read any catalogue (FITS HDU, HDF5 group, CSV) into canonical columns through a schema or a mapping",
    .params = INGEST_PARAMS, .inputs = INGEST_INPUTS, .outputs = INGEST_OUTPUTS,
    .run = stage_ingest, .params_size = sizeof(any_params)};
