/* pzflow-predict SPEC.json: see docs/network.md for params, inputs and outputs; the work is
 * pz_nn_predict_stage in core/nn/stage.c. pzflow-predict MODEL CATALOG -o OUT (what
 * `pzflow predict` runs) is the same work as a command (core/nn/predict_cli.c). */
#include "nn/predict_cli.h"
#include "nn/stage.h"

int main(int argc, char **argv)
{
    if (pz_predict_cli_wanted(argc, argv)) return pz_predict_cli_main(argc, argv);
    return pz_stage_main(argc, argv, &pz_nn_predict_stage);
}
