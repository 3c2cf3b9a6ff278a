/* Checking a loaded pipeline against its stages' own descriptions, before anything runs.
 *
 * Every stage executable describes its params, inputs and outputs (`<exe> --describe`, the JSON
 * of util/params.h). pz_pipeline_check asks each executable once and then checks every stage
 * instance: unknown params (with a did-you-mean), wrong types, values out of range or not among
 * the choices, missing required params, unknown or missing inputs and outputs, a list given to
 * a one-file input. A param set by --set is reported as the override it came from. Any of these
 * is a pipeline error (exit 2), found under `run`, `run -n`, `status` and `why` alike.
 *
 * Descriptions are cached by the executable's content hash (the same hash that enters stage
 * keys, from the stat cache) in <cache>/describe/<hash>, so a no-op check costs one small file
 * read per distinct executable and runs nothing. An executable that does not describe itself
 * (a user's own stage, a toy) is remembered as such and its stages are not checked.
 *
 * Files named by params (`path` params, e.g. `schema: my_schema.yaml`) become declared inputs
 * of the stage, named "param:<name>": the path resolves against the pipeline root, the file is
 * hashed through the stat cache like any external input, so its content (not its location) is
 * in the stage key and `status`/`why` say "input param:schema changed". The stage's spec gets
 * the resolved absolute path in place of the param's text (run.c). Values that are one of the
 * param's built-in names (schema `classic`) are not files: they are part of the executable. */
#ifndef PZ_DESCRIBE_H
#define PZ_DESCRIBE_H

#include "engine/pipeline.h"
#include "engine/statcache.h"

/* Input-name prefix of a file named by a param. */
#define PZ_PARAM_INPUT_PREFIX "param:"

/* desc_dir: where descriptions are cached (created if needed; NULL or unwritable: not saved). */
int pz_pipeline_check(pz_pipeline *p, pz_statcache *sc, const char *desc_dir, pz_err *err);

#endif
