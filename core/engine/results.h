/* The results folder and experiments.
 *
 * `results/<pipeline>/` shows one configuration: the last COMPLETE run of the pipeline file as
 * written (every stage done, no --until, no failure). A run that is not complete leaves the
 * folder exactly as it was and says so. The folder is never updated in place: a new tree is
 * built beside it (`<folder>.new.<pid>`) and swapped in with one rename (renameat2
 * RENAME_EXCHANGE), so a reader sees the old configuration or the new one, never a mix.
 *
 * A run with `--set` overrides that change the configuration, or with `--name NAME`, is an
 * experiment: its folder is `<folder>@<name>` (name: --name, else the first 8 hex digits of the
 * XXH3 of the overrides in the order given), it has its own index in the cache (so the
 * pipeline's index never learns its keys, and gc keeps it until `pzflow gc --experiment NAME`),
 * and its manifest records the overrides. Overrides of `workspace`, `cache`, `show`,
 * `description` and `stages.*.timeout` only say where or how long; they are not experiments.
 *
 * Each folder holds a manifest, `.pzflow-results`, written into the new tree before the swap:
 *
 *     pzflow-results 2                       (1: the layout before output extensions and
 *                                             family folders; read, and rebuilt by the next run)
 *     pipeline <escaped absolute path of the pipeline file>
 *     experiment <escaped name, or ->
 *     set <escaped override>                 (one line per override, in the order given)
 *     finished <ns since the epoch>
 *     stage <escaped instance name> <key>    (one line per stage, in the pipeline's order)
 *
 * `show`, `diff` and `status` read it: `show` prints the outputs of the keys it names (so it
 * prints what the folder shows), `status` warns when its keys differ from what the pipeline
 * would produce now. */
#ifndef PZ_RESULTS_H
#define PZ_RESULTS_H

#include <stdint.h>
#include "engine/status.h"

#define PZ_RESULTS_MANIFEST ".pzflow-results"

typedef struct pz_results_manifest {
    int version;             /* 1 or 2 */
    char *pipeline;          /* absolute path of the pipeline file */
    char *experiment;        /* NULL: the pipeline as written */
    size_t nsets;
    char **sets;             /* the overrides that made the experiment */
    int64_t finished_ns;
    size_t n;
    char **stages;
    char (*keys)[PZ_HASH_HEX];
} pz_results_manifest;

/* 1 when `--set PATH=VALUE` changes what stages compute (an experiment), 0 when it only says
 * where results go or how long a stage may take. */
int pz_set_is_experiment(const char *set);

/* The experiment name for these overrides: `given` (checked: letters, digits, '.', '_', '-',
 * not starting with '.', not the pipeline's own name) or, when NULL and some override is an
 * experiment, 8 hex digits of their hash. *name = NULL: the pipeline as written. */
int pz_experiment_name(const char *pipeline_name, const char *const *sets, size_t nsets, const char *given,
                       char **name, pz_err *err);

/* The folder of a run: the workspace itself, or "<workspace>@<name>". malloc'd. */
char *pz_results_dir(const char *workspace_dir, const char *name);

pz_results_manifest *pz_results_read(const char *dir, pz_err *err);
void pz_results_free(pz_results_manifest *m);
/* Key of `stage` in m, or NULL. */
const char *pz_results_key(const pz_results_manifest *m, const char *stage);

/* Make `dir` show the current records of a complete run of pl. No-op (links repaired in
 * place) when its manifest already names the same keys; otherwise a new tree with the links
 * and the manifest is built beside it and swapped in (leftover "<dir>.new.<pid>" trees of dead
 * runs are swept first; the caller holds the run lock). Anything in the old tree that pzflow did
 * not write (a user's file) is kept: the old tree is then renamed "<dir>.old.<time>" instead
 * of removed, and *note says so. *changed = 1 when the folder now shows another run. */
int pz_results_publish(const char *dir, const pz_plan *pl, const char *pipeline_abs, const char *experiment,
                       const char *const *sets, size_t nsets, int *changed, char **note, pz_err *err);

/* Remove a results folder pzflow made (links, manifest, empty directories); files of the
 * user's are left where they are, and *note (malloc'd, or NULL) says so. */
void pz_results_remove(const char *dir, char **note);

/* Names of the experiments with a results folder beside `workspace_dir`, space-separated
 * ("" when none). malloc'd. */
char *pz_results_experiments(const char *workspace_dir);

/* Stages whose key in m differs from the plan's (cand) key, or that m lacks or has extra.
 * Returns the count; *names gets up to the first three, comma-separated (malloc'd). */
size_t pz_results_mismatch(const pz_results_manifest *m, const pz_plan *pl, char **names);
/* The same stages, all of them: *names (malloc'd array; the strings belong to m and pl). */
size_t pz_results_differing(const pz_results_manifest *m, const pz_plan *pl, const char ***names);

#endif
