/* The catalogue stages' drivers: spec in, files out. Each declares its params once
 * (a table: parsing, --describe and the engine's load-time check come from it), reads its inputs through
 * the spec, runs the library function (cuts.h, xmatch.h, transferz.h, split.h), writes its
 * declared outputs with provenance, and hands back a human-readable summary (malloc'd, may be
 * NULL) for the stage's main to print. On error *summary may still be set (the cut-flow table
 * when no rows survive), to be shown before the one-line reason. Params: docs/catalogue.md. */
#ifndef PZ_CATALOGUE_H
#define PZ_CATALOGUE_H

#include "util/err.h"
#include "util/spec.h"

/* Each stage's declared interface (params, inputs, outputs) and its driver (util/params.h). */
extern const pz_stage_def pz_stage_quality_cuts;
extern const pz_stage_def pz_stage_cross_match;
extern const pz_stage_def pz_stage_build_transferz;
extern const pz_stage_def pz_stage_split;

#endif
