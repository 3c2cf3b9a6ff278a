/* pzflow-evaluate SPEC: photo-z metrics of every (model, test set) over seeds.
 * Params, inputs and outputs: docs/evaluate.md; the science is core/photoz/evaluate.c. */
#include "photoz/evaluate.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    pz_err err;
    if (argc != 2) {
        pz_errf(&err, "usage: pzflow-evaluate SPEC.json");
        pz_die("pzflow-evaluate", &err, 2);
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die("pzflow-evaluate", &err, 1);
    if (pz_evaluate_stage(spec, &err) < 0) pz_die("pzflow-evaluate", &err, 1);
    pz_spec_free(spec);
    return 0;
}
