/* pzflow-ingest-cosmos2020 SPEC.json: see docs/tables.md; the work is pz_ingest_stage_cosmos2020 in
 * core/photoz/ingest.c. */
#include "photoz/ingest.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_ingest_stage_cosmos2020);
}
