#include "util/ytree.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util/sbuf.h"

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

int pz_ynode_equal(const pz_ynode *a, const pz_ynode *b)
{
    if (a == b) return 1;
    if (!a || !b || a->kind != b->kind || a->n != b->n || a->quoted != b->quoted) return 0;
    if (a->kind == PZ_Y_SCALAR) return !strcmp(a->str, b->str);
    for (size_t i = 0; i < a->n; i++) {
        if (a->kind == PZ_Y_MAP && !pz_ynode_equal(a->keys[i], b->keys[i])) return 0;
        if (!pz_ynode_equal(a->items[i], b->items[i])) return 0;
    }
    return 1;
}

/* ---- loading ----------------------------------------------------------------------------- */

/* The tree is built straight from libyaml's event stream: no intermediate yaml_document_t, no
 * recursion on input depth (an explicit stack of open collections), scalar text taken over from
 * the event rather than copied. Semantic errors (duplicate or non-scalar keys, NUL in a scalar,
 * nesting, alias expansion) are reported in document order, but a syntax error anywhere in the
 * first document still wins over them, as it did when the whole document was composed first. */

/* Maps with more keys than this get a hash index for the duplicate-key check. */
#define DUP_LINEAR_MAX 8

typedef struct anchor {
    char *name;
    pz_ynode *node;     /* NULL once building has stopped after an error */
    yaml_mark_t mark;   /* start of the anchored node (for libyaml's duplicate-anchor message) */
    size_t size;        /* nodes in the subtree, aliases expanded: what one more alias costs */
    int height;         /* levels below the anchored node */
    int open;           /* still being built: an alias to it would be a cycle */
} anchor;

typedef struct frame {
    pz_ynode *node;     /* open sequence or mapping */
    pz_ynode *key;      /* map only: key read, value not yet */
    int key_line, key_col;
    int depth;          /* depth of node (root = 0) */
    int max_depth;      /* deepest descendant seen so far */
    size_t made_before; /* nodes_made before this node was counted */
    long anchor_idx;    /* anchor naming this node, or -1 */
    size_t *slots;      /* map key index (open addressing, index + 1; 0 = empty) */
    size_t nslots;
} frame;

typedef struct builder {
    const char *name;
    pz_err *err;
    frame *stack;
    size_t top, cap;
    anchor *anchors;
    size_t nanchors, anchors_cap;
    size_t nodes_made;
    pz_ynode *root;
    int failed;         /* a semantic error is in err: stop building, keep parsing for syntax errors */
    int composer_error; /* libyaml-style composer error (undefined alias, duplicate anchor) */
    yaml_mark_t problem_mark, context_mark;
    const char *problem, *context;
} builder;

/* The error named by `what` at line:col; key is only used by the duplicate-key message. */
enum { E_KEY_KIND, E_DEPTH, E_NODES, E_NUL, E_KEY_LONG, E_DUP_KEY };

/* libyaml reads a key of a flow mapping only within 1024 characters of where it starts, so a
 * longer key could not be read back from the JSON we emit (escapes count: \u0085 is 6). */
#define KEY_MAX_JSON 1000

static int semantic_error(builder *b, int line, int col, int what, const char *key)
{
    const char *name = b->name;
    switch (what) {
    case E_KEY_KIND: pz_errf(b->err, "%s:%d:%d: mapping keys must be plain strings", name, line, col); break;
    case E_DEPTH:
        pz_errf(b->err, "%s:%d:%d: nesting deeper than %d levels", name, line, col, PZ_YAML_MAX_DEPTH);
        break;
    case E_NODES:
        pz_errf(b->err, "%s:%d:%d: document expands to more than %d nodes (alias bomb?)", name, line, col,
                PZ_YAML_MAX_NODES);
        break;
    case E_NUL: pz_errf(b->err, "%s:%d:%d: scalar contains a NUL character", name, line, col); break;
    case E_KEY_LONG:
        pz_errf(b->err, "%s:%d:%d: mapping key longer than %d characters", name, line, col, KEY_MAX_JSON);
        break;
    default: pz_errf(b->err, "%s:%d:%d: duplicate key '%s'", name, line, col, key); break;
    }
    b->failed = 1;
    return -1;
}

