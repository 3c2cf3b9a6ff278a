/* Building the TransferZ table. See transferz.h for the steps. */
#include "photoz/transferz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const default_hsc_columns[] = {
    "object_id",         "ra",                "dec",               "g_cmodel_mag",      "r_cmodel_mag",
    "i_cmodel_mag",      "z_cmodel_mag",      "y_cmodel_mag",      "g_cmodel_magsigma", "r_cmodel_magsigma",
    "i_cmodel_magsigma", "z_cmodel_magsigma", "y_cmodel_magsigma"};
static const char *const default_finite[] = {"g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag",
                                             "y_cmodel_mag"};

void pz_transferz_defaults(pz_transferz_params *p)
{
    memset(p, 0, sizeof *p);
    p->radius_arcsec = 1.0;
    p->overlap_radius_arcsec = 1.0;
    p->cosmos_ra = "ra";
    p->cosmos_dec = "dec";
    p->cosmos_id = "id";
    p->label = "lp_zPDF";
    p->hsc_ra = p->gml_ra = "ra";
    p->hsc_dec = p->gml_dec = "dec";
    p->hsc_id = p->gml_id = "object_id";
    p->match_ids = 1;
    p->threads = 1;
}

/* Every column the build needs, checked up front so one error lists all that are missing. */
static int check_columns(const pz_table *t, const char *what, const char *const *names, size_t n, pz_err *err)
{
    char missing[600] = "";
    size_t len = 0, nmiss = 0;
    for (size_t k = 0; k < n; k++) {
        if (!names[k] || pz_table_col(t, names[k])) continue;
        int seen = 0; /* a column needed twice is reported once */
        for (size_t j = 0; j < k && !seen; j++) seen = names[j] && strcmp(names[j], names[k]) == 0;
        if (seen) continue;
        nmiss++;
        if (len < sizeof missing) len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", names[k]);
    }
    if (!nmiss) return 0;
    char have[400] = "";
    size_t hl = 0;
    for (size_t i = 0; i < t->ncols && hl < sizeof have; i++)
        hl += (size_t)snprintf(have + hl, sizeof have - hl, "%s%s", i ? ", " : "", t->cols[i].name);
    return pz_errf(err, "table '%s': missing column%s %s (have: %s)", what, nmiss > 1 ? "s" : "", missing, have);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int is_integer(pz_coltype t) { return t == PZ_I64 || t == PZ_I32 || t == PZ_I16 || t == PZ_U8; }

static int64_t col_i64(const pz_column *c, size_t r)
{
    switch (c->type) {
    case PZ_I64: return ((const int64_t *)c->data)[r];
    case PZ_I32: return ((const int32_t *)c->data)[r];
    case PZ_I16: return ((const int16_t *)c->data)[r];
    default: return ((const uint8_t *)c->data)[r];
    }
}

/* Overlap flags of the candidate rows `hrows` (HSC rows): 1 = near a GalaxiesML galaxy,
 * 2 = same object_id, 3 = both. */
static int overlap_flags(const pz_table *hsc, const size_t *hrows, size_t n, pz_table *const *gml, size_t ngml,
                         const pz_transferz_params *p, uint8_t *flags, pz_transferz_report *rep, pz_err *err)
{
    memset(flags, 0, n ? n : 1);
    if (ngml == 0) return 0;
    size_t total = 0;
    for (size_t g = 0; g < ngml; g++) {
        char what[32];
        snprintf(what, sizeof what, "galaxiesml[%zu]", g);
        const char *need[] = {p->gml_ra, p->gml_dec, p->match_ids ? p->gml_id : NULL};
        if (check_columns(gml[g], what, need, 3, err) < 0) return -1;
        if (p->match_ids && !is_integer(pz_table_col(gml[g], p->gml_id)->type))
            return pz_errf(err, "table '%s': column '%s' must hold integers to compare object ids", what, p->gml_id);
        total += gml[g]->nrows;
    }
    rep->galaxiesml_rows = total;
    double *gra = pz_xmalloc((total ? total : 1) * sizeof *gra), *gdec = pz_xmalloc((total ? total : 1) * sizeof *gdec);
    int64_t *gid = pz_xmalloc((total ? total : 1) * sizeof *gid);
    size_t at = 0, nid = 0;
    for (size_t g = 0; g < ngml; g++) {
        const pz_column *ra = pz_table_col(gml[g], p->gml_ra), *dec = pz_table_col(gml[g], p->gml_dec);
        const pz_column *id = p->match_ids ? pz_table_col(gml[g], p->gml_id) : NULL;
        for (size_t r = 0; r < gml[g]->nrows; r++, at++) {
            gra[at] = pz_col_f64(ra, r);
            gdec[at] = pz_col_f64(dec, r);
            if (id && !(id->null && id->null[r])) gid[nid++] = col_i64(id, r);
        }
    }
    const pz_column *hra = pz_table_col(hsc, p->hsc_ra), *hdec = pz_table_col(hsc, p->hsc_dec);
    double *tra = pz_xmalloc((n ? n : 1) * sizeof *tra), *tdec = pz_xmalloc((n ? n : 1) * sizeof *tdec);
    for (size_t k = 0; k < n; k++) {
        tra[k] = pz_col_f64(hra, hrows[k]);
        tdec[k] = pz_col_f64(hdec, hrows[k]);
    }
    pz_xmatch_result res;
    int rc = pz_xmatch(tra, tdec, n, gra, gdec, total, p->overlap_radius_arcsec, PZ_XMATCH_NEAREST, p->threads, &res,
                       err);
    if (rc < 0) {
        pz_err_prefix(err, "matching TransferZ with GalaxiesML: ");
    } else {
        for (size_t k = 0; k < n; k++) flags[k] = res.match[k] >= 0;
        pz_xmatch_result_free(&res);
        if (p->match_ids) {
            qsort(gid, nid, sizeof *gid, cmp_i64);
            const pz_column *hid = pz_table_col(hsc, p->hsc_id);
            for (size_t k = 0; k < n; k++) {
                if (hid->null && hid->null[hrows[k]]) continue;
                int64_t v = col_i64(hid, hrows[k]);
                if (bsearch(&v, gid, nid, sizeof *gid, cmp_i64)) flags[k] |= 2;
            }
        }
    }
    free(gra);
    free(gdec);
    free(gid);
    free(tra);
    free(tdec);
    return rc;
}

static int check_inputs(const pz_table *cosmos, const pz_table *hsc, const pz_transferz_params *p,
                        const char *const *hcols, size_t nh, const char *const *fin, size_t nf, pz_err *err)
{
    size_t nc = 4 + p->ncosmos_extra;
    const char **cneed = pz_xcalloc(nc, sizeof *cneed);
    cneed[0] = p->cosmos_ra, cneed[1] = p->cosmos_dec, cneed[2] = p->cosmos_id, cneed[3] = p->label;
    for (size_t k = 0; k < p->ncosmos_extra; k++) cneed[4 + k] = p->cosmos_extra[k];
    int rc = check_columns(cosmos, "cosmos", cneed, nc, err);
    free(cneed);
    if (rc < 0) return -1;
    size_t nn = 3 + nh + nf;
    const char **hneed = pz_xcalloc(nn, sizeof *hneed);
    hneed[0] = p->hsc_ra, hneed[1] = p->hsc_dec, hneed[2] = p->match_ids ? p->hsc_id : NULL;
    memcpy(hneed + 3, hcols, nh * sizeof *hcols);
    memcpy(hneed + 3 + nh, fin, nf * sizeof *fin);
    rc = check_columns(hsc, "hsc", hneed, nn, err);
    free(hneed);
    if (rc < 0) return -1;
    if (p->match_ids && !is_integer(pz_table_col(hsc, p->hsc_id)->type))
        return pz_errf(err, "table 'hsc': column '%s' must hold integers to compare object ids", p->hsc_id);
    for (size_t k = 0; k < nf; k++)
        if (pz_table_col(hsc, fin[k])->type == PZ_STR)
            return pz_errf(err, "table 'hsc': column '%s' holds strings, it cannot be required finite", fin[k]);
    return 0;
}

/* Output column names must be distinct: an extra column could shadow a fixed one, and
 * pz_table_add would silently replace it. */
static int check_unique(char *const *names, size_t n, pz_err *err)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) == 0) return pz_errf(err, "TransferZ column '%s' would appear twice", names[i]);
    return 0;
}

