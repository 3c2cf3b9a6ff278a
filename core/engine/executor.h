/* Where stage processes run: an executor starts tasks and says how each one ended; the
 * scheduler (run.c) decides what runs and commits what finished, the same way whatever the
 * executor. So a job that claims success is committed only when every declared output is
 * there as a regular file, hashed on the node where `pzflow run` runs.
 *
 * Two executors, one per file:
 *   local.c  child processes on this machine (the default): process groups, timeouts, the
 *            live progress pipe;
 *   slurm.c  batch jobs submitted with sbatch (ready foreach instances as one job array),
 *            watched with one squeue call per poll interval for all of them, cancelled with
 *            scancel (docs/cluster.md).
 *
 * A task's life: workdir() gives it a private directory (the scheduler writes spec.json and
 * out/ into it), submit() starts a batch of tasks, wait() returns those that ended, release()
 * removes the directory once the scheduler has committed (or given up on) its outputs. */
#ifndef PZ_EXECUTOR_H
#define PZ_EXECUTOR_H

#include <signal.h>
#include <stddef.h>
#include "engine/cache.h"
#include "engine/display.h"
#include "engine/pipeline.h"
#include "util/err.h"

/* One stage instance to run. */
typedef struct pz_task {
    size_t id;             /* the scheduler's number for it (the stage index) */
    const pz_stage *stage;
    const char *key;       /* its stage key (the Slurm executor names its job record by it) */
    const char *dir;       /* its private directory, from workdir() */
    long threads;          /* threads it may use */
} pz_task;

/* How a task ended. */
typedef struct pz_outcome {
    size_t id;
    int code;              /* 0: the stage exited 0; else its exit status, 128 + signal, or -1 */
    int file_limit;        /* killed by SIGXFSZ: the machine's file size limit, not the stage's fault */
    char what[512];        /* when code != 0, why: "exit status 3", "killed by Slurm: ... TIME LIMIT" */
} pz_outcome;

/* What every executor gets from the scheduler. */
typedef struct pz_exec_env {
    const pz_cache *cache;
    pz_display *disp;      /* progress lines, notices */
    int wake_fd;           /* readable when a signal arrived (SIGCHLD, SIGINT, ...): wait() returns early */
    int live;              /* a live display: wait() returns at least every 100 ms to redraw it */
    const volatile sig_atomic_t *interrupted; /* nonzero after Ctrl-C: stop retrying, return */
} pz_exec_env;

typedef struct pz_executor pz_executor;
struct pz_executor {
    const char *name;      /* "local", "slurm" */
    long max_jobs;         /* the most tasks it runs at once, whatever -j says */
    /* A private directory for the task (malloc'd path). *attached = 1: a job a killed pzflow
     * left behind runs (or ran) this very key in it: the scheduler writes nothing, and submit()
     * watches that job instead of starting another. */
    char *(*workdir)(pz_executor *ex, const pz_task *t, int *attached, pz_err *err);
    /* Start tasks that are ready together (their directories are prepared). 0 or -1 with err;
     * on error none of them is running. */
    int (*submit)(pz_executor *ex, const pz_task *tasks, size_t n, pz_err *err);
    /* Wait up to one interval for tasks to end; fills out[0..] (cap >= the running count) and
     * returns how many, or -1 with err (the executor cannot tell any more what runs). */
    long (*wait)(pz_executor *ex, pz_outcome *out, size_t cap, pz_err *err);
    /* The scheduler is done with an ended task: drop its directory and records. */
    void (*release)(pz_executor *ex, size_t id);
    /* Stop every running task (Ctrl-C, or an error), drop their directories; out gets their ids
     * (cap >= the running count); returns how many. */
    size_t (*cancel)(pz_executor *ex, size_t *out, size_t cap);
    void (*free)(pz_executor *ex);
};

pz_executor *pz_executor_local(const pz_exec_env *env);

/* Slurm settings: the commands (overridable, so tests can count calls to stand-ins), the poll
 * interval and how long transient failures are retried. */
typedef struct pz_slurm_config {
    const char *sbatch, *squeue, *scancel, *sacct;
    double poll_s;         /* seconds between two squeue calls */
    double retry_s;        /* total wait for a refused sbatch/squeue/scancel before giving up */
} pz_slurm_config;

/* Defaults, then the environment: PZFLOW_SBATCH, PZFLOW_SQUEUE, PZFLOW_SCANCEL, PZFLOW_SACCT
 * (command names or paths), PZFLOW_SLURM_POLL and PZFLOW_SLURM_RETRY (seconds). -1 with err on
 * a malformed number. */
int pz_slurm_config_from_env(pz_slurm_config *c, pz_err *err);
pz_executor *pz_executor_slurm(const pz_exec_env *env, const pz_slurm_config *cfg, pz_err *err);

#endif
