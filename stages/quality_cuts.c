/* pzflow-quality-cuts SPEC: see docs/catalogue.md; the work is pz_stage_quality_cuts in core/photoz/catalogue.c. */
#include "photoz/catalogue.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_stage_quality_cuts);
}
