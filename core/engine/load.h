/* Internals shared by the pipeline loader's files: pipeline.c (top level, stages, executables),
 * load_graph.c (references, topological order, cycles), vars.c (${...} substitution, --set),
 * load_names.c (name index, suggestions) and dag.c. Not part of the engine's public interface. */
#ifndef PZ_LOAD_H
#define PZ_LOAD_H

#include <stddef.h>

#include "engine/pipeline.h"
#include "util/suggest.h"

/* ---- name index: string -> size_t, open addressing on XXH3 ------------------------------- */

/* Keys are borrowed: they must outlive the index. */
typedef struct pz_name_index {
    size_t cap, n;
    const char **keys;
    size_t *vals;
} pz_name_index;

void pz_nidx_init(pz_name_index *ix, size_t expected);
void pz_nidx_free(pz_name_index *ix);
/* Returns 0 when added, 1 when the key was already present (its value is left unchanged). */
int pz_nidx_put(pz_name_index *ix, const char *key, size_t val);
long pz_nidx_get(const pz_name_index *ix, const char *key);


/* ---- positions ----------------------------------------------------------------------------- */

/* Nodes from the file carry their line/col. Nodes built from the k-th --set value carry line 0
 * and col -(k+1), so a message can quote the override instead of a bogus file position. */
typedef struct pz_src {
    const char *file;
    const char *const *origins;   /* file of each pz_ynode.origin (extends chain); origins[0] = file */
    size_t norigins;
    const char *const *sets;
    size_t nsets;
} pz_src;

/* The files an `extends:` chain read, in origin order (load_extends.c). */
typedef struct pz_load_files {
    char **paths;
    size_t n;
} pz_load_files;

/* Load a pipeline file, following `extends:` (merged: maps recursively, other values replace,
 * null deletes). Nodes carry the index of their file in files->paths as their origin. */
pz_ynode *pz_load_extended(const char *path, pz_load_files *files, pz_err *err);
void pz_load_files_free(pz_load_files *files);

/* Set err to "<position of node>: <message>". Always returns -1. */
int pz_src_err(const pz_src *src, const pz_ynode *node, pz_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* *out: node as an integer in 1..max, as YAML 1.2 writes integers (pz_yscalar_long: 0x2 too, not
 * " 2"); otherwise -1 and "<position>: <what> must be a positive integer, got '<text>'". */
int pz_src_positive_long(const pz_src *src, const pz_ynode *node, const char *what, long max, long *out,
                         pz_err *err);

/* ---- --set overrides and ${...} substitution (vars.c) --------------------------------------- */

/* Apply every "dotted.path=value" to doc (a map), in order. */
int pz_apply_sets(pz_ynode *doc, const pz_src *src, pz_err *err);

/* What ${name} can see: the vars substituted so far, the names declared (for a "defined later"
 * hint) and, in a foreach instance, the item. */
typedef struct pz_scope {
    const pz_ynode *vars;      /* map name -> substituted value */
    const pz_ynode *declared;  /* the raw `vars:` map or NULL */
    const pz_ynode *item;      /* NULL outside foreach */
    const char *defining;      /* the var being defined, if any (for "refers to itself") */
} pz_scope;

/* A substituted deep copy of node (map keys are copied verbatim), or NULL with err. */
pz_ynode *pz_subst(const pz_ynode *node, const pz_scope *scope, const pz_src *src, pz_err *err);
/* 1 when some scalar under node has a "${" (pz_subst would change it), 0 when its copy would be
 * node as it is. */
int pz_needs_subst(const pz_ynode *node);

/* A plain scalar `range(first, stop[, step])` becomes the list of those integers (Python's
 * meaning: stop excluded), so `seeds: range(1, 101)` is the seeds 1..100. Anything else is left
 * alone. Used for var values and `foreach:`. */
int pz_expand_range(pz_ynode **node, const pz_src *src, pz_err *err);

/* Substitute the `vars:` map in order (each var sees the ones before it). *out is a new map. */
int pz_build_vars(const pz_ynode *vars, const pz_src *src, pz_ynode **out, pz_err *err);

/* ---- shared helpers ------------------------------------------------------------------------ */

/* Lexically normalised absolute path of rel against the absolute directory base. malloc'd. */
char *pz_path_join_abs(const char *base, const char *rel);
/* Allowed in stage, input and output names. */
int pz_valid_name(const char *s);
/* Stage and output names become file names (results/<pipeline>/<stage>/<output>, scratch
 * out/<output>) of at most 255 bytes: longer names are refused at load, not after a commit.
 * An instance name adds at most a 64-byte foreach label: "<stage>[<label>]" stays under 255. */
#define PZ_MAX_NAME 128
/* 0, or an error at `at` if name is longer than max; what = "stage" or "output". */
int pz_check_name_length(const pz_src *src, const pz_ynode *at, const char *what, const char *name, size_t max,
                         pz_err *err);

/* ---- the loader's working state (pipeline.c builds instances, load_graph.c links them) ------ */

/* The keys of a stage map that each instance reads (pipeline.c, fill_instance). */
enum { PZ_PART_RUN, PZ_PART_PARAMS, PZ_PART_OUTPUTS, PZ_PART_THREADS, PZ_PART_TIMEOUT, PZ_PART_RESOURCES,
       PZ_PART_INPUTS, PZ_NPARTS };

typedef struct pz_base_stage {
    const char *name;          /* the key under stages: (borrowed from the document) */
    const pz_ynode *key, *node;
    /* node's value for each PZ_PART_* (NULL: absent) and whether it has a ${...}: looked up once
     * for all the instances of a foreach stage */
    const pz_ynode *part[PZ_NPARTS];
    int part_subst[PZ_NPARTS];
    int is_foreach;
    size_t first, count;       /* its instances: [first, first + count) in declaration order */
} pz_base_stage;

typedef struct pz_loader {
    pz_src src;
    pz_err *err;
    pz_pipeline *p;
    const char *bin_dir;
    pz_ynode *vars;            /* substituted vars */
    pz_base_stage *bases;
    size_t nbases;
    pz_name_index base_ix;     /* base name -> index into bases */
    pz_stage *st;              /* instances, declaration order (becomes p->stages once sorted) */
    pz_ynode **inputs;         /* per instance: the substituted `inputs:` map or NULL */
    size_t nst, capst;
    pz_name_index inst_ix;     /* instance name -> index into st */
    pz_name_index run_ix;      /* `run` text -> index into run_paths: resolve each executable once */
    char **run_paths, **run_keys;
    size_t nrun;
    pz_input_ref *show;        /* resolved `show:` (declaration-order indices until sorted) */
    size_t nshow;
} pz_loader;

/* load_graph.c: resolve every instance's inputs and the `show:` list, then sort topologically
 * (or report a cycle). On success ld->st is in topological order. */
int pz_link_stages(pz_loader *ld);

/* Free an array of references and their strings. */
void pz_refs_free(pz_input_ref *refs, size_t n);
/* Free the arrays of one stage instance. */
void pz_stage_clear(pz_stage *s);

/* ---- executor: and resources: (load_resources.c) ---- */

/* A stage's `resources:` map into *r (fields it names replace those in *r). */
int pz_load_resources(const pz_src *src, const pz_ynode *n, pz_resources *r, pz_err *err);
void pz_resources_clear(pz_resources *r);
/* `executor: local|slurm`; *out malloc'd. */
int pz_load_executor(const pz_src *src, const pz_ynode *n, char **out, pz_err *err);

#endif
