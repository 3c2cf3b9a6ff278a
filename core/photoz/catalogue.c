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
    if (pz_table_read_hdf5(path, cols, ncols, 0, (size_t)-1, t, err) < 0)
        return pz_err_prefix(err, "input '%s': ", name);
    return 0;
}

static int write_table(const pz_spec *spec, const char *name, pz_table *t, pz_err *err)
{
    const char *path;
    if (pz_spec_output(spec, name, &path, err) < 0) return -1;
    if (pz_table_write_hdf5(path, t, err) < 0) return pz_err_prefix(err, "output '%s': ", name);
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

static int param_str(const pz_spec *spec, const char *key, const char *dflt, const char **out, pz_err *err)
{
    *out = dflt;
    return pz_spec_str(spec, key, out, err) < 0 ? -1 : 0;
}

static int param_double(const pz_spec *spec, const char *key, double dflt, double *out, pz_err *err)
{
    *out = dflt;
    return pz_spec_double(spec, key, out, err) < 0 ? -1 : 0;
}

static int threads_of(const pz_spec *spec) { return spec->threads > 0 ? (int)spec->threads : 1; }

/* ---- quality-cuts ---- */

int pz_stage_quality_cuts(const pz_spec *spec, char **summary, pz_err *err)
{
    static const char *const allowed[] = {"cuts", NULL};
    *summary = NULL;
    const char **cuts = NULL;
    size_t ncuts = 0;
    if (pz_spec_check_params(spec, allowed, err) < 0) return -1;
    int got = pz_spec_strlist(spec, "cuts", &cuts, &ncuts, err);
    if (got < 0) return -1;
    if (got == 1 || ncuts == 0) {
        free(cuts);
        return pz_errf(err, "param 'cuts' is required: a list of expressions such as 'lp_type == 0'");
    }
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
            rc = write_table(spec, "table", out, err) == 0 && write_text(spec, "cutflow", *summary, err) == 0 ? 0 : -1;
        }
    }
    pz_cutflow_free(&flow);
    pz_table_free(in);
    pz_table_free(out);
    free(cuts);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

/* ---- cross-match ---- */

