/* Two ways a pipeline file is changed before it is checked: `--set dotted.path=value`
 * overrides from the command line, and ${name} substitution of `vars:` (and, in foreach
 * stages, ${item}). Both keep node positions so later errors still point at the file. */
#include "engine/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"

static char *pz_xstrndup_local(const char *s, size_t n)
{
    char *out = pz_xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

/* ---- --set ---------------------------------------------------------------------------------- */

/* Mark a tree as coming from the k-th override (see pz_src). */
static void mark_from_set(pz_ynode *n, size_t k)
{
    n->line = 0;
    n->col = -(int)(k + 1);
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) mark_from_set(n->keys[i], k);
        mark_from_set(n->items[i], k);
    }
}

/* The value of an override, parsed as YAML so `[1,2]`, `{a: 1}` and `1e-4` keep their types. */
static pz_ynode *parse_set_value(const char *text, const pz_src *src, size_t k, pz_err *err)
{
    pz_ynode *v;
    if (!*text) {
        v = pz_ynode_scalar("", 0);
    } else {
        char *name = pz_xasprintf("--set '%s'", src->sets[k]);
        v = pz_yaml_load_string(text, strlen(text), name, err);
        free(name);
        if (!v) {
            /* A line:col inside a one-line value says little; keep the parser's reason. */
            const char *why = strstr(err->msg, "YAML syntax error: ");
            char reason[PZ_ERR_MAX];
            snprintf(reason, sizeof reason, "%s", why ? why + 19 : err->msg);
            pz_errf(err, "--set '%s': the value is not valid YAML: %s", src->sets[k], reason);
            return NULL;
        }
    }
    mark_from_set(v, k);
    return v;
}

/* The map key of `map` that is the longest prefix of `rest` ending at a '.' or at its end:
 * stage names may themselves contain dots ("stages.fit.v2.params.lr"). Returns the index or -1;
 * *whole says the key consumed all of rest. */
static long match_key(const pz_ynode *map, const char *rest, int *whole)
{
    long best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < map->n; i++) {
        const char *key = map->keys[i]->str;
        size_t kl = strlen(key);
        if (kl > best_len && strncmp(rest, key, kl) == 0 && (rest[kl] == 0 || rest[kl] == '.')) {
            best = (long)i;
            best_len = kl;
        }
    }
    *whole = best >= 0 && rest[best_len] == 0;
    return best;
}

/* "'stages.trian-base' does not exist (did you mean 'stages.train-base'?)": the component that
 * failed is path[from, upto); map (may be NULL) holds the names it could have been. */
static int set_error_missing(pz_err *err, const char *arg, const char *path, size_t from, size_t upto,
                             const pz_ynode *map)
{
    char *word = pz_xstrndup_local(path + from, upto - from);
    const char **names = NULL;
    size_t n = map && map->kind == PZ_Y_MAP ? map->n : 0;
    if (n) names = pz_xmalloc(n * sizeof *names);
    for (size_t i = 0; i < n; i++) names[i] = map->keys[i]->str;
    const char *near = pz_closest_name(word, names, n);
    if (near)
        pz_errf(err, "--set '%s': '%.*s' does not exist (did you mean '%.*s%s'?)", arg, (int)upto, path, (int)from, path,
                near);
    else
        pz_errf(err, "--set '%s': '%.*s' does not exist", arg, (int)upto, path);
    free(names);
    free(word);
    return -1;
}

