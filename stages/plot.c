/* pzflow-plot SPEC: draws Figures 1-4 (PNG + SVG) with gnuplot and Graphviz dot.
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/plot.c. */
#include "photoz/plot.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) {
        pz_errf(&err, "usage: pzflow-plot SPEC.json");
        pz_die("pzflow-plot", &err, 2);
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("pzflow-plot", &err, 1);
    if (pz_plot_stage(spec, &err) < 0) pz_die("pzflow-plot", &err, 1);
    pz_spec_free(spec);
    return 0;
}
