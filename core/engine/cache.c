#include "engine/cache.h"

#include <ctype.h>
#include <limits.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/fs.h"

int pz_cache_open(pz_cache *c, const char *dir, int create, pz_err *err)
{
    memset(c, 0, sizeof *c);
    if (create && pz_mkdirs(dir, err) < 0) return pz_err_prefix(err, "cache: ");
    /* Absolute, so workspace links and messages stay valid from any directory. */
    c->dir = realpath(dir, NULL);
    if (!c->dir) c->dir = pz_xstrdup(dir);
    dir = c->dir;
    c->objects = pz_xasprintf("%s/objects", dir);
    c->runs = pz_xasprintf("%s/runs", dir);
    c->pipelines = pz_xasprintf("%s/pipelines", dir);
    c->tmp = pz_xasprintf("%s/tmp", dir);
    if (!create) return 0;
    const char *dirs[] = {c->objects, c->runs, c->pipelines, c->tmp};
    for (int i = 0; i < 4; i++)
        if (pz_mkdirs(dirs[i], err) < 0) return pz_err_prefix(err, "cache %s: ", dir);
    return 0;
}

void pz_cache_close(pz_cache *c)
{
    free(c->dir);
    free(c->objects);
    free(c->runs);
    free(c->pipelines);
    free(c->tmp);
    memset(c, 0, sizeof *c);
}

/* These two run a few times per stage on every no-op check: built by hand, not by printf. */
char *pz_cache_object_path(const pz_cache *c, const char *hash)
{
    size_t d = strlen(c->objects), h = strlen(hash);
    char *p = pz_xmalloc(d + h + 3);
    memcpy(p, c->objects, d);
    p[d] = '/';
    memcpy(p + d + 1, hash, h < 2 ? h : 2);
    size_t o = d + 1 + (h < 2 ? h : 2);
    p[o++] = '/';
    memcpy(p + o, hash + (h < 2 ? h : 2), h - (h < 2 ? h : 2) + 1);
    return p;
}

char *pz_cache_record_path(const pz_cache *c, const char *key)
{
    size_t d = strlen(c->runs), k = strlen(key);
    char *p = pz_xmalloc(d + k + 2);
    memcpy(p, c->runs, d);
    p[d] = '/';
    memcpy(p + d + 1, key, k + 1);
    return p;
}

char *pz_cache_index_path(const pz_cache *c, const char *pipeline_abs_path)
{
    char h[PZ_HASH_HEX];
    pz_hash_bytes(pipeline_abs_path, strlen(pipeline_abs_path), h);
    return pz_xasprintf("%s/%s", c->pipelines, h);
}

char *pz_cache_statcache_path(const pz_cache *c)
{
    return pz_xasprintf("%s/statcache", c->dir);
}

static void objstat_of(const struct stat *s, pz_objstat *st)
{
    if (!st) return;
    st->size = (uint64_t)s->st_size;
    st->mtime_ns = (int64_t)s->st_mtim.tv_sec * 1000000000 + s->st_mtim.tv_nsec;
}

/* An object already in the store is only as good as its bytes: before a new copy is thrown
 * away in its favour, check that it still has the hash that names it. */
static int object_intact(const char *path, const char *hash, const struct stat *s, uint64_t size_wanted)
{
    if ((uint64_t)s->st_size != size_wanted) return 0;
    char h[PZ_HASH_HEX];
    pz_err err;
    return pz_hash_file(path, h, NULL, &err) == 0 && strcmp(h, hash) == 0;
}

