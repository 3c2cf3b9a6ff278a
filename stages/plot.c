/* pzflow-plot SPEC: draws Figures 1-4 (PNG + SVG) with gnuplot and Graphviz dot.
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/plot.c. */
#include "photoz/plot.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_plot_stage);
}