static size_t hash_key(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static void index_put(frame *f, size_t idx)
{
    size_t mask = f->nslots - 1, i = hash_key(f->node->keys[idx]->str) & mask;
    while (f->slots[i]) i = (i + 1) & mask;
    f->slots[i] = idx + 1;
}

/* Is key already in the open map f->node? Keeps the hash index (if any) big enough. */
static int map_has_key(frame *f, const char *key)
{
    pz_ynode *m = f->node;
    if (m->n <= DUP_LINEAR_MAX) {
        for (size_t i = 0; i < m->n; i++)
            if (strcmp(m->keys[i]->str, key) == 0) return 1;
        return 0;
    }
    if (m->n * 2 >= f->nslots) { /* (re)build at half load */
        free(f->slots);
        f->nslots = f->nslots ? f->nslots * 2 : 64;
        while (m->n * 2 >= f->nslots) f->nslots *= 2;
        f->slots = pz_xcalloc(f->nslots, sizeof *f->slots);
        for (size_t i = 0; i < m->n; i++) index_put(f, i);
    }
    size_t mask = f->nslots - 1;
    for (size_t i = hash_key(key) & mask; f->slots[i]; i = (i + 1) & mask)
        if (strcmp(m->keys[f->slots[i] - 1]->str, key) == 0) return 1;
    return 0;
}

static void map_add_pair(frame *f, pz_ynode *key, pz_ynode *value)
{
    map_append(f->node, key, value);
    if (f->slots) index_put(f, f->node->n - 1);
}

/* A node of this kind cannot go here: an open map is waiting for a key and it is no scalar.
 * Checked before the limits, as the tree-walking loader did. */
static int bad_key(const builder *b, pz_ykind kind)
{
    const frame *f = b->top ? &b->stack[b->top - 1] : NULL;
    return f && f->node->kind == PZ_Y_MAP && !f->key && kind != PZ_Y_SCALAR;
}

/* Counts one node at `depth` against the limits. */
static int admit(builder *b, int line, int col, int depth)
{
    if (depth > PZ_YAML_MAX_DEPTH) return semantic_error(b, line, col, E_DEPTH, NULL);
    if (b->nodes_made >= PZ_YAML_MAX_NODES) return semantic_error(b, line, col, E_NODES, NULL);
    b->nodes_made++;
    return 0;
}

static unsigned needs_escape_utf8(const unsigned char *p, size_t *len);

/* Length of s written as a JSON string by emit_string (without the quotes). */
static size_t json_string_len(const char *s)
{
    size_t n = 0, len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '\n' || *p == '\t') n += 2;
        else if (*p < 0x20 || *p == 0x7F) n += 6;
        else if (*p >= 0xC2 && needs_escape_utf8(p, &len)) { n += 6; p += len - 1; }
        else n++;
    }
    return n;
}

/* Hangs a finished (or just opened) node under the innermost open collection. */
static int attach(builder *b, pz_ynode *node)
{
    if (!b->top) {
        b->root = node;
        return 0;
    }
    frame *f = &b->stack[b->top - 1];
    if (f->node->kind == PZ_Y_SEQ) {
        pz_yseq_push(f->node, node);
    } else if (!f->key) {
        if (json_string_len(node->str) > KEY_MAX_JSON) {
            semantic_error(b, node->line, node->col, E_KEY_LONG, NULL);
            pz_ynode_free(node);
            return -1;
        }
        if (map_has_key(f, node->str)) {
            semantic_error(b, node->line, node->col, E_DUP_KEY, node->str);
            pz_ynode_free(node);
            return -1;
        }
        f->key = node;
    } else {
        map_add_pair(f, f->key, node);
        f->key = NULL;
    }
    return 0;
}

static int current_depth(const builder *b) { return b->top ? b->stack[b->top - 1].depth + 1 : 0; }

static void note_depth(builder *b, int depth)
{
    if (b->top && b->stack[b->top - 1].max_depth < depth) b->stack[b->top - 1].max_depth = depth;
}

