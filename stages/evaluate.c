/* pzflow-evaluate SPEC: photo-z metrics of every (model, test set) over seeds.
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/evaluate.c. */
#include "photoz/evaluate.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_evaluate_stage);
}
