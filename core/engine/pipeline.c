/* Loading a pipeline file: read the YAML, apply --set overrides, check the top level and every
 * stage, substitute vars, expand foreach into instances, and find each stage's executable.
 * load_graph.c then links instances through their inputs and orders them. Every problem stops
 * the load with one "file:line:col: what" message; nothing is half-built for the caller. */
#include "engine/load.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const top_keys[] = {"cache",  "workspace",   "show",    "vars",
                                       "stages", "description", "extends", "executor"};
static const char *const stage_keys[] = {"run",     "params",  "inputs",  "outputs",     "foreach",
                                         "threads", "timeout", "resources", "description"};
#define NKEYS(a) (sizeof(a) / sizeof *(a))

/* ---- small checks --------------------------------------------------------------------------- */

static int is_null(const pz_ynode *n)
{
    if (!n || n->kind != PZ_Y_SCALAR || n->quoted) return 0;
    const char *s = n->str;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int check_keys(pz_loader *ld, const pz_ynode *map, const char *const *allowed, size_t nallowed,
                      const char *where)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        size_t j = 0;
        while (j < nallowed && strcmp(k, allowed[j]) != 0) j++;
        if (j < nallowed) continue;
        const char *near = pz_closest_name(k, allowed, nallowed);
        if (near)
            return pz_src_err(&ld->src, map->keys[i], ld->err, "unknown key '%s' in %s (did you mean '%s'?)", k, where,
                              near);
        char list[256] = "";
        for (j = 0; j < nallowed; j++) {
            strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, allowed[j], sizeof list - strlen(list) - 1);
        }
        return pz_src_err(&ld->src, map->keys[i], ld->err, "unknown key '%s' in %s (allowed: %s)", k, where, list);
    }
    return 0;
}

static int want_string(pz_loader *ld, const pz_ynode *n, const char *what)
{
    if (n->kind != PZ_Y_SCALAR)
        return pz_src_err(&ld->src, n, ld->err, "%s must be a string, got %s", what, pz_ykind_name(n->kind));
    if (!n->str[0]) return pz_src_err(&ld->src, n, ld->err, "%s is empty", what);
    return 0;
}

/* ---- executables ---------------------------------------------------------------------------- */

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *absolute_dir(const char *dir)
{
    if (dir[0] == '/') return pz_path_join_abs("/", dir);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return pz_path_join_abs("/", dir);
    return pz_path_join_abs(cwd, dir);
}

/* Search bin_dir then $PATH; a name with a '/' is a path relative to the root directory. */
static char *search_executable(pz_loader *ld, const char *run)
{
    if (strchr(run, '/')) {
        char *path = pz_path_join_abs(ld->p->root_dir, run);
        if (is_executable_file(path)) return path;
        free(path);
        return NULL;
    }
    if (ld->bin_dir && *ld->bin_dir) {
        char *dir = absolute_dir(ld->bin_dir);
        char *path = pz_xasprintf("%s/%s", dir, run);
        free(dir);
        if (is_executable_file(path)) return path;
        free(path);
    }
    const char *env = getenv("PATH");
    for (const char *p = env ? env : ""; env;) {
        size_t k = strcspn(p, ":");
        char *dir = k ? pz_xasprintf("%.*s", (int)k, p) : pz_xstrdup(".");
        char *abs = absolute_dir(dir);
        char *path = pz_xasprintf("%s/%s", abs, run);
        free(dir);
        free(abs);
        if (is_executable_file(path)) return path;
        free(path);
        if (!p[k]) break;
        p += k + 1;
    }
    return NULL;
}

