/* Small helpers of the pipeline loader: a name -> index hash table (stage lookups must not be
 * quadratic: 500-stage pipelines are loaded on every no-op run), and lexical path normalisation. */
#include "engine/load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- name index ----------------------------------------------------------------------------- */

void pz_nidx_init(pz_name_index *ix, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    ix->cap = cap;
    ix->n = 0;
    ix->keys = pz_xcalloc(cap, sizeof *ix->keys);
    ix->vals = pz_xcalloc(cap, sizeof *ix->vals);
}

void pz_nidx_free(pz_name_index *ix)
{
    if (!ix) return;
    free(ix->keys);
    free(ix->vals);
    ix->keys = NULL;
    ix->vals = NULL;
    ix->cap = ix->n = 0;
}

static size_t slot_of(const pz_name_index *ix, const char *key)
{
    size_t mask = ix->cap - 1;
    size_t i = (size_t)XXH3_64bits(key, strlen(key)) & mask;
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0) i = (i + 1) & mask;
    return i;
}

static void grow(pz_name_index *ix)
{
    pz_name_index big;
    pz_nidx_init(&big, ix->cap);
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->keys[i]) pz_nidx_put(&big, ix->keys[i], ix->vals[i]);
    pz_nidx_free(ix);
    *ix = big;
}

int pz_nidx_put(pz_name_index *ix, const char *key, size_t val)
{
    if ((ix->n + 1) * 2 > ix->cap) grow(ix);
    size_t i = slot_of(ix, key);
    if (ix->keys[i]) return 1;
    ix->keys[i] = key;
    ix->vals[i] = val;
    ix->n++;
    return 0;
}

long pz_nidx_get(const pz_name_index *ix, const char *key)
{
    if (!ix || !ix->cap) return -1;
    size_t i = slot_of(ix, key);
    return ix->keys[i] ? (long)ix->vals[i] : -1;
}

/* ---- positions ------------------------------------------------------------------------------ */

int pz_src_err(const pz_src *src, const pz_ynode *node, pz_err *err, const char *fmt, ...)
{
    char msg[PZ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (node && node->line > 0) {
        const char *file = node->origin > 0 && (size_t)node->origin < src->norigins ? src->origins[node->origin]
                                                                                     : src->file;
        return pz_errf(err, "%s:%d:%d: %s", file, node->line, node->col, msg);
    }
    if (node && node->col < 0 && (size_t)(-node->col - 1) < src->nsets)
        return pz_errf(err, "%s: --set '%s': %s", src->file, src->sets[-node->col - 1], msg);
    return pz_errf(err, "%s:1:1: %s", src->file, msg);
}

int pz_src_positive_long(const pz_src *src, const pz_ynode *node, const char *what, long max, long *out,
                         pz_err *err)
{
    pz_err why; /* pz_yscalar_long's reason is replaced by this message, which names the key */
    long v = 0;
    if (pz_yscalar_long(node, "", &v, &why) == 0 && v >= 1 && v <= max) {
        *out = v;
        return 0;
    }
    int scalar = node->kind == PZ_Y_SCALAR;
    return pz_src_err(src, node, err, "%s must be a positive integer, got %s%s%s", what, scalar ? "'" : "",
                      scalar ? node->str : pz_ykind_name(node->kind), scalar ? "'" : "");
}

/* ---- paths and names ------------------------------------------------------------------------ */

char *pz_path_join_abs(const char *base, const char *rel)
{
    char *joined = rel[0] == '/' ? pz_xstrdup(rel) : pz_xconcat(base, "/", rel, NULL);
    size_t len = strlen(joined);
    char *out = pz_xmalloc(len + 2);
    size_t o = 0;
    /* Walk components: skip "" and ".", pop on "..". */
    const char *p = joined;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        size_t k = strcspn(p, "/");
        if (k == 1 && p[0] == '.') {
            /* nothing */
        } else if (k == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, p, k);
            o += k;
        }
        p += k;
    }
    if (o == 0) out[o++] = '/';
    out[o] = 0;
    free(joined);
    return out;
}

int pz_valid_name(const char *s)
{
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int pz_check_name_length(const pz_src *src, const pz_ynode *at, const char *what, const char *name, size_t max,
                         pz_err *err)
{
    size_t n = strlen(name);
    if (n <= max) return 0;
    return pz_src_err(src, at, err, "%s name '%.32s...' is %zu characters long; at most %zu (it becomes a file name)",
                      what, name, n, max);
}
