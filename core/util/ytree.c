#include "util/ytree.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- building ---------------------------------------------------------------------------- */

static pz_ynode *node_new(pz_ykind kind)
{
    pz_ynode *n = pz_xcalloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

pz_ynode *pz_ynode_scalar(const char *text, int quoted)
{
    pz_ynode *n = node_new(PZ_Y_SCALAR);
    n->str = pz_xstrdup(text ? text : "");
    n->quoted = quoted;
    return n;
}

pz_ynode *pz_ynode_seq(void) { return node_new(PZ_Y_SEQ); }
pz_ynode *pz_ynode_map(void) { return node_new(PZ_Y_MAP); }

static void grow(pz_ynode *n, int with_keys)
{
    /* Capacity is implicit: 4, then doubling; so reallocate when n is 0 or a power of two >= 4. */
    size_t cap;
    if (n->n == 0) cap = 4;
    else if (n->n >= 4 && (n->n & (n->n - 1)) == 0) cap = n->n * 2;
    else return;
    n->items = pz_xrealloc(n->items, cap * sizeof *n->items);
    if (with_keys) n->keys = pz_xrealloc(n->keys, cap * sizeof *n->keys);
}

void pz_yseq_push(pz_ynode *seq, pz_ynode *item)
{
    grow(seq, 0);
    seq->items[seq->n++] = item;
}

static void map_append(pz_ynode *map, pz_ynode *key, pz_ynode *value)
{
    grow(map, 1);
    map->keys[map->n] = key;
    map->items[map->n] = value;
    map->n++;
}

void pz_ymap_set(pz_ynode *map, const char *key, pz_ynode *value)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->str, key) == 0) {
            pz_ynode_free(map->items[i]);
            map->items[i] = value;
            return;
        }
    }
    map_append(map, pz_ynode_scalar(key, 0), value);
}

int pz_ymap_remove(pz_ynode *map, const char *key)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->str, key) == 0) {
            pz_ynode_free(map->keys[i]);
            pz_ynode_free(map->items[i]);
            memmove(map->keys + i, map->keys + i + 1, (map->n - i - 1) * sizeof *map->keys);
            memmove(map->items + i, map->items + i + 1, (map->n - i - 1) * sizeof *map->items);
            map->n--;
            return 1;
        }
    }
    return 0;
}

void pz_ynode_free(pz_ynode *node)
{
    if (!node) return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys) pz_ynode_free(node->keys[i]);
        pz_ynode_free(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node->str);
    free(node);
}

pz_ynode *pz_ynode_clone(const pz_ynode *src)
{
    if (!src) return NULL;
    pz_ynode *n = node_new(src->kind);
    n->line = src->line;
    n->col = src->col;
    n->quoted = src->quoted;
    n->origin = src->origin;
    if (src->str) n->str = pz_xstrdup(src->str);
    for (size_t i = 0; i < src->n; i++) {
        if (src->kind == PZ_Y_MAP) map_append(n, pz_ynode_clone(src->keys[i]), pz_ynode_clone(src->items[i]));
        else pz_yseq_push(n, pz_ynode_clone(src->items[i]));
    }
    return n;
}

/* ---- loading ----------------------------------------------------------------------------- */

typedef struct loader {
    yaml_document_t doc;
    const char *name;
    size_t nodes_made;
    pz_err *err;
} loader;