static const char *resolve_executable(pz_loader *ld, const pz_ynode *run)
{
    long hit = pz_nidx_get(&ld->run_ix, run->str);
    if (hit >= 0) return ld->run_paths[hit];
    if (strpbrk(run->str, " \t\n"))
        return pz_src_err(&ld->src, run, ld->err,
                          "run takes one executable, not a command line: '%s' (put arguments in params)", run->str),
               NULL;
    char *path = search_executable(ld, run->str);
    if (!path) {
        if (strchr(run->str, '/')) {
            char *where = pz_path_join_abs(ld->p->root_dir, run->str);
            pz_src_err(&ld->src, run, ld->err, "missing executable '%s': %s is not an executable file", run->str, where);
            free(where);
        } else
            pz_src_err(&ld->src, run, ld->err, "missing executable '%s': not found in %s%s nor in $PATH (%s)",
                       run->str, ld->bin_dir ? "the pzflow directory " : "",
                       ld->bin_dir ? ld->bin_dir : "", getenv("PATH") ? getenv("PATH") : "");
        return NULL;
    }
    /* The index borrows its key, so keep a copy of the text alongside the path. */
    ld->run_paths = pz_xrealloc(ld->run_paths, (ld->nrun + 1) * sizeof *ld->run_paths);
    ld->run_keys = pz_xrealloc(ld->run_keys, (ld->nrun + 1) * sizeof *ld->run_keys);
    ld->run_paths[ld->nrun] = path;
    ld->run_keys[ld->nrun] = pz_xstrdup(run->str);
    pz_nidx_put(&ld->run_ix, ld->run_keys[ld->nrun], ld->nrun);
    ld->nrun++;
    return path;
}

/* ---- one stage instance --------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_outputs(pz_loader *ld, pz_stage *s, const pz_ynode *n)
{
    if (n->kind != PZ_Y_SEQ)
        return pz_src_err(&ld->src, n, ld->err, "outputs of stage '%s' must be a list of names, got %s",
                          s->base_name, pz_ykind_name(n->kind));
    if (n->n == 0) return pz_src_err(&ld->src, n, ld->err, "stage '%s' declares no outputs", s->base_name);
    s->outputs = pz_xcalloc(n->n, sizeof *s->outputs);
    for (size_t i = 0; i < n->n; i++) {
        const pz_ynode *o = n->items[i];
        if (o->kind != PZ_Y_SCALAR)
            return pz_src_err(&ld->src, o, ld->err, "outputs of stage '%s' must be names, got %s", s->base_name,
                              pz_ykind_name(o->kind));
        if (!pz_valid_name(o->str))
            return pz_src_err(&ld->src, o, ld->err, "bad output name '%s' (letters, digits, '_', '.', '-')", o->str);
        if (pz_check_name_length(&ld->src, o, "output", o->str, PZ_MAX_NAME, ld->err)) return -1;
        s->outputs[s->noutputs++] = pz_xstrdup(o->str);
    }
    /* Duplicates are neighbours once sorted (a pairwise check was quadratic: a partition stage
     * declares a thousand outputs); the error points at the name's second occurrence. */
    qsort(s->outputs, s->noutputs, sizeof *s->outputs, cmp_str);
    for (size_t k = 1; k < s->noutputs; k++) {
        if (strcmp(s->outputs[k - 1], s->outputs[k])) continue;
        const pz_ynode *second = NULL;
        for (size_t i = 0, seen = 0; i < n->n && !second; i++)
            if (!strcmp(n->items[i]->str, s->outputs[k]) && seen++) second = n->items[i];
        return pz_src_err(&ld->src, second, ld->err, "duplicate output '%s' in stage '%s'", s->outputs[k],
                          s->base_name);
    }
    return 0;
}

static int parse_threads(pz_loader *ld, pz_stage *s, const pz_ynode *n)
{
    return pz_src_positive_long(&ld->src, n, "threads", LONG_MAX, &s->threads, ld->err);
}

/* `timeout: 90`, `90s`, `20m`, `2h` or `1d`: a positive wall-clock limit. */
static int parse_timeout(pz_loader *ld, pz_stage *s, const pz_ynode *n)
{
    char *end = NULL;
    double v = 0, unit = 1;
    if (n->kind == PZ_Y_SCALAR) {
        errno = 0;
        v = strtod(n->str, &end);
        if (end != n->str && end[0] && !end[1]) {
            const char *units = "smhd";
            const double secs[] = {1, 60, 3600, 86400};
            const char *u = strchr(units, end[0]);
            if (u) unit = secs[u - units], end++;
        }
    }
    if (n->kind != PZ_Y_SCALAR || end == n->str || *end || errno || !(v > 0) || v * unit > 1e9)
        return pz_src_err(&ld->src, n, ld->err,
                          "timeout must be a positive number of seconds, optionally with a unit (90, 90s, 20m, 2h, 1d), "
                          "got %s%s%s",
                          n->kind == PZ_Y_SCALAR ? "'" : "", n->kind == PZ_Y_SCALAR ? n->str : pz_ykind_name(n->kind),
                          n->kind == PZ_Y_SCALAR ? "'" : "");
    s->timeout_s = v * unit;
    return 0;
}

