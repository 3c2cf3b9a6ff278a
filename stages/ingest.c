/* pzflow-ingest SPEC.json: any catalogue (FITS HDU, HDF5 group, CSV) into canonical columns; see
 * docs/ingest.md. The work is pz_ingest_stage_any in core/photoz/ingest_any.c. */
#include "photoz/ingest.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_ingest_stage_any);
}
