/* The scheduler: runs the stale stages of a judged plan, in dependency order, up to `jobs` at
 * a time, and commits each one's outputs into the cache.
 *
 * A stage is judged only when all of its upstream stages are done, with their real output
 * hashes, so early cutoff falls out of the keys: an upstream stage that reran and wrote the
 * same bytes leaves its downstream keys unchanged, and they are found up to date.
 *
 * Running a stage (the stage protocol, schemas/spec.md): the executor (executor.h: local
 * processes by default, or Slurm jobs) gives it a private directory, the scheduler writes
 * spec.json and out/ into it, the executor runs `<exe> spec.json` there with stdout+stderr to
 * log and says how it ended. On exit 0 with every declared output present as a regular file:
 * hash, move into objects/, store the log, write the run record (the commit point), update the
 * pipeline's index. On any failure nothing is committed except the log. The commit happens
 * here, on the machine pzflow runs on, whatever the executor.
 *
 * Threads: a stage gets max(1, min(requested, cores / k)) threads, where k is the number of
 * stages that can run at that moment (min(jobs, running + ready)), so the machine is not
 * oversubscribed (a Slurm job gets the threads it requests). The key uses the requested count,
 * so -j does not change keys.
 *
 * SIGINT/SIGTERM/SIGHUP: running stages are stopped (local: SIGTERM, SIGKILL after 2 s;
 * Slurm: scancel), their directories removed, completed stages stay committed, and pz_run
 * returns PZ_RUN_INTERRUPTED. */
#ifndef PZ_RUN_H
#define PZ_RUN_H

#include <stdint.h>
#include <stdio.h>
#include "engine/cache.h"
#include "engine/executor.h"
#include "engine/status.h"

typedef struct pz_run_opts {
    long jobs;           /* >= 1 */
    long cores;          /* threads available in total */
    int keep_going;      /* on failure keep running what does not depend on it */
    const int *selected; /* per stage: 1 = part of this run (--until); NULL = all */
    FILE *out;           /* progress and messages */
    int live;            /* redraw a live display (out is a terminal) */
    int color;           /* colour the display (the CLI decides: --color, NO_COLOR, a terminal) */
    const char *index_path;
    const pz_slurm_config *slurm; /* NULL: the local executor; else run stages as Slurm jobs */
} pz_run_opts;

typedef struct pz_run_result {
    size_t ran, up_to_date, failed, skipped;
} pz_run_result;

enum { PZ_RUN_OK = 0, PZ_RUN_FAILED = 1, PZ_RUN_ERROR = 2, PZ_RUN_INTERRUPTED = 130 };

/* Run everything stale. Returns one of the PZ_RUN_* codes; err is set for PZ_RUN_ERROR. */
int pz_run(pz_plan *pl, const pz_run_opts *o, pz_run_result *res, pz_err *err);

#endif