/* Part `part` of stage b for this instance, NULL when absent: the raw node itself when nothing
 * in it is substituted (most parts of most instances), else a substituted copy, also in *owned
 * for the caller to free. Copying every key of 3,000 instances was a fifth of a no-op run
 * (issue 14). */
static int subst_key(pz_loader *ld, const pz_base_stage *b, int part, const pz_scope *scope, const pz_ynode **v,
                     pz_ynode **owned)
{
    const pz_ynode *n = b->part[part];
    *v = n;
    *owned = NULL;
    if (!n || !b->part_subst[part]) return 0;
    *v = *owned = pz_subst(n, scope, &ld->src, ld->err);
    return *v ? 0 : -1;
}

static int fill_instance(pz_loader *ld, pz_stage *s, const pz_base_stage *b, const pz_scope *scope, pz_ynode **inputs)
{
    const pz_ynode *v;
    pz_ynode *owned;
    if (subst_key(ld, b, PZ_PART_RUN, scope, &v, &owned)) return -1;
    int rc = want_string(ld, v, "run");
    const char *exe = rc ? NULL : resolve_executable(ld, v);
    if (exe) {
        s->run = pz_xstrdup(v->str);
        s->exe_path = pz_xstrdup(exe);
    }
    pz_ynode_free(owned);
    if (!exe) return -1;

    if (subst_key(ld, b, PZ_PART_PARAMS, scope, &v, &owned)) return -1;
    if (v && !is_null(v) && v->kind != PZ_Y_MAP) {
        pz_src_err(&ld->src, v, ld->err, "params of stage '%s' must be a mapping, got %s", b->name,
                   pz_ykind_name(v->kind));
        pz_ynode_free(owned);
        return -1;
    }
    if (!v || is_null(v)) {
        pz_ynode_free(owned);
        s->params = pz_ynode_map();
    } else {
        s->params = owned ? owned : (pz_ynode *)v;
        s->params_in_doc = !owned;
    }

    if (subst_key(ld, b, PZ_PART_OUTPUTS, scope, &v, &owned)) return -1;
    rc = parse_outputs(ld, s, v);
    pz_ynode_free(owned);
    if (rc) return -1;

    if (subst_key(ld, b, PZ_PART_THREADS, scope, &v, &owned)) return -1;
    rc = v ? parse_threads(ld, s, v) : 0;
    pz_ynode_free(owned);
    if (rc) return -1;

    if (subst_key(ld, b, PZ_PART_TIMEOUT, scope, &v, &owned)) return -1;
    rc = v ? parse_timeout(ld, s, v) : 0;
    pz_ynode_free(owned);
    if (rc) return -1;

    if (subst_key(ld, b, PZ_PART_RESOURCES, scope, &v, &owned)) return -1;
    rc = v && !is_null(v) ? pz_load_resources(&ld->src, v, &s->resources, ld->err) : 0;
    pz_ynode_free(owned);
    if (rc) return -1;

    if (subst_key(ld, b, PZ_PART_INPUTS, scope, &v, &owned)) return -1;
    if (v && is_null(v)) v = NULL;
    if (v && v->kind != PZ_Y_MAP) {
        pz_src_err(&ld->src, v, ld->err, "inputs of stage '%s' must be a mapping of name: reference, got %s", b->name,
                   pz_ykind_name(v->kind));
        pz_ynode_free(owned);
        return -1;
    }
    for (size_t i = 0; v && i < v->n; i++) {
        if (!pz_valid_name(v->keys[i]->str)) {
            pz_src_err(&ld->src, v->keys[i], ld->err, "bad input name '%s' (letters, digits, '_', '.', '-')",
                       v->keys[i]->str);
            pz_ynode_free(owned);
            return -1;
        }
    }
    *inputs = !v ? NULL : owned ? owned : pz_ynode_clone(v);
    if (!v) pz_ynode_free(owned);
    return 0;
}

