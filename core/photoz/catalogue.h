/* The catalogue stages' drivers: spec in, files out. Each reads its params and inputs through
 * the spec, runs the library function (cuts.h, xmatch.h, transferz.h, split.h), writes its
 * declared outputs with provenance, and hands back a human-readable summary (malloc'd, may be
 * NULL) for the stage's main to print. On error *summary may still be set (the cut-flow table
 * when no rows survive), to be shown before the one-line reason. Params: docs/catalogue.md. */
#ifndef PZ_CATALOGUE_H
#define PZ_CATALOGUE_H

#include "util/err.h"
#include "util/spec.h"

int pz_stage_quality_cuts(const pz_spec *spec, char **summary, pz_err *err);
int pz_stage_cross_match(const pz_spec *spec, char **summary, pz_err *err);
int pz_stage_build_transferz(const pz_spec *spec, char **summary, pz_err *err);
int pz_stage_split(const pz_spec *spec, char **summary, pz_err *err);

#endif
