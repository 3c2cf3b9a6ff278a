/* "Did you mean": the one rule for suggesting a name close to a mistyped one.
 *
 * Used for pipeline keys, stage and output names, vars, stage params, --set paths and table
 * columns in cut expressions, so every message suggests by the same rule. */
#ifndef PZ_SUGGEST_H
#define PZ_SUGGEST_H

#include <stddef.h>

/* The candidate closest to `word` if it is plausibly a typo of it, else NULL. Letters compare
 * case-insensitively and a swap of neighbours counts as one edit (the commonest typos); up to
 * a third of the word (at least one edit) may be wrong, so "ouputs" finds "outputs" but "x"
 * does not find "run". An exact match differing only in case is the best answer. */
const char *pz_closest_name(const char *word, const char *const *cands, size_t n);

#endif
