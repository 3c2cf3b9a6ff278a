/* Seeded random train / validation / test split of a table's rows.
 *
 * Rows are shuffled with GSL's MT19937 (gsl_ran_shuffle) seeded with `seed`; the first
 * round(f_train·N) shuffled rows are the training set, the next round(f_validation·N) the
 * validation set, the rest the test set. Each part keeps the input row order, so the same
 * table, fractions and seed always give byte-identical parts, and the three are disjoint and
 * cover every row. */
#ifndef PZ_SPLIT_H
#define PZ_SPLIT_H

#include <stddef.h>
#include "table/table.h"
#include "util/err.h"

enum { PZ_SPLIT_TRAIN, PZ_SPLIT_VALIDATION, PZ_SPLIT_TEST, PZ_SPLIT_PARTS };

extern const char *const pz_split_names[PZ_SPLIT_PARTS]; /* "train", "validation", "test" */

typedef struct pz_split {
    size_t n[PZ_SPLIT_PARTS];
    size_t *rows[PZ_SPLIT_PARTS]; /* ascending row numbers of each part */
} pz_split;

/* Fractions must be >= 0 and sum to 1 (within 1e-6). */
int pz_split_rows(size_t nrows, const double frac[PZ_SPLIT_PARTS], unsigned long seed, pz_split *out, pz_err *err);
void pz_split_free(pz_split *s);

/* The three parts as tables (attributes copied, plus "split" describing the part). */
int pz_split_table(const pz_table *t, const double frac[PZ_SPLIT_PARTS], unsigned long seed,
                   pz_table *parts[PZ_SPLIT_PARTS], pz_err *err);

#endif
