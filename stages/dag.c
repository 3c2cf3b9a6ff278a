/* pzflow-dag: writes a pipeline's stage graph as Graphviz DOT (the paper's Figure 4).
 *
 * Input `pipeline`: the pipeline file itself. Params: `set` (optional list of "dotted.path=value"
 * overrides, as on the command line), `instances` (default false: each foreach stage is drawn
 * once, "train-base ×10", which is the flow chart a reader wants; true draws every instance).
 * Output `dot`. With param `flow_of: STAGE` and output `flow`, also the flow chart of how STAGE's
 * outputs are made (pz_pipeline_flow_dot; title from `flow_title`). The graph is rebuilt from the file so the
 * figure always shows the pipeline that produced the results; editing a param changes the
 * file's hash and reruns this stage, but the DOT bytes stay the same and early cutoff stops
 * the plot stage from rerunning. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/pipeline.h"
#include "util/spec.h"

static char *own_bin_dir(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        snprintf(buf, sizeof buf, ".");
        n = 1;
    }
    buf[n] = 0;
    return pz_xstrdup(dirname(buf));
}

static int write_text(const char *path, const char *text, pz_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) return pz_errf(err, "%s: cannot create", path);
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0 || !ok) return pz_errf(err, "%s: write failed", path);
    return 0;
}

typedef struct {
    pz_strs set;
    int instances;
    const char *flow_of, *flow_title;
} dag_params;

/* The optional flow chart: output `flow` and param `flow_of` go together. */
static int write_flow(const pz_spec *spec, const dag_params *dp, const pz_pipeline *p, pz_err *err)
{
    const char *path;
    int want = pz_ymap_get(spec->outputs, "flow") != NULL;
    if (!dp->flow_of && !want) return 0;
    if (!dp->flow_of || !want) return pz_errf(err, "param 'flow_of' and output 'flow' go together: declare both or neither");
    if (pz_spec_output(spec, "flow", &path, err) < 0) return -1;
    char *dot = pz_pipeline_flow_dot(p, dp->flow_of, dp->flow_title ? dp->flow_title : "How the outputs are made", err);
    int rc = dot ? write_text(path, dot, err) : -1;
    free(dot);
    return rc;
}

static int dag_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    const dag_params *dp = params;
    const char *pipeline_path, *out_path;
    if (pz_spec_input(spec, "pipeline", &pipeline_path, err) < 0 || pz_spec_output(spec, "dot", &out_path, err) < 0)
        return -1;
    char *bin_dir = own_bin_dir();
    pz_pipeline *p = pz_pipeline_load(pipeline_path, dp->set.v, dp->set.n, bin_dir, err);
    free(bin_dir);
    if (!p) return -1;
    char *dot = dp->instances ? pz_pipeline_dag_dot(p) : pz_pipeline_dag_dot_collapsed(p);
    int rc = write_text(out_path, dot, err);
    if (rc == 0) rc = write_flow(spec, dp, p, err);
    if (rc == 0) *summary = pz_xasprintf("pzflow-dag: %zu stage instances from %s", p->nstages, pipeline_path);
    free(dot);
    pz_pipeline_free(p);
    return rc;
}

static const pz_param_def PARAMS[] = {
    {PZ_PARAM("set", PZ_PT_STRINGS, NULL, "\"dotted.path=value\" overrides, as pzflow's --set"),
     .field = PZ_FIELD(dag_params, set)},
    {PZ_PARAM("instances", PZ_PT_BOOL, "false", "draw every foreach instance instead of one box per stage"),
     .field = PZ_FIELD(dag_params, instances)},
    {PZ_PARAM("flow_of", PZ_PT_STRING, NULL, "with output flow: the stage whose outputs' flow chart to draw (Figure 4)"),
     .field = PZ_FIELD(dag_params, flow_of)},
    {PZ_PARAM("flow_title", PZ_PT_STRING, "How the outputs are made", "title of the flow chart"),
     .field = PZ_FIELD(dag_params, flow_title)},
    {0}};
static const pz_io_def INPUTS[] = {{"pipeline", PZ_IO_ONE, 0, "the pipeline file to draw"}, {0}};
static const pz_io_def OUTPUTS[] = {{"dot", PZ_IO_ONE, 0, "the stage graph (Graphviz DOT)", ".dot"},
                                    {"flow", PZ_IO_ONE, 1, "with param flow_of: the flow chart (Graphviz DOT)", ".dot"},
                                    {0}};

static const pz_stage_def DAG = {
    .prog = "pzflow-dag", .summary = "write a pipeline's stage graph as Graphviz DOT (the paper's Figure 4)",
    .params = PARAMS, .inputs = INPUTS, .outputs = OUTPUTS,
    .params_size = sizeof(dag_params), .run = dag_stage};

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &DAG);
}
