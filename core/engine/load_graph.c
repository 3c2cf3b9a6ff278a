/* Linking stage instances into a graph: every input string is either a reference to an
 * upstream output ("stage/output", "stage[item]/output", "stage[*]/output") or an external
 * file, decided by whether its first path component names a declared stage. Then Kahn's
 * algorithm orders the instances, with declaration order breaking ties so the order (and so
 * every listing and run order) is deterministic; what it cannot order is a cycle, printed. */
#include "engine/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "a, b, c" of up to `max` names, then "...". malloc'd. */
static char *name_list(char *const *names, size_t n, size_t max)
{
    size_t len = 1;
    for (size_t i = 0; i < n && i < max; i++) len += strlen(names[i]) + 2;
    char *out = pz_xmalloc(len + 8);
    out[0] = 0;
    for (size_t i = 0; i < n && i < max; i++) {
        if (i) strcat(out, ", ");
        strcat(out, names[i]);
    }
    if (n > max) strcat(out, ", ...");
    return out;
}

/* Append ref; room for it was made by resolve_one when it is one of a foreach family. */
static void push_ref(pz_stage_input *in, pz_input_ref ref, int has_room)
{
    if (!has_room) in->refs = pz_xrealloc(in->refs, (in->nrefs + 1) * sizeof *in->refs);
    in->refs[in->nrefs++] = ref;
}

static int has_output(const pz_stage *s, const char *output)
{
    size_t lo = 0, hi = s->noutputs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->outputs[mid], output);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static int dangling(pz_loader *ld, const pz_ynode *at, const char *what, const pz_stage *s, const char *output)
{
    char *list = name_list(s->outputs, s->noutputs, 20);
    const char *near = pz_closest_name(output, (const char *const *)s->outputs, s->noutputs);
    pz_src_err(&ld->src, at, ld->err, "%s: dangling reference '%s': stage '%s' has no output '%s'%s%s%s (outputs: %s)",
               what, at->str, s->base_name, output, near ? " (did you mean '" : "", near ? near : "",
               near ? "'?)" : "", list);
    free(list);
    return -1;
}

/* a, b, c and d joined in buf when they fit (names looked up for each of the 6,000 references
 * of a 1,000-part survey: a malloc each was measurable), else malloc'd. */
static char *text_of(char *buf, size_t size, const char *a, const char *b, const char *c, const char *d)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c), ld = strlen(d);
    if (la + lb + lc + ld >= size) return pz_xconcat(a, b, c, d, NULL);
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    memcpy(buf + la + lb, c, lc);
    memcpy(buf + la + lb + lc, d, ld + 1);
    return buf;
}

/* The instances of base b chosen by selector sel ("*" = all; NULL = no selector). */
static int select_instances(pz_loader *ld, const pz_ynode *at, const char *what, const pz_base_stage *b,
                            const char *sel, size_t *first, size_t *count)
{
    const char *out = strchr(at->str, '/') + 1;
    if (!b->is_foreach && sel)
        return pz_src_err(&ld->src, at, ld->err, "%s: stage '%s' has no foreach, so it has no [%s]; write '%s/%s'",
                          what, b->name, sel, b->name, out);
    if (b->is_foreach && !sel)
        return pz_src_err(&ld->src, at, ld->err,
                          "%s: stage '%s' is a foreach stage; write '%s[<item>]/%s' for one instance or '%s[*]/%s' "
                          "for all of them",
                          what, b->name, b->name, out, b->name, out);
    if (!sel || !strcmp(sel, "*")) {
        *first = b->first;
        *count = b->count;
        return 0;
    }
    char buf[2 * PZ_MAX_NAME + 8];
    char *name = text_of(buf, sizeof buf, b->name, "[", sel, "]");
    long i = pz_nidx_get(&ld->inst_ix, name);
    if (name != buf) free(name);
    if (i < 0) {
        char **names = pz_xmalloc(b->count * sizeof *names);
        for (size_t k = 0; k < b->count; k++) names[k] = ld->st[b->first + k].name;
        char *list = name_list(names, b->count, 10);
        pz_src_err(&ld->src, at, ld->err, "%s: stage '%s' has no instance '%s[%s]' (instances: %s)", what, b->name,
                   b->name, sel, list);
        free(list);
        free(names);
        return -1;
    }
    *first = (size_t)i;
    *count = 1;
    return 0;
}

/* A stage name close to the first path component, for "missing file" hints. */
static const char *near_stage(pz_loader *ld, const char *comp)
{
    const char **names = pz_xmalloc((ld->nbases + 1) * sizeof *names);
    for (size_t i = 0; i < ld->nbases; i++) names[i] = ld->bases[i].name;
    const char *near = pz_closest_name(comp, names, ld->nbases);
    free(names);
    return near;
}

