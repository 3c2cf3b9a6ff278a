/* pzflow-mock-sky: writes the mock COSMOS2020, HSC and GalaxiesML files (docs/mock_sky.md).
 * Outputs: cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing, and
 * optionally truth. */
#include <stdio.h>
#include <stdlib.h>

#include "mock/mock_sky.h"
#include "util/spec.h"

int main(int argc, char **argv)
{
    const char *prog = "pzflow-mock-sky";
    pz_err err;
    if (argc != 2) {
        fprintf(stderr, "usage: %s SPEC.json\n", prog);
        return 2;
    }
    pz_spec *spec = pz_spec_load(argv[1], &err);
    if (!spec) pz_die(prog, &err, 1);
    pz_mock_params p;
    if (pz_mock_params_from_spec(&p, spec, &err) < 0) pz_die(prog, &err, 1);
    pz_mock_paths paths = {0};
    if (pz_spec_output(spec, "cosmos2020", &paths.cosmos, &err) < 0 || pz_spec_output(spec, "hsc", &paths.hsc, &err) < 0 ||
        pz_spec_output(spec, "galaxiesml_training", &paths.gml[0], &err) < 0 ||
        pz_spec_output(spec, "galaxiesml_validation", &paths.gml[1], &err) < 0 ||
        pz_spec_output(spec, "galaxiesml_testing", &paths.gml[2], &err) < 0)
        pz_die(prog, &err, 1);
    if (pz_ymap_get(spec->outputs, "truth") && pz_spec_output(spec, "truth", &paths.truth, &err) < 0) pz_die(prog, &err, 1);
    pz_mock_stats st;
    if (pz_mock_sky_run(&p, &paths, NULL, &st, &err) < 0) pz_die(prog, &err, 1);
    fprintf(stderr, "%s: cosmos2020 %zu rows (%.1f%% stars), hsc %zu rows, galaxiesml %zu/%zu/%zu (%zu in COSMOS)\n", prog,
            st.n_cosmos, 100 * st.star_fraction, st.n_hsc, st.n_gml[0], st.n_gml[1], st.n_gml[2], st.n_overlap);
    pz_spec_free(spec);
    return 0;
}
