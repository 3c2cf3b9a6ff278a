/* pzflow-partition SPEC: see docs/survey.md; the work is pz_partition in core/photoz/partition.c. */
#include "photoz/partition_stage.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_partition_stage);
}
