/* The stage spec file: what the scheduler hands a stage executable (`pzflow-<stage> spec.json`).
 *
 * Format (JSON, which is YAML; documented in schemas/spec.md):
 *   { "pzflow_spec": 1,
 *     "stage": "train-base[seed=3]",        instance name, for messages
 *     "threads": 1,                          threads the stage may use (BLAS included)
 *     "params":  { ... any YAML ... },       the stage's params, variables already substituted
 *     "inputs":  { "name": "path" | ["path", ...] },
 *     "outputs": { "name": "path" } }
 *
 * No key, input hash or time is handed to a stage: an output can then only depend on what its
 * inputs, params and code determine (early cutoff works), and provenance lives in the run
 * records (`pzflow provenance FILE`, core/engine/provenance.c).
 *
 * Accessors return 0 when the value was found (and *out set), 1 when absent (*out untouched,
 * so callers preset defaults), -1 on a wrong type (err names the key and the value). */
#ifndef PZ_SPEC_H
#define PZ_SPEC_H

#include <stddef.h>
#include "util/err.h"
#include "util/ytree.h"

typedef struct pz_spec {
    pz_ynode *root;
    char *path;
    const char *stage;
    long threads;
    const pz_ynode *params, *inputs, *outputs;
} pz_spec;

pz_spec *pz_spec_load(const char *path, pz_err *err);
void pz_spec_free(pz_spec *spec);

/* Params, by dotted path ("optimizer.lr", "cuts.0"). */
const pz_ynode *pz_spec_param(const pz_spec *spec, const char *key);
int pz_spec_str(const pz_spec *spec, const char *key, const char **out, pz_err *err);
int pz_spec_double(const pz_spec *spec, const char *key, double *out, pz_err *err);
int pz_spec_long(const pz_spec *spec, const char *key, long *out, pz_err *err);
int pz_spec_bool(const pz_spec *spec, const char *key, int *out, pz_err *err);
/* A list of strings (a single scalar counts as a one-item list). *out is malloc'd (the
 * strings are owned by the spec). */
int pz_spec_strlist(const pz_spec *spec, const char *key, const char ***out, size_t *n, pz_err *err);
/* Error listing every top-level param not in `allowed` (NULL-terminated): catches typos. */
int pz_spec_check_params(const pz_spec *spec, const char *const *allowed, pz_err *err);

/* Exactly one path for an input / output, or an error naming what is missing. */
int pz_spec_input(const pz_spec *spec, const char *name, const char **path, pz_err *err);
int pz_spec_output(const pz_spec *spec, const char *name, const char **path, pz_err *err);
/* One or many paths for an input (foreach "all instances" gives a list). *paths malloc'd. */
int pz_spec_inputs(const pz_spec *spec, const char *name, const char ***paths, size_t *n, pz_err *err);
int pz_spec_has_input(const pz_spec *spec, const char *name);

/* The whole main of a stage executable whose work is one library call: `prog SPEC.json`, load the
   spec, run, print the summary the run leaves (stdout on success; stderr on failure, where it
   explains the error, e.g. a cut-flow table), and exit 0, 1 (error) or 2 (usage). */
int pz_stage_main(int argc, char **argv, const char *prog, int (*run)(const pz_spec *spec, char **summary, pz_err *err));

#endif
