/* A seed ensemble as one p(z): the mixture of its members' predictions (issue 13, method a).
 *
 * Members are predictions tables of the same rows in the same order (one per seed). Each member
 * contributes weight 1/N:
 *   - a member with a p(z) (pdf = gaussian_mixture) contributes its components, weights / N;
 *   - a point member contributes one Gaussian at its z_pred whose width is the kernel bandwidth
 *     of the point members' z_pred in that row (Silverman's rule, 1.06 s n^(-1/5), s their
 *     standard deviation, at least PZ_MDN_STD_FLOOR): the mixture of the point members is then
 *     a Gaussian kernel density estimate of their predictions. It describes how much the
 *     training's randomness (initialisation, shuffling) moves a galaxy's z: no label noise and
 *     no photometric noise, so it is narrower than the real uncertainty; the conformal stage
 *     calibrates it.
 * collapse = 1 replaces the mixture by its moment-matched Gaussian (one component), for large
 * ensembles whose K = N components would make a wide table.
 * z_pred is the mixture mean; a row where any member's z_pred is NaN is NaN throughout.
 * Columns other than z_pred, z_true, flag and the pdf columns (the id, pass-through columns)
 * come from the first member; integer ones must be equal in every member. */
#ifndef PZ_NN_ENSEMBLE_H
#define PZ_NN_ENSEMBLE_H

#include <stddef.h>
#include "util/err.h"
#include "util/spec.h"

typedef struct pz_ensemble_stats {
    size_t rows, members, ncomp, nan_rows;
} pz_ensemble_stats;

int pz_ensemble(const char *const *paths, size_t n, const char *out_path, int collapse, pz_ensemble_stats *st,
                pz_err *err);

extern const pz_stage_def pz_nn_ensemble_stage;

#endif
