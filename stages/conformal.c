/* pzflow-conformal SPEC: split-conformal intervals; docs/uncertainty.md, core/photoz/conformal.c. */
#include "photoz/conformal.h"

int main(int argc, char **argv)
{
    return pz_stage_main(argc, argv, &pz_conformal_stage);
}
