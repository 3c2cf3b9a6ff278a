/* One `pzflow run` (or gc) per cache at a time.
 *
 * The lock is flock() on the cache directory, through a descriptor opened close-on-exec so
 * stage processes never inherit it; no file can be removed from under it (an flock on the file
 * <cache>/lock could: remove the file and a second run locks a new one). The kernel drops an
 * flock when its holder dies, however it dies (kill -9 included), so a dead run's lock is
 * recovered with no stale-lock heuristics. The holder writes its pid into <cache>/lock (best
 * effort) so a waiting run can say who it waits for. Read-only commands take no lock: they
 * only read files that are replaced atomically. */
#ifndef PZ_LOCK_H
#define PZ_LOCK_H

#include <stdio.h>
#include "util/err.h"

typedef struct pz_lock {
    int fd;
} pz_lock;

/* Take the lock. wait = 0: fail at once with "cache <dir> is in use by pzflow (pid N)".
 * wait = 1: if busy, write "waiting for lock held by pid N" to `notice` (may be NULL) and
 * block until free. Returns 0, or -1 with err (busy, or I/O error). *busy is set when the
 * lock was held by someone else and wait was 0. */
int pz_lock_acquire(pz_lock *lk, const char *cache_dir, int wait, FILE *notice, int *busy, pz_err *err);
void pz_lock_release(pz_lock *lk);

#endif
