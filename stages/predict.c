/* pzflow-predict SPEC.json: see docs/network.md for params, inputs and outputs; the work is
 * pz_nn_predict_stage in core/nn/stage.c. */
#include "nn/stage.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) {
        pz_errf(&err, "usage: pzflow-predict SPEC.json");
        pz_die("pzflow-predict", &err, 2);
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("pzflow-predict", &err, 1);
    if (pz_nn_predict_stage(spec, &err) < 0) pz_die("pzflow-predict", &err, 1);
    pz_spec_free(spec);
    return 0;
}
