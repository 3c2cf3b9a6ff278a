#include "engine/cache.h"

#include <ctype.h>
#include <limits.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

char *pz_cache_object_path(const pz_cache *c, const char *hash)
{
    return pz_xasprintf("%s/%.2s/%s", c->objects, hash, hash + 2);
}

char *pz_cache_record_path(const pz_cache *c, const char *key)
{
    return pz_xasprintf("%s/%s", c->runs, key);
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

int pz_cache_put_object(const pz_cache *c, const char *src, const char *hash, pz_err *err)
{
    char *dst = pz_cache_object_path(c, hash);
    char *shard = pz_xasprintf("%s/%.2s", c->objects, hash);
    int rc = 0;
    if (access(dst, F_OK) == 0) {
        unlink(src); /* same bytes already stored */
        goto done;
    }
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
        rc = pz_errf(err, "cannot move %s into the cache: %s", src, strerror(errno));
        goto done;
    }
    rc = pz_fsync_dir(shard, err);
done:
    free(dst);
    free(shard);
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