static pz_table *assemble(const pz_table *cosmos, const pz_table *hsc, const size_t *crows, const size_t *hrows,
                          const double *sep, size_t n, const pz_transferz_params *p, const char *const *hcols,
                          size_t nh, pz_err *err)
{
    pz_table *out = pz_table_new(n);
    char *label2 = pz_xasprintf("%s_CLASSIC", p->label);
    char **names = pz_xcalloc(nh + 5 + p->ncosmos_extra, sizeof *names);
    size_t nn = 0;
    for (size_t k = 0; k < nh; k++) names[nn++] = pz_xstrdup(hcols[k]);
    names[nn++] = pz_xstrdup(p->label);
    names[nn++] = pz_xstrdup(label2);
    names[nn++] = pz_xstrdup("cosmos_id");
    for (size_t k = 0; k < p->ncosmos_extra; k++) names[nn++] = pz_xasprintf("cosmos_%s", p->cosmos_extra[k]);
    names[nn++] = pz_xstrdup("match_sep_arcsec");
    int rc = check_unique(names, nn, err);
    if (rc == 0) {
        for (size_t k = 0; k < nh; k++) pz_column_copy_rows(out, names[k], pz_table_col(hsc, hcols[k]), hrows, n);
        const pz_column *lab = pz_table_col(cosmos, p->label);
        pz_column_copy_rows(out, names[nh], lab, crows, n);
        pz_column_copy_rows(out, names[nh + 1], lab, crows, n);
        pz_column_copy_rows(out, names[nh + 2], pz_table_col(cosmos, p->cosmos_id), crows, n);
        for (size_t k = 0; k < p->ncosmos_extra; k++)
            pz_column_copy_rows(out, names[nh + 3 + k], pz_table_col(cosmos, p->cosmos_extra[k]), crows, n);
        pz_column *s = pz_table_add(out, "match_sep_arcsec", PZ_F64, 0);
        s->unit = pz_xstrdup("arcsec");
        memcpy(s->data, sep, n * sizeof *sep);
    }
    for (size_t k = 0; k < nn; k++) free(names[k]);
    free(names);
    free(label2);
    if (rc < 0) {
        pz_table_free(out);
        return NULL;
    }
    return out;
}

