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

/* ---- is this directory a cache? ---- */

/* "<base>.tmp.<pid>": the temporary file of pz_write_atomic; the pid, or -1 for other names.
 * base_ok says which <base> pzflow writes in that directory. */
static long tmp_file_pid(const char *name, int (*base_ok)(const char *base, size_t len))
{
    const char *t = strstr(name, ".tmp.");
    if (!t || !t[5] || !base_ok(name, (size_t)(t - name))) return -1;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    return *end || pid <= 0 ? -1 : pid;
}

static int hash_base(const char *base, size_t len)
{
    char h[PZ_HASH_HEX];
    if (len != PZ_HASH_HEX - 1) return 0;
    memcpy(h, base, len);
    h[len] = 0;
    return pz_hash_valid(h);
}

static int top_base(const char *base, size_t len)
{
    return (len == 9 && !strncmp(base, "statcache", 9)) ||
           (len == strlen(PZ_CACHE_MARKER) && !strncmp(base, PZ_CACHE_MARKER, len));
}

static int is_shard_name(const char *s)
{
    for (int i = 0; i < 2; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[2] == 0;
}

long pz_cache_scratch_pid(const char *name)
{
    char *end;
    long pid = strtol(name, &end, 10);
    if (end == name || pid <= 0 || *end != '.') return -1;
    const char *label = end + 1, *last = strrchr(label, '.');
    if (!last || last == label || strlen(last + 1) != 6) return -1;
    for (const char *p = label; p < last; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_')) return -1;
    for (const char *p = last + 1; *p; p++)
        if (!isalnum((unsigned char)*p)) return -1;
    return pid;
}

/* Each checks one entry of a directory that a cache made before the marker may hold. */
static int top_entry_ok(const char *name, int is_dir)
{
    if (is_dir) return !strcmp(name, "objects") || !strcmp(name, "runs") || !strcmp(name, "pipelines") ||
                       !strcmp(name, "tmp") || !strcmp(name, "describe") || !strcmp(name, "slurm");
    return !strcmp(name, "statcache") || !strcmp(name, "lock") || !strcmp(name, ".gitkeep") ||
           tmp_file_pid(name, top_base) > 0;
}
static int objects_entry_ok(const char *name, int is_dir) { return is_dir && is_shard_name(name); }
static int record_entry_ok(const char *name, int is_dir)
{
    return !is_dir && (pz_hash_valid(name) || tmp_file_pid(name, hash_base) > 0);
}
static int tmp_entry_ok(const char *name, int is_dir) { return is_dir && pz_cache_scratch_pid(name) > 0; }

/* The first entry of dir that `ok` rejects (malloc'd "dir/name"), or NULL. Symlinks and other
 * non-regular files are never pzflow-shaped. */
static char *first_unexpected(const char *dir, int (*ok)(const char *name, int is_dir))
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? NULL : pz_xstrdup(dir);
    char *bad = NULL;
    struct dirent *e;
    while (!bad && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        int known = lstat(p, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode));
        if (!known || !ok(e->d_name, S_ISDIR(st.st_mode))) bad = p;
        else free(p);
    }
    closedir(d);
    return bad;
}

static char *first_foreign_entry(const pz_cache *c)
{
    char *bad = first_unexpected(c->dir, top_entry_ok);
    if (!bad) bad = first_unexpected(c->objects, objects_entry_ok);
    if (!bad) bad = first_unexpected(c->runs, record_entry_ok);
    if (!bad) bad = first_unexpected(c->pipelines, record_entry_ok);
    if (!bad) bad = first_unexpected(c->tmp, tmp_entry_ok);
    if (!bad) { /* stage descriptions by executable hash (engine/describe.h) */
        char *describe = pz_xasprintf("%s/describe", c->dir);
        bad = first_unexpected(describe, record_entry_ok);
        free(describe);
    }
    return bad;
}

/* A directory is a cache if it has the marker; a missing or empty one, or one holding only
 * names pzflow writes (a cache made before the marker), may become one. */