int pz_cache_put_object(const pz_cache *c, const char *src, const char *hash, pz_objstat *st, pz_err *err)
{
    char *dst = pz_cache_object_path(c, hash);
    char *shard = pz_xasprintf("%s/%.2s", c->objects, hash);
    int rc = 0;
    struct stat have, mine;
    if (stat(src, &mine) < 0) {
        rc = pz_errf(err, "cannot store %s: %s", src, strerror(errno));
        goto done;
    }
    if (stat(dst, &have) == 0 && object_intact(dst, hash, &have, (uint64_t)mine.st_size)) {
        unlink(src); /* same bytes already stored */
        objstat_of(&have, st);
        goto done;
    }
    /* Missing, or damaged: then the rename below replaces the damaged copy atomically. */
    if (mkdir(shard, 0777) < 0 && errno != EEXIST) {
        rc = pz_errf(err, "cannot create %s: %s", shard, strerror(errno));
        goto done;
    }
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0444) < 0 || fsync(fd) < 0) {
        rc = pz_errf(err, "cannot store %s: %s", src, strerror(errno));
        if (fd >= 0) close(fd);
        goto done;
    }
    close(fd);
    if (rename(src, dst) < 0) {
        rc = pz_errf(err, "cannot move %s to %s: %s", src, dst, strerror(errno));
        goto done;
    }
    if ((rc = pz_fsync_dir(shard, err)) == 0 && st) {
        if (stat(dst, &have) < 0) rc = pz_errf(err, "%s: %s", dst, strerror(errno));
        else objstat_of(&have, st);
    }
done:
    free(dst);
    free(shard);
    return rc;
}

int pz_cache_drop_object(const pz_cache *c, const char *hash, pz_err *err)
{
    char *path = pz_cache_object_path(c, hash);
    int rc = 0;
    if (unlink(path) < 0 && errno != ENOENT) rc = pz_errf(err, "cannot remove damaged object %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int pz_cache_write_record(const pz_cache *c, const pz_record *r, pz_err *err)
{
    char *path = pz_cache_record_path(c, r->key);
    char *text = pz_record_format(r);
    int rc = pz_write_atomic(path, text, strlen(text), err);
    free(text);
    free(path);
    return rc;
}

char *pz_cache_scratch(const pz_cache *c, const char *label, pz_err *err)
{
    /* Keep the label readable but safe as one path component. */
    char safe[64];
    size_t n = 0;
    for (const char *p = label; *p && n < sizeof safe - 1; p++)
        safe[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
    safe[n] = 0;
    char *tmpl = pz_xasprintf("%s/%ld.%s.XXXXXX", c->tmp, (long)getpid(), safe);
    if (!mkdtemp(tmpl)) {
        pz_errf(err, "cannot create scratch directory in %s: %s", c->tmp, strerror(errno));
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

int pz_cache_clean_tmp(const pz_cache *c, pz_err *err)
{
    DIR *d = opendir(c->tmp);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", c->tmp, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = pz_xasprintf("%s/%s", c->tmp, e->d_name);
        rc = pz_rmtree(p, err);
        free(p);
    }
    closedir(d);
    return rc;
}

/* "<name>.tmp.<pid>": the temporary file of pz_write_atomic. */
static long tmp_file_pid(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || !t[5]) return -1;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    return *end || pid <= 0 ? -1 : pid;
}

static int sweep_tmp_files(const char *dir, int any_pid, int dry_run, size_t *n, pz_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        long pid = tmp_file_pid(e->d_name);
        if (pid < 0) continue;
        /* Without any_pid only files of dead processes: a read-only command (status) may be
         * saving the stat cache right now, without the lock. */
        if (!any_pid && (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) continue;
        (*n)++;
        if (dry_run) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        if (unlink(p) < 0 && errno != ENOENT) rc = pz_errf(err, "cannot remove %s: %s", p, strerror(errno));
        free(p);
    }
    closedir(d);
    return rc;
}

int pz_cache_clean_stale(const pz_cache *c, int dry_run, size_t *n, pz_err *err)
{
    size_t count = 0;
    /* runs/ and pipelines/ are written only under the run lock, which the caller holds. */
    int rc = sweep_tmp_files(c->runs, 1, dry_run, &count, err);
    if (rc == 0) rc = sweep_tmp_files(c->pipelines, 1, dry_run, &count, err);
    if (rc == 0) rc = sweep_tmp_files(c->dir, 0, dry_run, &count, err);
    if (n) *n = count;
    return rc;
}
