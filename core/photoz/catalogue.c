/* Drivers of the catalogue stages quality-cuts, cross-match, build-transferz and split. */
#include "photoz/catalogue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/cuts.h"
#include "photoz/split.h"
#include "photoz/transferz.h"
#include "photoz/xmatch.h"
#include "table/table.h"
#include "util/progress.h"

/* ---- I/O shared by the drivers ---- */

static int read_input(const pz_spec *spec, const char *name, const char *const *cols, size_t ncols, pz_table **t,
                      pz_err *err)
{
    const char *path;
    if (pz_spec_input(spec, name, &path, err) < 0) return -1;
    if (pz_table_read_any(path, 0, cols, ncols, 0, (size_t)-1, t, err) < 0)
        return pz_err_prefix(err, "input '%s': ", name);
    return 0;
}

static int write_table(const pz_spec *spec, const char *name, pz_table *t, pz_err *err)
{
    const char *path;
    if (pz_spec_output(spec, name, &path, err) < 0) return -1;
    if (pz_stage_table_write(path, t, err) < 0) return pz_err_prefix(err, "output '%s': ", name);
    return 0;
}

static int write_text(const pz_spec *spec, const char *name, const char *text, pz_err *err)
{
    const char *path;
    if (pz_spec_output(spec, name, &path, err) < 0) return -1;
    FILE *f = fopen(path, "w");
    if (!f) return pz_errf(err, "output '%s': %s: %s", name, path, strerror(errno));
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok) return pz_errf(err, "output '%s': %s: write failed (disk full?)", name, path);
    return 0;
}

/* A JSON output: {<body>} where body is "key": value, ... Outputs hold only what the inputs,
 * params and code determine: provenance (stage, key, input hashes) is in the run record
 * (`pzflow provenance FILE`), so a key change alone does not change these bytes. */
static int write_json(const pz_spec *spec, const char *name, const char *body, pz_err *err)
{
    char *text = pz_xasprintf("{%s}\n", body);
    int rc = write_text(spec, name, text, err);
    free(text);
    return rc;
}

static int threads_of(const pz_spec *spec) { return spec->threads > 0 ? (int)spec->threads : 1; }

/* ---- quality-cuts ---- */

typedef struct {
    pz_strs cuts;
} cuts_params;

static const pz_param_def CUTS_PARAMS[] = {
    {.name = "cuts", .type = PZ_PT_STRINGS, .required = 1, .field = PZ_FIELD(cuts_params, cuts),
     .doc = "expressions a row must pass, in order (e.g. 'lp_type == 0'); docs/catalogue.md has the grammar"},
    {0}};
static const pz_io_def CUTS_INPUTS[] = {{"table", PZ_IO_ONE, 0, "the table to cut"}, {0}};
static const pz_io_def CUTS_OUTPUTS[] = {{"table", PZ_IO_ONE, 0, "the rows that pass every cut", PZ_STAGE_TABLE_EXT},
                                         {"cutflow", PZ_IO_ONE, 1, "Markdown cut-flow table: rows left after each cut", ".md"},
                                         {0}};

