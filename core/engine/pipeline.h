/* A pipeline file loaded, validated and expanded into a graph of stage instances.
 *
 * This is the contract between the loader (pipeline.c, dag.c) and everything that decides or
 * runs (status, run, cache). The pipeline file format is documented in schemas/pipeline.md.
 * After pz_pipeline_load succeeds the graph is complete and acyclic: every input reference
 * points at an existing output, every executable exists, and `stages` is in a topological
 * order (upstream before downstream, ties broken by declaration order, so it is
 * deterministic). Nothing has been hashed or run yet. */
#ifndef PZ_PIPELINE_H
#define PZ_PIPELINE_H

#include <stddef.h>
#include "util/err.h"
#include "util/ytree.h"

struct pz_name_index;

/* One file an input receives: an upstream stage output, or an external file. */
typedef struct pz_input_ref {
    int is_external;
    char *path;          /* external: absolute path; upstream: NULL */
    size_t stage;        /* upstream: index into pipeline->stages */
    char *output;        /* upstream: output name */
} pz_input_ref;

typedef struct pz_stage_input {
    char *name;
    int is_list;         /* foreach "all instances" (or a YAML list): the stage gets a list of paths */
    size_t nrefs;
    pz_input_ref *refs;
} pz_stage_input;

/* `resources:` of a stage, for the Slurm executor (sbatch options); not in the key: they
 * decide where and how long a stage may run, not what it writes. Checked at load. */
typedef struct pz_resources {
    long cpus;           /* --cpus-per-task; 0: the stage's threads */
    char *mem;           /* --mem, e.g. "4G"; NULL: the site's default */
    char *time;          /* --time, e.g. "30", "2:00:00", "1-00:00:00"; NULL: from timeout:, or the default */
    char *partition;     /* --partition */
    char *account;       /* --account */
} pz_resources;

typedef struct pz_stage {
    char *name;          /* instance name: "split" or "train-base[3]" for foreach instances */
    char *base_name;     /* the name declared in the file: "train-base" */
    char *run;           /* as written ("pzflow-train") */
    char *exe_path;      /* resolved absolute path of the executable */
    pz_ynode *params;    /* params with vars and ${item} substituted; a map (possibly empty) */
    int params_in_doc;   /* params is the pipeline's own node in doc (nothing was substituted):
                            the stage does not free it */
    size_t ninputs;
    pz_stage_input *inputs;  /* sorted by name */
    size_t noutputs;
    char **outputs;          /* sorted by name */
    char **output_exts;      /* parallel to outputs: ".h5" etc. from the stage's description, or NULL
                                (no description, or none declared); names the results files */
    size_t ndeps;
    size_t *deps;            /* distinct upstream stage indices, ascending */
    int line, col;           /* where the stage is declared */
    long threads;            /* requested threads (param-independent `threads:` key), default 1 */
    double timeout_s;        /* `timeout:` wall-clock limit in seconds; 0 = none. Not in the key:
                                it cannot change what a stage writes, only whether it finishes */
    pz_resources resources;
} pz_stage;

typedef struct pz_pipeline {
    char *path;              /* the pipeline file as given */
    char *name;              /* basename without .yaml: names the workspace results/<name>/ */
    char *root_dir;          /* directory relative paths resolve against (the file's directory's parent
                                if it lives in pipelines/, else the file's directory) */
    char *cache_dir;         /* from `cache:` (default <root>/cache) */
    char *workspace_dir;     /* from `workspace:` (default <root>/results/<name>) */
    char *executor;          /* from `executor:`: "local" (the default) or "slurm" */
    size_t nstages;
    pz_stage *stages;        /* topological order */
    pz_ynode *doc;           /* the loaded document after --set overrides, for messages */
    size_t nshow;
    pz_input_ref *show;      /* `show:` outputs, resolved to upstream refs, in the order listed */
    struct pz_name_index *name_index; /* private to the loader: instance name -> index */
    char **files;            /* the files the `extends:` chain read (files[0] = path), for messages */
    size_t nfiles;
    char **sets;             /* the --set overrides, for messages */
    size_t nsets;
} pz_pipeline;

/* Load `path`, apply `--set dotted.path=value` overrides (in order), resolve executables
 * (first `bin_dir`, the directory holding the pzflow binary, then PATH), expand foreach,
 * check everything. On error returns NULL with one message "file:line:col: what". */
pz_pipeline *pz_pipeline_load(const char *path, const char *const *sets, size_t nsets, const char *bin_dir,
                              pz_err *err);
void pz_pipeline_free(pz_pipeline *p);

/* Set err to "<file:line:col of node>: <message>" (or "<file>: --set '...': <message>" for a
 * node an override made), as the loader does. Always returns -1. */
int pz_pipeline_err_at(const pz_pipeline *p, const pz_ynode *node, pz_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Index of a stage instance by name (exact) or -1. */
long pz_pipeline_find(const pz_pipeline *p, const char *name);
/* All instances whose name or base name matches (for --force / --until / why on foreach
 * stages). Returns the count; *out malloc'd. */
size_t pz_pipeline_match(const pz_pipeline *p, const char *name, size_t **out);

/* Graph output: text (one line per stage with its inputs) or Graphviz DOT. malloc'd. */
char *pz_pipeline_dag_text(const pz_pipeline *p);
char *pz_pipeline_dag_dot(const pz_pipeline *p);
/* DOT with each foreach stage drawn once ("train-base ×10") and repeated edges merged: the
 * flow chart of the study rather than every instance (the paper's Figure 4). */
char *pz_pipeline_dag_dot_collapsed(const pz_pipeline *p);
/* DOT flow chart of how `target`'s outputs are made (flow.c): its upstream stages top to bottom,
 * inputs as cylinders, processes as boxes, the target's outputs as released folders, `title`
 * on top. NULL with an error when no stage is named `target`. */
char *pz_pipeline_flow_dot(const pz_pipeline *p, const char *target, const char *title, pz_err *err);

#endif
