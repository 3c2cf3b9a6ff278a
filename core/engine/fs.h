/* The filesystem as the staleness logic sees it.
 *
 * Deciding what is stale needs only four things from the disk: stat a file, hash a file, read
 * a small file (run records, the index) and the clock. They go through this table so the
 * decision logic is unit-tested against an in-memory filesystem (as ninja does), with exact
 * control over inode numbers, timestamps and how often something was hashed.
 *
 * Writing (commits, records, scratch directories) is not abstracted: it is done by the
 * scheduler on the real disk, and tested end to end. The real-disk helpers are declared here. */
#ifndef PZ_FS_H
#define PZ_FS_H

#include <stddef.h>
#include <stdint.h>
#include "engine/hash.h"
#include "util/err.h"

typedef struct pz_fstat {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    int is_reg;
} pz_fstat;

typedef struct pz_fs {
    /* 0 on success; -1 if the path does not exist or cannot be stat'ed (errno set). */
    int (*stat)(void *ctx, const char *path, pz_fstat *st);
    /* Hash the file's contents; *nbytes gets its size. -1 with err on failure. */
    int (*hash)(void *ctx, const char *path, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err);
    /* Whole small file, NUL-terminated, malloc'd; NULL if missing (errno set). */
    char *(*read)(void *ctx, const char *path, size_t *len);
    /* Wall clock in ns since the epoch (for the racy-stat rule in statcache.c). */
    int64_t (*now_ns)(void *ctx);
    void *ctx;
} pz_fs;

/* The real filesystem. */
const pz_fs *pz_fs_real(void);

/* --- real-disk helpers used by the cache and the scheduler --- */

/* Write `len` bytes to `path` atomically: a temporary file in the same directory, fsync,
 * rename over `path`, fsync the directory. A crash leaves either the old or the new file.
 * ENOSPC and friends give one message naming the path. */
int pz_write_atomic(const char *path, const void *data, size_t len, pz_err *err);
/* mkdir -p (mode 0777 & umask). */
int pz_mkdirs(const char *path, pz_err *err);
/* rm -rf, making read-only directories writable first. Missing path is not an error. */
int pz_rmtree(const char *path, pz_err *err);
/* fsync a directory so a rename inside it is durable. */
int pz_fsync_dir(const char *dir, pz_err *err);
/* Read a whole file (NUL-terminated, malloc'd) or NULL with err. */
char *pz_read_file(const char *path, size_t *len, pz_err *err);

#endif
