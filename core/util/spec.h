/* The stage spec file: what the scheduler hands a stage executable (`pzflow-<stage> spec.json`).
 *
 * Format (JSON, which is YAML; documented in schemas/spec.md):
 *   { "pzflow_spec": 1,
 *     "stage": "train-base[seed=3]",        instance name, for messages
 *     "threads": 1,                          threads the stage may use (BLAS included)
 *     "params":  { ... any YAML ... },       the stage's params, variables already substituted
 *     "inputs":  { "name": "path" | ["path", ...] },
 *     "outputs": { "name": "path" },
 *     "sources": { "input path": "stage/output" } }   optional; for messages only
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
#include "util/params.h"
#include "util/ytree.h"

typedef struct pz_spec {
    pz_ynode *root;
    char *path;
    const char *stage;
    long threads;
    const pz_ynode *params, *inputs, *outputs;
    const pz_ynode *sources; /* input path -> the pipeline output it is ("ingest-galaxiesml/testing"); may be NULL */
    /* Where a running stage's log lines go (pz_spec_log). Libraries never print (util/err.h):
     * pz_stage_main points this at stdout, which the engine keeps as the stage's log; NULL (a
     * library caller, a test) drops the lines. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} pz_spec;

pz_spec *pz_spec_load(const char *path, pz_err *err);
void pz_spec_free(pz_spec *spec);
/* One line of the stage's log (no trailing newline needed), handed to spec->log. */
void pz_spec_log(const pz_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Params, by dotted path ("optimizer.lr", "cuts.0"). */
const pz_ynode *pz_spec_param(const pz_spec *spec, const char *key);
int pz_spec_str(const pz_spec *spec, const char *key, const char **out, pz_err *err);
int pz_spec_double(const pz_spec *spec, const char *key, double *out, pz_err *err);
int pz_spec_long(const pz_spec *spec, const char *key, long *out, pz_err *err);
int pz_spec_bool(const pz_spec *spec, const char *key, int *out, pz_err *err);
/* A list of strings (a single scalar counts as a one-item list). *out is malloc'd (the
 * strings are owned by the spec). */
int pz_spec_strlist(const pz_spec *spec, const char *key, const char ***out, size_t *n, pz_err *err);
/* Check the params against the stage's table without storing them (pz_params_read does both). */
int pz_params_validate_spec(const pz_spec *spec, const pz_param_def *defs, pz_err *err);

/* Exactly one path for an input / output, or an error naming what is missing. */
int pz_spec_input(const pz_spec *spec, const char *name, const char **path, pz_err *err);
int pz_spec_output(const pz_spec *spec, const char *name, const char **path, pz_err *err);
/* One or many paths for an input (foreach "all instances" gives a list). *paths malloc'd. */
int pz_spec_inputs(const pz_spec *spec, const char *name, const char ***paths, size_t *n, pz_err *err);
int pz_spec_has_input(const pz_spec *spec, const char *name);
/* The pipeline output an input path is, for messages ("ingest-galaxiesml/testing"), or NULL
 * when the spec does not say (an external file, a hand-written spec). */
const char *pz_spec_source(const pz_spec *spec, const char *path);
/* Rewrite every input path in an error message as the pipeline output it is: a user knows
 * `ingest-galaxiesml/testing`, not `/…/cache/objects/ab/…`. pz_stage_main does this for every
 * stage before it prints. */
void pz_spec_name_sources(const pz_spec *spec, pz_err *err);
/* Whether the pipeline declared an optional output (the engine passes only declared ones). */
int pz_spec_has_output(const pz_spec *spec, const char *name);

/* The writer, kept here so that one file owns the format (the engine builds a spec for each
 * stage it starts; core/engine/run.c). Fill it in the order the format lists its sections;
 * pz_spec_writer_json returns the file's bytes (sorted keys, two-space indent) and frees the
 * writer. Keys are sorted so the bytes depend on content only, never on insertion order. */
#define PZ_SPEC_FORMAT 1
typedef struct pz_spec_writer pz_spec_writer;
/* Takes ownership of `params` (a map, or NULL for none). */
pz_spec_writer *pz_spec_writer_new(const char *stage, long threads, pz_ynode *params);
/* A file named by a param: the stage reads the resolved path in params.NAME. */
void pz_spec_writer_param_path(pz_spec_writer *w, const char *name, const char *path);
void pz_spec_writer_input(pz_spec_writer *w, const char *name, const char *path);
void pz_spec_writer_input_list(pz_spec_writer *w, const char *name, const char *const *paths, size_t n);
void pz_spec_writer_output(pz_spec_writer *w, const char *name, const char *path);
/* What an input path is in the pipeline ("stage/output"), for the stage's error messages. */
void pz_spec_writer_source(pz_spec_writer *w, const char *path, const char *name);
char *pz_spec_writer_json(pz_spec_writer *w);

/* Check the spec's params against the stage's table (names with a did-you-mean, types, ranges,
 * choices, required ones) and store each declared field into `out` (the stage's typed struct),
 * defaults first: the one place a stage reads its params. Release frees what it allocated. */
int pz_params_read(const pz_spec *spec, const pz_param_def *defs, void *out, pz_err *err);
void pz_params_release(const pz_param_def *defs, void *out);

/* The one main of every stage executable (each stages/NAME.c is one line):
 *   prog --describe    print the stage's description as JSON (util/params.h), exit 0;
 *   prog --help        the same for people, exit 0;
 *   prog SPEC.json     load the spec, read the params into def->params_size bytes (or pass NULL
 *                      when 0), run, print the summary the run leaves (stdout on success; stderr
 *                      on failure, where it explains the error, e.g. a cut-flow table), and
 *                      exit 0, 1 (error) or 2 (usage). */
int pz_stage_main(int argc, char **argv, const pz_stage_def *def);

#endif
