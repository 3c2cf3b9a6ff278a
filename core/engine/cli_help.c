/* Per-command help texts. See cli_help.h; the global help is usage_text in cli.c. */
#include "engine/cli_help.h"

#include <string.h>

static const struct {
    const char *cmd, *text;
} helps[] = {
    {"run",
     "usage: pzflow run PIPELINE.yaml [options]\n"
     "\n"
     "Runs every stage that is stale (its key changed, or it never ran), upstream\n"
     "first. A stage whose outputs come out identical stops the rerun there (early\n"
     "cutoff). results/<pipeline>/ is replaced, as a whole, only by a complete run\n"
     "(no failure, no --until). With --set or --name the run is an experiment: its\n"
     "results go to results/<pipeline>@<name>/ and gc keeps it.\n"
     "\n"
     "options:\n"
     "  -j, --jobs N       run up to N stages at once (default 1); BLAS threads are\n"
     "                     shared out\n"
     "  -n, --dry-run      print what would run and why, run nothing\n"
     "  --force STAGE      rerun STAGE even if up to date (repeatable)\n"
     "  --until STAGE      only STAGE and what it depends on\n"
     "  --keep-going       after a failure, keep running the stages that do not\n"
     "                     depend on it\n"
     "  --no-wait          if another run holds the cache, stop instead of waiting\n"
     "  --executor NAME    local (the default) or slurm: each stale stage a Slurm\n"
     "                     job (ready foreach instances one job array); needs the\n"
     "                     cache on a filesystem the nodes share (docs/cluster.md)\n"
     "  --color[=WHEN]     auto (on a terminal, unless NO_COLOR is set), always or\n"
     "                     never\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  --name NAME        the experiment's name (default: a hash of the --sets)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 1 a stage failed, 2 usage or pipeline error, 3 cache busy\n"
     "(--no-wait), 4 cache or filesystem error, 130 interrupted\n"},
    {"status",
     "usage: pzflow status PIPELINE.yaml [--json] [options]\n"
     "\n"
     "One line per stage: ok, stale with the reason, or maybe (runs only if the\n"
     "outputs of an upstream stage change), then whether the results folder shows\n"
     "this configuration. Runs and writes nothing; exits 0 whether stages are stale\n"
     "or not.\n"
     "\n"
     "options:\n"
     "  --json             the report as JSON (names in docs/engine.md)\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  --name NAME        an experiment's name (with its --sets)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error, 4 cache or filesystem error\n"},
    {"why",
     "usage: pzflow why PIPELINE.yaml STAGE [--json] [options]\n"
     "\n"
     "Explains one stage (for a foreach name, each instance): its state and reason,\n"
     "its key, its last run, and every ingredient of the key marked changed or\n"
     "unchanged.\n"
     "\n"
     "options:\n"
     "  --json             the report as JSON (names in docs/engine.md)\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error (no such stage), 4 cache or\n"
     "filesystem error\n"},
    {"dag",
     "usage: pzflow dag PIPELINE.yaml [--dot] [options]\n"
     "\n"
     "Prints the stage graph as text, or as Graphviz DOT.\n"
     "\n"
     "options:\n"
     "  --dot              Graphviz output\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error, 4 cache or filesystem error\n"},
    {"log",
     "usage: pzflow log PIPELINE.yaml STAGE [options]\n"
     "\n"
     "Prints the log (stdout and stderr) of the stage's last run with this cache.\n"
     "\n"
     "options:\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error, 4 cache or filesystem error,\n"
     "5 the stage has no log (it has not run with this cache)\n"},
    {"show",
     "usage: pzflow show PIPELINE.yaml [--json] [options]\n"
     "\n"
     "Prints the outputs the pipeline lists under `show:` (such as the metric table)\n"
     "from the run its results folder shows (its last complete run).\n"
     "\n"
     "options:\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  --name NAME        show an experiment's results\n"
     "  --json             the outputs as JSON, with their paths and text (names in\n"
     "                     docs/engine.md)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error (no `show:` list), 4 cache or\n"
     "filesystem error (a damaged results folder), 5 not run yet (no complete run,\n"
     "or it did not make the output)\n"},
    {"gc",
     "usage: pzflow gc PIPELINE.yaml [options]   or   pzflow gc -C DIR\n"
     "\n"
     "Deletes the cached objects and records that no pipeline or experiment run\n"
     "with this cache reaches, and the leftovers of interrupted writes.\n"
     "\n"
     "options:\n"
     "  -n, --dry-run      print what would be deleted, delete nothing\n"
     "  --experiment NAME  first remove experiment NAME (its index and folder)\n"
     "  --no-wait          if another run holds the cache, stop instead of waiting\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error, 3 cache busy (--no-wait), 4 cache\n"
     "or filesystem error\n"},
    {"diff",
     "usage: pzflow diff PIPELINE.yaml A [B] [options]\n"
     "\n"
     "Params and metrics of two complete runs side by side. A and B are the\n"
     "pipeline's own name (its results folder) or experiment names; B defaults to\n"
     "the pipeline. Metrics are the cells of the `show:` tables that differ.\n"
     "\n"
     "options:\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error (no such run), 4 cache or\n"
     "filesystem error\n"},
    {"provenance",
     "usage: pzflow provenance FILE|HASH [-C DIR]\n"
     "\n"
     "How an output was made: the run that wrote it, its params, its inputs (each\n"
     "with the run that made it, back to external files) and its executables.\n"
     "\n"
     "options:\n"
     "  -C, --cache DIR    the cache to look in (default: found from FILE)\n"
     "\n"
     "exit status: 0 ok, 2 usage error, 4 no run in the cache produced it, or a cache\n"
     "or filesystem error\n"},
    {"export",
     "usage: pzflow export PIPELINE.yaml DIR [options]\n"
     "\n"
     "Copies the files the results folder shows to DIR as real, writable files under\n"
     "the same names, each with its provenance in its header (FITS HISTORY, HDF5\n"
     "attribute, PNG iTXt, SVG comment) and all in DIR/PROVENANCE.txt. DIR must be\n"
     "new, empty, or an earlier export; only files an export wrote are replaced.\n"
     "\n"
     "options:\n"
     "  --name NAME        export experiment NAME's folder instead\n"
     "  --set PATH=VALUE   override a value of the pipeline file (repeatable)\n"
     "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
     "\n"
     "exit status: 0 ok, 2 usage or pipeline error, 4 cache or filesystem error (DIR\n"
     "holds files of yours), 5 not run yet (no complete run to export)\n"},
};

const char *pz_cli_command_help(const char *cmd)
{
    for (size_t k = 0; k < sizeof helps / sizeof *helps; k++)
        if (!strcmp(helps[k].cmd, cmd)) return helps[k].text;
    return NULL;
}
