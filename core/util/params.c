#include "util/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/suggest.h"

static const char *const type_names[] = {"int", "float", "bool", "string", "path", "strings", "list", "map", "any"};
static const char *const files_names[] = {"one", "list", "any"};

const char *pz_ptype_name(pz_ptype t) { return type_names[t]; }

/* ---- lookups ---- */

const pz_param_def *pz_param_find(const pz_param_def *defs, const char *name)
{
    for (; defs && defs->name; defs++)
        if (!strcmp(defs->name, name)) return defs;
    return NULL;
}

const pz_io_def *pz_io_find(const pz_io_def *defs, const char *name)
{
    for (; defs && defs->name; defs++)
        if (!strcmp(defs->name, name)) return defs;
    return NULL;
}

/* Suggestions need an array of names; tables are small, so a fixed one will do. */
#define MAX_NAMES 128

const char *pz_param_suggest(const pz_param_def *defs, const char *name)
{
    const char *names[MAX_NAMES] = {0};
    size_t n = 0;
    for (; defs && defs->name && n < MAX_NAMES; defs++) names[n++] = defs->name;
    return pz_closest_name(name, names, n);
}

const char *pz_io_suggest(const pz_io_def *defs, const char *name)
{
    const char *names[MAX_NAMES] = {0};
    size_t n = 0;
    for (; defs && defs->name && n < MAX_NAMES; defs++) names[n++] = defs->name;
    return pz_closest_name(name, names, n);
}

/* 1 when `value` is one of the '|'-separated words of `choices`. */
static int in_choices(const char *choices, const char *value)
{
    size_t len = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && !strncmp(p, value, n)) return 1;
        p = bar ? bar + 1 : p + n;
    }
    return 0;
}

int pz_param_is_builtin(const pz_param_def *d, const char *value)
{
    return d->type == PZ_PT_PATH && in_choices(d->choices, value);
}

/* ---- checking values ---- */

static int check_range(const pz_param_def *d, double v, const char *text, pz_err *err)
{
    if (!d->ranged) return 0;
    if ((!isnan(d->lo) && v < d->lo) || (!isnan(d->hi) && v > d->hi)) {
        char lo[32] = "", hi[32] = "";
        if (!isnan(d->lo)) snprintf(lo, sizeof lo, "%g", d->lo);
        if (!isnan(d->hi)) snprintf(hi, sizeof hi, "%g", d->hi);
        if (!lo[0]) return pz_errf(err, "%s is out of range: must be <= %s", text, hi);
        if (!hi[0]) return pz_errf(err, "%s is out of range: must be >= %s", text, lo);
        return pz_errf(err, "%s is out of range: must be in [%s, %s]", text, lo, hi);
    }
    return 0;
}

static int expect(const pz_ynode *v, pz_ykind kind, const char *what, pz_err *err)
{
    if (v->kind == kind) return 0;
    return pz_errf(err, "expected %s, got %s", what, pz_ykind_name(v->kind));
}

