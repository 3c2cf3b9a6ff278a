/* Deciding what is stale, and saying why.
 *
 * A plan walks the stages in topological order. A stage can be judged once every upstream
 * stage has a "current" record (one whose outputs are what downstream would read): its
 * candidate record gets the key ingredients (executable hash from the stat cache, canonical
 * params, input hashes: upstream ones copied from upstream records, external ones from the
 * stat cache), its key is computed, and the stage is up to date when a record for that key
 * exists and its output objects are present. Nothing is hashed except external files and
 * executables whose stat changed.
 *
 * When an upstream stage is stale its new outputs are unknown until it runs (it may well
 * produce the same bytes: early cutoff), so `status` and `--dry-run` judge the downstream
 * stage by assuming the upstream outputs stay as in its last run: if the stage would be
 * stale anyway it is PZ_STALE with its own reason, else PZ_MAYBE ("runs only if upstream
 * outputs change"). The scheduler judges with real upstream records only.
 *
 * Reasons are computed against the stage's last successful run (the pipeline's index):
 * "never run", "forced", "executable changed", "param lr changed 5e-4 → 1e-4",
 * "input catalog changed", "threads changed 1 → 2", "outputs changed", ... */
#ifndef PZ_STATUS_H
#define PZ_STATUS_H

#include "engine/cache.h"
#include "engine/fs.h"
#include "engine/pipeline.h"
#include "engine/record.h"
#include "engine/statcache.h"

typedef enum { PZ_UNKNOWN, PZ_UP_TO_DATE, PZ_STALE, PZ_MAYBE } pz_state;

typedef struct pz_plan {
    const pz_pipeline *p;
    const pz_fs *fs;
    const pz_cache *cache;
    pz_statcache *sc;
    pz_index *index;
    /* per stage */
    int *forced;
    pz_state *state;
    char **reason;         /* malloc'd, NULL when up to date */
    pz_record **cand;      /* key ingredients and key, once judged */
    pz_record **current;   /* record whose outputs are current (up to date or just run) */
    pz_record **assumed;   /* status only: outputs assumed for a stale stage (its last run) */
    int *corrupt;          /* stale because an output object's bytes no longer match its hash */
    /* executable hashes, memoised per path for this plan */
    size_t nexe;
    char **exe_paths;
    char (*exe_hashes)[PZ_HASH_HEX];
    /* the params last turned into JSON and their two texts: the instances of a foreach stage
     * mostly have equal params, and comparing trees is much cheaper than printing them */
    const pz_ynode *memo_params;
    char *memo_canonical, *memo_text;
} pz_plan;

pz_plan *pz_plan_new(const pz_pipeline *p, const pz_fs *fs, const pz_cache *cache, pz_statcache *sc,
                     pz_index *index);
void pz_plan_free(pz_plan *pl);

/* Judge stage i. assume = 0: every upstream stage must have a current record (scheduler).
 * assume = 1: use assumed records for stale upstream stages (status, dry run). Errors: an
 * external input or executable that cannot be read. */
int pz_plan_judge(pz_plan *pl, size_t i, int assume, pz_err *err);

/* Judge every stage with assume = 1 (status, why, dry run). */
int pz_plan_judge_all(pz_plan *pl, pz_err *err);

/* Read the record of `key` through the plan's fs; NULL if absent or unreadable. */
pz_record *pz_plan_read_record(const pz_plan *pl, const char *key);

/* The reason `cand` differs from `prev` (the last run): "param lr changed 5e-4 → 1e-4; input
 * catalog changed". malloc'd. prev NULL gives "never run". */
char *pz_explain_change(const pz_record *cand, const pz_record *prev);

/* Full explanation for `pzflow why`: state, reason, key, and every key ingredient with what
 * it was in the last run. malloc'd. */
char *pz_plan_why(const pz_plan *pl, size_t i);

#endif
