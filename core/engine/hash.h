/* Content hashes: XXH3-128 (libxxhash), written as 32 lowercase hex digits.
 *
 * One hash function names everything in the cache: file contents (objects), stage keys and
 * log files. XXH3 is not cryptographic; it guards against accidents, not adversaries, which
 * is the threat model of a local build cache (the same choice as ninja's and ccache's hashes). */
#ifndef PZ_HASH_H
#define PZ_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

#define PZ_HASH_HEX 33 /* 32 hex digits + NUL */

/* Hash a whole file by streaming reads (no per-byte work beyond XXH3 itself). *nbytes
 * (optional) gets the number of bytes hashed. */
int pz_hash_file(const char *path, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err);
/* Same, for an already open descriptor (read from its current offset to EOF). */
int pz_hash_fd(int fd, const char *name, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err);
void pz_hash_bytes(const void *data, size_t len, char out[PZ_HASH_HEX]);

/* Incremental hashing of structured values (stage keys). Every field is added with its
 * length first, so ("ab","c") and ("a","bc") never collide. */
typedef struct pz_hasher pz_hasher;
pz_hasher *pz_hasher_new(void);
void pz_hasher_str(pz_hasher *h, const char *s);
void pz_hasher_long(pz_hasher *h, long v);
void pz_hasher_final(pz_hasher *h, char out[PZ_HASH_HEX]); /* also frees h */

/* 1 if s is 32 lowercase hex digits. */
int pz_hash_valid(const char *s);

#endif