static int resolve_external(pz_loader *ld, const pz_ynode *at, const char *what, pz_stage_input *in)
{
    const char *s = at->str;
    char *path = pz_path_join_abs(ld->p->root_dir, s);
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        char comp[256];
        snprintf(comp, sizeof comp, "%.*s", (int)strcspn(s, "/["), s);
        const char *near = strchr(s, '/') ? near_stage(ld, comp) : NULL;
        if (near)
            pz_src_err(&ld->src, at, ld->err, "%s: missing file '%s' (%s: %s); did you mean stage '%s'?", what, s, path,
                       strerror(e), near);
        else
            pz_src_err(&ld->src, at, ld->err,
                       "%s: missing file '%s' (%s: %s); to use a stage's output write 'stage/output'", what, s, path,
                       strerror(e));
        free(path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        pz_src_err(&ld->src, at, ld->err, "%s: '%s' (%s) is not a regular file", what, s, path);
        free(path);
        return -1;
    }
    push_ref(in, (pz_input_ref){.is_external = 1, .path = path}, 0);
    return 0;
}

/* Resolve one reference string into `in`. `what` names the input for messages. */
static int resolve_one(pz_loader *ld, const pz_ynode *at, const char *what, int allow_external, pz_stage_input *in)
{
    const char *s = at->str;
    if (at->kind != PZ_Y_SCALAR)
        return pz_src_err(&ld->src, at, ld->err, "%s: expected 'stage/output' or a file path, got %s", what,
                          pz_ykind_name(at->kind));
    if (!*s) return pz_src_err(&ld->src, at, ld->err, "%s is empty", what);
    size_t clen = strcspn(s, "/");
    const char *br = memchr(s, '[', clen);
    size_t blen = br ? (size_t)(br - s) : clen;
    char buf[PZ_MAX_NAME + 1];
    char *base = blen < sizeof buf ? memcpy(buf, s, blen) : pz_xstrndup(s, blen);
    base[blen] = 0;
    long bi = pz_nidx_get(&ld->base_ix, base);
    if (base != buf) free(base);
    if (bi < 0) {
        if (!allow_external)
            return pz_src_err(&ld->src, at, ld->err, "%s: '%s' is not a stage output ('stage/output')", what, s);
        return resolve_external(ld, at, what, in);
    }
    const pz_base_stage *b = &ld->bases[bi];
    if (br && s[clen - 1] != ']')
        return pz_src_err(&ld->src, at, ld->err, "%s: bad reference '%s': expected '%s[item]/output'", what, s, b->name);
    const pz_stage *first_inst = &ld->st[b->first];
    if (s[clen] != '/' || !s[clen + 1] || strchr(s + clen + 1, '/')) {
        char *list = name_list(first_inst->outputs, first_inst->noutputs, 20);
        pz_src_err(&ld->src, at, ld->err, "%s: dangling reference '%s': write '%s/<output>' (outputs: %s)", what, s,
                   b->name, list);
        free(list);
        return -1;
    }
    const char *output = s + clen + 1;
    char *sel = br ? pz_xstrndup(br + 1, (size_t)(s + clen - 1 - (br + 1))) : NULL;
    size_t first = 0, count = 0;
    int rc = select_instances(ld, at, what, b, sel, &first, &count);
    if (rc == 0 && sel && !strcmp(sel, "*")) in->is_list = 1;
    free(sel);
    if (rc == 0 && count > 1) /* room for a whole foreach family at once */
        in->refs = pz_xrealloc(in->refs, (in->nrefs + count) * sizeof *in->refs);
    for (size_t k = 0; rc == 0 && k < count; k++) {
        const pz_stage *up = &ld->st[first + k];
        if (!has_output(up, output)) return dangling(ld, at, what, up, output);
        push_ref(in, (pz_input_ref){.stage = first + k, .output = pz_xstrdup(output)}, count > 1);
    }
    return rc;
}

static int cmp_input(const void *a, const void *b)
{
    return strcmp(((const pz_stage_input *)a)->name, ((const pz_stage_input *)b)->name);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Distinct upstream stages of s, ascending. */
static void collect_deps(pz_stage *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ninputs; i++) n += s->inputs[i].nrefs;
    s->deps = pz_xmalloc((n ? n : 1) * sizeof *s->deps);
    s->ndeps = 0;
    for (size_t i = 0; i < s->ninputs; i++)
        for (size_t j = 0; j < s->inputs[i].nrefs; j++)
            if (!s->inputs[i].refs[j].is_external) s->deps[s->ndeps++] = s->inputs[i].refs[j].stage;
    qsort(s->deps, s->ndeps, sizeof *s->deps, cmp_size);
    size_t w = 0;
    for (size_t i = 0; i < s->ndeps; i++)
        if (w == 0 || s->deps[w - 1] != s->deps[i]) s->deps[w++] = s->deps[i];
    s->ndeps = w;
}