int pz_stage_cross_match(const pz_spec *spec, char **summary, pz_err *err)
{
    static const char *const allowed[] = {"radius_arcsec", "left_ra",      "left_dec",      "right_ra", "right_dec",
                                          "right_prefix",  "right_columns", "mode",          NULL};
    *summary = NULL;
    double radius;
    const char *lra, *ldec, *rra, *rdec, *prefix, *mode;
    if (pz_spec_check_params(spec, allowed, err) < 0 || param_double(spec, "radius_arcsec", 1.0, &radius, err) < 0 ||
        param_str(spec, "left_ra", "ra", &lra, err) < 0 || param_str(spec, "left_dec", "dec", &ldec, err) < 0 ||
        param_str(spec, "right_ra", "ra", &rra, err) < 0 || param_str(spec, "right_dec", "dec", &rdec, err) < 0 ||
        param_str(spec, "right_prefix", "right_", &prefix, err) < 0 || param_str(spec, "mode", "best", &mode, err) < 0)
        return -1;
    pz_xmatch_mode m;
    if (strcmp(mode, "best") == 0)
        m = PZ_XMATCH_BEST;
    else if (strcmp(mode, "nearest") == 0)
        m = PZ_XMATCH_NEAREST;
    else
        return pz_errf(err, "param 'mode': '%s' is not a match mode (best: one-to-one; nearest: each left "
                            "source's nearest)", mode);
    const char **rcols = NULL;
    size_t nrcols = 0;
    int has_rcols = pz_spec_strlist(spec, "right_columns", &rcols, &nrcols, err);
    if (has_rcols < 0) return -1;

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
    free(rcols);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

/* ---- build-transferz ---- */

static int transferz_params(const pz_spec *spec, pz_transferz_params *p, const char ***lists, pz_err *err)
{
    static const char *const allowed[] = {"radius_arcsec", "overlap_radius_arcsec", "cosmos_ra", "cosmos_dec",
                                          "cosmos_id", "label", "hsc_ra", "hsc_dec", "hsc_id", "galaxiesml_ra",
                                          "galaxiesml_dec", "galaxiesml_id", "hsc_columns", "cosmos_columns",
                                          "require_finite", "match_ids", NULL};
    pz_transferz_defaults(p);
    p->threads = threads_of(spec);
    if (pz_spec_check_params(spec, allowed, err) < 0 ||
        pz_spec_double(spec, "radius_arcsec", &p->radius_arcsec, err) < 0 ||
        pz_spec_double(spec, "overlap_radius_arcsec", &p->overlap_radius_arcsec, err) < 0 ||
        pz_spec_str(spec, "cosmos_ra", &p->cosmos_ra, err) < 0 || pz_spec_str(spec, "cosmos_dec", &p->cosmos_dec, err) < 0 ||
        pz_spec_str(spec, "cosmos_id", &p->cosmos_id, err) < 0 || pz_spec_str(spec, "label", &p->label, err) < 0 ||
        pz_spec_str(spec, "hsc_ra", &p->hsc_ra, err) < 0 || pz_spec_str(spec, "hsc_dec", &p->hsc_dec, err) < 0 ||
        pz_spec_str(spec, "hsc_id", &p->hsc_id, err) < 0 || pz_spec_str(spec, "galaxiesml_ra", &p->gml_ra, err) < 0 ||
        pz_spec_str(spec, "galaxiesml_dec", &p->gml_dec, err) < 0 ||
        pz_spec_str(spec, "galaxiesml_id", &p->gml_id, err) < 0 || pz_spec_bool(spec, "match_ids", &p->match_ids, err) < 0)
        return -1;
    /* Lists: absent keeps the default (NULL); present replaces it. */
    const char *keys[3] = {"hsc_columns", "cosmos_columns", "require_finite"};
    size_t n[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        int got = pz_spec_strlist(spec, keys[k], &lists[k], &n[k], err);
        if (got < 0) return -1;
        if (got == 1) lists[k] = NULL;
    }
    if (lists[0]) p->hsc_columns = lists[0], p->nhsc_columns = n[0];
    if (lists[1]) p->cosmos_extra = lists[1], p->ncosmos_extra = n[1];
    if (lists[2]) p->require_finite = lists[2], p->nrequire_finite = n[2];
    if (lists[0] && n[0] == 0) return pz_errf(err, "param 'hsc_columns' must name at least one column");
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
        if (pz_table_read_hdf5(paths[k], cols, p->match_ids ? 3 : 2, 0, (size_t)-1, &(*out)[k], err) < 0)
            rc = pz_err_prefix(err, "input 'galaxiesml' [%zu]: ", k);
    free(paths);
    return rc;
}

int pz_stage_build_transferz(const pz_spec *spec, char **summary, pz_err *err)
{
    *summary = NULL;
    pz_transferz_params p;
    const char **lists[3] = {NULL, NULL, NULL};
    pz_table *cosmos = NULL, *hsc = NULL, *out = NULL, **gml = NULL;
    size_t ngml = 0;
    int rc = -1;
    pz_progress(0.0, "reading");
    if (transferz_params(spec, &p, lists, err) == 0 && read_input(spec, "cosmos", NULL, 0, &cosmos, err) == 0 &&
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
    for (int k = 0; k < 3; k++) free(lists[k]);
    pz_table_free(cosmos);
    pz_table_free(hsc);
    pz_table_free(out);
    if (rc == 0) pz_progress(1.0, "done");
    return rc;
}

/* ---- split ---- */

int pz_stage_split(const pz_spec *spec, char **summary, pz_err *err)
{
    static const char *const allowed[] = {"fractions", "seed", NULL};
    *summary = NULL;
    double frac[PZ_SPLIT_PARTS] = {0.70, 0.15, 0.15};
    long seed = 1;
    if (pz_spec_check_params(spec, allowed, err) < 0 || pz_spec_long(spec, "seed", &seed, err) < 0) return -1;
    const pz_ynode *fr = pz_spec_param(spec, "fractions");
    if (fr) {
        if (fr->kind != PZ_Y_MAP)
            return pz_errf(err, "param 'fractions' must be a map {train: 0.7, validation: 0.15, test: 0.15}");
        for (size_t i = 0; i < fr->n; i++) {
            const char *k = fr->keys[i]->str;
            int part = -1;
            for (int j = 0; j < PZ_SPLIT_PARTS; j++)
                if (strcmp(k, pz_split_names[j]) == 0) part = j;
            if (part < 0) return pz_errf(err, "param 'fractions': unknown part '%s' (train, validation, test)", k);
            char key[64];
            snprintf(key, sizeof key, "fractions.%s", k);
            if (pz_spec_double(spec, key, &frac[part], err) < 0) return -1;
        }
    }
    if (seed < 0) return pz_errf(err, "param 'seed' must be >= 0, got %ld", seed);
    pz_table *in = NULL, *parts[PZ_SPLIT_PARTS] = {NULL, NULL, NULL};
    int rc = -1;
    pz_progress(0.0, "reading");
    if (read_input(spec, "table", NULL, 0, &in, err) == 0 &&
        pz_split_table(in, frac, (unsigned long)seed, parts, err) == 0) {
        rc = 0;
        for (int k = 0; k < PZ_SPLIT_PARTS && rc == 0; k++) {
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
