/* `pzflow status --json` and `pzflow why --json`: what the text reports say, as JSON for scripts
 * (the text may change wording; these names and values are the contract, docs/engine.md).
 *
 *   status: {"pipeline": "p.yaml", "stages": [{"name": "train[1]", "state": "stale",
 *            "reason": "param lr changed 5e-4 → 1e-4"}, ...],
 *            "stale": 1, "waiting": 0, "up_to_date": 30,
 *            "results": {"folder": "results/p", "state": "none" | "matches" | "differs" |
 *            "unreadable", "finished": UTC time of the run it shows or null, "differs": [names
 *            of the stages whose key differs], "error": why it cannot be read, or null}}
 *   why:    {"stages": [{"name": ..., "state": ..., "reason": ... or null,
 *            "key": its key now (null while an upstream stage is stale: known after it runs),
 *            "last_key": the key of its last successful run (null if none),
 *            "last_failed_status": exit status of a failed last attempt, or 0}]}
 *   show:   {"pipeline": "p.yaml", "results": "results/p", "outputs": [{"stage": "evaluate",
 *            "output": "table", "hash": content hash, "path": the file in the cache,
 *            "text": the file's contents, or null when it is not text (holds a NUL byte)}]}
 *            (an external file listed under show: has stage, output and hash null)
 * state is "ok" (up to date), "stale" or "maybe" (runs only if upstream outputs change). */
#ifndef PZ_REPORT_JSON_H
#define PZ_REPORT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "engine/status.h"

/* What `status` says of the results folder (the text report prints the same facts). */
typedef struct pz_results_view {
    const char *folder;        /* as shown to the user */
    const char *state;         /* "none", "matches", "differs" or "unreadable" */
    int64_t finished_ns;       /* of the run the folder shows; 0 when none */
    const char **differs;      /* stages whose key differs from the pipeline's now */
    size_t ndiffers;
    const char *error;         /* "unreadable": why */
} pz_results_view;

/* Both malloc'd, indented, ending in a newline; the plan must be judged (pz_plan_judge_all). */
char *pz_status_json(const pz_plan *pl, const pz_results_view *results);
char *pz_why_json(const pz_plan *pl, const size_t *stages, size_t n);

/* One output `pzflow show` prints: stage, output and hash NULL for an external file; text NULL
 * when the file is not text. */
typedef struct pz_shown {
    const char *stage, *output, *hash, *path, *text;
} pz_shown;
char *pz_show_json(const char *pipeline, const char *results, const pz_shown *outputs, size_t n);

#endif
