/* The flow chart of how one stage's outputs are made (the paper's Figure 4, "how TransferZ is
 * built"), drawn from the pipeline itself: only the stages upstream of the target, top to
 * bottom, in three kinds of node a reader of the paper knows:
 *
 *   inputs     cylinders: external files, or the outputs of a stage that has no inputs of its
 *              own (mock-sky, whose catalogues stand in for COSMOS2020 and HSC), drawn once each
 *   processes  rounded boxes: every other upstream stage, named with its executable; the edges
 *              between them carry the output name that flows along them
 *   released   green folders: the target's own outputs (TransferZ's train/validation/test)
 *
 * Foreach instances are drawn once, as in pz_pipeline_dag_dot_collapsed. Everything follows
 * the pipeline's topological order, so the DOT bytes depend on the pipeline only. */
#include <stdlib.h>
#include <string.h>

#include "engine/load.h"
#include "engine/pipeline.h"
#include "util/sbuf.h"

/* A DOT double-quoted string: '"' and '\' escaped, a newline kept as DOT's centred line break. */
static void put_q(pz_sbuf *b, const char *s)
{
    pz_sb_puts(b, "\"");
    for (const char *c = s; *c; c++) {
        char one[3] = {*c, 0, 0};
        if (*c == '"' || *c == '\\') one[0] = '\\', one[1] = *c;
        else if (*c == '\n') one[0] = '\\', one[1] = 'n';
        pz_sb_puts(b, one);
    }
    pz_sb_puts(b, "\"");
}

static const char *shown(const pz_pipeline *p, const char *path)
{
    size_t rl = strlen(p->root_dir);
    if (rl > 1 && !strncmp(path, p->root_dir, rl) && path[rl] == '/') return path + rl + 1;
    return path;
}

/* A stage whose inputs are all external files (or none): it supplies the chart's inputs. */
static int is_source(const pz_stage *s)
{
    return s->ndeps == 0;
}

/* marks[i] = 1 for the target's instances and every stage upstream of them. */
static int mark_upstream(const pz_pipeline *p, const char *target, char *marks)
{
    int found = 0;
    for (size_t i = 0; i < p->nstages; i++)
        if (!strcmp(p->stages[i].name, target) || !strcmp(p->stages[i].base_name, target)) marks[i] = 2, found = 1;
    /* topological order: every dependency of i comes before i */
    for (size_t i = p->nstages; i-- > 0;)
        if (marks[i])
            for (size_t d = 0; d < p->stages[i].ndeps; d++)
                if (!marks[p->stages[i].deps[d]]) marks[p->stages[i].deps[d]] = 1;
    return found;
}

static void put_node(pz_sbuf *b, pz_name_index *seen, const char *id, const char *label, const char *style)
{
    if (pz_nidx_put(seen, id, 0)) return;
    pz_sb_puts(b, "  ");
    put_q(b, id);
    pz_sb_puts(b, " [label=");
    put_q(b, label);
    pz_sb_puts(b, ", ");
    pz_sb_puts(b, style);
    pz_sb_puts(b, "];\n");
}

/* Strings the name indices borrow as keys, freed when the chart is done. */
typedef struct kept {
    char **s;
    size_t n;
} kept;

static char *keep(kept *k, char *s)
{
    k->s = pz_xrealloc(k->s, (k->n + 1) * sizeof *k->s);
    return k->s[k->n++] = s;
}

static void put_edge(pz_sbuf *b, pz_name_index *seen, kept *k, const char *from, const char *to, const char *label)
{
    char *key = keep(k, pz_xasprintf("%s\x01%s\x01%s", from, to, label ? label : ""));
    if (!pz_nidx_put(seen, key, 0)) {
        pz_sb_puts(b, "  ");
        put_q(b, from);
        pz_sb_puts(b, " -> ");
        put_q(b, to);
        if (label) {
            pz_sb_puts(b, " [label=");
            put_q(b, label);
            pz_sb_puts(b, "]");
        }
        pz_sb_puts(b, ";\n");
    }
}