static int apply_one_set(pz_ynode *doc, const pz_src *src, size_t k, pz_err *err)
{
    const char *arg = src->sets[k];
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return pz_errf(err, "--set '%s': expected dotted.path=value (e.g. stages.train.params.lr=1e-4)", arg);
    /* extends is resolved while the files are read, before any --set: setting it would be ignored. */
    if (!strncmp(arg, "extends", 7) && (arg[7] == '=' || arg[7] == '.'))
        return pz_errf(err, "--set '%s': extends cannot be set from the command line (files are merged before "
                       "--set applies); edit the pipeline file", arg);
    char *path = pz_xstrndup_local(arg, (size_t)(eq - arg));
    pz_ynode *cur = doc;
    size_t pos = 0;
    int rc = -1;
    for (;;) {
        const char *rest = path + pos;
        size_t first = strcspn(rest, ".");
        pz_ynode **slot;
        size_t used;
        if (cur->kind == PZ_Y_MAP) {
            int whole;
            long i = match_key(cur, rest, &whole);
            if (i < 0) {
                /* vars are declared in the file: a new one would be read by nothing, so
                 * `vars.seed=...` next to `seeds:` is a typo, not a new var. */
                if (cur == pz_ymap_get(doc, "vars")) {
                    set_error_missing(err, arg, path, pos, pos + first, cur);
                    break;
                }
                if (*rest && !strchr(rest, '.')) {
                    /* A missing leaf is created: `--set stages.x.params.new_knob=3`. */
                    pz_ynode *v = parse_set_value(eq + 1, src, k, err);
                    if (v) {
                        pz_ymap_set(cur, rest, v);
                        mark_from_set(cur->keys[cur->n - 1], k); /* "unknown param" names the --set */
                        rc = 0;
                    }
                } else {
                    set_error_missing(err, arg, path, pos, pos + first, cur);
                }
                break;
            }
            slot = &cur->items[i];
            used = strlen(cur->keys[i]->str);
        } else if (cur->kind == PZ_Y_SEQ) {
            char *end;
            unsigned long idx = strtoul(rest, &end, 10);
            if (end == rest || (size_t)(end - rest) != first || idx >= cur->n) {
                set_error_missing(err, arg, path, pos, pos + first, NULL);
                break;
            }
            slot = &cur->items[idx];
            used = first;
        } else {
            pz_errf(err, "--set '%s': '%.*s' is a scalar, it has no '%.*s'", arg, pos ? (int)pos - 1 : 0, path,
                    (int)first, rest);
            break;
        }
        if (rest[used] == 0) {
            pz_ynode *v = parse_set_value(eq + 1, src, k, err);
            if (v) {
                pz_ynode_free(*slot);
                *slot = v;
                rc = 0;
            }
            break;
        }
        cur = *slot;
        pos += used + 1;
    }
    free(path);
    return rc;
}

int pz_apply_sets(pz_ynode *doc, const pz_src *src, pz_err *err)
{
    for (size_t k = 0; k < src->nsets; k++)
        if (apply_one_set(doc, src, k, err) != 0) return -1;
    return 0;
}

/* ---- ${...} substitution -------------------------------------------------------------------- */

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Resolve the text between ${ and } ("seeds", "item", "item.zmax", "paths.cosmos"). */
static const pz_ynode *lookup(const char *expr, const pz_ynode *at, const pz_scope *scope, const pz_src *src,
                              pz_err *err)
{
    size_t nl = 0;
    while (name_char(expr[nl])) nl++;
    if (nl == 0 || (expr[nl] && expr[nl] != '.')) {
        pz_src_err(src, at, err, "bad substitution '${%s}': expected ${name} or ${name.key}", expr);
        return NULL;
    }
    char name[128];
    if (nl >= sizeof name) {
        pz_src_err(src, at, err, "var name too long in '${%s}'", expr);
        return NULL;
    }
    memcpy(name, expr, nl);
    name[nl] = 0;
    const pz_ynode *val;
    if (!strcmp(name, "item")) {
        val = scope->item;
        if (!val) {
            pz_src_err(src, at, err, "unknown var 'item': ${item} is only defined in a stage with foreach");
            return NULL;
        }
    } else {
        val = pz_ymap_get(scope->vars, name);
        if (!val) {
            if (scope->defining && !strcmp(scope->defining, name))
                pz_src_err(src, at, err, "var '%s' refers to itself", name);
            else if (pz_ymap_get(scope->declared, name))
                pz_src_err(src, at, err, "var '%s' is used before it is defined (a var may only use vars above it)",
                           name);
            else {
                const pz_ynode *d = scope->declared;
                const char **cands = pz_xmalloc(((d ? d->n : 0) + 1) * sizeof *cands);
                size_t nc = 0;
                for (size_t i = 0; d && i < d->n; i++) cands[nc++] = d->keys[i]->str;
                const char *near = pz_closest_name(name, cands, nc);
                if (near) pz_src_err(src, at, err, "unknown var '%s' (did you mean '%s'?)", name, near);
                else pz_src_err(src, at, err, "unknown var '%s'", name);
                free(cands);
            }
            return NULL;
        }
    }
    if (expr[nl] == '.') {
        const pz_ynode *sub = pz_ynode_path(val, expr + nl + 1);
        if (!sub) {
            pz_src_err(src, at, err, "'${%s}': '%s' has no key '%s'", expr, name, expr + nl + 1);
            return NULL;
        }
        val = sub;
    }
    return val;
}

