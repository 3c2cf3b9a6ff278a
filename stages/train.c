/* pzflow-train SPEC.json: see docs/network.md for params, inputs and outputs; the work is
 * pz_nn_train_stage in core/nn/stage.c. */
#include "nn/stage.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_nn_train_stage);
}