#define INPUT_STYLE "shape=cylinder, style=filled, fillcolor=\"#fdf1d6\""
#define PROCESS_STYLE "shape=box, style=\"rounded,filled\", fillcolor=\"#dbe9f6\""
#define SOURCE_STYLE "shape=box, style=\"rounded,dashed\", fontcolor=\"#555555\""
#define RELEASED_STYLE "shape=folder, style=\"filled,bold\", fillcolor=\"#d9f0d3\""

static char *process_label(const pz_stage *s)
{
    const char *exe = strrchr(s->run, '/');
    return pz_xasprintf("%s\n(%s)", s->base_name, exe ? exe + 1 : s->run);
}

/* The node an input reference of a charted stage comes from: an input cylinder, or the
 * producing process. Returns the node id (malloc'd); *edge_label is the output name flowing
 * between two processes (NULL for inputs, whose node already names them). */
static const char *source_node(const pz_pipeline *p, const pz_input_ref *r, pz_sbuf *b, pz_name_index *nodes,
                               pz_name_index *edges, kept *k, const char **edge_label)
{
    *edge_label = NULL;
    if (r->is_external) {
        char *id = keep(k, pz_xasprintf("file:%s", r->path));
        char *label = pz_xasprintf("input\n%s", shown(p, r->path));
        put_node(b, nodes, id, label, INPUT_STYLE);
        free(label);
        return id;
    }
    const pz_stage *u = &p->stages[r->stage];
    if (!is_source(u)) {
        *edge_label = r->output;
        return u->base_name;
    }
    /* an output of a generating stage: the input it stands for, fed by that stage */
    char *id = keep(k, pz_xasprintf("%s/%s", u->base_name, r->output));
    char *label = pz_xasprintf("input\n%s", id);
    put_node(b, nodes, id, label, INPUT_STYLE);
    char *src_label = process_label(u);
    put_node(b, nodes, u->base_name, src_label, SOURCE_STYLE);
    put_edge(b, edges, k, u->base_name, id, NULL);
    free(src_label);
    free(label);
    return id;
}

char *pz_pipeline_flow_dot(const pz_pipeline *p, const char *target, const char *title, pz_err *err)
{
    char *marks = pz_xcalloc(p->nstages + 1, 1);
    if (!mark_upstream(p, target, marks)) {
        free(marks);
        pz_errf(err, "flow chart: no stage '%s' in %s", target, p->path);
        return NULL;
    }
    pz_sbuf b = {0};
    pz_sb_puts(&b, "digraph flow {\n  rankdir=TB;\n  nodesep=0.35;\n  ranksep=0.45;\n  labelloc=t;\n  fontsize=18;\n  label=");
    put_q(&b, title);
    pz_sb_puts(&b, ";\n  node [fontsize=13];\n  edge [fontsize=11, color=\"#555555\"];\n");
    pz_name_index nodes, edges;
    pz_nidx_init(&nodes, 64);
    pz_nidx_init(&edges, 64);
    kept k = {0};
    for (size_t i = 0; i < p->nstages; i++) {
        const pz_stage *s = &p->stages[i];
        if (!marks[i] || is_source(s)) continue;
        char *label = process_label(s);
        put_node(&b, &nodes, s->base_name, label, PROCESS_STYLE);
        free(label);
        for (size_t in = 0; in < s->ninputs; in++)
            for (size_t j = 0; j < s->inputs[in].nrefs; j++) {
                const char *edge_label;
                const char *from = source_node(p, &s->inputs[in].refs[j], &b, &nodes, &edges, &k, &edge_label);
                put_edge(&b, &edges, &k, from, s->base_name, edge_label);
            }
        if (marks[i] != 2) continue;
        for (size_t o = 0; o < s->noutputs; o++) {
            char *id = keep(&k, pz_xasprintf("released:%s/%s", s->base_name, s->outputs[o]));
            char *rl = pz_xasprintf("released\n%s/%s", s->base_name, s->outputs[o]);
            put_node(&b, &nodes, id, rl, RELEASED_STYLE);
            put_edge(&b, &edges, &k, s->base_name, id, NULL);
            free(rl);
        }
    }
    pz_sb_puts(&b, "}\n");
    pz_nidx_free(&nodes);
    pz_nidx_free(&edges);
    for (size_t i = 0; i < k.n; i++) free(k.s[i]);
    free(k.s);
    free(marks);
    return b.p;
}