static pz_stage *new_instance(pz_loader *ld, const pz_base_stage *b, char *name)
{
    if (ld->nst == ld->capst) {
        ld->capst = ld->capst ? ld->capst * 2 : 64;
        ld->st = pz_xrealloc(ld->st, ld->capst * sizeof *ld->st);
        ld->inputs = pz_xrealloc(ld->inputs, ld->capst * sizeof *ld->inputs);
    }
    size_t i = ld->nst++;
    pz_stage *s = &ld->st[i];
    memset(s, 0, sizeof *s);
    ld->inputs[i] = NULL;
    s->name = name;
    s->base_name = pz_xstrdup(b->name);
    s->line = b->key->line;
    s->col = b->key->col;
    s->threads = 1;
    return s;
}

/* ---- foreach ---------------------------------------------------------------------------------- */

static int label_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-' || c == '+';
}

/* Items label their instances ("train[42]") when all are short safe scalars; otherwise the
 * 0-based index does ("fit[0]"), since a map or a path cannot be part of a name. */
static int items_are_labels(const pz_ynode *items)
{
    for (size_t i = 0; i < items->n; i++) {
        const pz_ynode *it = items->items[i];
        if (it->kind != PZ_Y_SCALAR || !it->str[0] || strlen(it->str) > 64) return 0;
        for (const char *c = it->str; *c; c++)
            if (!label_char(*c)) return 0;
    }
    return 1;
}

static int expand_stage(pz_loader *ld, pz_base_stage *b)
{
    pz_scope scope = {.vars = ld->vars, .declared = pz_ymap_get(ld->p->doc, "vars"), .item = NULL};
    b->first = ld->nst;
    const pz_ynode *fe = pz_ymap_get(b->node, "foreach");
    if (!fe) {
        pz_stage *s = new_instance(ld, b, pz_xstrdup(b->name));
        pz_nidx_put(&ld->inst_ix, s->name, ld->nst - 1);
        b->count = 1;
        return fill_instance(ld, s, b, &scope, &ld->inputs[ld->nst - 1]);
    }
    pz_ynode *items = pz_subst(fe, &scope, &ld->src, ld->err);
    if (!items) return -1;
    if (pz_expand_range(&items, &ld->src, ld->err) < 0) {
        pz_ynode_free(items);
        return -1;
    }
    int rc = 0;
    if (items->kind != PZ_Y_SEQ)
        rc = pz_src_err(&ld->src, fe, ld->err, "foreach of stage '%s' must be a list, got %s", b->name,
                        pz_ykind_name(items->kind));
    else if (items->n == 0)
        rc = pz_src_err(&ld->src, fe, ld->err, "foreach of stage '%s' is an empty list", b->name);
    b->is_foreach = 1;
    int labels = rc == 0 && items_are_labels(items);
    for (size_t k = 0; rc == 0 && k < items->n; k++) {
        char *name = labels ? pz_xconcat(b->name, "[", items->items[k]->str, "]", NULL)
                            : pz_xasprintf("%s[%zu]", b->name, k);
        pz_stage *s = new_instance(ld, b, name);
        b->count++;
        if (pz_nidx_put(&ld->inst_ix, s->name, ld->nst - 1)) {
            rc = pz_src_err(&ld->src, items->items[k], ld->err,
                            "foreach item '%s' of stage '%s' appears twice; instance names must be unique",
                            items->items[k]->str, b->name);
            break;
        }
        scope.item = items->items[k];
        rc = fill_instance(ld, s, b, &scope, &ld->inputs[ld->nst - 1]);
    }
    pz_ynode_free(items);
    return rc;
}

/* ---- stages: ---------------------------------------------------------------------------------- */

