/* Feature matrix and label vector for training, read from one or several tables.
 *
 * NN-Combo trains on several tables at once: each contributes its rows and its OWN label column
 * (lp_zPDF for TransferZ, specz_redshift for GalaxiesML), which together become the one target
 * vector (the study's `z_truth`). */
#ifndef PZ_NN_DATASET_H
#define PZ_NN_DATASET_H

#include <stddef.h>
#include "table/table.h"
#include "util/err.h"

typedef struct pz_xy {
    size_t n, nfeat;
    float *x; /* [n x nfeat], raw (unscaled) features */
    float *y; /* [n] label */
    /* Set before loading: feature values that mean "missing" (dropped like non-finite ones). */
    const double *sentinels;
    size_t nsentinels;
    /* Filled by pz_xy_load: the tables' feature units ("" = none) and `pzflow_corrections`. */
    char **units;
    char *corrections;
} pz_xy;

void pz_xy_free(pz_xy *d);

/* Append the rows of `t` (features + label column) to d. Rows with a non-finite or sentinel
 * (d->sentinels) feature or a non-finite label
 * are dropped and counted in dropped[j] (j = feature index, nfeat = the label) when drop_nonfinite,
 * else the first one is an error naming the column and how many rows are affected. `what` names
 * the table in messages (its path). Missing columns are listed in one error. */
int pz_xy_append_table(pz_xy *d, const pz_table *t, const char *const *features, size_t nfeat, const char *label,
                       int drop_nonfinite, size_t *dropped, const char *what, pz_err *err);

/* Read HDF5 tables paths[i] with label labels[i] and concatenate them. *report (malloc'd, may be
 * NULL when nothing was dropped) says how many rows were dropped and why, per file and column.
 * An empty result is an error. */
int pz_xy_load(const char *const *paths, const char *const *labels, size_t npaths, const char *const *features,
               size_t nfeat, int drop_nonfinite, pz_xy *out, char **report, pz_err *err);

#endif
