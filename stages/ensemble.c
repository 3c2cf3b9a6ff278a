/* pzflow-ensemble SPEC.json: see docs/network.md for params, inputs and outputs; the work is
 * pz_nn_ensemble_stage in core/nn/ensemble.c. */
#include "nn/ensemble.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_nn_ensemble_stage);
}