static int declare_stage(pz_loader *ld, const pz_ynode *key, const pz_ynode *node)
{
    if (!pz_valid_name(key->str))
        return pz_src_err(&ld->src, key, ld->err,
                          "bad stage name '%s': use letters, digits, '_', '.' and '-' only", key->str);
    if (pz_check_name_length(&ld->src, key, "stage", key->str, PZ_MAX_NAME, ld->err)) return -1;
    if (node->kind != PZ_Y_MAP)
        return pz_src_err(&ld->src, node, ld->err, "stage '%s' must be a mapping (run, inputs, outputs, ...), got %s",
                          key->str, pz_ykind_name(node->kind));
    char where[300];
    snprintf(where, sizeof where, "stage '%s'", key->str);
    if (check_keys(ld, node, stage_keys, NKEYS(stage_keys), where)) return -1;
    if (!pz_ymap_get(node, "run"))
        return pz_src_err(&ld->src, key, ld->err, "stage '%s' has no 'run' (the executable to run)", key->str);
    if (!pz_ymap_get(node, "outputs"))
        return pz_src_err(&ld->src, key, ld->err, "stage '%s' has no 'outputs' (a list of output names)", key->str);
    const pz_ynode *d = pz_ymap_get(node, "description");
    if (d && d->kind != PZ_Y_SCALAR)
        return pz_src_err(&ld->src, d, ld->err, "description must be text, got %s", pz_ykind_name(d->kind));
    pz_base_stage *b = &ld->bases[ld->nbases];
    b->name = key->str;
    b->key = key;
    b->node = node;
    static const char *const parts[PZ_NPARTS] = {
        [PZ_PART_RUN] = "run",         [PZ_PART_PARAMS] = "params",       [PZ_PART_OUTPUTS] = "outputs",
        [PZ_PART_THREADS] = "threads", [PZ_PART_TIMEOUT] = "timeout",     [PZ_PART_RESOURCES] = "resources",
        [PZ_PART_INPUTS] = "inputs"};
    for (int k = 0; k < PZ_NPARTS; k++) {
        b->part[k] = pz_ymap_get(node, parts[k]);
        b->part_subst[k] = b->part[k] && pz_needs_subst(b->part[k]);
    }
    pz_nidx_put(&ld->base_ix, b->name, ld->nbases);
    ld->nbases++;
    return 0;
}

static int load_stages(pz_loader *ld, const pz_ynode *stages)
{
    if (!stages) return pz_src_err(&ld->src, ld->p->doc, ld->err, "no 'stages:' in the pipeline file");
    if (is_null(stages) || (stages->kind == PZ_Y_MAP && stages->n == 0))
        return pz_src_err(&ld->src, stages, ld->err, "stages is empty: declare at least one stage");
    if (stages->kind != PZ_Y_MAP)
        return pz_src_err(&ld->src, stages, ld->err, "stages must be a mapping of stage name: stage, got %s",
                          pz_ykind_name(stages->kind));
    ld->bases = pz_xcalloc(stages->n, sizeof *ld->bases);
    pz_nidx_init(&ld->base_ix, stages->n);
    pz_nidx_init(&ld->inst_ix, stages->n);
    pz_nidx_init(&ld->run_ix, 16);
    for (size_t i = 0; i < stages->n; i++)
        if (declare_stage(ld, stages->keys[i], stages->items[i])) return -1;
    for (size_t i = 0; i < ld->nbases; i++)
        if (expand_stage(ld, &ld->bases[i])) return -1;
    return 0;
}

/* ---- top level ---------------------------------------------------------------------------------- */

static char *pipeline_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && !strcmp(base + len - 5, ".yaml")) len -= 5;
    else if (len > 4 && !strcmp(base + len - 4, ".yml")) len -= 4;
    return pz_xasprintf("%.*s", (int)len, base);
}

/* Relative paths resolve against the repository root when the file lives in pipelines/. */
static int find_root(pz_loader *ld)
{
    char *copy = pz_xstrdup(ld->p->path);
    char *dir = realpath(dirname(copy), NULL);
    free(copy);
    if (!dir) return pz_errf(ld->err, "%s: cannot resolve its directory: %s", ld->p->path, strerror(errno));
    const char *slash = strrchr(dir, '/');
    if (slash && !strcmp(slash + 1, "pipelines")) {
        ld->p->root_dir = pz_path_join_abs(dir, "..");
        free(dir);
    } else {
        ld->p->root_dir = dir;
    }
    return 0;
}

