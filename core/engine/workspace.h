/* The readable workspace: <workspace>/<stage>/<output><ext> is a symbolic link to the output's
 * object in the cache: results/paper/split-transferz/train.fits, and for a foreach instance
 * "train-base[3]" results/paper/train-base/3/model.h5, so a family is one folder and every
 * file says its format (the extension the stage declares for the output, params.h).
 *
 * Links are relative ("../../../cache/objects/ab/..."), so the project folder can be moved,
 * copied or archived whole; `pzflow export` copies results out as real files.
 *
 * Symlinks rather than hard links: they work when the workspace and the cache are on different
 * filesystems, `ls -l` shows which object a result is, and the read-only object cannot be
 * modified through them by accident. Each link is replaced atomically (new link, rename), so
 * a reader sees the old result or the new one, never none. */
#ifndef PZ_WORKSPACE_H
#define PZ_WORKSPACE_H

#include "engine/cache.h"
#include "engine/record.h"

#include "engine/pipeline.h"

/* <dir>/<stage folder>: "split" -> dir/split, "train-base[3]" -> dir/train-base/3 ('/' inside
 * a name or item becomes '_'). malloc'd. */
char *pz_workspace_stage_dir(const char *dir, const char *stage);
/* The file name of output `output` of s: the output's name plus its declared extension. */
char *pz_workspace_file_name(const pz_stage *s, const char *output);
/* 1 when `target` (a link's text) has the shape of a cache object path: pzflow made the link. */
int pz_workspace_is_object_link(const char *target);

/* Links a tree of stage folders: the cache, and the canonical path of the last folder's parent
 * (resolved once for all the folders of a foreach family). Zero it but for cache; pz_linker_free. */
typedef struct pz_linker {
    const pz_cache *cache;
    char *parent, *parent_real;
} pz_linker;
void pz_linker_free(pz_linker *lk);

/* 1 when the folder of s in workspace_dir is a real folder holding the right link for every
 * output of r (reads only: one lstat, one readlink per output). */
int pz_workspace_shows(pz_linker *lk, const char *workspace_dir, const pz_stage *s, const pz_record *r);
/* Make the links of s in workspace_dir show r's outputs, each replaced atomically; nothing is
 * written when they already do. A user's file, link or symlinked folder is refused. */
int pz_workspace_link(pz_linker *lk, const char *workspace_dir, const pz_stage *s, const pz_record *r, pz_err *err);

#endif