int pz_param_check(const pz_param_def *d, const pz_ynode *v, pz_err *err)
{
    switch (d->type) {
    case PZ_PT_INT: {
        long x;
        if (pz_yscalar_long(v, "", &x, err) < 0)
            return pz_errf(err, "expected an integer, got '%s'%s", v->str ? v->str : pz_ykind_name(v->kind),
                           v->str ? pz_yinteger_hint(v->str) : "");
        return check_range(d, (double)x, v->str, err);
    }
    case PZ_PT_FLOAT: {
        double x;
        if (pz_yscalar_double(v, "", &x, err) < 0)
            return pz_errf(err, "expected a number, got '%s'%s", v->str ? v->str : pz_ykind_name(v->kind),
                           v->str ? pz_ynumber_hint(v->str) : "");
        return check_range(d, x, v->str, err);
    }
    case PZ_PT_BOOL: {
        int x;
        if (pz_yscalar_bool(v, "", &x, err) < 0) return pz_errf(err, "expected true or false, got '%s'", v->str ? v->str : pz_ykind_name(v->kind));
        return 0;
    }
    case PZ_PT_STRING:
    case PZ_PT_PATH:
        if (expect(v, PZ_Y_SCALAR, d->type == PZ_PT_PATH ? "a file name" : "a string", err) < 0) return -1;
        if (d->type == PZ_PT_STRING && d->choices && !in_choices(d->choices, v->str))
            return pz_errf(err, "'%s' is not one of %s", v->str, d->choices);
        return 0;
    case PZ_PT_STRINGS:
        if (v->kind == PZ_Y_SCALAR) return 0;
        if (expect(v, PZ_Y_SEQ, "a string or a list of strings", err) < 0) return -1;
        for (size_t i = 0; i < v->n; i++)
            if (v->items[i]->kind != PZ_Y_SCALAR)
                return pz_errf(err, "item %zu is %s, expected a string", i, pz_ykind_name(v->items[i]->kind));
        return 0;
    case PZ_PT_LIST: return expect(v, PZ_Y_SEQ, "a list", err);
    case PZ_PT_MAP: return expect(v, PZ_Y_MAP, "a mapping", err);
    case PZ_PT_ANY: return 0;
    }
    return 0;
}

int pz_params_validate(const pz_param_def *defs, const pz_ynode *params, const pz_ynode **at, pz_err *err)
{
    *at = params;
    size_t n = params && params->kind == PZ_Y_MAP ? params->n : 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = params->keys[i]->str;
        const pz_param_def *d = pz_param_find(defs, k);
        if (!d) {
            *at = params->keys[i];
            const char *near = pz_param_suggest(defs, k);
            if (near) return pz_errf(err, "unknown param '%s' (did you mean '%s'?)", k, near);
            char known[PZ_ERR_MAX / 2] = "";
            for (const pz_param_def *p = defs; p && p->name; p++) {
                size_t used = strlen(known);
                snprintf(known + used, sizeof known - used, "%s%s", p == defs ? "" : ", ", p->name);
            }
            return pz_errf(err, "unknown param '%s' (known: %s)", k, known[0] ? known : "none");
        }
        if (pz_param_check(d, params->items[i], err) < 0) {
            *at = params->items[i];
            return pz_err_prefix(err, "param '%s': ", k);
        }
    }
    for (const pz_param_def *d = defs; d && d->name; d++)
        if (d->required && !pz_ymap_get(params, d->name))
            return pz_errf(err, "param '%s' is required: %s", d->name, d->doc ? d->doc : "");
    return 0;
}

/* ---- --describe ---- */

static pz_ynode *str_node(const char *s) { return pz_ynode_scalar(s ? s : "", 1); }

static pz_ynode *bool_node(int b) { return pz_ynode_scalar(b ? "true" : "false", 0); }

static pz_ynode *num_node(double v)
{
    if (isnan(v)) return pz_ynode_scalar("null", 0);
    char text[32];
    snprintf(text, sizeof text, "%.15g", v);
    return pz_ynode_scalar(text, 0);
}

/* The default as YAML (so 1e-4 stays a number and [0, 50] a list), or its text if unparsable. */
static pz_ynode *default_node(const char *text)
{
    pz_err err;
    pz_ynode *n = pz_yaml_load_string(text, strlen(text), "default", &err);
    if (n && !(n->kind == PZ_Y_MAP && n->n == 0)) return n;
    pz_ynode_free(n);
    return str_node(text);
}

static pz_ynode *choices_node(const char *choices)
{
    pz_ynode *seq = pz_ynode_seq();
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        char *word = pz_xasprintf("%.*s", (int)n, p);
        pz_yseq_push(seq, str_node(word));
        free(word);
        p = bar ? bar + 1 : p + n;
    }
    return seq;
}