static pz_ynode *convert(loader *ld, yaml_node_t *yn, int depth)
{
    int line = (int)yn->start_mark.line + 1, col = (int)yn->start_mark.column + 1;
    if (depth > PZ_YAML_MAX_DEPTH) {
        pz_errf(ld->err, "%s:%d:%d: nesting deeper than %d levels", ld->name, line, col, PZ_YAML_MAX_DEPTH);
        return NULL;
    }
    if (++ld->nodes_made > PZ_YAML_MAX_NODES) {
        pz_errf(ld->err, "%s:%d:%d: document expands to more than %d nodes (alias bomb?)", ld->name, line, col,
                PZ_YAML_MAX_NODES);
        return NULL;
    }
    pz_ynode *out = NULL;
    switch (yn->type) {
    case YAML_SCALAR_NODE: {
        out = node_new(PZ_Y_SCALAR);
        out->str = pz_xmalloc(yn->data.scalar.length + 1);
        memcpy(out->str, yn->data.scalar.value, yn->data.scalar.length);
        out->str[yn->data.scalar.length] = 0;
        if (strlen(out->str) != yn->data.scalar.length) {
            pz_errf(ld->err, "%s:%d:%d: scalar contains a NUL character", ld->name, line, col);
            pz_ynode_free(out);
            return NULL;
        }
        out->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        break;
    }
    case YAML_SEQUENCE_NODE:
        out = node_new(PZ_Y_SEQ);
        for (yaml_node_item_t *it = yn->data.sequence.items.start; it < yn->data.sequence.items.top; it++) {
            pz_ynode *child = convert(ld, yaml_document_get_node(&ld->doc, *it), depth + 1);
            if (!child) { pz_ynode_free(out); return NULL; }
            pz_yseq_push(out, child);
        }
        break;
    case YAML_MAPPING_NODE:
        out = node_new(PZ_Y_MAP);
        for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top; p++) {
            yaml_node_t *yk = yaml_document_get_node(&ld->doc, p->key);
            int kl = (int)yk->start_mark.line + 1, kc = (int)yk->start_mark.column + 1;
            if (yk->type != YAML_SCALAR_NODE) {
                pz_errf(ld->err, "%s:%d:%d: mapping keys must be plain strings", ld->name, kl, kc);
                pz_ynode_free(out);
                return NULL;
            }
            pz_ynode *key = convert(ld, yk, depth + 1);
            if (!key) { pz_ynode_free(out); return NULL; }
            if (pz_ymap_get(out, key->str)) {
                pz_errf(ld->err, "%s:%d:%d: duplicate key '%s'", ld->name, kl, kc, key->str);
                pz_ynode_free(key);
                pz_ynode_free(out);
                return NULL;
            }
            pz_ynode *val = convert(ld, yaml_document_get_node(&ld->doc, p->value), depth + 1);
            if (!val) { pz_ynode_free(key); pz_ynode_free(out); return NULL; }
            map_append(out, key, val);
        }
        break;
    default:
        pz_errf(ld->err, "%s:%d:%d: empty YAML node", ld->name, line, col);
        return NULL;
    }
    out->line = line;
    out->col = col;
    return out;
}

static const char *problem_text(const yaml_parser_t *p)
{
    return p->problem ? p->problem : "malformed YAML";
}

pz_ynode *pz_yaml_load_string(const char *text, size_t len, const char *name, pz_err *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        pz_errf(err, "%s: cannot initialise YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    loader ld = {.name = name, .err = err};
    if (!yaml_parser_load(&parser, &ld.doc)) {
        yaml_mark_t m = parser.problem_mark;
        if (parser.context)
            pz_errf(err, "%s:%zu:%zu: YAML syntax error: %s %s", name, m.line + 1, m.column + 1, problem_text(&parser),
                    parser.context);
        else
            pz_errf(err, "%s:%zu:%zu: YAML syntax error: %s", name, m.line + 1, m.column + 1, problem_text(&parser));
        yaml_parser_delete(&parser);
        return NULL;
    }
    pz_ynode *out;
    yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
    if (!root) {
        out = pz_ynode_map();
        out->line = out->col = 1;
    } else {
        out = convert(&ld, root, 0);
    }
    /* A second document in the stream is almost always a mistake (a stray '---'). */
    if (out) {
        yaml_document_t extra;
        if (yaml_parser_load(&parser, &extra)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&extra);
            if (r2) {
                pz_errf(err, "%s:%zu:%zu: only one YAML document is allowed", name, r2->start_mark.line + 1,
                        r2->start_mark.column + 1);
                pz_ynode_free(out);
                out = NULL;
            }
            yaml_document_delete(&extra);
        } else {
            yaml_mark_t m = parser.problem_mark;
            pz_errf(err, "%s:%zu:%zu: YAML syntax error: %s", name, m.line + 1, m.column + 1, problem_text(&parser));
            pz_ynode_free(out);
            out = NULL;
        }
    }
    yaml_document_delete(&ld.doc);
    yaml_parser_delete(&parser);
    return out;
}

pz_ynode *pz_yaml_load_file(const char *path, pz_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pz_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = pz_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) buf = pz_xrealloc(buf, cap *= 2);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        pz_errf(err, "%s: read error", path);
        return NULL;
    }
    pz_ynode *n = pz_yaml_load_string(buf, len, path, err);
    free(buf);
    return n;
}

/* ---- lookups and conversions -------------------------------------------------------------- */

pz_ynode *pz_ymap_get(const pz_ynode *map, const char *key)
{
    if (!map || map->kind != PZ_Y_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->str, key) == 0) return map->items[i];
    return NULL;
}

pz_ynode *pz_ynode_path(const pz_ynode *root, const char *dotted)
{
    const pz_ynode *cur = root;
    const char *p = dotted;
    char part[256];
    while (cur && *p) {
        size_t k = strcspn(p, ".");
        if (k >= sizeof part) return NULL;
        memcpy(part, p, k);
        part[k] = 0;
        p += k + (p[k] == '.');
        if (cur->kind == PZ_Y_MAP) {
            cur = pz_ymap_get(cur, part);
        } else if (cur->kind == PZ_Y_SEQ) {
            char *end;
            errno = 0;
            unsigned long idx = strtoul(part, &end, 10);
            if (*end || end == part || errno || idx >= cur->n) return NULL;
            cur = cur->items[idx];
        } else {
            return NULL;
        }
    }
    return (pz_ynode *)cur;
}

