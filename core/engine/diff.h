/* `pzflow diff A B`: two complete runs side by side (like `dvc params diff` and
 * `dvc metrics diff`). A run is named by its results folder's manifest (results.h).
 *
 * Params: every param of every stage whose value differs, as dotted paths
 * ("fine-tune-tl[1]  lr  0.0001  5e-05"), from the canonical params of the records the two
 * manifests name. Metrics: the `show:` outputs of the two runs, read as Markdown tables (the
 * evaluate stage's table): each numeric cell is named "<section> | <row label> | <column>",
 * where the row label is the row's leading non-numeric cells, and every cell whose text differs
 * is printed with both values and the change of its leading number. Only differences are
 * printed (all = 1: every cell). */
#ifndef PZ_DIFF_H
#define PZ_DIFF_H

#include "engine/results.h"
#include "engine/status.h"

/* Lines "stage  param  A  B" for differing params; "" when none. malloc'd. */
char *pz_diff_params(const pz_plan *pl, const pz_results_manifest *a, const pz_results_manifest *b);

/* Lines "metric  A  B  change" for cells of two Markdown texts that differ. malloc'd. */
char *pz_diff_tables(const char *a, const char *b, int all);

#endif