/* If s is exactly one "${expr}", return a copy of expr, else NULL. */
static char *sole_reference(const char *s)
{
    size_t len = strlen(s);
    if (len < 4 || s[0] != '$' || s[1] != '{' || s[len - 1] != '}') return NULL;
    if (memchr(s + 2, '}', len - 3) || memchr(s + 2, '$', len - 3)) return NULL;
    return pz_xstrndup_local(s + 2, len - 3);
}

static pz_ynode *subst_scalar(const pz_ynode *node, const pz_scope *scope, const pz_src *src, pz_err *err)
{
    const char *s = node->str;
    if (!strstr(s, "${")) return pz_ynode_clone(node);
    char *sole = sole_reference(s);
    if (sole) {
        /* The whole scalar is one reference: it becomes the var's node, style included, so
         * lists and maps substitute and `seed: ${item}` stays a number. That holds even when
         * quoted, because YAML flow maps force quoting: `{seed: "${item}"}`. */
        const pz_ynode *val = lookup(sole, node, scope, src, err);
        free(sole);
        if (!val) return NULL;
        pz_ynode *out = pz_ynode_clone(val);
        out->line = node->line;
        out->col = node->col;
        out->origin = node->origin;
        return out;
    }
    pz_sbuf b = {0};
    pz_sb_put(&b, "", 0);
    const char *p = s;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            pz_sb_put(&b, p, strlen(p));
            break;
        }
        if (d > p && d[-1] == '$') {
            /* "$${" is a literal "${". */
            pz_sb_put(&b, p, (size_t)(d - p) - 1);
            pz_sb_put(&b, "${", 2);
            p = d + 2;
            continue;
        }
        pz_sb_put(&b, p, (size_t)(d - p));
        const char *close = strchr(d + 2, '}');
        if (!close) {
            pz_src_err(src, node, err, "unterminated '${' in '%s'", s);
            free(b.p);
            return NULL;
        }
        char *expr = pz_xstrndup_local(d + 2, (size_t)(close - d - 2));
        const pz_ynode *val = lookup(expr, node, scope, src, err);
        if (val && val->kind != PZ_Y_SCALAR) {
            pz_src_err(src, node, err, "'${%s}' is %s; only a scalar can be part of a string (use it alone: '${%s}')",
                       expr, pz_ykind_name(val->kind), expr);
            val = NULL;
        }
        free(expr);
        if (!val) {
            free(b.p);
            return NULL;
        }
        pz_sb_put(&b, val->str, strlen(val->str));
        p = close + 1;
    }
    /* Textual substitution: the result reads as if it had been typed in place. */
    pz_ynode *out = pz_ynode_scalar(b.p, node->quoted);
    free(b.p);
    out->line = node->line;
    out->col = node->col;
    out->origin = node->origin;
    return out;
}

pz_ynode *pz_subst(const pz_ynode *node, const pz_scope *scope, const pz_src *src, pz_err *err)
{
    if (node->kind == PZ_Y_SCALAR) return subst_scalar(node, scope, src, err);
    pz_ynode *out = node->kind == PZ_Y_MAP ? pz_ynode_map() : pz_ynode_seq();
    out->line = node->line;
    out->col = node->col;
    out->origin = node->origin;
    for (size_t i = 0; i < node->n; i++) {
        pz_ynode *v = pz_subst(node->items[i], scope, src, err);
        if (!v) {
            pz_ynode_free(out);
            return NULL;
        }
        if (node->kind == PZ_Y_SEQ) {
            pz_yseq_push(out, v);
        } else {
            pz_ymap_set(out, node->keys[i]->str, v);
            out->keys[out->n - 1]->line = node->keys[i]->line;
            out->keys[out->n - 1]->col = node->keys[i]->col;
            out->keys[out->n - 1]->origin = node->keys[i]->origin;
            out->keys[out->n - 1]->quoted = node->keys[i]->quoted;
        }
    }
    return out;
}

