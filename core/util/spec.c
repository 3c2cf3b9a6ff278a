#include "util/spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pz_spec *pz_spec_load(const char *path, pz_err *err)
{
    pz_ynode *root = pz_yaml_load_file(path, err);
    if (!root) return NULL;
    if (root->kind != PZ_Y_MAP) {
        pz_errf(err, "%s: spec file must be a mapping", path);
        pz_ynode_free(root);
        return NULL;
    }
    pz_spec *s = pz_xcalloc(1, sizeof *s);
    s->root = root;
    s->path = pz_xstrdup(path);
    const pz_ynode *stage = pz_ymap_get(root, "stage");
    s->stage = stage && stage->kind == PZ_Y_SCALAR ? stage->str : "stage";
    s->threads = 1;
    const pz_ynode *threads = pz_ymap_get(root, "threads");
    if (threads && (pz_yscalar_long(threads, path, &s->threads, err) < 0 || s->threads < 1)) {
        if (s->threads < 1) pz_errf(err, "%s: threads must be >= 1", path);
        pz_spec_free(s);
        return NULL;
    }
    s->params = pz_ymap_get(root, "params");
    s->inputs = pz_ymap_get(root, "inputs");
    s->outputs = pz_ymap_get(root, "outputs");
    s->sources = pz_ymap_get(root, "sources");
    const char *sections[] = {"params", "inputs", "outputs", "sources"};
    const pz_ynode *nodes[] = {s->params, s->inputs, s->outputs, s->sources};
    for (int i = 0; i < 4; i++) {
        if (nodes[i] && nodes[i]->kind != PZ_Y_MAP) {
            pz_errf(err, "%s:%d:%d: '%s' must be a mapping", path, nodes[i]->line, nodes[i]->col, sections[i]);
            pz_spec_free(s);
            return NULL;
        }
    }
    return s;
}

void pz_spec_free(pz_spec *spec)
{
    if (!spec) return;
    pz_ynode_free(spec->root);
    free(spec->path);
    free(spec);
}

const pz_ynode *pz_spec_param(const pz_spec *spec, const char *key)
{
    return spec->params ? pz_ynode_path(spec->params, key) : NULL;
}

/* Typed lookups share one shape: absent -> 1, convert or report "param 'key': ...". */
#define SPEC_TYPED(fn, ctype, convert)                                                         \
    int fn(const pz_spec *spec, const char *key, ctype *out, pz_err *err)                      \
    {                                                                                          \
        const pz_ynode *n = pz_spec_param(spec, key);                                          \
        if (!n) return 1;                                                                      \
        if (convert(n, spec->path, out, err) < 0) return pz_err_prefix(err, "param '%s': ", key); \
        return 0;                                                                              \
    }

SPEC_TYPED(pz_spec_double, double, pz_yscalar_double)
SPEC_TYPED(pz_spec_long, long, pz_yscalar_long)
SPEC_TYPED(pz_spec_bool, int, pz_yscalar_bool)

int pz_spec_str(const pz_spec *spec, const char *key, const char **out, pz_err *err)
{
    const pz_ynode *n = pz_spec_param(spec, key);
    if (!n) return 1;
    if (n->kind != PZ_Y_SCALAR) return pz_errf(err, "param '%s': expected a string, got %s", key, pz_ykind_name(n->kind));
    *out = n->str;
    return 0;
}

static int collect_strings(const pz_ynode *n, const char *what, const char ***out, size_t *count, pz_err *err)
{
    if (n->kind == PZ_Y_SCALAR) {
        *out = pz_xmalloc(sizeof **out);
        (*out)[0] = n->str;
        *count = 1;
        return 0;
    }
    if (n->kind != PZ_Y_SEQ) return pz_errf(err, "%s: expected a string or a list of strings", what);
    const char **v = pz_xmalloc((n->n ? n->n : 1) * sizeof *v);
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->kind != PZ_Y_SCALAR) {
            free(v);
            return pz_errf(err, "%s: item %zu is %s, expected a string", what, i, pz_ykind_name(n->items[i]->kind));
        }
        v[i] = n->items[i]->str;
    }
    *out = v;
    *count = n->n;
    return 0;
}

int pz_spec_strlist(const pz_spec *spec, const char *key, const char ***out, size_t *n, pz_err *err)
{
    const pz_ynode *node = pz_spec_param(spec, key);
    if (!node) return 1;
    char what[300];
    snprintf(what, sizeof what, "param '%s'", key);
    return collect_strings(node, what, out, n, err);
}

int pz_params_validate_spec(const pz_spec *spec, const pz_param_def *defs, pz_err *err)
{
    const pz_ynode *at;
    if (pz_params_validate(defs, spec->params, &at, err) == 0) return 0;
    if (at && at->line) return pz_err_prefix(err, "%s:%d:%d: ", spec->path, at->line, at->col);
    return -1;
}

int pz_spec_has_input(const pz_spec *spec, const char *name)
{
    return pz_ymap_get(spec->inputs, name) != NULL;
}