static pz_ynode *param_node(const pz_param_def *d)
{
    pz_ynode *m = pz_ynode_map();
    pz_ymap_set(m, "name", str_node(d->name));
    pz_ymap_set(m, "type", str_node(pz_ptype_name(d->type)));
    if (d->dflt) pz_ymap_set(m, "default", default_node(d->dflt));
    if (d->ranged) {
        pz_ynode *r = pz_ynode_seq();
        pz_yseq_push(r, num_node(d->lo));
        pz_yseq_push(r, num_node(d->hi));
        pz_ymap_set(m, "range", r);
    }
    if (d->choices) pz_ymap_set(m, "choices", choices_node(d->choices));
    pz_ymap_set(m, "required", bool_node(d->required));
    pz_ymap_set(m, "doc", str_node(d->doc));
    return m;
}

static pz_ynode *io_node(const pz_io_def *d, int with_files)
{
    pz_ynode *m = pz_ynode_map();
    pz_ymap_set(m, "name", str_node(d->name));
    if (with_files) pz_ymap_set(m, "files", str_node(files_names[d->files]));
    pz_ymap_set(m, "required", bool_node(!d->optional));
    pz_ymap_set(m, "doc", str_node(d->doc));
    if (d->ext && *d->ext) pz_ymap_set(m, "ext", str_node(d->ext));
    return m;
}

char *pz_stage_describe_json(const pz_stage_def *d)
{
    pz_ynode *root = pz_ynode_map();
    pz_ymap_set(root, "pzflow_describe", pz_ynode_scalar("1", 0));
    pz_ymap_set(root, "stage", str_node(d->prog));
    pz_ymap_set(root, "summary", str_node(d->summary));
    if (d->docs) pz_ymap_set(root, "docs", str_node(d->docs));
    pz_ynode *params = pz_ynode_seq(), *inputs = pz_ynode_seq(), *outputs = pz_ynode_seq();
    for (const pz_param_def *p = d->params; p && p->name; p++) pz_yseq_push(params, param_node(p));
    for (const pz_io_def *p = d->inputs; p && p->name; p++) pz_yseq_push(inputs, io_node(p, 1));
    for (const pz_io_def *p = d->outputs; p && p->name; p++) pz_yseq_push(outputs, io_node(p, 0));
    pz_ymap_set(root, "params", params);
    pz_ymap_set(root, "inputs", inputs);
    pz_ymap_set(root, "open_inputs", bool_node(d->open_inputs));
    pz_ymap_set(root, "outputs", outputs);
    pz_ymap_set(root, "open_outputs", bool_node(d->open_outputs));
    char *json = pz_yaml_to_json(root, 0, 2);
    pz_ynode_free(root);
    return json;
}

/* ---- --help ---- */

static void help_param(pz_sbuf *b, const pz_param_def *p)
{
    pz_sb_printf(b, "  %-22s %-7s", p->name, pz_ptype_name(p->type));
    if (p->required) pz_sb_puts(b, " required");
    else if (p->dflt) pz_sb_printf(b, " default %s", p->dflt);
    if (p->ranged) {
        char lo[32] = "-inf", hi[32] = "inf";
        if (!isnan(p->lo)) snprintf(lo, sizeof lo, "%g", p->lo);
        if (!isnan(p->hi)) snprintf(hi, sizeof hi, "%g", p->hi);
        pz_sb_printf(b, ", in [%s, %s]", lo, hi);
    }
    if (p->choices) pz_sb_printf(b, ", %s%s", p->type == PZ_PT_PATH ? "a file or built-in " : "one of ", p->choices);
    pz_sb_printf(b, "\n      %s\n", p->doc ? p->doc : "");
}

static void help_io(pz_sbuf *b, const pz_io_def *p, int with_files)
{
    const char *files = !with_files ? "" : p->files == PZ_IO_LIST ? "files" : p->files == PZ_IO_ANY ? "file(s)" : "file";
    pz_sb_printf(b, "  %-22s %s%s%s\n      %s\n", p->name, files, *files && p->optional ? " " : "",
                 p->optional ? "(optional)" : "", p->doc ? p->doc : "");
}

