/* pzflow-dag: writes a pipeline's stage graph as Graphviz DOT (the paper's Figure 4).
 *
 * Input `pipeline`: the pipeline file itself. Params: `set` (optional list of "dotted.path=value"
 * overrides, as on the command line), `instances` (default false: each foreach stage is drawn
 * once, "train-base ×10", which is the flow chart a reader wants; true draws every instance).
 * Output `dot`. The graph is rebuilt from the file so the
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

static char *own_bin_dir(const char *argv0)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        snprintf(buf, sizeof buf, "%s", argv0);
        n = (ssize_t)strlen(buf);
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

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) {
        fprintf(stderr, "usage: pzflow-dag SPEC.json\n");
        return 2;
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("pzflow-dag", &err, 1);
    const char *allowed[] = {"set", "instances", NULL};
    int instances = 0;
    const char *pipeline_path, *out_path;
    const char **sets = NULL;
    size_t nsets = 0;
    if (pz_spec_check_params(spec, allowed, &err) < 0 || pz_spec_input(spec, "pipeline", &pipeline_path, &err) < 0 ||
        pz_spec_output(spec, "dot", &out_path, &err) < 0 || pz_spec_strlist(spec, "set", &sets, &nsets, &err) < 0 ||
        pz_spec_bool(spec, "instances", &instances, &err) < 0)
        pz_die("pzflow-dag", &err, 1);
    char *bin_dir = own_bin_dir(argv[0]);
    pz_pipeline *p = pz_pipeline_load(pipeline_path, sets, nsets, bin_dir, &err);
    if (!p) pz_die("pzflow-dag", &err, 1);
    char *dot = instances ? pz_pipeline_dag_dot(p) : pz_pipeline_dag_dot_collapsed(p);
    if (write_text(out_path, dot, &err) < 0) pz_die("pzflow-dag", &err, 1);
    printf("pzflow-dag: %zu stage instances from %s\n", p->nstages, pipeline_path);
    free(dot);
    free(bin_dir);
    free(sets);
    pz_pipeline_free(p);
    pz_spec_free(spec);
    return 0;
}