const char *pz_spec_source(const pz_spec *spec, const char *path)
{
    const pz_ynode *n = spec->sources ? pz_ymap_get(spec->sources, path) : NULL;
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

/* Replace each whole occurrence of `from` in msg by `to`, within the message's bound. */
static void replace_all(char *msg, size_t cap, const char *from, const char *to)
{
    size_t lf = strlen(from), lt = strlen(to);
    if (!lf) return;
    char out[PZ_ERR_MAX];
    size_t o = 0;
    for (const char *p = msg; *p && o < sizeof out - 1;) {
        if (!strncmp(p, from, lf)) {
            size_t k = lt < sizeof out - 1 - o ? lt : sizeof out - 1 - o;
            memcpy(out + o, to, k);
            o += k;
            p += lf;
        } else
            out[o++] = *p++;
    }
    out[o] = 0;
    snprintf(msg, cap, "%s", out);
}

void pz_spec_name_sources(const pz_spec *spec, pz_err *err)
{
    const pz_ynode *m = spec->sources;
    for (size_t i = 0; m && i < m->n; i++)
        if (m->items[i]->kind == PZ_Y_SCALAR) replace_all(err->msg, sizeof err->msg, m->keys[i]->str, m->items[i]->str);
}

int pz_spec_has_output(const pz_spec *spec, const char *name)
{
    return pz_ymap_get(spec->outputs, name) != NULL;
}

int pz_spec_inputs(const pz_spec *spec, const char *name, const char ***paths, size_t *n, pz_err *err)
{
    const pz_ynode *node = pz_ymap_get(spec->inputs, name);
    if (!node) return pz_errf(err, "%s: missing input '%s'", spec->stage, name);
    char what[300];
    snprintf(what, sizeof what, "input '%s'", name);
    return collect_strings(node, what, paths, n, err);
}

int pz_spec_input(const pz_spec *spec, const char *name, const char **path, pz_err *err)
{
    const pz_ynode *node = pz_ymap_get(spec->inputs, name);
    if (!node) return pz_errf(err, "%s: missing input '%s'", spec->stage, name);
    if (node->kind != PZ_Y_SCALAR)
        return pz_errf(err, "%s: input '%s' must be a single file, got %s", spec->stage, name, pz_ykind_name(node->kind));
    *path = node->str;
    return 0;
}

int pz_spec_output(const pz_spec *spec, const char *name, const char **path, pz_err *err)
{
    const pz_ynode *node = pz_ymap_get(spec->outputs, name);
    if (!node) return pz_errf(err, "%s: missing output '%s'", spec->stage, name);
    if (node->kind != PZ_Y_SCALAR) return pz_errf(err, "%s: output '%s' must be a path", spec->stage, name);
    *path = node->str;
    return 0;
}

/* ---- typed params ---- */

static void *field_at(void *out, const pz_param_def *d) { return (char *)out + d->field - 1; }

static int store_param(const pz_param_def *d, const pz_ynode *v, void *out, pz_err *err)
{
    void *f = field_at(out, d);
    switch (d->type) {
    case PZ_PT_INT: return pz_yscalar_long(v, "", (long *)f, err);
    case PZ_PT_FLOAT: return pz_yscalar_double(v, "", (double *)f, err);
    case PZ_PT_BOOL: return pz_yscalar_bool(v, "", (int *)f, err);
    case PZ_PT_STRING:
    case PZ_PT_PATH: *(const char **)f = v->str; return 0;
    case PZ_PT_STRINGS: {
        pz_strs *s = f;
        return collect_strings(v, d->name, &s->v, &s->n, err);
    }
    default: *(const pz_ynode **)f = v; return 0;
    }
}

/* Defaults of scalar types are parsed from their text; the others start empty. */
static int store_default(const pz_param_def *d, void *out, pz_err *err)
{
    if (!d->dflt || d->type >= PZ_PT_STRINGS) return 0;
    pz_ynode tmp = {.kind = PZ_Y_SCALAR, .str = (char *)d->dflt};
    if (store_param(d, &tmp, out, err) < 0) return pz_err_prefix(err, "internal: default of param '%s': ", d->name);
    return 0;
}

int pz_params_read(const pz_spec *spec, const pz_param_def *defs, void *out, pz_err *err)
{
    const pz_ynode *at;
    if (pz_params_validate(defs, spec->params, &at, err) < 0) {
        if (at && at->line) return pz_err_prefix(err, "%s:%d:%d: ", spec->path, at->line, at->col);
        return -1;
    }
    for (const pz_param_def *d = defs; d && d->name; d++) {
        if (!d->field) continue;
        const pz_ynode *v = pz_ymap_get(spec->params, d->name);
        if ((v ? store_param(d, v, out, err) : store_default(d, out, err)) < 0) return pz_err_prefix(err, "param '%s': ", d->name);
    }
    return 0;
}

void pz_params_release(const pz_param_def *defs, void *out)
{
    for (const pz_param_def *d = defs; out && d && d->name; d++)
        if (d->field && d->type == PZ_PT_STRINGS) free(((pz_strs *)field_at(out, d))->v);
}

void pz_spec_log(const pz_spec *spec, const char *fmt, ...)
{
    if (!spec->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    spec->log(spec->log_ctx, line);
}

/* ---- the stage main ---- */

/* Flushed per line: the log is read while the stage runs (pzflow log, a crash's last words). */
static void log_to_stdout(void *ctx, const char *line)
{
    (void)ctx;
    fputs(line, stdout);
    if (*line && line[strlen(line) - 1] != '\n') fputc('\n', stdout);
    fflush(stdout);
}

static int print_text(char *text)
{
    fputs(text, stdout);
    if (*text && text[strlen(text) - 1] != '\n') fputc('\n', stdout);
    free(text);
    return fflush(stdout) == 0 ? 0 : 1;
}

int pz_stage_main(int argc, char **argv, const pz_stage_def *def)
{
    const char *prog = def->prog;
    pz_err err;
    if (argc == 2 && !strcmp(argv[1], "--describe")) return print_text(pz_stage_describe_json(def));
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return print_text(pz_stage_help_text(def));
    if (argc != 2 || argv[1][0] == '-') {
        pz_errf(&err, "usage: %s SPEC.json (or --describe, --help)", prog);
        pz_die(prog, &err, 2);
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die(prog, &err, 1);
    spec->log = log_to_stdout;
    void *params = def->params_size ? pz_xcalloc(1, def->params_size) : NULL;
    char *summary = NULL;
    int rc = -1;
    if (params ? pz_params_read(spec, def->params, params, &err) == 0 : pz_params_validate_spec(spec, def->params, &err) == 0)
        rc = def->run(spec, params, &summary, &err);
    if (summary && *summary) {
        FILE *to = rc == 0 ? stdout : stderr;
        fputs(summary, to);
        if (summary[strlen(summary) - 1] != '\n') fputc('\n', to);
        fflush(to);
    }
    free(summary);
    pz_params_release(def->params, params);
    free(params);
    if (rc < 0) pz_spec_name_sources(spec, &err);
    pz_spec_free(spec);
    if (rc < 0) pz_die(prog, &err, 1);
    return 0;
}

/* ---- the writer ---- */

struct pz_spec_writer {
    pz_ynode *root, *params, *inputs, *outputs, *sources;
};

static pz_ynode *str_node(const char *s) { return pz_ynode_scalar(s, 1); }

static pz_ynode *long_node(long v)
{
    char t[32];
    snprintf(t, sizeof t, "%ld", v);
    return pz_ynode_scalar(t, 0);
}

pz_spec_writer *pz_spec_writer_new(const char *stage, long threads, pz_ynode *params)
{
    pz_spec_writer *w = pz_xcalloc(1, sizeof *w);
    w->root = pz_ynode_map();
    w->params = params ? params : pz_ynode_map();
    w->inputs = pz_ynode_map();
    w->outputs = pz_ynode_map();
    w->sources = pz_ynode_map();
    pz_ymap_set(w->root, "pzflow_spec", long_node(PZ_SPEC_FORMAT));
    pz_ymap_set(w->root, "stage", str_node(stage));
    pz_ymap_set(w->root, "threads", long_node(threads));
    pz_ymap_set(w->root, "params", w->params);
    return w;
}

void pz_spec_writer_param_path(pz_spec_writer *w, const char *name, const char *path)
{
    pz_ymap_set(w->params, name, str_node(path));
}

void pz_spec_writer_input(pz_spec_writer *w, const char *name, const char *path)
{
    pz_ymap_set(w->inputs, name, str_node(path));
}

void pz_spec_writer_input_list(pz_spec_writer *w, const char *name, const char *const *paths, size_t n)
{
    pz_ynode *seq = pz_ynode_seq();
    for (size_t i = 0; i < n; i++) pz_yseq_push(seq, str_node(paths[i]));
    pz_ymap_set(w->inputs, name, seq);
}

void pz_spec_writer_output(pz_spec_writer *w, const char *name, const char *path)
{
    pz_ymap_set(w->outputs, name, str_node(path));
}

void pz_spec_writer_source(pz_spec_writer *w, const char *path, const char *name)
{
    pz_ymap_set(w->sources, path, str_node(name));
}

char *pz_spec_writer_json(pz_spec_writer *w)
{
    pz_ymap_set(w->root, "inputs", w->inputs);
    pz_ymap_set(w->root, "outputs", w->outputs);
    /* Only when there is something to say, so a spec of external files alone is unchanged. */
    if (w->sources->n) pz_ymap_set(w->root, "sources", w->sources);
    else pz_ynode_free(w->sources);
    char *json = pz_yaml_to_json(w->root, 1, 2);
    pz_ynode_free(w->root);
    free(w);
    return json;
}