char *pz_stage_help_text(const pz_stage_def *d)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "usage: %s SPEC.json     (run by pzflow; the spec format: core/util/spec.h)\n", d->prog);
    pz_sb_printf(&b, "       %s --describe | --help\n\n%s\n", d->prog, d->summary);
    if (d->docs) pz_sb_printf(&b, "Details: %s\n", d->docs);
    pz_sb_puts(&b, "\nparams:\n");
    if (!d->params || !d->params->name) pz_sb_puts(&b, "  (none)\n");
    for (const pz_param_def *p = d->params; p && p->name; p++) help_param(&b, p);
    pz_sb_puts(&b, "\ninputs:\n");
    for (const pz_io_def *p = d->inputs; p && p->name; p++) help_io(&b, p, 1);
    if (d->open_inputs) pz_sb_puts(&b, "  (and the inputs its params name)\n");
    pz_sb_puts(&b, "\noutputs:\n");
    for (const pz_io_def *p = d->outputs; p && p->name; p++) help_io(&b, p, 0);
    if (d->open_outputs) pz_sb_puts(&b, "  (and the outputs the pipeline names: one per part)\n");
    return b.p;
}

/* ---- reading a description back ---- */

static const char *scalar_of(const pz_ynode *map, const char *key)
{
    const pz_ynode *n = pz_ymap_get(map, key);
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static int flag_of(const pz_ynode *map, const char *key)
{
    const char *s = scalar_of(map, key);
    return s && !strcmp(s, "true");
}

static int word_index(const char *s, const char *const *words, int n)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, words[i])) return i;
    return -1;
}

static char *keep(pz_stage_desc *d, char *s)
{
    if ((d->nowned & (d->nowned - 1)) == 0) /* 0, 1, 2, 4, ...: grow by doubling */
        d->owned = pz_xrealloc(d->owned, (d->nowned ? 2 * d->nowned : 1) * sizeof *d->owned);
    return d->owned[d->nowned++] = s;
}

static int read_param(pz_stage_desc *d, const pz_ynode *m, pz_param_def *p, const char *src, pz_err *err)
{
    p->name = scalar_of(m, "name");
    int t = word_index(scalar_of(m, "type"), type_names, (int)(sizeof type_names / sizeof *type_names));
    if (!p->name || t < 0) return pz_errf(err, "%s: a param without a name or a known type", src);
    p->type = (pz_ptype)t;
    p->doc = scalar_of(m, "doc");
    p->required = flag_of(m, "required");
    const pz_ynode *dflt = pz_ymap_get(m, "default");
    if (dflt) p->dflt = dflt->kind == PZ_Y_SCALAR ? dflt->str : keep(d, pz_yaml_to_json(dflt, 0, -1));
    const pz_ynode *r = pz_ymap_get(m, "range");
    if (r && r->kind == PZ_Y_SEQ && r->n == 2) {
        p->ranged = 1;
        p->lo = p->hi = NAN;
        if (strcmp(r->items[0]->str ? r->items[0]->str : "null", "null")) p->lo = strtod(r->items[0]->str, NULL);
        if (strcmp(r->items[1]->str ? r->items[1]->str : "null", "null")) p->hi = strtod(r->items[1]->str, NULL);
    }
    const pz_ynode *ch = pz_ymap_get(m, "choices");
    if (ch && ch->kind == PZ_Y_SEQ) {
        pz_sbuf b = {0};
        for (size_t i = 0; i < ch->n; i++) pz_sb_printf(&b, "%s%s", i ? "|" : "", ch->items[i]->str ? ch->items[i]->str : "");
        p->choices = keep(d, b.p ? b.p : pz_xstrdup(""));
    }
    return 0;
}

static pz_io_def *read_ios(const pz_ynode *seq, const char *src, pz_err *err)
{
    size_t n = seq && seq->kind == PZ_Y_SEQ ? seq->n : 0;
    pz_io_def *v = pz_xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const pz_ynode *m = seq->items[i];
        v[i].name = scalar_of(m, "name");
        if (!v[i].name) {
            free(v);
            pz_errf(err, "%s: an input or output without a name", src);
            return NULL;
        }
        int f = word_index(scalar_of(m, "files"), files_names, 3);
        v[i].files = f < 0 ? PZ_IO_ANY : f;
        v[i].optional = !flag_of(m, "required");
        v[i].doc = scalar_of(m, "doc");
        v[i].ext = scalar_of(m, "ext");
    }
    return v;
}

