/* Seeded train / validation / test split. See split.h. */
#include "photoz/split.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const pz_split_names[PZ_SPLIT_PARTS] = {"train", "validation", "test"};

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int pz_split_rows(size_t nrows, const double frac[PZ_SPLIT_PARTS], unsigned long seed, pz_split *out, pz_err *err)
{
    memset(out, 0, sizeof *out);
    double sum = 0;
    for (int k = 0; k < PZ_SPLIT_PARTS; k++) {
        if (!(frac[k] >= 0 && frac[k] <= 1))
            return pz_errf(err, "%s fraction %g must be between 0 and 1", pz_split_names[k], frac[k]);
        sum += frac[k];
    }
    if (fabs(sum - 1) > 1e-6)
        return pz_errf(err, "split fractions %g + %g + %g must sum to 1", frac[0], frac[1], frac[2]);
    if (nrows == 0) return pz_errf(err, "cannot split a table with no rows");
    /* gsl_ran_shuffle draws indices below the generator's range (2^32 for MT19937). */
    if (nrows > 0xffffffffUL) return pz_errf(err, "cannot split %zu rows (at most 2^32)", nrows);

    size_t ntrain = (size_t)floor(frac[0] * (double)nrows + 0.5);
    size_t nval = (size_t)floor(frac[1] * (double)nrows + 0.5);
    if (ntrain > nrows) ntrain = nrows;
    if (nval > nrows - ntrain) nval = nrows - ntrain;
    out->n[PZ_SPLIT_TRAIN] = ntrain;
    out->n[PZ_SPLIT_VALIDATION] = nval;
    out->n[PZ_SPLIT_TEST] = nrows - ntrain - nval;

    size_t *perm = pz_xmalloc(nrows * sizeof *perm);
    for (size_t i = 0; i < nrows; i++) perm[i] = i;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    gsl_ran_shuffle(rng, perm, nrows, sizeof *perm);
    gsl_rng_free(rng);

    size_t at = 0;
    for (int k = 0; k < PZ_SPLIT_PARTS; k++) {
        size_t n = out->n[k];
        out->rows[k] = pz_xmalloc((n ? n : 1) * sizeof *out->rows[k]);
        memcpy(out->rows[k], perm + at, n * sizeof *perm);
        qsort(out->rows[k], n, sizeof *out->rows[k], cmp_size);
        at += n;
    }
    free(perm);
    return 0;
}

void pz_split_free(pz_split *s)
{
    for (int k = 0; k < PZ_SPLIT_PARTS; k++) free(s->rows[k]);
    memset(s, 0, sizeof *s);
}

int pz_split_table(const pz_table *t, const double frac[PZ_SPLIT_PARTS], unsigned long seed,
                   pz_table *parts[PZ_SPLIT_PARTS], pz_err *err)
{
    pz_split s;
    if (pz_split_rows(t->nrows, frac, seed, &s, err) < 0) return -1;
    for (int k = 0; k < PZ_SPLIT_PARTS; k++) {
        parts[k] = pz_table_take(t, s.rows[k], s.n[k]);
        char *desc = pz_xasprintf("%s: %zu of %zu rows (fractions %g/%g/%g, seed %lu)", pz_split_names[k], s.n[k],
                                  t->nrows, frac[0], frac[1], frac[2], seed);
        pz_table_set_attr(parts[k], "split", desc);
        free(desc);
    }
    pz_split_free(&s);
    return 0;
}
