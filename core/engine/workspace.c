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

/* Instance names such as "train[3]" are fine as directory names; '/' is not. */
static char *dir_name(const char *stage)
{
    char *d = pz_xstrdup(stage);
    for (char *p = d; *p; p++)
        if (*p == '/') *p = '_';
    return d;
}

/* ".../objects/ab/<30 hex>": a link pzflow made (into this cache or another one). */
static int is_object_path(const char *path)
{
    size_t n = strlen(path);
    if (n < 41 || strncmp(path + n - 41, "objects/", 8) || path[n - 31] != '/') return 0;
    for (const char *p = path + n - 33; *p; p++)
        if (p != path + n - 31 && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
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
    if ((n >= 0 && !is_object_path(current)) || (n < 0 && lstat(link_path, &st) == 0))
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

int pz_workspace_link(const char *workspace_dir, const char *stage, const pz_cache *cache, const pz_record *r,
                      pz_err *err)
{
    char *name = dir_name(stage);
    char *dir = pz_xasprintf("%s/%s", workspace_dir, name);
    free(name);
    /* A no-op run finds every link already right: one readlink each, no mkdir. */
    int all_right = 1;
    for (size_t k = 0; all_right && k < r->noutputs; k++) {
        char *target = pz_cache_object_path(cache, r->out_hashes[k]);
        char *link_path = pz_xasprintf("%s/%s", dir, r->out_names[k]);
        char current[PATH_MAX];
        ssize_t n = readlink(link_path, current, sizeof current - 1);
        all_right = n >= 0 && (current[n] = 0, !strcmp(current, target));
        free(target);
        free(link_path);
    }
    if (all_right) {
        free(dir);
        return 0;
    }
    int rc = refuse_symlinked_dir(workspace_dir, err);
    if (rc == 0) rc = pz_mkdirs(dir, err);
    if (rc == 0) rc = refuse_symlinked_dir(dir, err);
    if (rc == 0) remove_stale_tmp_links(dir);
    for (size_t k = 0; rc == 0 && k < r->noutputs; k++) {
        char *target = pz_cache_object_path(cache, r->out_hashes[k]);
        char *link_path = pz_xasprintf("%s/%s", dir, r->out_names[k]);
        rc = link_one(link_path, target, err);
        free(target);
        free(link_path);
    }
    free(dir);
    return rc;
}
