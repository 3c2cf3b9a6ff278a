/* pzflow-plot-data SPEC: the data behind Figures 1-3 (HDF5 + CSV).
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/plotdata.c. */
#include "photoz/plotdata.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_plot_data_stage);
}
