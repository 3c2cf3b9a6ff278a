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

static int link_one(const char *link_path, const char *target, pz_err *err)
{
    char current[PATH_MAX];
    ssize_t n = readlink(link_path, current, sizeof current - 1);
    if (n >= 0) {
        current[n] = 0;
        if (!strcmp(current, target)) return 0; /* already right: no write on a no-op run */
    }
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
    int rc = all_right ? 0 : pz_mkdirs(dir, err);
    if (all_right) {
        free(dir);
        return 0;
    }
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
