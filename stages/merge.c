/* pzflow-merge SPEC: see docs/survey.md; the work is pz_merge in core/photoz/partition.c. */
#include "photoz/partition_stage.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_merge_stage);
}
