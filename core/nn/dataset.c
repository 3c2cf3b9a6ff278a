#include "nn/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pz_xy_free(pz_xy *d)
{
    free(d->x);
    free(d->y);
    for (size_t j = 0; d->units && j < d->nfeat; j++) free(d->units[j]);
    free(d->units);
    free(d->corrections);
    memset(d, 0, sizeof *d);
}

static int is_sentinel(const pz_xy *d, float v)
{
    for (size_t k = 0; k < d->nsentinels; k++)
        if (v == (float)d->sentinels[k]) return 1;
    return 0;
}

static int numeric_column(const pz_table *t, const char *name, const char *what, const pz_column **out,
                          pz_err *err)
{
    const pz_column *c = pz_table_need(t, name, what, err);
    if (!c) return -1;
    if (c->type == PZ_STR) return pz_errf(err, "%s: column '%s' is a string column, not numeric", what, name);
    *out = c;
    return 0;
}

/* One error for every missing column, so a user fixes the params in one go. */
static int check_columns(const pz_table *t, const char *const *features, size_t nfeat, const char *label,
                         const char *what, pz_err *err)
{
    char missing[PZ_ERR_MAX / 2] = "";
    size_t nmiss = 0, used = 0;
    for (size_t j = 0; j <= nfeat; j++) {
        const char *name = j < nfeat ? features[j] : label;
        if (pz_table_col(t, name)) continue;
        used += snprintf(missing + used, used < sizeof missing ? sizeof missing - used : 0, "%s'%s'",
                         nmiss++ ? ", " : "", name);
        if (used >= sizeof missing) used = sizeof missing - 1;
    }
    if (nmiss) return pz_errf(err, "%s: missing column%s %s", what, nmiss > 1 ? "s" : "", missing);
    return 0;
}

int pz_xy_append_table(pz_xy *d, const pz_table *t, const char *const *features, size_t nfeat, const char *label,
                       int drop_nonfinite, size_t *dropped, const char *what, pz_err *err)
{
    if (check_columns(t, features, nfeat, label, what, err)) return -1;
    const pz_column *cols[nfeat + 1];
    for (size_t j = 0; j <= nfeat; j++)
        if (numeric_column(t, j < nfeat ? features[j] : label, what, &cols[j], err)) return -1;
    d->nfeat = nfeat;
    d->x = pz_xrealloc(d->x, sizeof(float) * (d->n + t->nrows) * nfeat + 1);
    d->y = pz_xrealloc(d->y, sizeof(float) * (d->n + t->nrows) + 1);
    size_t bad[nfeat + 1];
    memset(bad, 0, sizeof bad);
    size_t kept = d->n;
    for (size_t r = 0; r < t->nrows; r++) {
        float *xr = d->x + kept * nfeat;
        int ok = 1;
        for (size_t j = 0; j <= nfeat; j++) {
            float v = (float)pz_col_f64(cols[j], r);
            if (!isfinite(v) || (j < nfeat && is_sentinel(d, v))) {
                bad[j]++;
                ok = 0;
            }
            if (j < nfeat) xr[j] = v;
            else d->y[kept] = v;
        }
        kept += ok;
    }
    if (!drop_nonfinite) {
        for (size_t j = 0; j <= nfeat; j++)
            if (bad[j])
                return pz_errf(err, "%s: column '%s' has %zu non-finite or sentinel value%s (of %zu rows); clean the table or "
                                    "set drop_nonfinite: true",
                               what, j < nfeat ? features[j] : label, bad[j], bad[j] > 1 ? "s" : "", t->nrows);
    }
    for (size_t j = 0; j <= nfeat; j++) dropped[j] += bad[j];
    d->n = kept;
    return 0;
}