const char *pz_ykind_name(pz_ykind kind)
{
    return kind == PZ_Y_SCALAR ? "a scalar" : kind == PZ_Y_SEQ ? "a list" : "a mapping";
}

static int type_error(const pz_ynode *node, const char *src, const char *want, pz_err *err)
{
    if (node && node->kind == PZ_Y_SCALAR)
        return pz_errf(err, "%s:%d:%d: expected %s, got '%s'", src, node->line, node->col, want, node->str);
    return pz_errf(err, "%s:%d:%d: expected %s, got %s", src, node ? node->line : 0, node ? node->col : 0, want,
                   node ? pz_ykind_name(node->kind) : "nothing");
}

int pz_yscalar_double(const pz_ynode *node, const char *src, double *out, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SCALAR) return type_error(node, src, "a number", err);
    const char *s = node->str;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE) {
        if (!strcmp(s, ".inf") || !strcmp(s, "+.inf")) v = INFINITY;
        else if (!strcmp(s, "-.inf")) v = -INFINITY;
        else if (!strcmp(s, ".nan")) v = NAN;
        else return type_error(node, src, "a number", err);
    }
    *out = v;
    return 0;
}

int pz_yscalar_long(const pz_ynode *node, const char *src, long *out, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SCALAR) return type_error(node, src, "an integer", err);
    char *end;
    errno = 0;
    long v = strtol(node->str, &end, 10);
    if (end == node->str || *end || errno == ERANGE) {
        /* Accept integral floats such as 1e3: people write them for sizes. */
        double d;
        pz_err ignore;
        if (pz_yscalar_double(node, src, &d, &ignore) == 0 && d == floor(d) && fabs(d) < 9e18) {
            *out = (long)d;
            return 0;
        }
        return type_error(node, src, "an integer", err);
    }
    *out = v;
    return 0;
}

int pz_yscalar_bool(const pz_ynode *node, const char *src, int *out, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SCALAR) return type_error(node, src, "true or false", err);
    const char *s = node->str;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes") || !strcmp(s, "on")) *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no") || !strcmp(s, "off")) *out = 0;
    else return type_error(node, src, "true or false", err);
    return 0;
}

/* ---- emitting ---------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
        b->p = pz_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static int is_bare_scalar(const pz_ynode *n)
{
    if (n->quoted) return 0;
    const char *s = n->str;
    if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null")) return 1;
    if (!*s) return 0;
    /* JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (isdigit((unsigned char)*p)) while (isdigit((unsigned char)*p)) p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == 0;
}

static void emit_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') { esc[0] = '\\'; esc[1] = (char)*p; sb_put(b, esc, 2); }
        else if (*p == '\n') sb_puts(b, "\\n");
        else if (*p == '\t') sb_puts(b, "\\t");
        else if (*p < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", *p); sb_puts(b, esc); }
        else sb_put(b, (const char *)p, 1);
    }
    sb_put(b, "\"", 1);
}

static void newline(sbuf *b, int indent, int depth)
{
    if (indent < 0) return;
    sb_put(b, "\n", 1);
    for (int i = 0; i < indent * depth; i++) sb_put(b, " ", 1);
}

static int cmp_key_index(const void *a, const void *b, void *ctx)
{
    const pz_ynode *m = ctx;
    return strcmp(m->keys[*(const size_t *)a]->str, m->keys[*(const size_t *)b]->str);
}

static void emit(sbuf *b, const pz_ynode *n, int sort_keys, int indent, int depth)
{
    if (n->kind == PZ_Y_SCALAR) {
        if (is_bare_scalar(n)) sb_puts(b, n->str);
        else emit_string(b, n->str);
        return;
    }
    int is_map = n->kind == PZ_Y_MAP;
    sb_put(b, is_map ? "{" : "[", 1);
    size_t *order = pz_xmalloc((n->n ? n->n : 1) * sizeof *order);
    for (size_t i = 0; i < n->n; i++) order[i] = i;
    if (is_map && sort_keys) qsort_r(order, n->n, sizeof *order, cmp_key_index, (void *)n);
    for (size_t k = 0; k < n->n; k++) {
        size_t i = order[k];
        if (k) sb_put(b, ",", 1);
        newline(b, indent, depth + 1);
        if (is_map) {
            emit_string(b, n->keys[i]->str);
            sb_puts(b, indent < 0 ? ":" : ": ");
        }
        emit(b, n->items[i], sort_keys, indent, depth + 1);
    }
    free(order);
    if (n->n) newline(b, indent, depth);
    sb_put(b, is_map ? "}" : "]", 1);
}

char *pz_yaml_to_json(const pz_ynode *node, int sort_keys, int indent)
{
    sbuf b = {0};
    emit(&b, node, sort_keys, indent, 0);
    if (indent >= 0) sb_put(&b, "\n", 1);
    return b.p;
}
