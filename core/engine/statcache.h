/* The stat cache: external files (inputs named by path, stage executables) are hashed once and
 * remembered by (device, inode, size, mtime_ns, ctime_ns). A later stat that matches all five is
 * trusted and the file is not read again, so a no-op check costs one stat per external file.
 *
 * ctime is included because it cannot be set by tools that preserve mtime (cp -p, rsync,
 * tar), the lesson Bazel learned from collisions on equal mtimes. A file whose change time is
 * within PZ_STATCACHE_RACY_NS of the moment it was hashed is "racy" (it could still be changed
 * within the same timestamp tick without the stat changing), so its entry is used for the
 * current process only and not saved: the next run hashes it once more. (Git's racy-index rule.)
 * The window is 50 ms on filesystems with sub-second timestamps (Linux stamps files from a
 * clock that ticks every 1-10 ms) and 2 s when the timestamps are whole seconds.
 *
 * On-disk format (schemas/cache.md): text, first line "pzflow-statcache 1", then one line per
 * file: "<hash> <dev> <ino> <size> <mtime_ns> <ctime_ns> <escaped path>". Saved atomically. The
 * file is only a cache: unreadable lines are dropped, never trusted. */
#ifndef PZ_STATCACHE_H
#define PZ_STATCACHE_H

#include <stdint.h>
#include "engine/fs.h"
#include "engine/hash.h"

#define PZ_STATCACHE_RACY_FINE_NS 50000000LL
#define PZ_STATCACHE_RACY_COARSE_NS 2000000000LL

typedef struct pz_statcache pz_statcache;

/* path NULL: in-memory only (tests). A missing or damaged file starts an empty cache. */
pz_statcache *pz_statcache_open(const pz_fs *fs, const char *path);
void pz_statcache_free(pz_statcache *sc);

/* Hash of the file at `path` (absolute), from the cache when its stat matches. Errors name
 * the file ("not found", not a regular file, read error). */
int pz_statcache_hash(pz_statcache *sc, const char *path, char out[PZ_HASH_HEX], pz_err *err);

/* 1 when `path` no longer has the stat it had when pz_statcache_hash last gave its hash
 * (changed, replaced, removed), 0 when it still has it. The scheduler asks this after a stage
 * exits, so a file edited while the stage read it is never recorded under its old hash. */
int pz_statcache_changed(pz_statcache *sc, const char *path);

/* fn(ctx, hash) for each file the cache knows that still has the stat it was hashed with: the
 * content hashes of files as they are now (gc keeps the descriptions of executables still
 * installed, gc.h). */
void pz_statcache_each_current(const pz_statcache *sc, void (*fn)(void *ctx, const char *hash), void *ctx);

/* Write the cache back if anything changed. */
int pz_statcache_save(pz_statcache *sc, pz_err *err);

/* How many files / bytes this cache object actually read (for reports and tests). */
uint64_t pz_statcache_files_hashed(const pz_statcache *sc);
uint64_t pz_statcache_bytes_hashed(const pz_statcache *sc);

#endif