pz_stage_desc *pz_stage_desc_parse(const char *text, const char *src, pz_err *err)
{
    pz_ynode *root = pz_yaml_load_string(text, strlen(text), src, err);
    if (!root) return NULL;
    const char *version = scalar_of(root, "pzflow_describe");
    if (!version || strcmp(version, "1")) {
        pz_ynode_free(root);
        pz_errf(err, "%s: not a pzflow stage description", src);
        return NULL;
    }
    pz_stage_desc *d = pz_xcalloc(1, sizeof *d);
    d->root = root;
    d->def.prog = scalar_of(root, "stage");
    d->def.summary = scalar_of(root, "summary");
    d->def.docs = scalar_of(root, "docs");
    d->def.open_inputs = flag_of(root, "open_inputs");
    d->def.open_outputs = flag_of(root, "open_outputs");
    const pz_ynode *ps = pz_ymap_get(root, "params");
    size_t np = ps && ps->kind == PZ_Y_SEQ ? ps->n : 0;
    pz_param_def *params = pz_xcalloc(np + 1, sizeof *params);
    d->def.params = params;
    d->def.inputs = read_ios(pz_ymap_get(root, "inputs"), src, err);
    d->def.outputs = d->def.inputs ? read_ios(pz_ymap_get(root, "outputs"), src, err) : NULL;
    int ok = d->def.outputs != NULL;
    for (size_t i = 0; ok && i < np; i++) ok = read_param(d, ps->items[i], &params[i], src, err) == 0;
    if (!ok) {
        pz_stage_desc_free(d);
        return NULL;
    }
    return d;
}

void pz_stage_desc_free(pz_stage_desc *d)
{
    if (!d) return;
    free((void *)d->def.params);
    free((void *)d->def.inputs);
    free((void *)d->def.outputs);
    for (size_t i = 0; i < d->nowned; i++) free(d->owned[i]);
    free(d->owned);
    pz_ynode_free(d->root);
    free(d);
}

/* ---- the compact form (the engine's cache of descriptions) ---- */

/* One line per entry, fields separated by spaces, names percent-free by construction (the
 * tables' names are identifiers; choices are words joined by '|'):
 *   pzflow-describe-lines 2 <open> <stage>
 *     (open: 1 = open inputs, + 2 = open outputs)
 *   param <name> <type> <required> <ranged> <lo> <hi> <choices or ->
 *   input <name> <one|list|any> <required>
 *   output <name> <required> <ext or ->
 * Docs and defaults are left out: the check does not need them. */
char *pz_stage_desc_format_lines(const pz_stage_def *d)
{
    pz_sbuf b = {0};
    pz_sb_printf(&b, "pzflow-describe-lines 2 %d %s\n", !!d->open_inputs + 2 * !!d->open_outputs,
                 d->prog ? d->prog : "stage");
    for (const pz_param_def *p = d->params; p && p->name; p++)
        pz_sb_printf(&b, "param %s %s %d %d %.17g %.17g %s\n", p->name, pz_ptype_name(p->type), p->required, p->ranged,
                     p->lo, p->hi, p->choices && *p->choices ? p->choices : "-");
    for (const pz_io_def *p = d->inputs; p && p->name; p++)
        pz_sb_printf(&b, "input %s %s %d\n", p->name, files_names[p->files], !p->optional);
    for (const pz_io_def *p = d->outputs; p && p->name; p++)
        pz_sb_printf(&b, "output %s %d %s\n", p->name, !p->optional, p->ext && *p->ext ? p->ext : "-");
    return b.p;
}

static int has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\n') return 1;
    return 0;
}

