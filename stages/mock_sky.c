/* pzflow-mock-sky: writes the mock COSMOS2020, HSC and GalaxiesML files (docs/mock_sky.md).
 * Outputs: cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing, and
 * optionally truth. Params: the list in core/photoz/mock_params.h. */
#include <stdio.h>
#include <stdlib.h>

#include "mock/mock_sky.h"
#include "table/table.h"
#include "util/spec.h"

static int mock_sky_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    pz_mock_params p = *(const pz_mock_params *)params; /* read from pz_mock_param_table */
    if (pz_mock_params_check(&p, err) < 0) return -1;
    pz_mock_paths paths = {0};
    if (pz_spec_output(spec, "cosmos2020", &paths.cosmos, err) < 0 || pz_spec_output(spec, "hsc", &paths.hsc, err) < 0 ||
        pz_spec_output(spec, "galaxiesml_training", &paths.gml[0], err) < 0 ||
        pz_spec_output(spec, "galaxiesml_validation", &paths.gml[1], err) < 0 ||
        pz_spec_output(spec, "galaxiesml_testing", &paths.gml[2], err) < 0)
        return -1;
    if (pz_ymap_get(spec->outputs, "truth") && pz_spec_output(spec, "truth", &paths.truth, err) < 0) return -1;
    pz_mock_stats st;
    int rc = pz_mock_sky_run(&p, &paths, NULL, &st, err);
    if (rc < 0) return -1;
    *summary = pz_xasprintf("pzflow-mock-sky: cosmos2020 %zu rows (%.1f%% stars), hsc %zu rows, galaxiesml %zu/%zu/%zu "
                            "(%zu in COSMOS)",
                            st.n_cosmos, 100 * st.star_fraction, st.n_hsc, st.n_gml[0], st.n_gml[1], st.n_gml[2],
                            st.n_overlap);
    return 0;
}

static const pz_io_def OUTPUTS[] = {
    {"cosmos2020", PZ_IO_ONE, 0, "mock COSMOS2020 CLASSIC catalogue (FITS)", ".fits"},
    {"hsc", PZ_IO_ONE, 0, "mock HSC PDR2 object table of the COSMOS field (FITS)", ".fits"},
    {"galaxiesml_training", PZ_IO_ONE, 0, "mock GalaxiesML training split (HDF5, GalaxiesML's own layout)", ".h5"},
    {"galaxiesml_validation", PZ_IO_ONE, 0, "mock GalaxiesML validation split (HDF5, GalaxiesML's own layout)", ".h5"},
    {"galaxiesml_testing", PZ_IO_ONE, 0, "mock GalaxiesML testing split (HDF5, GalaxiesML's own layout)", ".h5"},
    {"truth", PZ_IO_ONE, 1, "the true properties of every mock object", PZ_STAGE_TABLE_EXT},
    {0}};
static const pz_io_def NO_INPUTS[] = {{0}};

static const pz_stage_def MOCK_SKY = {
    .prog = "pzflow-mock-sky", .docs = "docs/mock_sky.md",
    .summary = "write mock COSMOS2020, HSC and GalaxiesML files of one simulated sky",
    .params = pz_mock_param_table, .inputs = NO_INPUTS, .outputs = OUTPUTS,
    .params_size = sizeof(pz_mock_params), .run = mock_sky_stage};

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &MOCK_SKY);
}