static void report_drops(char **report, const char *path, const char *const *features, size_t nfeat,
                         const char *label, const size_t *bad, size_t rows_before, size_t rows_after)
{
    if (rows_before == rows_after) return;
    size_t len = *report ? strlen(*report) : 0, cap = len + 256 + 64 * (nfeat + 1) + strlen(path);
    *report = pz_xrealloc(*report, cap);
    len += snprintf(*report + len, cap - len, "%s%s: dropped %zu of %zu rows with non-finite or sentinel values (", len ? "\n" : "",
                    path, rows_before - rows_after, rows_before);
    int first = 1;
    for (size_t j = 0; j <= nfeat; j++) {
        if (!bad[j]) continue;
        len += snprintf(*report + len, cap - len, "%s%s: %zu", first ? "" : ", ", j < nfeat ? features[j] : label,
                        bad[j]);
        first = 0;
    }
    snprintf(*report + len, cap - len, ")");
}

/* What the model records about its inputs (model.h): each feature's unit and the corrections
 * ingest applied, from the tables' column units and `pzflow_corrections` attribute. Tables that
 * disagree on a unit cannot be trained on together; differing corrections are all recorded. */
static int note_inputs(pz_xy *d, const pz_table *t, const char *const *features, const char *what, pz_err *err)
{
    if (!d->units) {
        d->units = pz_xcalloc(d->nfeat ? d->nfeat : 1, sizeof *d->units);
        for (size_t j = 0; j < d->nfeat; j++) d->units[j] = pz_xstrdup("");
        d->corrections = pz_xstrdup("");
    }
    for (size_t j = 0; j < d->nfeat; j++) {
        const char *u = pz_table_col(t, features[j])->unit;
        if (!u || !*u) continue;
        if (*d->units[j] && strcmp(d->units[j], u))
            return pz_errf(err, "%s: feature '%s' is in '%s', but an earlier training table has it in '%s'", what,
                           features[j], u, d->units[j]);
        free(d->units[j]);
        d->units[j] = pz_xstrdup(u);
    }
    const char *c = pz_table_attr(t, "pzflow_corrections");
    if (c && *c && !strstr(d->corrections, c)) {
        char *both = *d->corrections ? pz_xasprintf("%s | %s", d->corrections, c) : pz_xstrdup(c);
        free(d->corrections);
        d->corrections = both;
    }
    return 0;
}

int pz_xy_load(const char *const *paths, const char *const *labels, size_t npaths, const char *const *features,
               size_t nfeat, int drop_nonfinite, pz_xy *out, char **report, pz_err *err)
{
    const double *sentinels = out->sentinels;
    size_t nsentinels = out->nsentinels;
    memset(out, 0, sizeof *out);
    out->sentinels = sentinels;
    out->nsentinels = nsentinels;
    out->nfeat = nfeat;
    *report = NULL;
    for (size_t i = 0; i < npaths; i++) {
        const char *cols[nfeat + 1];
        memcpy(cols, features, sizeof *cols * nfeat);
        cols[nfeat] = labels[i];
        pz_table *t = NULL;
        if (pz_table_read_any(paths[i], 0, cols, nfeat + 1, 0, (size_t)-1, &t, err)) {
            pz_xy_free(out);
            return -1;
        }
        size_t bad[nfeat + 1], before = out->n;
        memset(bad, 0, sizeof bad);
        int rc = pz_xy_append_table(out, t, features, nfeat, labels[i], drop_nonfinite, bad, paths[i], err);
        if (!rc) rc = note_inputs(out, t, features, paths[i], err);
        if (!rc) report_drops(report, paths[i], features, nfeat, labels[i], bad, t->nrows, out->n - before);
        pz_table_free(t);
        if (rc) {
            pz_xy_free(out);
            return -1;
        }
    }
    if (out->n == 0) {
        if (npaths == 1) pz_errf(err, "%s: no usable rows (the table is empty or every row has a non-finite value)", paths[0]);
        else pz_errf(err, "no usable rows in %zu tables (empty, or every row has a non-finite value)", npaths);
        pz_xy_free(out);
        return -1;
    }
    return 0;
}
