#include "engine/diff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/ytree.h"

/* ---- params ---- */

/* name=value pairs of a params tree, flattened to dotted paths (lists stay JSON values). */
typedef struct flat {
    size_t n;
    char **path, **value;
} flat;

static void flatten(flat *f, const char *prefix, const pz_ynode *n)
{
    if (n && n->kind == PZ_Y_MAP) {
        for (size_t k = 0; k < n->n; k++) {
            char *p = *prefix ? pz_xasprintf("%s.%s", prefix, n->keys[k]->str) : pz_xstrdup(n->keys[k]->str);
            flatten(f, p, n->items[k]);
            free(p);
        }
        return;
    }
    f->path = pz_xrealloc(f->path, (f->n + 1) * sizeof *f->path);
    f->value = pz_xrealloc(f->value, (f->n + 1) * sizeof *f->value);
    f->path[f->n] = pz_xstrdup(prefix);
    f->value[f->n++] = !n ? pz_xstrdup("") : n->kind == PZ_Y_SCALAR ? pz_xstrdup(n->str) : pz_yaml_to_json(n, 1, -1);
}

static flat params_of(const pz_plan *pl, const char *key)
{
    flat f = {0};
    pz_record *r = key ? pz_plan_read_record(pl, key) : NULL;
    if (r && r->params) {
        pz_err err;
        pz_ynode *t = pz_yaml_load_string(r->params, strlen(r->params), "params", &err);
        if (t) flatten(&f, "", t);
        pz_ynode_free(t);
    }
    pz_record_free(r);
    return f;
}

static const char *flat_get(const flat *f, const char *path)
{
    for (size_t k = 0; k < f->n; k++)
        if (!strcmp(f->path[k], path)) return f->value[k];
    return NULL;
}

static void flat_free(flat *f)
{
    for (size_t k = 0; k < f->n; k++) free(f->path[k]), free(f->value[k]);
    free(f->path);
    free(f->value);
}

static void param_rows(pz_sbuf *b, const char *stage, const flat *fa, const flat *fb)
{
    for (int pass = 0; pass < 2; pass++) {
        const flat *f = pass ? fb : fa;
        for (size_t k = 0; k < f->n; k++) {
            const char *va = flat_get(fa, f->path[k]), *vb = flat_get(fb, f->path[k]);
            if (pass && va) continue; /* printed in the first pass */
            if (va && vb && !strcmp(va, vb)) continue;
            pz_sb_printf(b, "  %-24s %-24s %-20s %s\n", stage, f->path[k], va ? va : "-", vb ? vb : "-");
        }
    }
}

char *pz_diff_params(const pz_plan *pl, const pz_results_manifest *a, const pz_results_manifest *b)
{
    pz_sbuf out = {0};
    pz_sb_puts(&out, "");
    for (int pass = 0; pass < 2; pass++) {
        const pz_results_manifest *m = pass ? b : a;
        for (size_t k = 0; k < m->n; k++) {
            const char *stage = m->stages[k], *ka = pz_results_key(a, stage), *kb = pz_results_key(b, stage);
            if (pass && ka) continue;
            if (ka && kb && !strcmp(ka, kb)) continue; /* same key: same params */
            flat fa = params_of(pl, ka), fb = params_of(pl, kb);
            if (!ka || !kb) pz_sb_printf(&out, "  %-24s %-24s %-20s %s\n", stage, "(stage)", ka ? "present" : "-", kb ? "present" : "-");
            else param_rows(&out, stage, &fa, &fb);
            flat_free(&fa);
            flat_free(&fb);
        }
    }
    return out.p;
}

/* ---- metrics: Markdown tables ---- */

typedef struct cell {
    char *name, *text;
} cell;