/* Records an anchor (taking over the name); returns its index or -1 on a duplicate. */
static long anchor_add(builder *b, yaml_char_t **name, pz_ynode *node, yaml_mark_t mark)
{
    if (!*name) return -1;
    for (size_t i = 0; i < b->nanchors; i++) {
        if (strcmp(b->anchors[i].name, (char *)*name) == 0) {
            /* libyaml 0.2 refuses a redefined anchor while composing; keep its message. */
            b->composer_error = 1;
            b->context = "found duplicate anchor; first occurrence";
            b->context_mark = b->anchors[i].mark;
            b->problem = "second occurrence";
            b->problem_mark = mark;
            return -2;
        }
    }
    if (b->nanchors == b->anchors_cap) {
        b->anchors_cap = b->anchors_cap ? b->anchors_cap * 2 : 8;
        b->anchors = pz_xrealloc(b->anchors, b->anchors_cap * sizeof *b->anchors);
    }
    b->anchors[b->nanchors] = (anchor){.name = (char *)*name, .node = node, .mark = mark, .size = 1};
    *name = NULL;
    return (long)b->nanchors++;
}

static pz_ynode *node_at(pz_ykind kind, yaml_mark_t m)
{
    pz_ynode *n = node_new(kind);
    n->line = (int)m.line + 1;
    n->col = (int)m.column + 1;
    return n;
}

static int on_scalar(builder *b, yaml_event_t *ev)
{
    int depth = current_depth(b);
    pz_ynode *n = NULL;
    if (!b->failed) {
        int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
        if (admit(b, line, col, depth)) goto anchor_only;
        char *text = (char *)ev->data.scalar.value;
        if (strlen(text) != ev->data.scalar.length) {
            semantic_error(b, line, col, E_NUL, NULL);
            goto anchor_only;
        }
        n = node_at(PZ_Y_SCALAR, ev->start_mark);
        n->str = text; /* libyaml allocates it with malloc and NUL-terminates it */
        ev->data.scalar.value = NULL;
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        note_depth(b, depth);
    }
anchor_only:
    if (anchor_add(b, &ev->data.scalar.anchor, n, ev->start_mark) == -2) {
        pz_ynode_free(n);
        return -1;
    }
    return n ? attach(b, n) : 0;
}

static int on_collection_start(builder *b, yaml_event_t *ev, pz_ykind kind)
{
    yaml_char_t **name = kind == PZ_Y_SEQ ? &ev->data.sequence_start.anchor : &ev->data.mapping_start.anchor;
    int depth = current_depth(b);
    pz_ynode *n = NULL;
    size_t made_before = b->nodes_made;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (!b->failed && bad_key(b, kind)) semantic_error(b, line, col, E_KEY_KIND, NULL);
    if (!b->failed && !admit(b, line, col, depth)) {
        n = node_at(kind, ev->start_mark);
        note_depth(b, depth);
        attach(b, n); /* cannot fail: only scalar keys are checked for duplicates */
    }
    long a = anchor_add(b, name, n, ev->start_mark);
    if (a == -2) return -1;
    if (a >= 0) b->anchors[a].open = 1;
    if (b->top == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->stack = pz_xrealloc(b->stack, b->cap * sizeof *b->stack);
    }
    b->stack[b->top++] = (frame){.node = n, .depth = depth, .max_depth = depth, .made_before = made_before,
                                 .anchor_idx = a};
    return 0;
}

static void on_collection_end(builder *b)
{
    frame *f = &b->stack[--b->top];
    if (f->anchor_idx >= 0) {
        anchor *a = &b->anchors[f->anchor_idx];
        a->open = 0;
        a->size = b->nodes_made - f->made_before;
        a->height = f->max_depth - f->depth;
    }
    note_depth(b, f->max_depth);
    pz_ynode_free(f->key); /* a key whose value failed to load */
    free(f->slots);
}

/* Finds the node where expanding `src` at `depth` first breaks a limit, walking in the same
 * order the recursive loader did, and reports it. Iterative: src may be 64 levels deep. */
static int report_expansion_limit(builder *b, const pz_ynode *src, int depth)
{
    struct { const pz_ynode *n; size_t next; } path[PZ_YAML_MAX_DEPTH + 2];
    int top = 0, base = depth;
    const pz_ynode *n = src;
    for (;;) {
        if (admit(b, n->line, n->col, base + top)) return -1;
        if (n->n) {
            path[top].n = n;
            path[top].next = 0;
            top++;
        } else {
            while (top && path[top - 1].next == path[top - 1].n->n * (path[top - 1].n->kind == PZ_Y_MAP ? 2 : 1))
                top--;
            if (!top) { /* cannot happen: the caller saw a limit broken */
                b->failed = 1;
                return pz_errf(b->err, "%s: internal error expanding an alias", b->name);
            }
        }
        const pz_ynode *p = path[top - 1].n;
        size_t k = path[top - 1].next++;
        n = p->kind == PZ_Y_MAP ? (k % 2 ? p->items[k / 2] : p->keys[k / 2]) : p->items[k];
    }
}

