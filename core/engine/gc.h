/* `pzflow gc`: delete what no pipeline can reach.
 *
 * Roots: every last-run index in <cache>/pipelines/ (one per pipeline ever run with this
 * cache). Reachable: the run record of each stage key an index names, every object such a
 * record names (outputs and log), and the log of each stage's last attempt (so `pzflow log`
 * still shows why a stage failed). Everything else in objects/ and runs/ is removed, along
 * with leftovers of interrupted writes and dead scratch directories, the descriptions
 * (describe/) of executables no kept record ran and no installed file has, and the Slurm
 * executor's job folders (slurm/) of jobs that ended or were never submitted, with Slurm's output
 * files of jobs no kept folder is for. A job folder whose job may still be queued or running
 * (submitted, no exit file, key not committed) is kept for a restarted run to reattach to, so gc
 * needs no Slurm command. Records of older runs are
 * not roots, so after gc switching a param back to an old value reruns the stage; the run cache
 * is a cache. Takes the run lock: it never races with a run. */
#ifndef PZ_GC_H
#define PZ_GC_H

#include <stdint.h>
#include "engine/cache.h"

typedef struct pz_gc_result {
    size_t objects_kept, objects_removed, records_kept, records_removed;
    size_t tmp_removed; /* leftovers of interrupted writes and dead scratch directories */
    size_t descriptions_removed; /* describe/ entries of executables no longer installed */
    size_t jobs_removed;         /* slurm/ folders of jobs that ended or were never submitted */
    uint64_t bytes_removed;
} pz_gc_result;

/* Only names pzflow writes are ever removed (hashes, keys, its scratch and temporary names);
 * each removed path (with sw->dry_run: each path that would be) goes to sw->fn. `dropped`: the
 * path of an index to count as removed though it is still there (what a dry run of
 * `gc --experiment` would leave), or NULL. */
int pz_gc(const pz_cache *c, const char *dropped, pz_sweep *sw, pz_gc_result *res, pz_err *err);

#endif
