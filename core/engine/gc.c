#include "engine/gc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/fs.h"
#include "engine/statcache.h"

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

/* Also collects the executable hash of each kept record into exes (descriptions they need). */
static void collect_record_objects(const pz_cache *c, const hashset *keys, hashset *objects, hashset *exes)
{
    for (size_t i = 0; i < keys->n; i++) {
        char *path = pz_cache_record_path(c, keys->h[i]);
        pz_err err;
        char *text = pz_read_file(path, NULL, &err);
        pz_record *r = text ? pz_record_parse(text, path, &err) : NULL;
        for (size_t k = 0; r && k < r->noutputs; k++) hs_add(objects, r->out_hashes[k]);
        if (r) hs_add(objects, r->log_hash), hs_add(exes, r->exe_hash);
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

/* ---- <cache>/describe/: descriptions of stage executables (describe.h) ---- */

static void add_hash(void *set, const char *hash) { hs_add(set, hash); }

/* A description is needed while a kept record ran that executable, or while a file with that
 * content is installed: the stat cache knows every executable a command has described, and a
 * file that still has the stat it was hashed with still has that content. Others describe
 * stages no longer installed (an older build); a new one is made if ever needed again. */
static int sweep_describe(const pz_cache *c, hashset *exes, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    char *scpath = pz_cache_statcache_path(c), *dir = pz_xasprintf("%s/describe", c->dir);
    pz_statcache *sc = pz_statcache_open(pz_fs_real(), scpath);
    pz_statcache_each_current(sc, add_hash, exes);
    pz_statcache_free(sc);
    hs_sort(exes);
    DIR *d = opendir(dir);
    int rc = d || errno == ENOENT ? 0 : pz_errf(err, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while (rc == 0 && d && (e = readdir(d))) {
        if (!pz_hash_valid(e->d_name) || hs_has(exes, e->d_name)) continue;
        char *path = pz_xasprintf("%s/%s", dir, e->d_name);
        int removed;
        rc = remove_file(path, sw, NULL, &removed, err);
        res->descriptions_removed += (size_t)removed;
        free(path);
    }
    if (d) closedir(d);
    free(dir), free(scpath);
    return rc;
}

/* ---- <cache>/slurm/: the Slurm executor's job folders (slurm.c, schemas/cache.md) ---- */

/* "<key>.XXXXXX": the folder of one job; the key is its first 32 characters. */
static int is_job_dir_name(const char *name)
{
    size_t k = PZ_HASH_HEX - 1;
    char key[PZ_HASH_HEX];
    if (strlen(name) != k + 7 || name[k] != '.') return 0;
    memcpy(key, name, k), key[k] = 0;
    return pz_hash_valid(key);
}

/* The job id a job folder's job file names ("1234_7"), "" if none. */
static void job_id(const char *dir, char out[64])
{
    char *path = pz_xasprintf("%s/job", dir);
    pz_err ignored;
    char *text = pz_read_file(path, NULL, &ignored);
    out[0] = 0;
    if (text) snprintf(out, 64, "%.*s", (int)strcspn(text, "\n"), text);
    free(text), free(path);
}

typedef struct jobset {
    char (*id)[64];
    size_t n;
} jobset;

/* One job folder: kept (its job id added to *running) only while its job may still be queued or
 * running: submitted (a job file), not ended (no exit file, which run.sh writes last), and its
 * key not committed. A restarted run reattaches to such a job; nothing needs the others: the
 * folder of a job that ended (its record, if it succeeded, is in runs/ already, or it is a
 * finished run no record took; a rerun of that key submits again), or of one never submitted. */
static int sweep_job_dir(const pz_cache *c, const char *dir, const char *name, jobset *running, pz_sweep *sw,
                         pz_gc_result *res, pz_err *err)
{
    char id[64], key[PZ_HASH_HEX];
    snprintf(key, sizeof key, "%.*s", PZ_HASH_HEX - 1, name);
    char *exitf = pz_xasprintf("%s/exit", dir), *record = pz_cache_record_path(c, key);
    job_id(dir, id);
    int keep = id[0] && access(exitf, F_OK) < 0 && access(record, F_OK) < 0;
    free(exitf), free(record);
    if (keep) {
        running->id = pz_xrealloc(running->id, (running->n + 1) * sizeof *running->id);
        memcpy(running->id[running->n++], id, sizeof id);
        return 0;
    }
    pz_sweep_note(sw, dir, 1);
    res->jobs_removed++;
    return sw->dry_run ? 0 : pz_rmtree(dir, err);
}

/* slurm/out/<job>_<task>.out is Slurm's output of one task, read into the log when the task
 * ends: needed only while that job's folder is kept. */
static int sweep_job_outputs(const char *root, const jobset *running, pz_sweep *sw, pz_err *err)
{
    char *dir = pz_xasprintf("%s/out", root);
    DIR *d = opendir(dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".out") || e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int needed = 0;
        for (size_t k = 0; !needed && k < running->n; k++)
            needed = strlen(running->id[k]) == n - 4 && !strncmp(running->id[k], e->d_name, n - 4);
        if (needed) continue;
        char *path = pz_xasprintf("%s/%s", dir, e->d_name);
        int removed;
        rc = remove_file(path, sw, NULL, &removed, err);
        free(path);
    }
    if (d) closedir(d);
    free(dir);
    return rc;
}

static int sweep_slurm(const pz_cache *c, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    char *root = pz_xasprintf("%s/slurm", c->dir);
    DIR *d = opendir(root);
    int rc = d || errno == ENOENT ? 0 : pz_errf(err, "%s: %s", root, strerror(errno));
    jobset running = {0};
    struct dirent *e;
    while (rc == 0 && d && (e = readdir(d))) {
        char *path = pz_xasprintf("%s/%s", root, e->d_name);
        struct stat st;
        int removed;
        if (lstat(path, &st) < 0) {
        } else if (S_ISDIR(st.st_mode) && is_job_dir_name(e->d_name)) {
            rc = sweep_job_dir(c, path, e->d_name, &running, sw, res, err);
        } else if (S_ISREG(st.st_mode) && !strncmp(e->d_name, "submit.", 7) && strlen(e->d_name) == 13) {
            rc = remove_file(path, sw, NULL, &removed, err); /* a job script a killed sbatch call left */
        }
        free(path);
    }
    if (d) closedir(d);
    if (rc == 0 && d) rc = sweep_job_outputs(root, &running, sw, err);
    free(running.id);
    free(root);
    return rc;
}

int pz_gc(const pz_cache *c, const char *dropped, pz_sweep *sw, pz_gc_result *res, pz_err *err)
{
    memset(res, 0, sizeof *res);
    hashset keys = {0}, objects = {0}, exes = {0};
    int rc = collect_roots(c, dropped, &keys, &objects, err);
    if (rc == 0) {
        hs_sort(&keys);
        collect_record_objects(c, &keys, &objects, &exes);
        hs_sort(&objects);
        rc = sweep_runs(c, &keys, sw, res, err);
    }
    if (rc == 0) rc = sweep_objects(c, &objects, sw, res, err);
    if (rc == 0) rc = sweep_describe(c, &exes, sw, res, err);
    if (rc == 0) rc = sweep_slurm(c, sw, res, err);
    size_t before = sw->n;
    if (rc == 0) rc = pz_cache_clean_stale(c, sw, err);
    if (rc == 0) rc = pz_cache_clean_tmp(c, sw, err);
    res->tmp_removed = sw->n - before;
    free(keys.h);
    free(objects.h);
    free(exes.h);
    return rc;
}