static int on_alias(builder *b, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    anchor *a = NULL;
    for (size_t i = b->nanchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0) { a = &b->anchors[i]; break; }
    if (!a) {
        b->composer_error = 1;
        b->problem = "found undefined alias";
        b->problem_mark = ev->start_mark;
        return -1;
    }
    if (b->failed) return 0;
    int depth = current_depth(b);
    if (a->open) /* an alias inside its own anchor expands forever */
        return semantic_error(b, a->node->line, a->node->col, E_DEPTH, NULL);
    const pz_ynode *src = a->node;
    if (bad_key(b, src->kind)) return semantic_error(b, src->line, src->col, E_KEY_KIND, NULL);
    if (depth + a->height > PZ_YAML_MAX_DEPTH || a->size > PZ_YAML_MAX_NODES - b->nodes_made)
        return report_expansion_limit(b, src, depth);
    b->nodes_made += a->size;
    note_depth(b, depth + a->height);
    return attach(b, pz_ynode_clone(src));
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->top; i++) {
        pz_ynode_free(b->stack[i].key);
        free(b->stack[i].slots);
    }
    free(b->stack);
    for (size_t i = 0; i < b->nanchors; i++) free(b->anchors[i].name);
    free(b->anchors);
}

static const char *problem_text(const yaml_parser_t *p)
{
    return p->problem ? p->problem : "malformed YAML";
}

static void syntax_error(pz_err *err, const char *name, yaml_mark_t m, const char *problem, const char *context)
{
    if (context)
        pz_errf(err, "%s:%zu:%zu: YAML syntax error: %s %s", name, m.line + 1, m.column + 1, problem, context);
    else
        pz_errf(err, "%s:%zu:%zu: YAML syntax error: %s", name, m.line + 1, m.column + 1, problem);
}

/* Reads events up to the end of the first document (or of the stream). Returns 0 when libyaml
 * accepted the document; semantic errors are left in b->failed / err. */
static int build_first_document(builder *b, yaml_parser_t *parser)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev)) {
            syntax_error(b->err, b->name, parser->problem_mark, problem_text(parser), parser->context);
            return -1;
        }
        int rc = 0, done = 0;
        switch (ev.type) {
        case YAML_SCALAR_EVENT: rc = on_scalar(b, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = on_collection_start(b, &ev, PZ_Y_SEQ); break;
        case YAML_MAPPING_START_EVENT: rc = on_collection_start(b, &ev, PZ_Y_MAP); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: on_collection_end(b); break;
        case YAML_ALIAS_EVENT: rc = on_alias(b, &ev); break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT: done = 1; break;
        default: break;
        }
        yaml_event_delete(&ev);
        if (b->composer_error) {
            syntax_error(b->err, b->name, b->problem_mark, b->problem, b->context);
            return -1;
        }
        (void)rc; /* semantic errors set b->failed; parsing goes on so a syntax error can win */
        if (done) return 0;
    }
}

pz_ynode *pz_yaml_load_string(const char *text, size_t len, const char *name, pz_err *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        pz_errf(err, "%s: cannot initialise YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    builder b = {.name = name, .err = err};
    int rc = build_first_document(&b, &parser);
    pz_ynode *out = b.root;
    builder_free(&b);
    if (rc || b.failed) {
        pz_ynode_free(out);
        yaml_parser_delete(&parser);
        return NULL;
    }
    if (!out) {
        out = pz_ynode_map();
        out->line = out->col = 1;
    }
    /* A second document in the stream is almost always a mistake (a stray '---'). This is the
     * rare path, so libyaml's own composer checks the rest. */
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
        syntax_error(err, name, parser.problem_mark, problem_text(&parser), NULL);
        pz_ynode_free(out);
        out = NULL;
    }
    yaml_parser_delete(&parser);
    return out;
}

/* Read a whole YAML file: only a regular file (a device such as /dev/zero or a FIFO never ends
 * or blocks), and at most PZ_YAML_MAX_FILE bytes. */