int pz_needs_subst(const pz_ynode *node)
{
    if (node->kind == PZ_Y_SCALAR) return strstr(node->str, "${") != NULL;
    for (size_t i = 0; i < node->n; i++)
        if (pz_needs_subst(node->items[i])) return 1;
    return 0;
}

int pz_build_vars(const pz_ynode *vars, const pz_src *src, pz_ynode **out, pz_err *err)
{
    pz_ynode *done = pz_ynode_map();
    *out = NULL;
    if (!vars) {
        *out = done;
        return 0;
    }
    if (vars->kind != PZ_Y_MAP) {
        pz_ynode_free(done);
        return pz_src_err(src, vars, err, "vars must be a mapping of name: value, got %s", pz_ykind_name(vars->kind));
    }
    for (size_t i = 0; i < vars->n; i++) {
        const pz_ynode *key = vars->keys[i];
        const char *name = key->str;
        size_t nl = 0;
        while (name_char(name[nl])) nl++;
        if (nl == 0 || name[nl]) {
            pz_ynode_free(done);
            return pz_src_err(src, key, err, "bad var name '%s' (letters, digits, '_' and '-' only)", name);
        }
        if (!strcmp(name, "item")) {
            pz_ynode_free(done);
            return pz_src_err(src, key, err, "'item' is reserved for foreach items; choose another var name");
        }
        pz_scope scope = {.vars = done, .declared = vars, .item = NULL, .defining = name};
        pz_ynode *v = pz_subst(vars->items[i], &scope, src, err);
        if (!v) {
            pz_ynode_free(done);
            return -1;
        }
        if (pz_expand_range(&v, src, err) < 0) {
            pz_ynode_free(done);
            return -1;
        }
        pz_ymap_set(done, name, v);
    }
    *out = done;
    return 0;
}

/* ---- range(first, stop) --------------------------------------------------------------------- */

/* Parses "range(a, b)" or "range(a, b, step)" (Python's meaning: a, a+step, ... < b). 1 when
 * text is a range call at all, then *ok says whether it was well formed. */
static int parse_range(const char *text, long v[3], int *nv, int *ok)
{
    if (strncmp(text, "range(", 6)) return 0;
    const char *p = text + 6;
    *nv = 0;
    *ok = 0;
    while (*nv < 3) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno) return 1;
        v[(*nv)++] = x;
        while (*end == ' ') end++;
        if (*end == ')') {
            *ok = end[1] == 0 && *nv >= 2;
            return 1;
        }
        if (*end != ',') return 1;
        p = end + 1;
    }
    return 1;
}

#define PZ_RANGE_MAX_ITEMS 1000000

int pz_expand_range(pz_ynode **node, const pz_src *src, pz_err *err)
{
    const pz_ynode *n = *node;
    long v[3] = {0, 0, 1};
    int nv, ok;
    if (n->kind != PZ_Y_SCALAR || n->quoted || !parse_range(n->str, v, &nv, &ok)) return 0;
    if (!ok) return pz_src_err(src, n, err, "bad range '%s': expected range(first, stop) or range(first, stop, step)", n->str);
    if (v[2] == 0) return pz_src_err(src, n, err, "bad range '%s': the step must not be 0", n->str);
    double count = ((double)v[1] - (double)v[0]) / (double)v[2];
    if (count > PZ_RANGE_MAX_ITEMS)
        return pz_src_err(src, n, err, "range '%s' has more than %d items", n->str, PZ_RANGE_MAX_ITEMS);
    pz_ynode *seq = pz_ynode_seq();
    seq->line = n->line, seq->col = n->col, seq->origin = n->origin;
    for (long x = v[0]; v[2] > 0 ? x < v[1] : x > v[1]; x += v[2]) {
        char text[32];
        snprintf(text, sizeof text, "%ld", x);
        pz_ynode *item = pz_ynode_scalar(text, 0);
        item->line = n->line, item->col = n->col, item->origin = n->origin;
        pz_yseq_push(seq, item);
    }
    pz_ynode_free(*node);
    *node = seq;
    return 0;
}
