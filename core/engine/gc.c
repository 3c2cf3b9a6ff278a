#include "engine/gc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/fs.h"

typedef struct hashset {
    char (*h)[PZ_HASH_HEX];
    size_t n, cap;
} hashset;

static void hs_add(hashset *s, const char *h)
{
    if (!h || !h[0]) return;
    if (s->n == s->cap) s->h = pz_xrealloc(s->h, (s->cap = s->cap ? s->cap * 2 : 256) * sizeof *s->h);
    memcpy(s->h[s->n++], h, PZ_HASH_HEX);
}

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, 32); }

static void hs_sort(hashset *s) { qsort(s->h, s->n, sizeof *s->h, cmp_hash); }

static int hs_has(const hashset *s, const char *h)
{
    return s->n && bsearch(h, s->h, s->n, sizeof *s->h, cmp_hash) != NULL;
}

/* Roots from every index: record keys, last-attempt logs, and the keys its results folder shows. */
static int collect_roots(const pz_cache *c, const char *dropped, hashset *keys, hashset *objects, pz_err *err)
{
    DIR *d = opendir(c->pipelines);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", c->pipelines, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!pz_hash_valid(e->d_name)) continue;
        char *path = pz_xasprintf("%s/%s", c->pipelines, e->d_name);
        if (dropped && !strcmp(path, dropped)) {
            free(path);
            continue;
        }
        char *text = pz_read_file(path, NULL, err);
        pz_index *ix = text ? pz_index_parse(text, path, err) : NULL;
        /* A damaged index must stop gc: deleting what it protected would lose results. */
        if (!ix) rc = pz_err_prefix(err, "gc: ");
        for (size_t i = 0; ix && i < ix->n; i++) {
            hs_add(keys, ix->e[i].key);
            hs_add(objects, ix->e[i].log_hash);
        }
        for (size_t i = 0; ix && i < ix->nresults; i++) hs_add(keys, ix->results[i]); /* results folder */
        pz_index_free(ix);
        free(text);
        free(path);
    }
    closedir(d);
    return rc;
}

static void collect_record_objects(const pz_cache *c, const hashset *keys, hashset *objects)
{
    for (size_t i = 0; i < keys->n; i++) {
        char *path = pz_cache_record_path(c, keys->h[i]);
        pz_err err;
        char *text = pz_read_file(path, NULL, &err);
        pz_record *r = text ? pz_record_parse(text, path, &err) : NULL;
        for (size_t k = 0; r && k < r->noutputs; k++) hs_add(objects, r->out_hashes[k]);
        if (r) hs_add(objects, r->log_hash);
        pz_record_free(r);
        free(text);
        free(path);
    }
}

/* Remove (or with a dry run only name) one regular file; anything else is not pzflow's. */
static int remove_file(const char *path, pz_sweep *sw, uint64_t *bytes, int *removed, pz_err *err)
{
    struct stat st;
    *removed = 0;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) return 0;
    if (bytes) *bytes += (uint64_t)st.st_size;
    pz_sweep_note(sw, path, 0);
    *removed = 1;
    if (!sw->dry_run && unlink(path) < 0 && errno != ENOENT)
        return pz_errf(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static int sweep_runs(const pz_cache *c, const hashset *keys, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    DIR *d = opendir(c->runs);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", c->runs, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        /* Only names pzflow writes: "<key>"; "<key>.tmp.<pid>" is pz_cache_clean_stale's. */
        if (!pz_hash_valid(e->d_name)) continue;
        if (hs_has(keys, e->d_name)) {
            res->records_kept++;
            continue;
        }
        char *path = pz_xasprintf("%s/%s", c->runs, e->d_name);
        int removed;
        rc = remove_file(path, sw, NULL, &removed, err);
        res->records_removed += (size_t)removed;
        free(path);
    }
    closedir(d);
    return rc;
}

static int sweep_shard(const pz_cache *c, const char *shard, const hashset *objects, pz_sweep *sw, pz_gc_result *res,
                       pz_err *err)
{
    char *dir = pz_xasprintf("%s/%s", c->objects, shard);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char hash[PZ_HASH_HEX + 8];
        snprintf(hash, sizeof hash, "%s%s", shard, e->d_name);
        if (!pz_hash_valid(hash)) continue; /* not a name pzflow writes */
        if (hs_has(objects, hash)) {
            res->objects_kept++;
            continue;
        }
        char *path = pz_xasprintf("%s/%s", dir, e->d_name);
        int removed;
        rc = remove_file(path, sw, &res->bytes_removed, &removed, err);
        res->objects_removed += (size_t)removed;
        free(path);
    }
    closedir(d);
    if (!sw->dry_run) rmdir(dir); /* fails harmlessly when not empty */
    free(dir);
    return rc;
}

static int is_shard(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[2] == 0;
}

static int sweep_objects(const pz_cache *c, const hashset *objects, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    DIR *d = opendir(c->objects);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", c->objects, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)))
        if (is_shard(e->d_name)) rc = sweep_shard(c, e->d_name, objects, sw, res, err);
    closedir(d);
    return rc;
}

int pz_gc(const pz_cache *c, const char *dropped, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    memset(res, 0, sizeof *res);
    hashset keys = {0}, objects = {0};
    int rc = collect_roots(c, dropped, &keys, &objects, err);
    if (rc == 0) {
        hs_sort(&keys);
        collect_record_objects(c, &keys, &objects);
        hs_sort(&objects);
        rc = sweep_runs(c, &keys, sw, res, err);
    }
    if (rc == 0) rc = sweep_objects(c, &objects, sw, res, err);
    size_t before = sw->n;
    if (rc == 0) rc = pz_cache_clean_stale(c, sw, err);
    if (rc == 0) rc = pz_cache_clean_tmp(c, sw, err);
    res->tmp_removed = sw->n - before;
    free(keys.h);
    free(objects.h);
    return rc;
}
