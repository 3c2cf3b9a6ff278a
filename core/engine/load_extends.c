/* `extends: other.yaml` — a pipeline file that starts from another one and changes only what
 * differs (quick.yaml and real.yaml extend paper.yaml, so the study is written down once).
 *
 * Merge rule, applied key by key: a map merges into a map recursively; any other value
 * replaces the base's; `null` deletes the key (e.g. `stages: {mock-sky: null}` drops a stage).
 * Every node remembers which file it came from (pz_ynode.origin) so errors keep naming the
 * right file:line:col. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "engine/load.h"

#define MAX_EXTENDS_DEPTH 8

static void tag_origin(pz_ynode *n, int origin)
{
    n->origin = origin;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) tag_origin(n->keys[i], origin);
        tag_origin(n->items[i], origin);
    }
}

static int is_null_scalar(const pz_ynode *n)
{
    return n->kind == PZ_Y_SCALAR && !n->quoted && (!strcmp(n->str, "null") || !strcmp(n->str, "~") || !*n->str);
}

/* Merge `over` into `base` (both maps); consumes nothing, copies what it keeps. */
static void merge_into(pz_ynode *base, const pz_ynode *over)
{
    for (size_t i = 0; i < over->n; i++) {
        const char *key = over->keys[i]->str;
        const pz_ynode *v = over->items[i];
        pz_ynode *old = pz_ymap_get(base, key);
        if (is_null_scalar(v)) pz_ymap_remove(base, key);
        else if (old && old->kind == PZ_Y_MAP && v->kind == PZ_Y_MAP) merge_into(old, v);
        else pz_ymap_set(base, key, pz_ynode_clone(v));
    }
}

static char *sibling_path(const char *file, const char *rel)
{
    if (rel[0] == '/') return pz_xstrdup(rel);
    char *copy = pz_xstrdup(file);
    char *out = pz_xasprintf("%s/%s", dirname(copy), rel);
    free(copy);
    return out;
}

static pz_ynode *load_level(const char *path, pz_load_files *files, int depth, pz_err *err)
{
    pz_ynode *doc = pz_yaml_load_file(path, err);
    if (!doc) return NULL;
    int origin = (int)files->n;
    files->paths = pz_xrealloc(files->paths, (files->n + 1) * sizeof *files->paths);
    files->paths[files->n++] = pz_xstrdup(path);
    tag_origin(doc, origin);
    pz_ynode *ext = pz_ymap_get(doc, "extends");
    if (!ext) return doc;
    if (ext->kind != PZ_Y_SCALAR || !*ext->str) {
        pz_errf(err, "%s:%d:%d: extends must be the path of another pipeline file", path, ext->line, ext->col);
        pz_ynode_free(doc);
        return NULL;
    }
    if (depth >= MAX_EXTENDS_DEPTH) {
        pz_errf(err, "%s:%d:%d: extends chain deeper than %d files (a cycle?)", path, ext->line, ext->col,
                MAX_EXTENDS_DEPTH);
        pz_ynode_free(doc);
        return NULL;
    }
    char *base_path = sibling_path(path, ext->str);
    pz_ynode *base = load_level(base_path, files, depth + 1, err);
    if (!base) {
        pz_err_prefix(err, "%s:%d:%d: extends: ", path, ext->line, ext->col);
        free(base_path);
        pz_ynode_free(doc);
        return NULL;
    }
    free(base_path);
    if (base->kind != PZ_Y_MAP || doc->kind != PZ_Y_MAP) {
        pz_errf(err, "%s: extends needs both files to be mappings", path);
        pz_ynode_free(base);
        pz_ynode_free(doc);
        return NULL;
    }
    pz_ymap_remove(doc, "extends");
    pz_ymap_remove(base, "extends");
    merge_into(base, doc);
    pz_ynode_free(doc);
    return base;
}

pz_ynode *pz_load_extended(const char *path, pz_load_files *files, pz_err *err)
{
    return load_level(path, files, 0, err);
}

void pz_load_files_free(pz_load_files *files)
{
    for (size_t i = 0; i < files->n; i++) free(files->paths[i]);
    free(files->paths);
    files->paths = NULL;
    files->n = 0;
}
