#include "engine/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fs.h"
#include "util/sbuf.h"

char *pz_workspace_stage_dir(const char *dir, const char *stage)
{
    char *d = pz_xasprintf("%s/%s", dir, stage);
    char *name = d + strlen(dir) + 1;
    for (char *p = name; *p; p++)
        if (*p == '/') *p = '_';
    size_t n = strlen(name);
    char *open = strchr(name, '[');
    if (open && n > 1 && name[n - 1] == ']') { /* "train[3]" -> "train/3" */
        *open = '/';
        name[n - 1] = 0;
    }
    return d;
}

char *pz_workspace_file_name(const pz_stage *s, const char *output)
{
    for (size_t k = 0; k < s->noutputs; k++)
        if (!strcmp(s->outputs[k], output) && s->output_exts && s->output_exts[k])
            return pz_xasprintf("%s%s", output, s->output_exts[k]);
    return pz_xstrdup(output);
}

/* "[...]objects/ab/<30 hex>": a link pzflow made (into this cache or another one), absolute as
 * older versions wrote them or relative. */
int pz_workspace_is_object_link(const char *path)
{
    size_t n = strlen(path);
    if (n < 41 || strncmp(path + n - 41, "objects/", 8) || path[n - 31] != '/') return 0;
    for (const char *p = path + n - 33; *p; p++)
        if (p != path + n - 31 && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* The path of `target` relative to directory `from`, both absolute and canonical. */
static char *relative_path(const char *from, const char *target)
{
    size_t common = 0, i = 0; /* the longest common prefix that ends at a '/' */
    for (; from[i] && from[i] == target[i]; i++)
        if (from[i] == '/') common = i;
    if (!from[i] && target[i] == '/') common = i; /* `from` is an ancestor of target */
    pz_sbuf b = {0};
    for (const char *p = from + common; *p; p++)
        if (*p == '/') pz_sb_puts(&b, "../");
    pz_sb_puts(&b, target + common + 1);
    return b.p;
}

/* The link text for an object, relative to the link's (existing) directory. Canonical paths on
 * both sides, so a symlinked parent folder cannot make ".." land elsewhere; absolute when the
 * cache cannot be resolved (then the link is still right, only not relocatable). */
static char *link_target(const char *link_dir, const pz_cache *cache, const char *hash)
{
    char *object = pz_cache_object_path(cache, hash);
    char dir_real[PATH_MAX], objects_real[PATH_MAX];
    if (!realpath(link_dir, dir_real) || !realpath(cache->objects, objects_real)) return object;
    char *canonical = pz_xasprintf("%s%s", objects_real, object + strlen(cache->objects));
    char *rel = relative_path(dir_real, canonical);
    free(canonical);
    free(object);
    return rel;
}

static int link_one(const char *link_path, const char *target, pz_err *err)
{
    char current[PATH_MAX];
    ssize_t n = readlink(link_path, current, sizeof current - 1);
    if (n >= 0) {
        current[n] = 0;
        if (!strcmp(current, target)) return 0; /* already right: no write on a no-op run */
    }
    /* Only a link pzflow made is ever replaced: never a user's file, directory or own link. */
    struct stat st;
    if ((n >= 0 && !pz_workspace_is_object_link(current)) || (n < 0 && lstat(link_path, &st) == 0))
        return pz_errf(err, "%s exists and is not a link pzflow made; not replacing it (move it away, or choose "
                       "another workspace:)", link_path);
    char *tmp = pz_xasprintf("%s.tmp.%ld", link_path, (long)getpid());
    unlink(tmp);
    int rc = 0;
    if (symlink(target, tmp) < 0 || rename(tmp, link_path) < 0) {
        rc = pz_errf(err, "cannot link %s: %s", link_path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* A run killed between symlink() and rename() in link_one leaves "<output>.tmp.<pid>". Such a
 * leftover is only possible where a link was about to change, which is exactly when this
 * stage's links are rewritten, so that is when they are swept (the run lock is held). */
static void remove_stale_tmp_links(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".tmp.")) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) unlink(p);
        free(p);
    }
    closedir(d);
}

/* Links are written into real directories only: a workspace or stage folder that is a
 * symbolic link would have them written wherever it points. */
static int refuse_symlinked_dir(const char *dir, pz_err *err)
{
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
        return pz_errf(err, "%s is a symbolic link; pzflow writes results only into real folders (remove the "
                       "link, or choose another workspace:)", dir);
    return 0;
}

/* 1 when every output's link exists with the right text: a no-op run writes nothing. */
static int links_right(const char *dir, const pz_stage *s, const pz_cache *cache, const pz_record *r)
{
    struct stat st;
    if (stat(dir, &st) < 0) return 0;
    int all_right = 1;
    for (size_t k = 0; all_right && k < r->noutputs; k++) {
        char *target = link_target(dir, cache, r->out_hashes[k]);
        char *file = pz_workspace_file_name(s, r->out_names[k]);
        char *link_path = pz_xasprintf("%s/%s", dir, file);
        char current[PATH_MAX];
        ssize_t n = readlink(link_path, current, sizeof current - 1);
        all_right = n >= 0 && (current[n] = 0, !strcmp(current, target));
        free(target);
        free(file);
        free(link_path);
    }
    return all_right;
}

int pz_workspace_link(const char *workspace_dir, const pz_stage *s, const pz_cache *cache, const pz_record *r,
                      pz_err *err)
{
    char *dir = pz_workspace_stage_dir(workspace_dir, s->name);
    if (links_right(dir, s, cache, r)) {
        free(dir);
        return 0;
    }
    int rc = refuse_symlinked_dir(workspace_dir, err);
    if (rc == 0) rc = pz_mkdirs(dir, err);
    if (rc == 0) rc = refuse_symlinked_dir(dir, err);
    if (rc == 0) remove_stale_tmp_links(dir);
    for (size_t k = 0; rc == 0 && k < r->noutputs; k++) {
        char *target = link_target(dir, cache, r->out_hashes[k]);
        char *file = pz_workspace_file_name(s, r->out_names[k]);
        char *link_path = pz_xasprintf("%s/%s", dir, file);
        rc = link_one(link_path, target, err);
        free(target);
        free(file);
        free(link_path);
    }
    free(dir);
    return rc;
}
