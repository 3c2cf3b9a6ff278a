/* The readable workspace: <workspace>/<stage instance>/<output> is a symbolic link to the
 * output's object in the cache.
 *
 * Symlinks rather than hard links: they work when the workspace and the cache are on different
 * filesystems, `ls -l` shows which object a result is, and the read-only object cannot be
 * modified through them by accident. Each link is replaced atomically (new link, rename), so
 * a reader sees the old result or the new one, never none. */
#ifndef PZ_WORKSPACE_H
#define PZ_WORKSPACE_H

#include "engine/cache.h"
#include "engine/record.h"

int pz_workspace_link(const char *workspace_dir, const char *stage, const pz_cache *cache, const pz_record *r,
                      pz_err *err);

#endif
