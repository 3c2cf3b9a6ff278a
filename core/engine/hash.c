#include "engine/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/* 256 KiB: large enough that syscalls are negligible, small enough to stay in L2 so the
 * copy out of the page cache and the hash both run at cache speed. */
#define READ_CHUNK (256 * 1024)

static void to_hex(XXH128_hash_t h, char out[PZ_HASH_HEX])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[c.digest[i] >> 4];
        out[2 * i + 1] = digits[c.digest[i] & 15];
    }
    out[32] = 0;
}

int pz_hash_fd(int fd, const char *name, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err)
{
    XXH3_state_t *st = XXH3_createState();
    unsigned char *buf = malloc(READ_CHUNK);
    if (!st || !buf) {
        XXH3_freeState(st);
        free(buf);
        return pz_errf(err, "%s: out of memory for hashing", name);
    }
    XXH3_128bits_reset(st);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, READ_CHUNK);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = pz_errf(err, "%s: read failed: %s", name, strerror(errno));
            break;
        }
        XXH3_128bits_update(st, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (rc == 0) {
        to_hex(XXH3_128bits_digest(st), out);
        if (nbytes) *nbytes = total;
    }
    XXH3_freeState(st);
    free(buf);
    return rc;
}

int pz_hash_file(const char *path, char out[PZ_HASH_HEX], uint64_t *nbytes, pz_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pz_errf(err, "%s: cannot open for hashing: %s", path, strerror(errno));
    int rc = pz_hash_fd(fd, path, out, nbytes, err);
    close(fd);
    return rc;
}

void pz_hash_bytes(const void *data, size_t len, char out[PZ_HASH_HEX])
{
    to_hex(XXH3_128bits(data, len), out);
}

/* The fields are gathered into one buffer and hashed in one call at the end: XXH3 gives the same
 * digest for one call over the whole text as for a stream of updates over its pieces, and a
 * stream of small updates cost ~230 instructions a field, most of a stage key's cost in a no-op
 * check of 3,000 instances (issue 14). Most keys fit the hasher's own buffer. */
struct pz_hasher {
    char *p;
    size_t len, cap;
    char small[960]; /* with the rest, under glibc's 1,032-byte limit for its fastest reuse (tcache) */
};

pz_hasher *pz_hasher_new(void)
{
    pz_hasher *h = pz_xmalloc(sizeof *h);
    h->p = h->small;
    h->len = 0;
    h->cap = sizeof h->small;
    return h;
}

static void hasher_put(pz_hasher *h, const void *data, size_t n)
{
    if (h->len + n > h->cap) {
        size_t cap = 2 * (h->len + n);
        char *p = pz_xmalloc(cap);
        memcpy(p, h->p, h->len);
        if (h->p != h->small) free(h->p);
        h->p = p;
        h->cap = cap;
    }
    memcpy(h->p + h->len, data, n);
    h->len += n;
}

void pz_hasher_str(pz_hasher *h, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    uint64_t n = s ? len : UINT64_MAX; /* NULL and "" differ */
    hasher_put(h, &n, sizeof n);
    if (s) hasher_put(h, s, len);
}

void pz_hasher_long(pz_hasher *h, long v)
{
    /* text, so the key does not depend on endianness; by hand, since snprintf was 5% of a
     * no-op check of a 3000-instance pipeline */
    char text[32], *p = text + sizeof text;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    *--p = 0;
    do *--p = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) *--p = '-';
    pz_hasher_str(h, p);
}

void pz_hasher_final(pz_hasher *h, char out[PZ_HASH_HEX])
{
    to_hex(XXH3_128bits(h->p, h->len), out);
    if (h->p != h->small) free(h->p);
    free(h);
}

int pz_hash_valid(const char *s)
{
    if (!s) return 0;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[32] == 0;
}
