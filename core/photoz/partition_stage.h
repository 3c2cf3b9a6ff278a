/* pzflow-partition and pzflow-merge: their declared interfaces and drivers (util/params.h);
 * the work is in partition.h. Params: docs/survey.md. */
#ifndef PZ_PARTITION_STAGE_H
#define PZ_PARTITION_STAGE_H

#include "util/spec.h"

extern const pz_stage_def pz_partition_stage;
extern const pz_stage_def pz_merge_stage;

#endif