static char *read_yaml_file(const char *path, size_t *len, pz_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* O_NONBLOCK: a FIFO must not block open */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        pz_errf(err, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > PZ_YAML_MAX_FILE) {
        if (!S_ISREG(st.st_mode)) pz_errf(err, "%s: not a regular file (a device, FIFO or directory)", path);
        else pz_errf(err, "%s: %lld bytes, more than the %d MiB a YAML file may have", path, (long long)st.st_size,
                     PZ_YAML_MAX_FILE >> 20);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = pz_xmalloc(cap + 1);
    ssize_t got = 0;
    /* Read one byte past the size seen: a file that grows meanwhile is still bounded. */
    while (n < cap && ((got = read(fd, buf + n, cap - n)) > 0 || (got < 0 && errno == EINTR)))
        if (got > 0) n += (size_t)got;
    int failed = got < 0 && n < cap;
    close(fd);
    if (failed || n > PZ_YAML_MAX_FILE) {
        pz_errf(err, failed ? "%s: read error" : "%s: grew past the size limit while being read", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

pz_ynode *pz_yaml_load_file(const char *path, pz_err *err)
{
    size_t len;
    char *buf = read_yaml_file(path, &len, err);
    if (!buf) return NULL;
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

/* ---- numbers as YAML 1.2 reads them ---- */

int pz_ydecimal(const char *s)
{
    const char *p = s;
    int digits = 0, frac_or_exp = 0;
    if (*p == '-' || *p == '+') p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
    if (*p == '.') {
        p++;
        frac_or_exp = 1;
        while (isdigit((unsigned char)*p)) p++, digits++;
    }
    if (!digits) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        frac_or_exp = 1;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p ? 0 : 1 + frac_or_exp;
}

const char *pz_yspecial_float(const char *s)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) return *s == '-' ? "-.inf" : ".inf";
    if (p == s && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) return ".nan";
    return NULL;
}

/* The core schema's other integers, 0o17 and 0x1F (no sign): the base, or 0. */
static int radix_integer(const char *s)
{
    if (s[0] != '0' || (s[1] != 'o' && s[1] != 'x') || !s[2]) return 0;
    int base = s[1] == 'o' ? 8 : 16;
    for (const char *p = s + 2; *p; p++)
        if (base == 8 ? !(*p >= '0' && *p <= '7') : !isxdigit((unsigned char)*p)) return 0;
    return base;
}

int pz_yinteger_base(const char *s)
{
    return pz_ydecimal(s) == 1 ? 10 : radix_integer(s);
}

int pz_ynumber(const char *s, double *out)
{
    const char *special = pz_yspecial_float(s);
    if (special) {
        *out = !strcmp(special, ".nan") ? NAN : special[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    int base = radix_integer(s);
    if (!base && !pz_ydecimal(s)) return -1;
    errno = 0;
    /* strtod reads 0x1F itself; 0o17 is YAML's spelling, not C's */
    double v = base == 8 ? (double)strtoull(s + 2, NULL, 8) : strtod(s, NULL);
    if (errno == ERANGE) return -1;
    *out = v;
    return 0;
}

const char *pz_ynumber_hint(const char *s)
{
    double v;
    if (pz_ynumber(s, &v) == 0) return "";
    if (pz_ydecimal(s) || radix_integer(s)) return " (out of a double's range)";
    char *end;
    strtod(s, &end); /* C would read it: say how YAML writes numbers */
    return end != s && !*end ? " (not a number as YAML writes one: 12, -0.5, 3e-4, 0x1F, .inf, -.inf or .nan)" : "";
}

int pz_yscalar_double(const pz_ynode *node, const char *src, double *out, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SCALAR) return type_error(node, src, "a number", err);
    if (pz_ynumber(node->str, out) == 0) return 0;
    return pz_errf(err, "%s:%d:%d: expected a number, got '%s'%s", src, node->line, node->col, node->str,
                   pz_ynumber_hint(node->str));
}

/* A core-schema integer read exactly (not through a double): 0, or -1 beyond a long. */
static int exact_integer(const char *s, int base, long *out)
{
    char *end;
    errno = 0;
    if (base == 10) {
        *out = strtol(s, &end, 10);
        return errno == ERANGE ? -1 : 0;
    }
    unsigned long v = strtoul(s + 2, &end, base);
    if (errno == ERANGE || v > LONG_MAX) return -1;
    *out = (long)v;
    return 0;
}

const char *pz_yinteger_hint(const char *s)
{
    long v;
    int base = pz_yinteger_base(s);
    if (base) return exact_integer(s, base, &v) == 0 ? "" : " (out of an integer's range)";
    return pz_ynumber_hint(s);
}

int pz_yscalar_long(const pz_ynode *node, const char *src, long *out, pz_err *err)
{
    if (!node || node->kind != PZ_Y_SCALAR) return type_error(node, src, "an integer", err);
    int base = pz_yinteger_base(node->str);
    double d;
    if (base ? exact_integer(node->str, base, out) == 0
             : pz_ynumber(node->str, &d) == 0 && d == floor(d) && fabs(d) < 9e18) {
        if (!base) *out = (long)d; /* an integral float such as 1e3: people write them for sizes */
        return 0;
    }
    return pz_errf(err, "%s:%d:%d: expected an integer, got '%s'%s", src, node->line, node->col, node->str,
                   pz_yinteger_hint(node->str));
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

/* Code point of a UTF-8 sequence that YAML would not read back verbatim inside quotes: C1
 * controls (U+0085 is a line break to YAML, the rest are not printable), the line and paragraph
 * separators U+2028/U+2029 (folded like newlines) and the non-characters U+FFFE/U+FFFF. Sets
 * *len to the sequence length; returns 0 for anything that can be written as is. */
static unsigned needs_escape_utf8(const unsigned char *p, size_t *len)
{
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { *len = 2; return p[1]; }
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
        *len = 3;
        return 0x2000u + (p[2] - 0x80u);
    }
    if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
        *len = 3;
        return 0xFFC0u + (p[2] - 0x80u);
    }
    return 0;
}

static void emit_string(pz_sbuf *b, const char *s)
{
    pz_sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        size_t len;
        unsigned cp;
        if (*p == '"' || *p == '\\') { esc[0] = '\\'; esc[1] = (char)*p; pz_sb_put(b, esc, 2); }
        else if (*p == '\n') pz_sb_puts(b, "\\n");
        else if (*p == '\t') pz_sb_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7F) { snprintf(esc, sizeof esc, "\\u%04x", *p); pz_sb_puts(b, esc); }
        else if (*p >= 0xC2 && (cp = needs_escape_utf8(p, &len)) != 0) {
            snprintf(esc, sizeof esc, "\\u%04x", cp);
            pz_sb_puts(b, esc);
            p += len - 1;
        }
        else pz_sb_put(b, (const char *)p, 1);
    }
    pz_sb_put(b, "\"", 1);
}

static void newline(pz_sbuf *b, int indent, int depth)
{
    if (indent < 0) return;
    pz_sb_put(b, "\n", 1);
    for (int i = 0; i < indent * depth; i++) pz_sb_put(b, " ", 1);
}

static int cmp_key_index(const void *a, const void *b, void *ctx)
{
    const pz_ynode *m = ctx;
    return strcmp(m->keys[*(const size_t *)a]->str, m->keys[*(const size_t *)b]->str);
}

static void emit(pz_sbuf *b, const pz_ynode *n, int sort_keys, int indent, int depth)
{
    if (n->kind == PZ_Y_SCALAR) {
        if (is_bare_scalar(n)) pz_sb_puts(b, n->str);
        else emit_string(b, n->str);
        return;
    }
    int is_map = n->kind == PZ_Y_MAP;
    pz_sb_put(b, is_map ? "{" : "[", 1);
    size_t *order = pz_xmalloc((n->n ? n->n : 1) * sizeof *order);
    for (size_t i = 0; i < n->n; i++) order[i] = i;
    if (is_map && sort_keys) qsort_r(order, n->n, sizeof *order, cmp_key_index, (void *)n);
    for (size_t k = 0; k < n->n; k++) {
        size_t i = order[k];
        if (k) pz_sb_put(b, ",", 1);
        newline(b, indent, depth + 1);
        if (is_map) {
            emit_string(b, n->keys[i]->str);
            pz_sb_puts(b, indent < 0 ? ":" : ": ");
        }
        emit(b, n->items[i], sort_keys, indent, depth + 1);
    }
    free(order);
    if (n->n) newline(b, indent, depth);
    pz_sb_put(b, is_map ? "}" : "]", 1);
}

char *pz_yaml_to_json(const pz_ynode *node, int sort_keys, int indent)
{
    pz_sbuf b = {0};
    emit(&b, node, sort_keys, indent, 0);
    if (indent >= 0) pz_sb_put(&b, "\n", 1);
    return b.p;
}