pz_table *pz_build_transferz(const pz_table *cosmos, const pz_table *hsc, pz_table *const *gml, size_t ngml,
                             const pz_transferz_params *p, pz_transferz_report *rep, pz_err *err)
{
    memset(rep, 0, sizeof *rep);
    rep->galaxiesml_tables = ngml;
    const char *const *hcols = p->hsc_columns ? p->hsc_columns : default_hsc_columns;
    size_t nh = p->hsc_columns ? p->nhsc_columns : sizeof default_hsc_columns / sizeof *default_hsc_columns;
    const char *const *fin = p->require_finite ? p->require_finite : default_finite;
    size_t nf = p->require_finite ? p->nrequire_finite : sizeof default_finite / sizeof *default_finite;
    if (check_inputs(cosmos, hsc, p, hcols, nh, fin, nf, err) < 0) return NULL;

    pz_xmatch_result m;
    if (pz_xmatch_tables(cosmos, "cosmos", p->cosmos_ra, p->cosmos_dec, hsc, "hsc", p->hsc_ra, p->hsc_dec,
                         p->radius_arcsec, PZ_XMATCH_BEST, p->threads, &m, err) < 0)
        return NULL;
    rep->match = m.stats;

    size_t cap = m.stats.matched ? m.stats.matched : 1, n = 0;
    size_t *crows = pz_xmalloc(cap * sizeof *crows), *hrows = pz_xmalloc(cap * sizeof *hrows);
    double *sep = pz_xmalloc(cap * sizeof *sep);
    for (size_t i = 0; i < cosmos->nrows; i++) {
        if (m.match[i] < 0) continue;
        size_t j = (size_t)m.match[i];
        int finite = 1;
        for (size_t k = 0; k < nf && finite; k++) finite = isfinite(pz_col_f64(pz_table_col(hsc, fin[k]), j));
        if (!finite) {
            rep->not_finite++;
            continue;
        }
        crows[n] = i;
        hrows[n] = j;
        sep[n++] = m.sep_arcsec[i];
    }
    pz_xmatch_result_free(&m);

    uint8_t *flags = pz_xmalloc(n ? n : 1);
    pz_table *out = NULL;
    if (overlap_flags(hsc, hrows, n, gml, ngml, p, flags, rep, err) == 0) {
        size_t kept = 0;
        for (size_t k = 0; k < n; k++) {
            rep->overlap_position_only += flags[k] == 1;
            rep->overlap_id_only += flags[k] == 2;
            rep->overlap_both += flags[k] == 3;
            if (flags[k]) continue;
            crows[kept] = crows[k];
            hrows[kept] = hrows[k];
            sep[kept++] = sep[k];
        }
        rep->overlap_total = n - kept;
        rep->rows = kept;
        out = assemble(cosmos, hsc, crows, hrows, sep, kept, p, hcols, nh, err);
        if (out && kept == 0) {
            pz_table_free(out);
            out = NULL;
            pz_errf(err, "TransferZ is empty: %zu COSMOS x HSC matches, %zu without finite photometry, %zu also "
                         "in GalaxiesML", rep->match.matched, rep->not_finite, rep->overlap_total);
        }
    }
    free(flags);
    free(crows);
    free(hrows);
    free(sep);
    return out;
}

char *pz_transferz_report_json(const pz_transferz_report *r)
{
    char *m = pz_xmatch_stats_json(&r->match);
    char *s = pz_xasprintf("\"cosmos_x_hsc\": %s, \"dropped_not_finite\": %zu, \"galaxiesml_tables\": %zu, "
                           "\"galaxiesml_rows\": %zu, \"removed_in_galaxiesml\": {\"position_only\": %zu, "
                           "\"object_id_only\": %zu, \"both\": %zu, \"total\": %zu}, \"rows\": %zu",
                           m, r->not_finite, r->galaxiesml_tables, r->galaxiesml_rows, r->overlap_position_only,
                           r->overlap_id_only, r->overlap_both, r->overlap_total, r->rows);
    free(m);
    return s;
}

char *pz_transferz_report_text(const pz_transferz_report *r)
{
    char *m = pz_xmatch_stats_text(&r->match);
    char *s = pz_xasprintf("TransferZ build\n%s"
                           "  dropped, photometry not finite: %zu\n"
                           "  removed, also in GalaxiesML (%zu rows in %zu tables): %zu "
                           "(position only %zu, object_id only %zu, both %zu)\n"
                           "  TransferZ rows: %zu\n",
                           m, r->not_finite, r->galaxiesml_rows, r->galaxiesml_tables, r->overlap_total,
                           r->overlap_position_only, r->overlap_id_only, r->overlap_both, r->rows);
    free(m);
    return s;
}
