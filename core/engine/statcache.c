#include "engine/statcache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/record.h"

typedef struct entry {
    char *path;
    pz_fstat st;
    char hash[PZ_HASH_HEX];
    int persist; /* 0 for racy entries: trusted in this process only */
} entry;

struct pz_statcache {
    const pz_fs *fs;
    char *path;
    entry *slots; /* open addressing, path == NULL means empty */
    size_t cap, n;
    int dirty;
    uint64_t files_hashed, bytes_hashed;
};

static size_t slot_of(const pz_statcache *sc, const char *path)
{
    size_t i = (size_t)XXH3_64bits(path, strlen(path)) & (sc->cap - 1);
    while (sc->slots[i].path && strcmp(sc->slots[i].path, path)) i = (i + 1) & (sc->cap - 1);
    return i;
}

static void grow(pz_statcache *sc)
{
    entry *old = sc->slots;
    size_t oldcap = sc->cap;
    sc->cap = oldcap ? oldcap * 2 : 64;
    sc->slots = pz_xcalloc(sc->cap, sizeof *sc->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].path) sc->slots[slot_of(sc, old[i].path)] = old[i];
    free(old);
}

static entry *upsert(pz_statcache *sc, const char *path)
{
    if ((sc->n + 1) * 2 > sc->cap) grow(sc);
    entry *e = &sc->slots[slot_of(sc, path)];
    if (!e->path) {
        e->path = pz_xstrdup(path);
        sc->n++;
    }
    return e;
}

static void parse_line(pz_statcache *sc, char *line)
{
    char hash[64], path_esc[8192];
    pz_fstat st = {0};
    if (sscanf(line, "%63s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %8191s", hash, &st.dev,
               &st.ino, &st.size, &st.mtime_ns, &st.ctime_ns, path_esc) != 7)
        return;
    char *path = pz_unescape(path_esc);
    if (path && pz_hash_valid(hash)) {
        entry *e = upsert(sc, path);
        e->st = st;
        e->st.is_reg = 1;
        memcpy(e->hash, hash, PZ_HASH_HEX);
        e->persist = 1;
    }
    free(path);
}

pz_statcache *pz_statcache_open(const pz_fs *fs, const char *path)
{
    pz_statcache *sc = pz_xcalloc(1, sizeof *sc);
    sc->fs = fs;
    sc->path = path ? pz_xstrdup(path) : NULL;
    grow(sc);
    char *text = path ? fs->read(fs->ctx, path, NULL) : NULL;
    if (text && !strncmp(text, "pzflow-statcache 1\n", 19)) {
        for (char *line = strtok(text + 19, "\n"); line; line = strtok(NULL, "\n")) parse_line(sc, line);
    }
    free(text);
    return sc;
}

void pz_statcache_free(pz_statcache *sc)
{
    if (!sc) return;
    for (size_t i = 0; i < sc->cap; i++) free(sc->slots[i].path);
    free(sc->slots);
    free(sc->path);
    free(sc);
}

static int same_stat(const pz_fstat *a, const pz_fstat *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

int pz_statcache_hash(pz_statcache *sc, const char *path, char out[PZ_HASH_HEX], pz_err *err)
{
    pz_fstat st;
    if (sc->fs->stat(sc->fs->ctx, path, &st) < 0)
        return pz_errf(err, "%s: %s", path, errno == ENOENT ? "file not found" : strerror(errno));
    if (!st.is_reg) return pz_errf(err, "%s: not a regular file", path);
    entry *e = &sc->slots[slot_of(sc, path)];
    if (e->path && same_stat(&e->st, &st)) {
        memcpy(out, e->hash, PZ_HASH_HEX);
        return 0;
    }
    /* Take the clock before reading, so a write racing with the read counts as racy. */
    int64_t now = sc->fs->now_ns(sc->fs->ctx);
    uint64_t nbytes = 0;
    if (sc->fs->hash(sc->fs->ctx, path, out, &nbytes, err) < 0) return -1;
    sc->files_hashed++;
    sc->bytes_hashed += nbytes;
    e = upsert(sc, path);
    e->st = st;
    memcpy(e->hash, out, PZ_HASH_HEX);
    int64_t changed = st.ctime_ns > st.mtime_ns ? st.ctime_ns : st.mtime_ns;
    int64_t window = changed % 1000000000 ? PZ_STATCACHE_RACY_FINE_NS : PZ_STATCACHE_RACY_COARSE_NS;
    e->persist = now - changed >= window;
    sc->dirty = 1;
    return 0;
}

int pz_statcache_changed(pz_statcache *sc, const char *path)
{
    const entry *e = &sc->slots[slot_of(sc, path)];
    pz_fstat st;
    if (!e->path || sc->fs->stat(sc->fs->ctx, path, &st) < 0) return 1;
    return !same_stat(&e->st, &st);
}

void pz_statcache_each_current(const pz_statcache *sc, void (*fn)(void *ctx, const char *hash), void *ctx)
{
    for (size_t i = 0; i < sc->cap; i++) {
        const entry *e = &sc->slots[i];
        pz_fstat st;
        if (e->path && sc->fs->stat(sc->fs->ctx, e->path, &st) == 0 && same_stat(&e->st, &st)) fn(ctx, e->hash);
    }
}

int pz_statcache_save(pz_statcache *sc, pz_err *err)
{
    if (!sc->dirty || !sc->path) return 0;
    size_t cap = 64 + sc->n * 200, len = 0;
    char *buf = pz_xmalloc(cap);
    len += (size_t)snprintf(buf, cap, "pzflow-statcache 1\n");
    for (size_t i = 0; i < sc->cap; i++) {
        const entry *e = &sc->slots[i];
        if (!e->path || !e->persist) continue;
        char *esc = pz_escape(e->path);
        size_t need = strlen(esc) + 160;
        if (len + need >= cap) buf = pz_xrealloc(buf, cap = (cap + need) * 2);
        len += (size_t)snprintf(buf + len, cap - len, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n",
                                e->hash, e->st.dev, e->st.ino, e->st.size, e->st.mtime_ns, e->st.ctime_ns, esc);
        free(esc);
    }
    int rc = pz_write_atomic(sc->path, buf, len, err);
    free(buf);
    if (rc == 0) sc->dirty = 0;
    return rc;
}

uint64_t pz_statcache_files_hashed(const pz_statcache *sc) { return sc->files_hashed; }
uint64_t pz_statcache_bytes_hashed(const pz_statcache *sc) { return sc->bytes_hashed; }