int pz_stage_def_lines_safe(const pz_stage_def *d)
{
    if (d->prog && (!*d->prog || has_space(d->prog))) return 0;
    for (const pz_param_def *p = d->params; p && p->name; p++)
        if (!*p->name || has_space(p->name) || (p->choices && has_space(p->choices))) return 0;
    for (const pz_io_def *p = d->inputs; p && p->name; p++)
        if (!*p->name || has_space(p->name)) return 0;
    for (const pz_io_def *p = d->outputs; p && p->name; p++)
        if (!*p->name || has_space(p->name) || (p->ext && has_space(p->ext))) return 0;
    return 1;
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        n += !strncmp(l, prefix, len);
    return n;
}

/* Split line (modified in place) at spaces into at most max fields. */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save)) f[n++] = t;
    return n;
}

/* One line of the compact form into the tables; 0 when it is malformed. sscanf was most of
 * a no-op check's cost here, hence the hand-split fields. */
static int parse_line(pz_stage_desc *d, char *line, pz_param_def *params, size_t *np, pz_io_def *inputs, size_t *ni,
                      pz_io_def *outputs, size_t *no)
{
    char *f[8];
    int n = split_fields(line, f, 8);
    if (n == 8 && !strcmp(f[0], "param")) {
        int t = word_index(f[2], type_names, (int)(sizeof type_names / sizeof *type_names));
        if (t < 0) return 0;
        params[(*np)++] = (pz_param_def){.name = keep(d, pz_xstrdup(f[1])), .type = (pz_ptype)t, .required = atoi(f[3]),
                                         .ranged = atoi(f[4]), .lo = strtod(f[5], NULL), .hi = strtod(f[6], NULL),
                                         .choices = strcmp(f[7], "-") ? keep(d, pz_xstrdup(f[7])) : NULL};
        return 1;
    }
    if (n == 4 && !strcmp(f[0], "input")) {
        int k = word_index(f[2], files_names, 3);
        if (k < 0) return 0;
        inputs[(*ni)++] = (pz_io_def){keep(d, pz_xstrdup(f[1])), k, !atoi(f[3]), NULL, NULL};
        return 1;
    }
    if (n == 4 && !strcmp(f[0], "output")) {
        outputs[(*no)++] = (pz_io_def){keep(d, pz_xstrdup(f[1])), PZ_IO_ONE, !atoi(f[2]), NULL,
                                       strcmp(f[3], "-") ? keep(d, pz_xstrdup(f[3])) : NULL};
        return 1;
    }
    return 0;
}

pz_stage_desc *pz_stage_desc_parse_lines(const char *text)
{
    static const char magic[] = "pzflow-describe-lines 2 ";
    if (strncmp(text, magic, sizeof magic - 1)) return NULL;
    pz_stage_desc *d = pz_xcalloc(1, sizeof *d);
    pz_param_def *params = pz_xcalloc(count_prefix(text, "param ") + 1, sizeof *params);
    pz_io_def *inputs = pz_xcalloc(count_prefix(text, "input ") + 1, sizeof *inputs);
    pz_io_def *outputs = pz_xcalloc(count_prefix(text, "output ") + 1, sizeof *outputs);
    int open = atoi(text + sizeof magic - 1);
    d->def = (pz_stage_def){.params = params, .inputs = inputs, .outputs = outputs, .open_inputs = open & 1,
                            .open_outputs = (open & 2) != 0};
    char *copy = pz_xstrdup(text);
    size_t np = 0, ni = 0, no = 0;
    int ok = 1;
    char *save = NULL;
    char *first = strtok_r(copy, "\n", &save), *f[4];
    if (split_fields(first, f, 4) == 4) d->def.prog = keep(d, pz_xstrdup(f[3]));
    for (char *line = strtok_r(NULL, "\n", &save); ok && line; line = strtok_r(NULL, "\n", &save))
        ok = parse_line(d, line, params, &np, inputs, &ni, outputs, &no);
    free(copy);
    if (!ok) {
        pz_stage_desc_free(d);
        return NULL;
    }
    return d;
}
