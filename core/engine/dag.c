/* The graph as text (one line per stage instance, in run order) and as Graphviz DOT, for
 * `pzflow dag`. External files are shown relative to the root directory when inside it. */
#include <stdlib.h>
#include <string.h>

#include "engine/load.h"
#include "util/sbuf.h"

static const char *shown_path(const pz_pipeline *p, const char *path)
{
    size_t rl = strlen(p->root_dir);
    if (rl > 1 && !strncmp(path, p->root_dir, rl) && path[rl] == '/') return path + rl + 1;
    return path;
}

static void put_ref(pz_sbuf *b, const pz_pipeline *p, const pz_input_ref *r)
{
    if (r->is_external) {
        pz_sb_puts(b, shown_path(p, r->path));
        return;
    }
    pz_sb_puts(b, p->stages[r->stage].name);
    pz_sb_puts(b, "/");
    pz_sb_puts(b, r->output);
}

char *pz_pipeline_dag_text(const pz_pipeline *p)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "");
    for (size_t i = 0; i < p->nstages; i++) {
        const pz_stage *s = &p->stages[i];
        pz_sb_puts(&b, s->name);
        for (size_t k = 0; k < s->ninputs; k++) {
            const pz_stage_input *in = &s->inputs[k];
            pz_sb_puts(&b, k ? " " : " <- ");
            pz_sb_puts(&b, in->name);
            pz_sb_puts(&b, in->is_list ? "=[" : "=");
            for (size_t j = 0; j < in->nrefs; j++) {
                if (j) pz_sb_puts(&b, ", ");
                put_ref(&b, p, &in->refs[j]);
            }
            if (in->is_list) pz_sb_puts(&b, "]");
        }
        pz_sb_puts(&b, " -> ");
        for (size_t k = 0; k < s->noutputs; k++) {
            if (k) pz_sb_puts(&b, ", ");
            pz_sb_puts(&b, s->outputs[k]);
        }
        pz_sb_puts(&b, "\n");
    }
    return b.p;
}

/* A DOT double-quoted string: only '"' and '\' need escaping. */
static void put_quoted(pz_sbuf *b, const char *prefix, const char *s)
{
    pz_sb_puts(b, "\"");
    pz_sb_puts(b, prefix);
    for (const char *c = s; *c; c++) {
        char one[3] = {*c, 0, 0};
        if (*c == '"' || *c == '\\') {
            one[0] = '\\';
            one[1] = *c;
        } else if (*c == '\n') {
            one[0] = ' ';
        }
        pz_sb_puts(b, one);
    }
    pz_sb_puts(b, "\"");
}

/* Node id of a stage: its instance name, or its declared name when foreach is collapsed. */
static const char *node_name(const pz_stage *s, int collapse)
{
    return collapse ? s->base_name : s->name;
}

static void put_stage_nodes(pz_sbuf *b, const pz_pipeline *p, int collapse)
{
    pz_name_index seen;
    pz_nidx_init(&seen, p->nstages);
    for (size_t i = 0; i < p->nstages; i++) {
        const pz_stage *s = &p->stages[i];
        const char *name = node_name(s, collapse);
        if (pz_nidx_put(&seen, name, i)) continue;
        size_t instances = 0;
        for (size_t j = i; j < p->nstages && collapse; j++) instances += !strcmp(p->stages[j].base_name, name);
        char *label = instances > 1 ? pz_xasprintf("%s ×%zu", name, instances) : pz_xstrdup(name);
        pz_sb_puts(b, "  ");
        put_quoted(b, "", name);
        pz_sb_puts(b, " [label=");
        put_quoted(b, "", label);
        pz_sb_puts(b, ", tooltip=");
        put_quoted(b, "", s->run);
        pz_sb_puts(b, "];\n");
        free(label);
    }
    pz_nidx_free(&seen);
}

static void put_file_nodes(pz_sbuf *b, const pz_pipeline *p)
{
    pz_name_index files;
    pz_nidx_init(&files, 16);
    for (size_t i = 0; i < p->nstages; i++) {
        const pz_stage *s = &p->stages[i];
        for (size_t k = 0; k < s->ninputs; k++)
            for (size_t j = 0; j < s->inputs[k].nrefs; j++) {
                const pz_input_ref *r = &s->inputs[k].refs[j];
                if (!r->is_external || pz_nidx_put(&files, r->path, 0)) continue;
                pz_sb_puts(b, "  ");
                /* Ids too are relative to the root: the same pipeline in two checkouts gives the
                 * same bytes (and the same key for whatever reads this). */
                put_quoted(b, "file:", shown_path(p, r->path));
                pz_sb_puts(b, " [shape=box, label=");
                put_quoted(b, "", shown_path(p, r->path));
                pz_sb_puts(b, "];\n");
            }
    }
    pz_nidx_free(&files);
}

static void put_edges(pz_sbuf *b, const pz_pipeline *p, int collapse)
{
    /* The index keeps pointers to its keys, so the edge strings live until it is freed. */
    pz_name_index seen;
    pz_nidx_init(&seen, p->nstages * 2);
    char **edges = NULL;
    size_t nedges = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        const pz_stage *s = &p->stages[i];
        for (size_t k = 0; k < s->ninputs; k++)
            for (size_t j = 0; j < s->inputs[k].nrefs; j++) {
                const pz_input_ref *r = &s->inputs[k].refs[j];
                const char *from = r->is_external ? shown_path(p, r->path) : node_name(&p->stages[r->stage], collapse);
                char *label = r->is_external ? pz_xstrdup(s->inputs[k].name)
                                             : pz_xasprintf("%s → %s", r->output, s->inputs[k].name);
                /* Collapsed instances repeat the same edge; draw it once. */
                char *edge = pz_xasprintf("%s\x01%s\x01%s", from, node_name(s, collapse), label);
                if (!pz_nidx_put(&seen, edge, 0)) {
                    pz_sb_puts(b, "  ");
                    put_quoted(b, r->is_external ? "file:" : "", from);
                    pz_sb_puts(b, " -> ");
                    put_quoted(b, "", node_name(s, collapse));
                    pz_sb_puts(b, " [label=");
                    put_quoted(b, "", label);
                    pz_sb_puts(b, "];\n");
                }
                edges = pz_xrealloc(edges, (nedges + 1) * sizeof *edges);
                edges[nedges++] = edge;
                free(label);
            }
    }
    pz_nidx_free(&seen);
    for (size_t i = 0; i < nedges; i++) free(edges[i]);
    free(edges);
}

static char *dag_dot(const pz_pipeline *p, int collapse)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "digraph ");
    put_quoted(&b, "", p->name ? p->name : "pipeline");
    pz_sb_puts(&b, " {\n  rankdir=TB;\n  node [shape=ellipse];\n");
    put_stage_nodes(&b, p, collapse);
    put_file_nodes(&b, p);
    put_edges(&b, p, collapse);
    pz_sb_puts(&b, "}\n");
    return b.p;
}

char *pz_pipeline_dag_dot(const pz_pipeline *p)
{
    return dag_dot(p, 0);
}

char *pz_pipeline_dag_dot_collapsed(const pz_pipeline *p)
{
    return dag_dot(p, 1);
}