/* "input 'NAME' of stage 'STAGE'" for messages, built by hand: snprintf here, once per input of
 * every instance, was a measurable part of loading a 3000-instance pipeline. */
static void input_what(char *buf, size_t size, const char *input, const char *stage)
{
    const char *parts[] = {"input '", input, "' of stage '", stage, "'"};
    size_t o = 0;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        size_t n = strnlen(parts[k], size - 1 - o);
        memcpy(buf + o, parts[k], n);
        o += n;
    }
    buf[o] = 0;
}

static int link_instance(pz_loader *ld, size_t idx)
{
    pz_stage *s = &ld->st[idx];
    const pz_ynode *m = ld->inputs[idx];
    if (m && m->n) {
        s->inputs = pz_xcalloc(m->n, sizeof *s->inputs);
        for (size_t i = 0; i < m->n; i++) {
            pz_stage_input *in = &s->inputs[s->ninputs++];
            in->name = pz_xstrdup(m->keys[i]->str);
            char what[512];
            input_what(what, sizeof what, in->name, s->name);
            const pz_ynode *v = m->items[i];
            if (v->kind == PZ_Y_SEQ) {
                /* A YAML list of references gives the stage a list of paths. */
                in->is_list = 1;
                for (size_t k = 0; k < v->n; k++)
                    if (resolve_one(ld, v->items[k], what, 1, in)) return -1;
            } else if (v->kind == PZ_Y_SCALAR) {
                if (resolve_one(ld, v, what, 1, in)) return -1;
            } else {
                return pz_src_err(&ld->src, v, ld->err, "%s: expected 'stage/output', a file path or a list of them, got %s",
                                  what, pz_ykind_name(v->kind));
            }
        }
        qsort(s->inputs, s->ninputs, sizeof *s->inputs, cmp_input);
    }
    collect_deps(s);
    return 0;
}

static int link_show(pz_loader *ld)
{
    const pz_ynode *raw = pz_ymap_get(ld->p->doc, "show");
    if (!raw) return 0;
    pz_scope scope = {.vars = ld->vars, .declared = pz_ymap_get(ld->p->doc, "vars")};
    pz_ynode *v = pz_subst(raw, &scope, &ld->src, ld->err);
    if (!v) return -1;
    pz_stage_input tmp = {0};
    int rc = 0;
    if (v->kind == PZ_Y_SCALAR) {
        rc = resolve_one(ld, v, "show", 0, &tmp);
    } else if (v->kind == PZ_Y_SEQ) {
        for (size_t i = 0; rc == 0 && i < v->n; i++) rc = resolve_one(ld, v->items[i], "show", 0, &tmp);
    } else {
        rc = pz_src_err(&ld->src, v, ld->err, "show must be a list of 'stage/output', got %s", pz_ykind_name(v->kind));
    }
    pz_ynode_free(v);
    ld->show = tmp.refs;
    ld->nshow = tmp.nrefs;
    return rc;
}

/* ---- topological order ------------------------------------------------------------------------ */

/* A binary min-heap of stage indices: the ready stage declared first goes first. */
typedef struct heap {
    size_t *a, n;
} heap;

static void heap_push(heap *h, size_t v)
{
    size_t i = h->n++;
    h->a[i] = v;
    while (i > 0 && h->a[(i - 1) / 2] > h->a[i]) {
        size_t p = (i - 1) / 2, t = h->a[p];
        h->a[p] = h->a[i];
        h->a[i] = t;
        i = p;
    }
}

static size_t heap_pop(heap *h)
{
    size_t top = h->a[0];
    h->a[0] = h->a[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->a[l] < h->a[m]) m = l;
        if (r < h->n && h->a[r] < h->a[m]) m = r;
        if (m == i) break;
        size_t t = h->a[m];
        h->a[m] = h->a[i];
        h->a[i] = t;
        i = m;
    }
    return top;
}

/* Some stages could not be ordered: each has an unordered dependency, so following those
 * dependencies from any of them must come back to a stage already seen. */
