/* The content-addressed cache directory (layout in schemas/cache.md):
 *
 *   <cache>/objects/ab/cdef...   immutable files named by the XXH3-128 of their bytes (mode 0444)
 *   <cache>/runs/<key>           one run record per stage key, written last (record.h)
 *   <cache>/pipelines/<hash>     last-run index of one pipeline (hash of its absolute path)
 *   <cache>/tmp/<pid>.<stage>.XXXXXX/  private scratch directories of running stages (<pid> is
 *                                pzflow's; <stage> the instance name, other characters than
 *                                letters, digits, '-' and '_' as '_': train-base_3_)
 *   <cache>/slurm/               the Slurm executor's job directories and job records (slurm.c)
 *   <cache>/statcache            the stat cache of external files (statcache.h)
 *   <cache>/lock                 the run lock (lock.h)
 *   <cache>/pzflow-cache         the marker: "pzflow-cache 1", written when the cache is created
 *
 * Every file that counts is created elsewhere and renamed into place, so a reader never sees
 * a partial object, record or index. */
#ifndef PZ_CACHE_H
#define PZ_CACHE_H

#include "engine/hash.h"
#include "engine/record.h"
#include "util/err.h"

typedef struct pz_cache {
    char *dir, *objects, *runs, *pipelines, *tmp;
    /* objects/ canonical (realpath, resolved once at open: workspace links are made relative to
     * it for every output of every stage), or NULL when it does not exist or cannot be resolved */
    char *objects_real;
    int marked; /* the marker file is there (or was just written) */
} pz_cache;

/* The marker file that makes a directory a pzflow cache, and its one line (format, version). */
#define PZ_CACHE_MARKER "pzflow-cache"
#define PZ_CACHE_MARKER_TEXT "pzflow-cache 1\n"

/* Fill the paths; with create, make the directories and the marker. A directory that exists
 * must be a cache: it holds the marker, or is empty, or holds only names pzflow writes (a cache
 * made before the marker existed: adopted). Anything else is refused with one line naming the
 * directory, before anything in it is read, written or removed. A missing directory is fine
 * (an empty cache) when not creating. */
int pz_cache_open(pz_cache *c, const char *dir, int create, pz_err *err);
void pz_cache_close(pz_cache *c);

char *pz_cache_object_path(const pz_cache *c, const char *hash);
char *pz_cache_record_path(const pz_cache *c, const char *key);
char *pz_cache_index_path(const pz_cache *c, const char *pipeline_abs_path);
char *pz_cache_statcache_path(const pz_cache *c);

/* Move the finished file `src` (inside the cache's filesystem) into the object store under
 * `hash`: made read-only, fsync'ed, renamed. If the object already exists and still has that
 * hash, src is removed instead; a damaged stored copy is replaced. *st (optional) gets the
 * stored object's size and mtime, for the record's cheap corruption check. */
int pz_cache_put_object(const pz_cache *c, const char *src, const char *hash, pz_objstat *st, pz_err *err);

/* Remove a damaged object, so whatever needs it reruns its producer. */
int pz_cache_drop_object(const pz_cache *c, const char *hash, pz_err *err);

/* Write a run record atomically: the commit point of a stage run. */
int pz_cache_write_record(const pz_cache *c, const pz_record *r, pz_err *err);

/* A fresh private scratch directory <tmp>/<pid>.<stage>.XXXXXX for one stage run, the label
 * (the stage instance name) made safe as above and cut to 63 bytes (malloc'd path). */
char *pz_cache_scratch(const pz_cache *c, const char *label, pz_err *err);
/* What a sweep removes, or with dry_run only names: each path goes to fn (optional), n counts. */
typedef struct pz_sweep {
    int dry_run;
    size_t n;
    void (*fn)(void *ctx, const char *path, int is_dir);
    void *ctx;
} pz_sweep;
void pz_sweep_note(pz_sweep *sw, const char *path, int is_dir);

/* The pid of a scratch directory name "<pid>.<stage>.XXXXXX" (pz_cache_scratch), or -1 when the
 * name is not one pzflow makes. */
long pz_cache_scratch_pid(const char *name);
/* Remove the scratch directories in tmp/ of processes that are dead: the run lock alone is not
 * proof that no live run owns one (the lock file may have been removed under a running run).
 * Entries whose names pzflow did not make are left alone. */
int pz_cache_clean_tmp(const pz_cache *c, pz_sweep *sw, pz_err *err);
/* Remove the temporary files ("<name>.tmp.<pid>") that a process killed in the middle of an
 * atomic write left in runs/ and pipelines/ (<name> a hash) and the cache directory (<name>
 * statcache or the marker), if that process is dead. Caller holds the run lock. */
int pz_cache_clean_stale(const pz_cache *c, pz_sweep *sw, pz_err *err);

#endif