static int check_is_cache(pz_cache *c, pz_err *err)
{
    struct stat st;
    if (stat(c->dir, &st) < 0) return errno == ENOENT ? 0 : pz_errf(err, "cache %s: %s", c->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return pz_errf(err, "cache %s is not a directory", c->dir);
    char *marker = pz_xasprintf("%s/%s", c->dir, PZ_CACHE_MARKER);
    pz_err ignored;
    char *text = pz_read_file(marker, NULL, &ignored);
    int rc = 0, e = errno;
    if (text) {
        if (strcmp(text, PZ_CACHE_MARKER_TEXT))
            rc = pz_errf(err, "%s: not a pzflow cache of a format this pzflow reads (expected \"%.*s\")", marker,
                         (int)strlen(PZ_CACHE_MARKER_TEXT) - 1, PZ_CACHE_MARKER_TEXT);
        c->marked = rc == 0;
    } else if (e != ENOENT) {
        rc = pz_errf(err, "%s: %s", marker, strerror(e));
    } else {
        char *bad = first_foreign_entry(c);
        if (bad)
            rc = pz_errf(err, "%s is not a pzflow cache (no %s file, and it holds %s, which pzflow did not write); "
                         "give an empty or new directory", c->dir, PZ_CACHE_MARKER, bad);
        free(bad);
    }
    free(text);
    free(marker);
    return rc;
}

static void set_paths(pz_cache *c, const char *dir)
{
    free(c->dir), free(c->objects), free(c->runs), free(c->pipelines), free(c->tmp), free(c->objects_real);
    /* Absolute, so workspace links and messages stay valid from any directory. */
    c->dir = realpath(dir, NULL);
    if (!c->dir) c->dir = pz_xstrdup(dir);
    c->objects = pz_xasprintf("%s/objects", c->dir);
    c->runs = pz_xasprintf("%s/runs", c->dir);
    c->pipelines = pz_xasprintf("%s/pipelines", c->dir);
    c->tmp = pz_xasprintf("%s/tmp", c->dir);
    c->objects_real = realpath(c->objects, NULL);
}

int pz_cache_open(pz_cache *c, const char *dir, int create, pz_err *err)
{
    memset(c, 0, sizeof *c);
    set_paths(c, dir);
    if (check_is_cache(c, err) < 0) return -1;
    if (!create) return 0;
    if (pz_mkdirs(dir, err) < 0) return pz_err_prefix(err, "cache: ");
    set_paths(c, dir); /* realpath works now that it exists */
    const char *dirs[] = {c->objects, c->runs, c->pipelines, c->tmp};
    for (int i = 0; i < 4; i++)
        if (pz_mkdirs(dirs[i], err) < 0) return pz_err_prefix(err, "cache %s: ", c->dir);
    if (!c->objects_real) c->objects_real = realpath(c->objects, NULL); /* made just now */
    if (c->marked) return 0;
    char *marker = pz_xasprintf("%s/%s", c->dir, PZ_CACHE_MARKER);
    int rc = pz_write_atomic(marker, PZ_CACHE_MARKER_TEXT, strlen(PZ_CACHE_MARKER_TEXT), err);
    free(marker);
    c->marked = rc == 0;
    return rc;
}

void pz_cache_close(pz_cache *c)
{
    free(c->dir);
    free(c->objects);
    free(c->runs);
    free(c->pipelines);
    free(c->tmp);
    free(c->objects_real);
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

/* Replace the name src by a private copy of its bytes. A stage output that is a symbolic link,
 * or a hard link (link count > 1: say to one of its inputs, or a user's file), must not be
 * adopted: the rename and chmod 0444 below would turn the user's own file into a read-only
 * cache object, and a later gc would delete it. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno != EINTR) return -1;
        if (w > 0) p += w, n -= (size_t)w;
    }
    return 0;
}

static int make_private_copy(const char *src, pz_err *err)
{
    char *copy = pz_xasprintf("%s.pzcopy", src);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = out >= 0;
    char buf[1 << 16];
    for (ssize_t n; ok && (n = read(in, buf, sizeof buf)) != 0;)
        ok = n < 0 ? errno == EINTR : write_all(out, buf, (size_t)n) == 0;
    int e = errno;
    if (out >= 0 && close(out) < 0 && ok) ok = 0, e = errno;
    if (ok && rename(copy, src) < 0) ok = 0, e = errno;
    if (in >= 0) close(in);
    if (!ok) {
        unlink(copy);
        pz_errf(err, "cannot copy the linked output %s: %s", src, strerror(e));
    }
    free(copy);
    return ok ? 0 : -1;
}

int pz_cache_put_object(const pz_cache *c, const char *src, const char *hash, pz_objstat *st, pz_err *err)
{
    char *dst = pz_cache_object_path(c, hash);
    char *shard = pz_xasprintf("%s/%.2s", c->objects, hash);
    int rc = 0;
    struct stat have, mine;
    if (lstat(src, &mine) < 0) {
        rc = pz_errf(err, "cannot store %s: %s", src, strerror(errno));
        goto done;
    }
    if (S_ISLNK(mine.st_mode) || mine.st_nlink > 1) {
        if (make_private_copy(src, err) < 0) {
            rc = -1;
            goto done;
        }
        lstat(src, &mine); /* the copy just renamed into place */
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

void pz_sweep_note(pz_sweep *sw, const char *path, int is_dir)
{
    sw->n++;
    if (sw->fn) sw->fn(sw->ctx, path, is_dir);
}

/* A zombie counts as dead: a pzflow killed with SIGKILL stays one until its parent (or init,
 * which in a container may never do it) reaps it. */
static int pid_is_dead(long pid)
{
    if (kill((pid_t)pid, 0) < 0) return errno == ESRCH;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *close_paren = strrchr(buf, ')'); /* "pid (comm) state ...": comm may hold spaces */
    return close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

/* A run killed just before ours took the lock may still be tearing down (its flock is released
 * before it becomes a zombie): give such owners up to *budget_ms in all to finish dying. */
static int owner_is_dead(long pid, int *budget_ms)
{
    while (!pid_is_dead(pid)) {
        if (*budget_ms <= 0) return 0;
        usleep(20000);
        *budget_ms -= 20;
    }
    return 1;
}

int pz_cache_clean_tmp(const pz_cache *c, pz_sweep *sw, pz_err *err)
{
    DIR *d = opendir(c->tmp);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", c->tmp, strerror(errno));
    int rc = 0, budget_ms = 2000;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        long pid = pz_cache_scratch_pid(e->d_name);
        /* A live owner is left alone: the lock is not proof that it is gone (a pzflow of an older
         * version locks the file cache/lock, which can be removed; a pid can be reused). */
        if (pid <= 0 || !owner_is_dead(pid, &budget_ms)) continue;
        char *p = pz_xasprintf("%s/%s", c->tmp, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            pz_sweep_note(sw, p, 1);
            if (!sw->dry_run) rc = pz_rmtree(p, err);
        }
        free(p);
    }
    closedir(d);
    return rc;
}

static int sweep_tmp_files(const char *dir, int (*base_ok)(const char *, size_t), pz_sweep *sw, pz_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : pz_errf(err, "%s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        long pid = tmp_file_pid(e->d_name, base_ok);
        if (pid < 0) continue;
        /* Only files of dead processes: a read-only command (status) may be saving the stat
         * cache right now without the lock, and a run may hold a lock whose file was removed. */
        if (!pid_is_dead(pid)) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            pz_sweep_note(sw, p, 0);
            if (!sw->dry_run && unlink(p) < 0 && errno != ENOENT)
                rc = pz_errf(err, "cannot remove %s: %s", p, strerror(errno));
        }
        free(p);
    }
    closedir(d);
    return rc;
}

int pz_cache_clean_stale(const pz_cache *c, pz_sweep *sw, pz_err *err)
{
    int rc = sweep_tmp_files(c->runs, hash_base, sw, err);
    if (rc == 0) rc = sweep_tmp_files(c->pipelines, hash_base, sw, err);
    if (rc == 0) rc = sweep_tmp_files(c->dir, top_base, sw, err);
    return rc;
}