static int report_cycle(pz_loader *ld, const char *done)
{
    size_t n = ld->nst, start = 0;
    while (done[start]) start++;
    long *seen_at = pz_xmalloc(n * sizeof *seen_at);
    size_t *path = pz_xmalloc((n + 1) * sizeof *path);
    for (size_t i = 0; i < n; i++) seen_at[i] = -1;
    size_t len = 0, cur = start;
    while (seen_at[cur] < 0) {
        seen_at[cur] = (long)len;
        path[len++] = cur;
        const pz_stage *s = &ld->st[cur];
        size_t next = cur;
        for (size_t k = 0; k < s->ndeps; k++)
            if (!done[s->deps[k]]) {
                next = s->deps[k];
                break;
            }
        cur = next;
    }
    /* path[seen_at[cur] .. len) walks against the data flow; print it along the flow,
     * starting from the member declared first. */
    size_t from = (size_t)seen_at[cur], clen = len - from, lowest = 0;
    for (size_t k = 1; k < clen; k++)
        if (path[from + k] < path[from + lowest]) lowest = k;
    char msg[PZ_ERR_MAX] = "cycle: ";
    for (size_t k = 0; k <= clen; k++) {
        size_t back = (lowest + clen - k % clen) % clen; /* reverse walk starting at lowest */
        const char *name = ld->st[path[from + back]].name;
        strncat(msg, k ? " -> " : "", sizeof msg - strlen(msg) - 1);
        strncat(msg, name, sizeof msg - strlen(msg) - 1);
    }
    const pz_stage *first = &ld->st[path[from + lowest]];
    pz_ynode at = {.line = first->line, .col = first->col};
    pz_src_err(&ld->src, &at, ld->err, "%s", msg);
    free(seen_at);
    free(path);
    return -1;
}

static void remap_refs(pz_input_ref *refs, size_t n, const size_t *pos)
{
    for (size_t i = 0; i < n; i++)
        if (!refs[i].is_external) refs[i].stage = pos[refs[i].stage];
}

static int topo_sort(pz_loader *ld)
{
    size_t n = ld->nst;
    size_t *indeg = pz_xcalloc(n, sizeof *indeg), *nchild = pz_xcalloc(n + 1, sizeof *nchild);
    for (size_t i = 0; i < n; i++) {
        indeg[i] = ld->st[i].ndeps;
        for (size_t k = 0; k < ld->st[i].ndeps; k++) nchild[ld->st[i].deps[k] + 1]++;
    }
    for (size_t i = 0; i < n; i++) nchild[i + 1] += nchild[i]; /* now CSR offsets */
    size_t *child = pz_xmalloc((nchild[n] ? nchild[n] : 1) * sizeof *child), *fill = pz_xcalloc(n, sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ld->st[i].ndeps; k++) {
            size_t d = ld->st[i].deps[k];
            child[nchild[d] + fill[d]++] = i;
        }
    heap h = {pz_xmalloc(n * sizeof *h.a), 0};
    for (size_t i = 0; i < n; i++)
        if (!indeg[i]) heap_push(&h, i);
    size_t *order = pz_xmalloc(n * sizeof *order), norder = 0;
    char *done = pz_xcalloc(n, 1);
    while (h.n) {
        size_t u = heap_pop(&h);
        order[norder++] = u;
        done[u] = 1;
        for (size_t k = nchild[u]; k < nchild[u + 1]; k++)
            if (--indeg[child[k]] == 0) heap_push(&h, child[k]);
    }
    int rc = 0;
    if (norder < n) {
        rc = report_cycle(ld, done);
    } else {
        size_t *pos = fill; /* reuse: old index -> new index */
        for (size_t k = 0; k < n; k++) pos[order[k]] = k;
        pz_stage *sorted = pz_xmalloc(n * sizeof *sorted);
        pz_ynode **inputs = pz_xmalloc(n * sizeof *inputs);
        for (size_t k = 0; k < n; k++) {
            sorted[k] = ld->st[order[k]];
            inputs[k] = ld->inputs[order[k]];
            pz_stage *s = &sorted[k];
            for (size_t i = 0; i < s->ninputs; i++) remap_refs(s->inputs[i].refs, s->inputs[i].nrefs, pos);
            for (size_t i = 0; i < s->ndeps; i++) s->deps[i] = pos[s->deps[i]];
            qsort(s->deps, s->ndeps, sizeof *s->deps, cmp_size);
        }
        remap_refs(ld->show, ld->nshow, pos);
        free(ld->st);
        free(ld->inputs);
        ld->st = sorted;
        ld->inputs = inputs;
        ld->capst = n;
    }
    free(indeg);
    free(nchild);
    free(child);
    free(fill);
    free(h.a);
    free(order);
    free(done);
    return rc;
}

int pz_link_stages(pz_loader *ld)
{
    for (size_t i = 0; i < ld->nst; i++)
        if (link_instance(ld, i)) return -1;
    if (link_show(ld)) return -1;
    return topo_sort(ld);
}
