/* Words for shell completion (completions/pzflow.bash, completions/_pzflow) and where pzflow
 * finds its stage executables.
 *
 * `pzflow __complete stages|sets PIPELINE.yaml` prints one word a line: the stage names a
 * pipeline has (as declared, then each foreach instance), or every `--set` path of its document
 * (after `extends:`), each followed by '=', so a shell completes `--set stages.train.params.lr=`.
 * The pipeline is loaded as any command loads it; nothing is hashed and the cache is not touched.
 * On a pipeline that does not load it prints nothing and exits 2: completion must stay silent. */
#ifndef PZ_COMPLETE_H
#define PZ_COMPLETE_H

#include "engine/pipeline.h"

/* Newline-separated words (malloc'd, "" when there are none). */
char *pz_complete_stages(const pz_pipeline *p);
char *pz_complete_sets(const pz_pipeline *p);

/* The directory to search first for stage executables (malloc'd): the installed one,
 * <dir of pzflow>/PZ_STAGE_DIR_FROM_BIN ("../libexec/pzflow" with the GNU layout), when it
 * exists; otherwise the directory of pzflow itself, which is where a build tree has them. */
char *pz_stage_dir(void);

/* `pzflow __complete ...` (argv[0] is "__complete"): prints, returns the exit status. */
int pz_complete_main(int argc, char **argv);

#endif