typedef struct cells {
    size_t n;
    cell *c;
} cells;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* Split "| a | b \| c |" into cells (an escaped "\|" stays inside its cell). */
static size_t split_row(char *line, char **out, size_t max)
{
    size_t n = 0;
    char *p = line;
    if (*p == '|') p++;
    char *start = p;
    for (; *p; p++) {
        if (*p == '\\' && p[1] == '|') {
            p++;
            continue;
        }
        if (*p == '|') {
            *p = 0;
            if (n < max) out[n++] = trim(start);
            start = p + 1;
        }
    }
    if (*trim(start) && n < max) out[n++] = trim(start);
    return n;
}

static int numeric(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s;
}

static void add_cell(cells *cs, char *name, const char *text)
{
    cs->c = pz_xrealloc(cs->c, (cs->n + 1) * sizeof *cs->c);
    cs->c[cs->n].name = name;
    cs->c[cs->n++].text = pz_xstrdup(text);
}

static void table_row(cells *cs, const char *section, char **head, size_t nhead, char **row, size_t nrow)
{
    pz_sbuf label = {0};
    size_t k = 0;
    double v;
    for (; k < nrow && !numeric(row[k], &v); k++) pz_sb_printf(&label, "%s%s", k ? " " : "", row[k]);
    for (; k < nrow; k++) {
        if (!numeric(row[k], &v)) continue;
        add_cell(cs, pz_xasprintf("%s | %s | %s", section, label.p ? label.p : "", k < nhead ? head[k] : "?"), row[k]);
    }
    free(label.p);
}

static cells parse_tables(const char *text)
{
    cells cs = {0};
    char *copy = pz_xstrdup(text ? text : ""), *save = NULL, *section = pz_xstrdup("");
    char *head[64], *hcopy = NULL;
    size_t nhead = 0;
    int in_table = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *t = trim(line);
        if (*t != '|') {
            in_table = 0;
            if (*t == '#') {
                while (*t == '#') t++;
                free(section);
                section = pz_xstrdup(trim(t));
            }
            continue;
        }
        if (!in_table) { /* header row */
            free(hcopy);
            hcopy = pz_xstrdup(t);
            nhead = split_row(hcopy, head, 64);
            in_table = 1;
            continue;
        }
        if (strspn(t, "|-: ") == strlen(t)) continue; /* the |---| line */
        char *row[64];
        size_t nrow = split_row(t, row, 64);
        table_row(&cs, section, head, nhead, row, nrow);
    }
    free(hcopy);
    free(section);
    free(copy);
    return cs;
}

static const cell *find_cell(const cells *cs, const char *name)
{
    for (size_t k = 0; k < cs->n; k++)
        if (!strcmp(cs->c[k].name, name)) return &cs->c[k];
    return NULL;
}

static void cells_free(cells *cs)
{
    for (size_t k = 0; k < cs->n; k++) free(cs->c[k].name), free(cs->c[k].text);
    free(cs->c);
}

static void metric_row(pz_sbuf *b, const char *name, const cell *a, const cell *c)
{
    double va, vb;
    char change[48] = "";
    if (a && c && numeric(a->text, &va) && numeric(c->text, &vb) && isfinite(va) && isfinite(vb))
        snprintf(change, sizeof change, "%+.6g", vb - va);
    pz_sb_printf(b, "  %s\n      %-28s %-28s %s\n", name, a ? a->text : "-", c ? c->text : "-", change);
}

char *pz_diff_tables(const char *a, const char *b, int all)
{
    cells ca = parse_tables(a), cb = parse_tables(b);
    pz_sbuf out = {0};
    pz_sb_puts(&out, "");
    for (size_t k = 0; k < ca.n; k++) {
        const cell *other = find_cell(&cb, ca.c[k].name);
        if (all || !other || strcmp(other->text, ca.c[k].text)) metric_row(&out, ca.c[k].name, &ca.c[k], other);
    }
    for (size_t k = 0; k < cb.n; k++)
        if (!find_cell(&ca, cb.c[k].name)) metric_row(&out, cb.c[k].name, NULL, &cb.c[k]);
    if (!ca.n && !cb.n && strcmp(a ? a : "", b ? b : "")) pz_sb_puts(&out, "  (not tables; the texts differ)\n");
    cells_free(&ca);
    cells_free(&cb);
    return out.p;
}