static int dir_setting(pz_loader *ld, const char *key, const char *fallback, char **out)
{
    const pz_ynode *raw = pz_ymap_get(ld->p->doc, key);
    if (!raw) {
        *out = pz_path_join_abs(ld->p->root_dir, fallback);
        return 0;
    }
    pz_scope scope = {.vars = ld->vars, .declared = pz_ymap_get(ld->p->doc, "vars")};
    pz_ynode *v = pz_subst(raw, &scope, &ld->src, ld->err);
    if (!v) return -1;
    int rc = want_string(ld, v, key);
    if (rc == 0) *out = pz_path_join_abs(ld->p->root_dir, v->str);
    pz_ynode_free(v);
    return rc;
}

/* Whether directory `dir` is `sub` or one of its parents (both normalised absolute paths). */
static int is_same_or_above(const char *dir, const char *sub)
{
    size_t n = strlen(dir);
    return !strncmp(dir, sub, n) && (sub[n] == 0 || sub[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* The workspace gets a directory per stage filled with links: never the pipeline's own directory
 * (`workspace: .`) or one above it, where those would mix with (and collide with) user files,
 * and never inside the cache. */
static int check_workspace(pz_loader *ld)
{
    const pz_pipeline *p = ld->p;
    const pz_ynode *at = pz_ymap_get(p->doc, "workspace");
    if (!at) return 0;
    if (is_same_or_above(p->workspace_dir, p->root_dir))
        return pz_src_err(&ld->src, at, ld->err, "workspace %s is the pipeline's own directory or above it; its stage "
                          "folders would mix with your files: give a folder of its own, e.g. results/%s",
                          p->workspace_dir, p->name);
    if (is_same_or_above(p->cache_dir, p->workspace_dir))
        return pz_src_err(&ld->src, at, ld->err, "workspace %s is inside the cache %s", p->workspace_dir, p->cache_dir);
    return 0;
}

static int load_document(pz_loader *ld)
{
    pz_pipeline *p = ld->p;
    if (p->doc->kind != PZ_Y_MAP)
        return pz_src_err(&ld->src, p->doc, ld->err, "a pipeline file must be a mapping with 'stages:', got %s",
                          pz_ykind_name(p->doc->kind));
    if (pz_apply_sets(p->doc, &ld->src, ld->err)) return pz_err_prefix(ld->err, "%s: ", p->path);
    if (check_keys(ld, p->doc, top_keys, NKEYS(top_keys), "the pipeline file")) return -1;
    const pz_ynode *d = pz_ymap_get(p->doc, "description");
    if (d && d->kind != PZ_Y_SCALAR)
        return pz_src_err(&ld->src, d, ld->err, "description must be text, got %s", pz_ykind_name(d->kind));
    p->name = pipeline_name(p->path);
    const pz_ynode *ex = pz_ymap_get(p->doc, "executor");
    if (ex && !is_null(ex) && pz_load_executor(&ld->src, ex, &p->executor, ld->err)) return -1;
    if (find_root(ld)) return -1;
    const pz_ynode *vars = pz_ymap_get(p->doc, "vars");
    if (pz_build_vars(is_null(vars) ? NULL : vars, &ld->src, &ld->vars, ld->err)) return -1;
    char *results = pz_xasprintf("results/%s", p->name);
    int rc = dir_setting(ld, "cache", "cache", &p->cache_dir);
    if (rc == 0) rc = dir_setting(ld, "workspace", results, &p->workspace_dir);
    free(results);
    if (rc || check_workspace(ld)) return -1;
    if (load_stages(ld, pz_ymap_get(p->doc, "stages"))) return -1;
    return pz_link_stages(ld);
}

static void loader_free(pz_loader *ld, int failed)
{
    if (failed) {
        for (size_t i = 0; i < ld->nst; i++) pz_stage_clear(&ld->st[i]);
        free(ld->st);
        pz_refs_free(ld->show, ld->nshow);
    }
    for (size_t i = 0; i < ld->nst; i++) pz_ynode_free(ld->inputs[i]);
    free(ld->inputs);
    for (size_t i = 0; i < ld->nrun; i++) {
        free(ld->run_paths[i]);
        free(ld->run_keys[i]);
    }
    free(ld->run_paths);
    free(ld->run_keys);
    pz_ynode_free(ld->vars);
    free(ld->bases);
    pz_nidx_free(&ld->base_ix);
    pz_nidx_free(&ld->inst_ix);
    pz_nidx_free(&ld->run_ix);
}

pz_pipeline *pz_pipeline_load(const char *path, const char *const *sets, size_t nsets, const char *bin_dir,
                              pz_err *err)
{
    pz_load_files files = {0};
    pz_ynode *doc = pz_load_extended(path, &files, err);
    if (!doc) {
        pz_load_files_free(&files);
        return NULL;
    }
    pz_pipeline *p = pz_xcalloc(1, sizeof *p);
    p->path = pz_xstrdup(path);
    p->doc = doc;
    pz_loader ld = {.src = {.file = p->path, .origins = (const char *const *)files.paths, .norigins = files.n,
                            .sets = sets, .nsets = nsets},
                    .err = err, .p = p, .bin_dir = bin_dir};
    int failed = load_document(&ld);
    p->files = files.paths;
    p->nfiles = files.n;
    p->sets = pz_xcalloc(nsets ? nsets : 1, sizeof *p->sets);
    for (p->nsets = 0; p->nsets < nsets; p->nsets++) p->sets[p->nsets] = pz_xstrdup(sets[p->nsets]);
    if (failed) {
        loader_free(&ld, 1);
        pz_pipeline_free(p);
        return NULL;
    }
    p->stages = ld.st;
    p->nstages = ld.nst;
    p->show = ld.show;
    p->nshow = ld.nshow;
    p->name_index = pz_xcalloc(1, sizeof *p->name_index);
    pz_nidx_init(p->name_index, p->nstages);
    for (size_t i = 0; i < p->nstages; i++) pz_nidx_put(p->name_index, p->stages[i].name, i);
    loader_free(&ld, 0);
    return p;
}

/* ---- the loaded pipeline ---------------------------------------------------------------------- */

void pz_refs_free(pz_input_ref *refs, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        free(refs[j].path);
        free(refs[j].output);
    }
    free(refs);
}

void pz_stage_clear(pz_stage *s)
{
    free(s->name);
    free(s->base_name);
    free(s->run);
    free(s->exe_path);
    if (!s->params_in_doc) pz_ynode_free(s->params);
    for (size_t i = 0; i < s->ninputs; i++) {
        pz_refs_free(s->inputs[i].refs, s->inputs[i].nrefs);
        free(s->inputs[i].name);
    }
    free(s->inputs);
    for (size_t i = 0; i < s->noutputs; i++) {
        free(s->outputs[i]);
        if (s->output_exts) free(s->output_exts[i]);
    }
    free(s->outputs);
    free(s->output_exts);
    free(s->deps);
    pz_resources_clear(&s->resources);
    memset(s, 0, sizeof *s);
}

void pz_pipeline_free(pz_pipeline *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nstages; i++) pz_stage_clear(&p->stages[i]);
    free(p->stages);
    pz_refs_free(p->show, p->nshow);
    pz_nidx_free(p->name_index);
    free(p->name_index);
    pz_ynode_free(p->doc);
    for (size_t i = 0; i < p->nfiles; i++) free(p->files[i]);
    free(p->files);
    for (size_t i = 0; i < p->nsets; i++) free(p->sets[i]);
    free(p->sets);
    free(p->path);
    free(p->name);
    free(p->root_dir);
    free(p->cache_dir);
    free(p->workspace_dir);
    free(p->executor);
    free(p);
}

int pz_pipeline_err_at(const pz_pipeline *p, const pz_ynode *node, pz_err *err, const char *fmt, ...)
{
    char msg[PZ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pz_src src = {.file = p->path, .origins = (const char *const *)p->files, .norigins = p->nfiles,
                  .sets = (const char *const *)p->sets, .nsets = p->nsets};
    return pz_src_err(&src, node, err, "%s", msg);
}

long pz_pipeline_find(const pz_pipeline *p, const char *name)
{
    return pz_nidx_get(p->name_index, name);
}

size_t pz_pipeline_match(const pz_pipeline *p, const char *name, size_t **out)
{
    size_t n = 0;
    *out = pz_xmalloc((p->nstages ? p->nstages : 1) * sizeof **out);
    for (size_t i = 0; i < p->nstages; i++)
        if (!strcmp(p->stages[i].name, name) || !strcmp(p->stages[i].base_name, name)) (*out)[n++] = i;
    if (!n) {
        free(*out); /* callers free the list only when something matched */
        *out = NULL;
    }
    return n;
}