static int stage_quality_cuts(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const cuts_params *cp = params;
    const char **cuts = cp->cuts.v;
    size_t ncuts = cp->cuts.n;
    *summary = NULL;
    if (ncuts == 0) return pz_errf(err, "param 'cuts' is empty: give a list of expressions such as 'lp_type == 0'");
    pz_table *in = NULL, *out = NULL;
    pz_cutflow flow = {0};
    int rc = -1;
    pz_progress(0.0, "reading");
    if (read_input(spec, "table", NULL, 0, &in, err) == 0) {
        pz_progress(0.4, "applying %zu cuts to %zu rows", ncuts, in->nrows);
        out = pz_quality_cuts(in, cuts, ncuts, &flow, err);
        if (flow.cuts) *summary = pz_cutflow_markdown(&flow);
        const char *path = NULL;
        if (!out && pz_spec_input(spec, "table", &path, NULL) == 0) /* say which file ran dry */
            pz_err_prefix(err, "input 'table' %s: ", path);
        if (out) {
            pz_progress(0.7, "writing %zu rows", out->nrows);
            rc = write_table(spec, "table", out, err) == 0 &&
                         (!pz_ymap_get(spec->outputs, "cutflow") || write_text(spec, "cutflow", *summary, err) == 0)
                     ? 0
                     : -1;
        }
    }
    pz_cutflow_free(&flow);
    pz_table_free(in);
    pz_table_free(out);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

const pz_stage_def pz_stage_quality_cuts = {
    .prog = "pzflow-quality-cuts", .docs = "docs/catalogue.md",
    .summary = "keep the rows of a table that pass every cut expression, with a cut-flow table",
    .params = CUTS_PARAMS, .inputs = CUTS_INPUTS, .outputs = CUTS_OUTPUTS,
    .params_size = sizeof(cuts_params), .run = stage_quality_cuts};

/* ---- cross-match ---- */

typedef struct {
    double radius;
    const char *lra, *ldec, *rra, *rdec, *prefix, *mode;
    pz_strs right_columns;
} xmatch_params;

#define XM(m) PZ_FIELD(xmatch_params, m)
static const pz_param_def XMATCH_PARAMS[] = {
    {PZ_PARAM("radius_arcsec", PZ_PT_FLOAT, "1.0", "largest separation of a match, arcsec"), PZ_RANGE(0, 3600), .field = XM(radius)},
    {PZ_PARAM("left_ra", PZ_PT_STRING, "ra", "RA column of the left table (deg)"), .field = XM(lra)},
    {PZ_PARAM("left_dec", PZ_PT_STRING, "dec", "Dec column of the left table (deg)"), .field = XM(ldec)},
    {PZ_PARAM("right_ra", PZ_PT_STRING, "ra", "RA column of the right table (deg)"), .field = XM(rra)},
    {PZ_PARAM("right_dec", PZ_PT_STRING, "dec", "Dec column of the right table (deg)"), .field = XM(rdec)},
    {PZ_PARAM("right_prefix", PZ_PT_STRING, "right_", "prefix of right-table columns in the joined table"), .field = XM(prefix)},
    {PZ_PARAM("right_columns", PZ_PT_STRINGS, NULL, "right-table columns to keep (default: all)"), .field = XM(right_columns)},
    {PZ_PARAM("mode", PZ_PT_STRING, "best", "best: one-to-one matches; nearest: each left source's nearest"),
     .choices = "best|nearest", .field = XM(mode)},
    {0}};
static const pz_io_def XMATCH_INPUTS[] = {{"left", PZ_IO_ONE, 0, "first table"},
                                          {"right", PZ_IO_ONE, 0, "second table"}, {0}};
static const pz_io_def XMATCH_OUTPUTS[] = {{"matched", PZ_IO_ONE, 0, "the joined matches", PZ_STAGE_TABLE_EXT},
                                           {"stats", PZ_IO_ONE, 0, "match statistics (JSON)", ".json"}, {0}};

static int stage_cross_match(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const xmatch_params *xp = params;
    *summary = NULL;
    double radius = xp->radius;
    const char *lra = xp->lra, *ldec = xp->ldec, *rra = xp->rra, *rdec = xp->rdec, *prefix = xp->prefix;
    pz_xmatch_mode m = strcmp(xp->mode, "nearest") == 0 ? PZ_XMATCH_NEAREST : PZ_XMATCH_BEST;
    const char **rcols = xp->right_columns.v;
    size_t nrcols = xp->right_columns.n;
    int has_rcols = rcols ? 0 : 1;

    pz_table *left = NULL, *right = NULL, *joined = NULL;
    pz_xmatch_result res = {0};
    int rc = -1;
    pz_progress(0.0, "reading");
    if (read_input(spec, "left", NULL, 0, &left, err) == 0 && read_input(spec, "right", NULL, 0, &right, err) == 0) {
        pz_progress(0.3, "matching %zu x %zu sources", left->nrows, right->nrows);
        if (pz_xmatch_tables(left, "left", lra, ldec, right, "right", rra, rdec, radius, m, threads_of(spec), &res,
                             err) == 0 &&
            (joined = pz_xmatch_join(left, right, &res, prefix, has_rcols == 0 ? rcols : NULL, nrcols, err))) {
            pz_progress(0.7, "writing %zu matches", joined->nrows);
            char *json = pz_xmatch_stats_json(&res.stats);
            char *body = pz_xasprintf("\"cross_match\": %s", json);
            pz_table_set_attr(joined, "cross_match", json);
            rc = write_table(spec, "matched", joined, err) == 0 && write_json(spec, "stats", body, err) == 0 ? 0 : -1;
            *summary = pz_xmatch_stats_text(&res.stats);
            free(json);
            free(body);
        }
    }
    pz_xmatch_result_free(&res);
    pz_table_free(left);
    pz_table_free(right);
    pz_table_free(joined);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

const pz_stage_def pz_stage_cross_match = {
    .prog = "pzflow-cross-match", .docs = "docs/catalogue.md",
    .summary = "match two tables on the sky and join the matched rows",
    .params = XMATCH_PARAMS, .inputs = XMATCH_INPUTS, .outputs = XMATCH_OUTPUTS,
    .params_size = sizeof(xmatch_params), .run = stage_cross_match};

/* ---- build-transferz ---- */

/* The stage's params: the library's own struct (the table repeats pz_transferz_defaults, which
 * library callers use; the stage reads only the table) plus the three column lists as read. */
typedef struct {
    pz_transferz_params p;
    pz_strs hsc_columns, cosmos_columns, require_finite;
} transferz_args;

#define TZ(m) PZ_FIELD(transferz_args, m)
static const pz_param_def TRANSFERZ_PARAMS[] = {
    {PZ_PARAM("radius_arcsec", PZ_PT_FLOAT, "1.0", "COSMOS2020 x HSC match radius, arcsec"), PZ_RANGE(0, 3600),
     .field = TZ(p.radius_arcsec)},
    {PZ_PARAM("overlap_radius_arcsec", PZ_PT_FLOAT, "1.0", "radius that finds GalaxiesML objects to drop, arcsec"),
     PZ_RANGE(0, 3600), .field = TZ(p.overlap_radius_arcsec)},
    {PZ_PARAM("cosmos_ra", PZ_PT_STRING, "ra", "COSMOS2020 RA column"), .field = TZ(p.cosmos_ra)},
    {PZ_PARAM("cosmos_dec", PZ_PT_STRING, "dec", "COSMOS2020 Dec column"), .field = TZ(p.cosmos_dec)},
    {PZ_PARAM("cosmos_id", PZ_PT_STRING, "id", "COSMOS2020 id column"), .field = TZ(p.cosmos_id)},
    {PZ_PARAM("label", PZ_PT_STRING, "lp_zPDF", "COSMOS2020 photo-z column that becomes the label"), .field = TZ(p.label)},
    {PZ_PARAM("hsc_ra", PZ_PT_STRING, "ra", "HSC RA column"), .field = TZ(p.hsc_ra)},
    {PZ_PARAM("hsc_dec", PZ_PT_STRING, "dec", "HSC Dec column"), .field = TZ(p.hsc_dec)},
    {PZ_PARAM("hsc_id", PZ_PT_STRING, "object_id", "HSC id column"), .field = TZ(p.hsc_id)},
    {PZ_PARAM("galaxiesml_ra", PZ_PT_STRING, "ra", "GalaxiesML RA column"), .field = TZ(p.gml_ra)},
    {PZ_PARAM("galaxiesml_dec", PZ_PT_STRING, "dec", "GalaxiesML Dec column"), .field = TZ(p.gml_dec)},
    {PZ_PARAM("galaxiesml_id", PZ_PT_STRING, "object_id", "GalaxiesML id column"), .field = TZ(p.gml_id)},
    {PZ_PARAM("hsc_columns", PZ_PT_STRINGS, NULL, "HSC columns to keep (default: the five bands' cmodel mags and errors)"),
     .field = TZ(hsc_columns)},
    {PZ_PARAM("cosmos_columns", PZ_PT_STRINGS, NULL, "extra COSMOS2020 columns to keep"), .field = TZ(cosmos_columns)},
    {PZ_PARAM("require_finite", PZ_PT_STRINGS, NULL, "columns that must be finite in a kept row"),
     .field = TZ(require_finite)},
    {PZ_PARAM("match_ids", PZ_PT_BOOL, "true", "also drop GalaxiesML objects by HSC object id"), .field = TZ(p.match_ids)},
    {0}};

/* The library's params from the stage's: a list given replaces the library's default list. */
static int transferz_params(const pz_spec *spec, const transferz_args *a, pz_transferz_params *p, pz_err *err)
{
    *p = a->p;
    p->threads = threads_of(spec);
    if (a->hsc_columns.v) p->hsc_columns = a->hsc_columns.v, p->nhsc_columns = a->hsc_columns.n;
    if (a->cosmos_columns.v) p->cosmos_extra = a->cosmos_columns.v, p->ncosmos_extra = a->cosmos_columns.n;
    if (a->require_finite.v) p->require_finite = a->require_finite.v, p->nrequire_finite = a->require_finite.n;
    if (a->hsc_columns.v && a->hsc_columns.n == 0) return pz_errf(err, "param 'hsc_columns' must name at least one column");
    return 0;
}

/* GalaxiesML: only the position and id columns are read, never the images. */
static int read_galaxiesml(const pz_spec *spec, const pz_transferz_params *p, pz_table ***out, size_t *n,
                           pz_err *err)
{
    *out = NULL;
    *n = 0;
    if (!pz_spec_has_input(spec, "galaxiesml")) return 0;
    const char **paths = NULL;
    if (pz_spec_inputs(spec, "galaxiesml", &paths, n, err) < 0) return -1;
    *out = pz_xcalloc(*n ? *n : 1, sizeof **out);
    const char *cols[3] = {p->gml_ra, p->gml_dec, p->gml_id};
    int rc = 0;
    for (size_t k = 0; k < *n && rc == 0; k++)
        if (pz_table_read_any(paths[k], 0, cols, p->match_ids ? 3 : 2, 0, (size_t)-1, &(*out)[k], err) < 0)
            rc = pz_err_prefix(err, "input 'galaxiesml' [%zu]: ", k);
    free(paths);
    return rc;
}

static int stage_build_transferz(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    *summary = NULL;
    pz_transferz_params p;
    pz_table *cosmos = NULL, *hsc = NULL, *out = NULL, **gml = NULL;
    size_t ngml = 0;
    int rc = -1;
    pz_progress(0.0, "reading");
    if (transferz_params(spec, params, &p, err) == 0 && read_input(spec, "cosmos", NULL, 0, &cosmos, err) == 0 &&
        read_input(spec, "hsc", NULL, 0, &hsc, err) == 0 && read_galaxiesml(spec, &p, &gml, &ngml, err) == 0) {
        pz_progress(0.3, "matching %zu COSMOS x %zu HSC sources", cosmos->nrows, hsc->nrows);
        pz_transferz_report rep;
        out = pz_build_transferz(cosmos, hsc, gml, ngml, &p, &rep, err);
        *summary = pz_transferz_report_text(&rep);
        if (out) {
            pz_progress(0.8, "writing %zu rows", out->nrows);
            char *json = pz_transferz_report_json(&rep);
            char *obj = pz_xasprintf("{%s}", json);
            pz_table_set_attr(out, "transferz_build", obj);
            rc = write_table(spec, "table", out, err) == 0 && write_json(spec, "report", json, err) == 0 ? 0 : -1;
            free(json);
            free(obj);
        }
    }
    for (size_t k = 0; k < ngml; k++) pz_table_free(gml[k]);
    free(gml);
    pz_table_free(cosmos);
    pz_table_free(hsc);
    pz_table_free(out);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

static const pz_io_def TRANSFERZ_INPUTS[] = {
    {"cosmos", PZ_IO_ONE, 0, "COSMOS2020 after cuts"},
    {"hsc", PZ_IO_ONE, 0, "HSC after cuts"},
    {"galaxiesml", PZ_IO_ANY, 1, "GalaxiesML splits whose objects are removed from TransferZ"},
    {0}};
static const pz_io_def TRANSFERZ_OUTPUTS[] = {{"table", PZ_IO_ONE, 0, "the TransferZ training table", PZ_STAGE_TABLE_EXT},
                                              {"report", PZ_IO_ONE, 0, "match and overlap counts (JSON)", ".json"}, {0}};

const pz_stage_def pz_stage_build_transferz = {
    .prog = "pzflow-build-transferz", .docs = "docs/catalogue.md",
    .summary = "TransferZ: COSMOS2020 photo-z labels on HSC photometry, without GalaxiesML objects",
    .params = TRANSFERZ_PARAMS, .inputs = TRANSFERZ_INPUTS, .outputs = TRANSFERZ_OUTPUTS,
    .params_size = sizeof(transferz_args), .run = stage_build_transferz};

/* ---- split ---- */

typedef struct {
    long seed;
    const pz_ynode *fractions;
} split_params;

static const pz_param_def SPLIT_PARAMS[] = {
    {PZ_PARAM("seed", PZ_PT_INT, "1", "seed of the shuffle"), PZ_RANGE(0, PZ_OPEN), .field = PZ_FIELD(split_params, seed)},
    {PZ_PARAM("fractions", PZ_PT_MAP, "{train: 0.70, validation: 0.15, test: 0.15}", "share of rows in each part"),
     .field = PZ_FIELD(split_params, fractions)},
    {0}};
static const pz_io_def SPLIT_INPUTS[] = {{"table", PZ_IO_ONE, 0, "the table to split"}, {0}};
static const pz_io_def SPLIT_OUTPUTS[] = {{"train", PZ_IO_ONE, 0, "training rows", PZ_STAGE_TABLE_EXT},
                                          {"validation", PZ_IO_ONE, 0, "validation rows", PZ_STAGE_TABLE_EXT},
                                          {"test", PZ_IO_ONE, 1, "test rows (optional: a two-way split has none)", PZ_STAGE_TABLE_EXT},
                                          {0}};

static int stage_split(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const split_params *sp = params;
    *summary = NULL;
    double frac[PZ_SPLIT_PARTS] = {0.70, 0.15, 0.15};
    long seed = sp->seed;
    const pz_ynode *fr = sp->fractions;
    int named[PZ_SPLIT_PARTS] = {0};
    if (fr) {
        for (size_t i = 0; i < fr->n; i++) {
            const char *k = fr->keys[i]->str;
            int part = -1;
            for (int j = 0; j < PZ_SPLIT_PARTS; j++)
                if (strcmp(k, pz_split_names[j]) == 0) part = j;
            if (part < 0) return pz_errf(err, "param 'fractions': unknown part '%s' (train, validation, test)", k);
            named[part] = 1;
            if (pz_yscalar_double(fr->items[i], spec->path, &frac[part], err) < 0)
                return pz_err_prefix(err, "param 'fractions.%s': ", k);
        }
    }
    /* A two-way split: fractions that name train and validation but not test, or a pipeline
     * that declares no test output, leave test at 0 rather than at its default 0.15. */
    int has_test = pz_spec_has_output(spec, "test");
    if (!named[PZ_SPLIT_TEST] && ((named[PZ_SPLIT_TRAIN] && named[PZ_SPLIT_VALIDATION]) || !has_test))
        frac[PZ_SPLIT_TEST] = 0;
    if (!has_test && frac[PZ_SPLIT_TEST] > 0)
        return pz_errf(err, "param 'fractions': test fraction %g needs an output 'test'; declare outputs "
                            "[train, validation, test], or give only train and validation for a two-way split",
                       frac[PZ_SPLIT_TEST]);
    pz_table *in = NULL, *parts[PZ_SPLIT_PARTS] = {NULL, NULL, NULL};
    int rc = -1;
    pz_progress(0.0, "reading");
    if (read_input(spec, "table", NULL, 0, &in, err) == 0 &&
        pz_split_table(in, frac, (unsigned long)seed, parts, err) == 0) {
        rc = 0;
        for (int k = 0; k < PZ_SPLIT_PARTS && rc == 0; k++) {
            if (k == PZ_SPLIT_TEST && !has_test) break;
            pz_progress(0.3 + 0.2 * k, "writing %s", pz_split_names[k]);
            rc = write_table(spec, pz_split_names[k], parts[k], err);
        }
        *summary = pz_xasprintf("split %zu rows (seed %ld): train %zu, validation %zu, test %zu\n", in->nrows, seed,
                                parts[0]->nrows, parts[1]->nrows, parts[2]->nrows);
    }
    for (int k = 0; k < PZ_SPLIT_PARTS; k++) pz_table_free(parts[k]);
    pz_table_free(in);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

const pz_stage_def pz_stage_split = {
    .prog = "pzflow-split", .docs = "docs/catalogue.md",
    .summary = "shuffle a table's rows into train, validation and test parts",
    .params = SPLIT_PARAMS, .inputs = SPLIT_INPUTS, .outputs = SPLIT_OUTPUTS,
    .params_size = sizeof(split_params), .run = stage_split};
