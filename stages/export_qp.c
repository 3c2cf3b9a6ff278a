/* pzflow-export-qp SPEC: predictions' p(z) as a qp ensemble; docs/uncertainty.md, core/photoz/qp.c. */
#include "photoz/qp.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_export_qp_stage);
}
