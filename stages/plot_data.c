/* pzflow-plot-data SPEC: the data behind Figures 1-3 (HDF5 + CSV).
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/plotdata.c. */
#include "photoz/plotdata.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) {
        pz_errf(&err, "usage: pzflow-plot-data SPEC.json");
        pz_die("pzflow-plot-data", &err, 2);
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("pzflow-plot-data", &err, 1);
    if (pz_plot_data_stage(spec, &err) < 0) pz_die("pzflow-plot-data", &err, 1);
    pz_spec_free(spec);
    return 0;
}
