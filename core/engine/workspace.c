#include "engine/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fs.h"
#include "util/sbuf.h"

char *pz_workspace_stage_dir(const char *dir, const char *stage)
{
    char *d = pz_xconcat(dir, "/", stage, NULL); /* not printf: once per stage of a no-op run */
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

/* The extension of `output` (or ""), looked for first at index `hint` of the stage's outputs: a
 * record lists its outputs sorted, as the loaded stage does, so output k of a record is the
 * stage's output k (a scan per output made a 1,000-output partition a million strcmp calls). */
static const char *ext_at(const pz_stage *s, size_t hint, const char *output)
{
    size_t k = hint < s->noutputs && !strcmp(s->outputs[hint], output) ? hint : 0;
    for (; k < s->noutputs && strcmp(s->outputs[k], output); k++) {
    }
    return k < s->noutputs && s->output_exts && s->output_exts[k] ? s->output_exts[k] : "";
}

char *pz_workspace_file_name(const pz_stage *s, const char *output)
{
    return pz_xasprintf("%s%s", output, ext_at(s, SIZE_MAX, output));
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

/* How links in the folder whose canonical path is `dir_real` name the objects folder: relative,
 * from canonical paths on both sides (the cache resolves its objects folder once, at open), so a
 * symlinked parent folder cannot make ".." land elsewhere; absolute when either cannot be
 * resolved (then the links are still right, only not relocatable). malloc'd. */
static char *objects_text(const char *dir_real, const pz_cache *cache)
{
    if (!dir_real || !cache->objects_real) return pz_xstrdup(cache->objects);
    return relative_path(dir_real, cache->objects_real);
}

/* b = "<objects>/ab/cdef...", the link text of object `hash` (b reused across links: this runs
 * for every output of every stage on a no-op run). */
static void link_text(pz_sbuf *b, const char *objects, const char *hash)
{
    b->len = 0;
    pz_sb_puts(b, objects);
    pz_sb_put(b, "/", 1);
    pz_sb_put(b, hash, 2);
    pz_sb_put(b, "/", 1);
    pz_sb_puts(b, hash + 2);
}

/* b = "<dir>/<output><ext>", the link path of output k of the record of s. */
static void link_path(pz_sbuf *b, const char *dir, const pz_stage *s, size_t k, const char *output)
{
    b->len = 0;
    pz_sb_puts(b, dir);
    pz_sb_put(b, "/", 1);
    pz_sb_puts(b, output);
    pz_sb_puts(b, ext_at(s, k, output));
}

/* The canonical path of stage folder `dir` (which exists). Its parent is resolved once for a run
 * of folders with the same parent (a foreach family, or the results folder itself), the folder
 * itself by name: realpath per stage and per output was 35,000 system calls of the no-op check
 * of a 1,000-part survey. A folder that is itself a symbolic link is never written through
 * (refuse_symlinked_dir), so its name is its canonical last component. NULL if unresolvable. */
static char *stage_dir_real(pz_linker *lk, const char *dir)
{
    const char *slash = strrchr(dir, '/');
    if (!slash) return realpath(dir, NULL);
    size_t plen = (size_t)(slash - dir);
    if (!lk->parent || strlen(lk->parent) != plen || strncmp(lk->parent, dir, plen)) {
        free(lk->parent);
        free(lk->parent_real);
        lk->parent = pz_xstrndup(dir, plen);
        lk->parent_real = realpath(plen ? lk->parent : "/", NULL);
    }
    if (!lk->parent_real) return NULL;
    return pz_xconcat(strcmp(lk->parent_real, "/") ? lk->parent_real : "", slash, NULL);
}

void pz_linker_free(pz_linker *lk)
{
    free(lk->parent);
    free(lk->parent_real);
    lk->parent = lk->parent_real = NULL;
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

/* 1 when `dir` is a real folder (not a symbolic link) and every output's link in it exists with
 * the right text: one lstat and a readlink per output, nothing written. */
int pz_workspace_shows(pz_linker *lk, const char *workspace_dir, const pz_stage *s, const pz_record *r)
{
    char *dir = pz_workspace_stage_dir(workspace_dir, s->name);
    struct stat st;
    char *dir_real = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? stage_dir_real(lk, dir) : NULL;
    char *objects = dir_real ? objects_text(dir_real, lk->cache) : NULL;
    pz_sbuf target = {0}, path = {0};
    int all_right = dir_real != NULL;
    for (size_t k = 0; all_right && k < r->noutputs; k++) {
        link_text(&target, objects, r->out_hashes[k]);
        link_path(&path, dir, s, k, r->out_names[k]);
        char current[PATH_MAX];
        ssize_t n = readlink(path.p, current, sizeof current - 1);
        all_right = n >= 0 && (size_t)n == target.len && !memcmp(current, target.p, target.len);
    }
    free(target.p);
    free(path.p);
    free(objects);
    free(dir_real);
    free(dir);
    return all_right;
}

int pz_workspace_link(pz_linker *lk, const char *workspace_dir, const pz_stage *s, const pz_record *r, pz_err *err)
{
    if (pz_workspace_shows(lk, workspace_dir, s, r)) return 0;
    char *dir = pz_workspace_stage_dir(workspace_dir, s->name), *dir_real = NULL, *objects = NULL;
    int rc = refuse_symlinked_dir(workspace_dir, err);
    if (rc == 0) rc = pz_mkdirs(dir, err);
    if (rc == 0) rc = refuse_symlinked_dir(dir, err);
    if (rc == 0) {
        remove_stale_tmp_links(dir);
        dir_real = stage_dir_real(lk, dir);
        objects = objects_text(dir_real, lk->cache);
    }
    pz_sbuf target = {0}, path = {0};
    for (size_t k = 0; rc == 0 && k < r->noutputs; k++) {
        link_text(&target, objects, r->out_hashes[k]);
        link_path(&path, dir, s, k, r->out_names[k]);
        rc = link_one(path.p, target.p, err);
    }
    free(target.p);
    free(path.p);
    free(objects);
    free(dir_real);
    free(dir);
    return rc;
}
