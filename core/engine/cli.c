#include "engine/cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/cli_help.h"
#include "engine/complete.h"
#include "engine/describe.h"
#include "engine/display.h"
#include "engine/diff.h"
#include "engine/gc.h"
#include "engine/lock.h"
#include "engine/pipeline.h"
#include "engine/export.h"
#include "engine/provenance.h"
#include "engine/report_json.h"
#include "engine/results.h"
#include "engine/run.h"
#include "engine/status.h"

/* At most 80 columns a line (tests/test_cli_help.sh); the man page is made from it and from each
 * command's help (cmake/man_page.cmake). */
static const char usage_text[] =
    "usage: pzflow <command> PIPELINE.yaml [options]\n"
    "       pzflow <command> --help   (that command's options and exit statuses)\n"
    "\n"
    "commands:\n"
    "  run            run every stale stage (the command is required)\n"
    "  status         list stages: up to date, stale (and why), or waiting upstream\n"
    "  why STAGE      explain one stage: its key, what changed since its last run\n"
    "  dag            print the stage graph (--dot: Graphviz)\n"
    "  log STAGE      print the log of the stage's last run\n"
    "  show           print the `show:` outputs of the run its results folder holds\n"
    "  diff A [B]     params and metrics of two runs side by side: the pipeline's\n"
    "                 own name (its results folder) or experiment names (B defaults\n"
    "                 to the pipeline)\n"
    "  gc             delete cached objects and records no pipeline or experiment\n"
    "                 reaches\n"
    "  provenance FILE|HASH  how an output was made: runs, params, inputs, programs\n"
    "  export DIR     copy the results folder's files to DIR as real files, with\n"
    "                 their provenance in their headers (--name NAME: an experiment)\n"
    "  predict MODEL CATALOG -o OUT  redshifts for a catalogue with a trained model\n"
    "                 (FITS, HDF5, CSV in; the format of OUT by its extension)\n"
    "\n"
    "options:\n"
    "  -j, --jobs N       run up to N stages at once (default 1); BLAS threads are\n"
    "                     shared out\n"
    "  -n, --dry-run      print what would run and why, run nothing (gc: what would\n"
    "                     be deleted)\n"
    "  --force STAGE      rerun STAGE even if up to date (a foreach name: every\n"
    "                     instance)\n"
    "  --until STAGE      only STAGE and what it depends on\n"
    "  --set PATH=VALUE   override a value of the pipeline file\n"
    "                     (stages.train.params.lr=1e-4); a run with overrides is an\n"
    "                     experiment, results in results/<pipeline>@<name>/\n"
    "  --name NAME        the experiment's name (default: 8 hex digits of a hash of\n"
    "                     the overrides)\n"
    "  --experiment NAME  (gc) remove experiment NAME (its index and results folder)\n"
    "                     first\n"
    "  --keep-going       after a failure, keep running what does not depend on it\n"
    "  --no-wait          if another run holds the cache, stop instead of waiting\n"
    "  --executor NAME    (run) local (the default) or slurm: each stale stage a\n"
    "                     Slurm job, run on a shared filesystem (docs/cluster.md)\n"
    "  -C, --cache DIR    use this cache directory instead of the pipeline's\n"
    "  --dot              (dag) Graphviz output\n"
    "  --json             (status, why, show) the report as JSON, for scripts\n"
    "  --color[=WHEN]     colour the run display: auto (the default: on a terminal\n"
    "                     unless NO_COLOR is set), always or never\n"
    "  --version, --help\n"
    "\n"
    "exit status: 0 ok, 1 a stage failed, 2 usage or pipeline error, 3 cache busy\n"
    "(--no-wait), 4 cache or filesystem error, 5 not run yet (show, log),\n"
    "130 interrupted\n";

typedef struct opts {
    const char *cmd, *pipeline, *stage, *arg2, *cache_dir, *until, *name, *drop_experiment, *color, *executor;
    long jobs;
    int jobs_given;
    int dry_run, no_wait, keep_going, dot, json;
    const char **sets, **forces;
    size_t nsets, nforces;
} opts;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("pzflow: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(pzflow --help for usage)\n", stderr);
    return PZ_EXIT_USAGE;
}

static const char *need_value(int argc, char **argv, int *i)
{
    const char *a = argv[*i], *eq = strchr(a, '=');
    if (a[0] == '-' && a[1] == '-' && eq) return eq + 1;
    if (a[0] == '-' && a[1] != '-' && a[2]) return a + 2; /* -j4 */
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

static int is_opt(const char *a, const char *s, const char *l)
{
    size_t n = l ? strlen(l) : 0;
    if (s && (!strcmp(a, s) || (strncmp(a, s, 2) == 0 && s[1] != '-' && a[1] == s[1] && a[2] && a[1] != '-')))
        return 1;
    return l && !strncmp(a, l, n) && (a[n] == 0 || a[n] == '=');
}

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->sets = pz_xcalloc((size_t)argc, sizeof *o->sets);
    o->forces = pz_xcalloc((size_t)argc, sizeof *o->forces);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { /* after a command: that command's help */
            const char *text = o->cmd ? pz_cli_command_help(o->cmd) : NULL;
            return fputs(text ? text : usage_text, stdout), -1;
        }
        if (!strcmp(a, "--version")) return printf("pzflow %s\n", PZ_VERSION), -1;
        if (is_opt(a, "-j", "--jobs")) {
            char *end;
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs a number", a);
            o->jobs = strtol(v, &end, 10);
            if (*end || o->jobs < 1) return usage_error("-j needs a positive number, got '%s'", v);
            o->jobs_given = 1;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--dry-run")) o->dry_run = 1;
        else if (!strcmp(a, "--no-wait")) o->no_wait = 1;
        else if (!strcmp(a, "--keep-going") || !strcmp(a, "-k")) o->keep_going = 1;
        else if (!strcmp(a, "--dot")) o->dot = 1;
        else if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--color")) o->color = "always";
        else if (!strncmp(a, "--color=", 8)) {
            o->color = a + 8;
            if (strcmp(o->color, "auto") && strcmp(o->color, "always") && strcmp(o->color, "never"))
                return usage_error("--color takes auto, always or never, got '%s'", o->color);
        }
        else if (is_opt(a, NULL, "--force")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs a stage name", a);
            o->forces[o->nforces++] = v;
        } else if (is_opt(a, NULL, "--until")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs a stage name", a);
            o->until = v;
        } else if (is_opt(a, NULL, "--set")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs PATH=VALUE", a);
            o->sets[o->nsets++] = v;
        } else if (is_opt(a, NULL, "--name")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs a name", a);
            o->name = v;
        } else if (is_opt(a, NULL, "--experiment")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs an experiment name", a);
            o->drop_experiment = v;
        } else if (is_opt(a, NULL, "--executor")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs local or slurm", a);
            if (strcmp(v, "local") && strcmp(v, "slurm")) return usage_error("--executor takes local or slurm, got '%s'", v);
            o->executor = v;
        } else if (is_opt(a, "-C", "--cache")) {
            if (!(v = need_value(argc, argv, &i))) return usage_error("%s needs a directory", a);
            o->cache_dir = v;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (!o->cmd) o->cmd = a;
        else if (!o->pipeline) o->pipeline = a;
        else if (!o->stage) o->stage = a;
        else if (!o->arg2) o->arg2 = a;
        else return usage_error("unexpected argument '%s'", a);
    }
    if (!o->cmd) return fputs(usage_text, stderr), PZ_EXIT_USAGE;
    const char *cmds[] = {"run", "status", "why", "dag", "log", "show", "gc", "provenance", "diff", "export"};
    int known = 0;
    for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++) known |= !strcmp(o->cmd, cmds[k]);
    if (!known) return usage_error("unknown command '%s' (run, status, why, dag, log, show, diff, gc, provenance, export)",
                                  o->cmd);
    if (!strcmp(o->cmd, "provenance") && !o->pipeline)
        return usage_error("%s needs a file or object hash: pzflow provenance results/p/stage/output", o->cmd);
    if (!o->pipeline && !(o->cmd[0] == 'g' && o->cache_dir))
        return usage_error("%s needs a pipeline file: pzflow <command> PIPELINE.yaml", o->cmd);
    int takes_stage = !strcmp(o->cmd, "why") || !strcmp(o->cmd, "log") || !strcmp(o->cmd, "diff") ||
                      !strcmp(o->cmd, "export");
    if (takes_stage && !o->stage)
        return usage_error(!strcmp(o->cmd, "export") ? "%s needs a folder to copy into: pzflow export PIPELINE.yaml DIR"
                           : strcmp(o->cmd, "diff")  ? "%s needs a stage name"
                                                     : "%s needs one or two run names: the pipeline's name or an experiment's",
                           o->cmd);
    /* `pzflow run a.yaml b.yaml` would otherwise run a.yaml alone, silently. */
    if (!takes_stage && o->stage) {
        fprintf(stderr, "pzflow: unexpected argument '%s': %s takes one %s\n(pzflow --help for usage)\n", o->stage,
                o->cmd, strcmp(o->cmd, "provenance") ? "pipeline file" : "file or object hash");
        return PZ_EXIT_USAGE;
    }
    if (o->arg2 && strcmp(o->cmd, "diff")) return usage_error("unexpected argument '%s'", o->arg2);
    if (o->drop_experiment && strcmp(o->cmd, "gc")) return usage_error("%s: --experiment is an option of gc", o->cmd);
    if (o->executor && strcmp(o->cmd, "run")) return usage_error("%s: --executor is an option of run", o->cmd);
    return 0;
}

/* ---- shared set-up ---- */

typedef struct session {
    pz_pipeline *p;
    pz_cache cache;
    pz_statcache *sc;
    pz_index *index;
    char *index_path, *abs_pipeline;
    char *experiment;         /* NULL: the pipeline as written */
    const char **exp_sets;    /* the overrides that make the experiment */
    size_t nexp_sets;
    char *results_dir;        /* results/<pipeline>/ or results/<pipeline>@<experiment>/ */
    char *results_shown;      /* the same for messages: relative to the working directory when inside it */
    pz_plan *plan;
    pz_lock lock;             /* run: held from before the index and stat cache are read until they are saved */
} session;

/* Where the stage executables are: beside pzflow in a build tree, libexec/pzflow once installed. */
static char *bin_dir(void) { return pz_stage_dir(); }

/* Mistakes fail here, before anything runs and before a run waits for the lock (describe.h).
 * The stat cache used for the executables' hashes is a private read-only copy: the one a run
 * saves is read only once the lock is held (load_state). */
static int check_pipeline(session *s)
{
    pz_err err;
    char *scpath = pz_cache_statcache_path(&s->cache);
    pz_statcache *sc = pz_statcache_open(pz_fs_real(), scpath);
    free(scpath);
    char *desc_dir = pz_xasprintf("%s/describe", s->cache.dir);
    /* Descriptions are saved, like the stat cache, only into a cache with its marker. */
    int checked = pz_pipeline_check(s->p, sc, s->cache.marked && access(s->cache.dir, W_OK) == 0 ? desc_dir : NULL, &err);
    free(desc_dir);
    pz_statcache_free(sc);
    if (checked < 0) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        return PZ_EXIT_USAGE;
    }
    return 0;
}

/* Which configuration this command is about: the pipeline as written, or an experiment. */
static int pick_experiment(session *s, const opts *o)
{
    pz_err err;
    if (pz_experiment_name(s->p->name, o->sets, o->nsets, o->name, &s->experiment, &err) < 0) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        return PZ_EXIT_USAGE;
    }
    s->exp_sets = pz_xcalloc(o->nsets ? o->nsets : 1, sizeof *s->exp_sets);
    for (size_t k = 0; k < o->nsets; k++)
        if (pz_set_is_experiment(o->sets[k])) s->exp_sets[s->nexp_sets++] = o->sets[k];
    s->results_dir = pz_results_dir(s->p->workspace_dir, s->experiment);
    char cwd[PATH_MAX];
    size_t n = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    int inside = n && !strncmp(s->results_dir, cwd, n) && s->results_dir[n] == '/';
    s->results_shown = pz_xstrdup(inside ? s->results_dir + n + 1 : s->results_dir);
    return 0;
}

/* The pipeline and the cache: everything a command needs before it may take the lock. */
static int open_session(session *s, const opts *o, int create_cache)
{
    memset(s, 0, sizeof *s);
    s->lock.fd = -1;
    pz_err err;
    char *bins = bin_dir();
    s->p = pz_pipeline_load(o->pipeline, o->sets, o->nsets, bins, &err);
    free(bins);
    if (!s->p) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        return PZ_EXIT_USAGE;
    }
    const char *dir = o->cache_dir ? o->cache_dir : s->p->cache_dir;
    if (pz_cache_open(&s->cache, dir, create_cache, &err) < 0) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        return PZ_EXIT_CACHE;
    }
    s->abs_pipeline = realpath(s->p->path, NULL);
    if (!s->abs_pipeline) s->abs_pipeline = pz_xstrdup(s->p->path);
    int rc = pick_experiment(s, o);
    if (rc) return rc;
    /* An experiment has its own index ("<pipeline>@<name>"), so its keys never replace the
     * pipeline's and gc keeps them as roots until the experiment is removed. */
    char *id = s->experiment ? pz_xasprintf("%s@%s", s->abs_pipeline, s->experiment) : pz_xstrdup(s->abs_pipeline);
    s->index_path = pz_cache_index_path(&s->cache, id);
    free(id);
    return check_pipeline(s);
}

/* The index and the stat cache. A run reads them only once it holds the lock: read before,
 * they could be older than what the run it waited for wrote, and saving them would put the
 * older state back. */
static pz_index *read_index(const char *path)
{
    pz_err err;
    pz_index *ix = NULL;
    char *text = pz_read_file(path, NULL, &err);
    if (text) ix = pz_index_parse(text, path, &err);
    if (text && !ix) fprintf(stderr, "pzflow: warning: ignoring damaged index: %s\n", err.msg);
    free(text);
    return ix;
}

static void load_state(session *s)
{
    s->index = read_index(s->index_path);
    if (!s->index && s->experiment) {
        /* A new experiment starts from the pipeline's own last run, so status and run explain
         * it as a change ("param lr changed 1e-4 -> 5e-5"), not as "never run". The folder
         * keys are the pipeline's, not the experiment's. */
        char *base = pz_cache_index_path(&s->cache, s->abs_pipeline);
        s->index = read_index(base);
        free(base);
        if (s->index) pz_index_set_results(s->index, NULL, 0);
    }
    if (!s->index) s->index = pz_index_new(s->abs_pipeline);
    if (strcmp(s->index->pipeline, s->abs_pipeline)) {
        free(s->index->pipeline);
        s->index->pipeline = pz_xstrdup(s->abs_pipeline);
    }
    char *scpath = pz_cache_statcache_path(&s->cache);
    s->sc = pz_statcache_open(pz_fs_real(), scpath);
    free(scpath);
    s->plan = pz_plan_new(s->p, pz_fs_real(), &s->cache, s->sc, s->index);
}

/* The session ends with the process. An optimised build leaves the plan, the index and the
 * pipeline (400,000 blocks for 3,000 stage instances) to the exit, which returns their memory at
 * once: freeing them block by block was 13% of a no-op run of 1,000 survey parts (issue 14).
 * Builds that look for leaks free them, so the free functions stay checked end to end: Debug
 * (scripts/valgrind.sh) and sanitizer builds (setup.sh asan), as git's UNLEAK does. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PZ_ASAN 1
#endif
#endif
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(PZ_ASAN)
#define PZ_FREE_AT_EXIT 0
#else
#define PZ_FREE_AT_EXIT 1
#endif

static void close_session(session *s)
{
    pz_err err;
    /* Only into a cache with its marker: never a new file in a directory that is not one. */
    if (s->sc && s->cache.marked && access(s->cache.dir, W_OK) == 0) pz_statcache_save(s->sc, &err);
    pz_lock_release(&s->lock); /* after the stat cache is saved: the lock covers it too */
#if PZ_FREE_AT_EXIT
    pz_plan_free(s->plan);
    pz_statcache_free(s->sc);
    pz_index_free(s->index);
    pz_cache_close(&s->cache);
    pz_pipeline_free(s->p);
#endif
    free(s->index_path);
    free(s->abs_pipeline);
    free(s->experiment);
    free(s->exp_sets);
    free(s->results_dir);
    free(s->results_shown);
}

/* Stage instances for a user-given name, or a message listing what exists. */
static size_t match_stage(const pz_pipeline *p, const char *name, size_t **out)
{
    size_t n = pz_pipeline_match(p, name, out);
    if (n) return n;
    fprintf(stderr, "pzflow: no stage '%s' in %s; stages:", name, p->path);
    for (size_t i = 0; i < p->nstages && i < 30; i++) fprintf(stderr, " %s", p->stages[i].name);
    fputs(p->nstages > 30 ? " ...\n" : "\n", stderr);
    return 0;
}

/* ---- commands ---- */

static const char *state_word(pz_state s)
{
    return s == PZ_UP_TO_DATE ? "ok" : s == PZ_STALE ? "stale" : s == PZ_MAYBE ? "maybe" : "?";
}

static void format_time(int64_t ns, char *out, size_t size)
{
    time_t t = (time_t)(ns / 1000000000);
    strftime(out, size, "%Y-%m-%d %H:%M:%S", localtime(&t));
}

/* status: does the results folder show what the pipeline (or experiment) would produce now?
 * Fills *v (free v->differs) and returns the manifest read, or NULL. */
static pz_results_manifest *judge_results_folder(session *s, pz_results_view *v, pz_err *err)
{
    *v = (pz_results_view){.folder = s->results_shown, .state = "none"};
    char *path = pz_xasprintf("%s/%s", s->results_dir, PZ_RESULTS_MANIFEST);
    int missing = access(path, F_OK) < 0;
    free(path);
    if (missing) return NULL;
    pz_results_manifest *m = pz_results_read(s->results_dir, err);
    if (!m) {
        v->state = "unreadable", v->error = err->msg;
        return NULL;
    }
    v->ndiffers = pz_results_differing(m, s->plan, &v->differs);
    v->state = v->ndiffers ? "differs" : "matches";
    v->finished_ns = m->finished_ns;
    return m;
}

static void report_results_folder(session *s)
{
    pz_err err;
    pz_results_view v;
    pz_results_manifest *m = judge_results_folder(s, &v, &err);
    if (!m) {
        if (!v.error) printf("results: %s holds no complete run yet (the first complete run makes it)\n", s->results_shown);
        else printf("warning: results folder %s cannot be read: %s\n", s->results_shown, v.error);
        return;
    }
    char *names, when[64];
    size_t n = pz_results_mismatch(m, s->plan, &names);
    format_time(m->finished_ns, when, sizeof when);
    if (n)
        printf("warning: %s does not match %s: %zu %s (%s%s); it shows the complete run of %s; a "
               "complete `pzflow run` updates it\n",
               s->results_shown, s->p->path, n, n == 1 ? "stage differs" : "stages differ", names, n > 3 ? ", ..." : "", when);
    else
        printf("results: %s shows this configuration (complete run of %s)\n", s->results_shown, when);
    free(names);
    free(v.differs);
    pz_results_free(m);
}

static void print_status_json(session *s)
{
    pz_err err;
    pz_results_view v;
    pz_results_manifest *m = judge_results_folder(s, &v, &err);
    char *json = pz_status_json(s->plan, &v);
    fputs(json, stdout);
    free(json);
    free(v.differs);
    pz_results_free(m);
}

static int cmd_status(session *s, const opts *o)
{
    pz_err err;
    if (pz_plan_judge_all(s->plan, &err) < 0) return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_USAGE;
    if (o->json && !strcmp(o->cmd, "status")) {
        print_status_json(s);
        return PZ_EXIT_OK;
    }
    size_t counts[4] = {0};
    for (size_t i = 0; i < s->p->nstages; i++) {
        pz_state st = s->plan->state[i];
        counts[st]++;
        if (o->dry_run || !strcmp(o->cmd, "run")) {
            if (st == PZ_STALE) printf("would run %s: %s\n", s->p->stages[i].name, s->plan->reason[i]);
            else if (st == PZ_MAYBE) printf("may run   %s: %s\n", s->p->stages[i].name, s->plan->reason[i]);
            continue;
        }
        printf("%-6s %s%s%s\n", state_word(st), s->p->stages[i].name, s->plan->reason[i] ? ": " : "",
               s->plan->reason[i] ? s->plan->reason[i] : "");
    }
    printf("%zu stale, %zu waiting on upstream, %zu up to date\n", counts[PZ_STALE], counts[PZ_MAYBE],
           counts[PZ_UP_TO_DATE]);
    if (!o->dry_run && strcmp(o->cmd, "run")) report_results_folder(s);
    return PZ_EXIT_OK;
}

static int cmd_why(session *s, const opts *o)
{
    size_t *idx = NULL, n = match_stage(s->p, o->stage, &idx);
    if (!n) return PZ_EXIT_USAGE;
    pz_err err;
    if (pz_plan_judge_all(s->plan, &err) < 0) {
        free(idx);
        return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_USAGE;
    }
    if (o->json) {
        char *json = pz_why_json(s->plan, idx, n);
        fputs(json, stdout);
        free(json);
    }
    for (size_t k = 0; !o->json && k < n; k++) {
        char *text = pz_plan_why(s->plan, idx[k]);
        fputs(text, stdout);
        free(text);
    }
    free(idx);
    return PZ_EXIT_OK;
}

static int print_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "pzflow: cannot read %s: %s\n", path, strerror(errno)), -1;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

static int cmd_log(session *s, const opts *o)
{
    size_t *idx = NULL, n = match_stage(s->p, o->stage, &idx);
    if (!n) return PZ_EXIT_USAGE;
    int rc = PZ_EXIT_OK;
    for (size_t k = 0; k < n; k++) {
        const char *name = s->p->stages[idx[k]].name;
        const pz_index_entry *e = pz_index_get(s->index, name);
        if (!e || !e->log_hash[0]) {
            fprintf(stderr, "pzflow: no log for %s: it has not run with this cache\n", name);
            rc = PZ_EXIT_NOT_RUN;
            continue;
        }
        if (n > 1) printf("==> %s <==\n", name);
        char *path = pz_cache_object_path(&s->cache, e->log_hash);
        if (print_file(path) < 0) rc = PZ_EXIT_CACHE;
        free(path);
    }
    free(idx);
    return rc;
}

/* Where the k-th `show:` output of the run in manifest m is; PZ_EXIT_NOT_RUN when that run did
 * not make it. out->path is malloc'd. */
static int find_shown(session *s, const pz_results_manifest *m, size_t k, pz_shown *out)
{
    const pz_input_ref *ref = &s->p->show[k];
    memset(out, 0, sizeof *out);
    if (ref->is_external) {
        out->path = pz_xstrdup(ref->path);
        return PZ_EXIT_OK;
    }
    const char *stage = s->p->stages[ref->stage].name;
    const char *key = pz_results_key(m, stage);
    pz_record *r = key ? pz_plan_read_record(s->plan, key) : NULL;
    const char *h = r ? pz_record_output(r, ref->output) : NULL;
    if (!h) {
        fprintf(stderr, "pzflow: %s/%s is not in %s: run `pzflow run %s` first\n", stage, ref->output, s->results_shown,
                s->p->path);
        pz_record_free(r);
        return PZ_EXIT_NOT_RUN;
    }
    out->stage = stage;
    out->output = ref->output;
    out->hash = pz_xstrdup(h); /* the record owns h */
    out->path = pz_cache_object_path(&s->cache, h);
    pz_record_free(r);
    return PZ_EXIT_OK;
}

static void shown_free(pz_shown *v, size_t n)
{
    for (size_t k = 0; k < n; k++) free((char *)v[k].hash), free((char *)v[k].path), free((char *)v[k].text);
    free(v);
}

/* The file as a string, or NULL when it holds a NUL byte (not text); -1 when unreadable. */
static int read_text(const char *path, const char **text)
{
    pz_err err;
    size_t len;
    char *t = pz_read_file(path, &len, &err);
    if (!t) return fprintf(stderr, "pzflow: %s\n", err.msg), -1;
    if (memchr(t, 0, len)) free(t), t = NULL;
    *text = t;
    return 0;
}

static int show_outputs(session *s, const pz_results_manifest *m, int json)
{
    size_t n = s->p->nshow;
    pz_shown *v = pz_xcalloc(n, sizeof *v);
    int rc = PZ_EXIT_OK;
    for (size_t k = 0; k < n && rc == PZ_EXIT_OK; k++) {
        rc = find_shown(s, m, k, &v[k]);
        if (rc != PZ_EXIT_OK || json) continue;
        if (n > 1 && v[k].stage) printf("==> %s/%s <==\n", v[k].stage, v[k].output);
        else if (n > 1) printf("==> %s <==\n", v[k].path);
        if (print_file(v[k].path) < 0) rc = PZ_EXIT_CACHE;
    }
    for (size_t k = 0; json && k < n && rc == PZ_EXIT_OK; k++)
        if (read_text(v[k].path, &v[k].text) < 0) rc = PZ_EXIT_CACHE;
    if (json && rc == PZ_EXIT_OK) { /* all or nothing: a script must not parse half a report */
        char *text = pz_show_json(s->p->path, s->results_shown, v, n);
        fputs(text, stdout);
        free(text);
    }
    shown_free(v, n);
    return rc;
}

static int cmd_show(session *s, const opts *o)
{
    if (!s->p->nshow) {
        fprintf(stderr, "pzflow: %s has no `show:` list of outputs to print\n", s->p->path);
        return PZ_EXIT_USAGE;
    }
    pz_err err;
    /* What the results folder shows, not what the index last saw: an incomplete run since
     * then must not make show print a table of another configuration. */
    char *manifest = pz_xasprintf("%s/%s", s->results_dir, PZ_RESULTS_MANIFEST);
    int missing = access(manifest, F_OK) < 0 && errno == ENOENT;
    free(manifest);
    pz_results_manifest *m = pz_results_read(s->results_dir, &err);
    if (!m && missing) {
        fprintf(stderr, "pzflow: %s holds no complete run yet: run `pzflow run %s%s` first\n", s->results_shown,
                s->p->path, s->experiment ? " ..." : "");
        return PZ_EXIT_NOT_RUN;
    }
    if (!m) return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_CACHE;
    int rc = show_outputs(s, m, o->json);
    pz_results_free(m);
    return rc;
}

/* `pzflow export PIPELINE DIR [--name NAME]`: the results folder's files, copied (export.h). */
static int cmd_export(session *s, const opts *o)
{
    char *manifest = pz_xasprintf("%s/%s", s->results_dir, PZ_RESULTS_MANIFEST);
    int missing = access(manifest, F_OK) < 0 && errno == ENOENT;
    free(manifest);
    if (missing) {
        fprintf(stderr, "pzflow: %s holds no complete run yet: run `pzflow run %s` first\n", s->results_shown,
                s->p->path);
        return PZ_EXIT_NOT_RUN;
    }
    char *bins = bin_dir(), *stamp = pz_xasprintf("%s/pzflow-stamp", bins);
    pz_export_stats st;
    pz_err err;
    int rc = pz_export(s->results_dir, s->cache.dir, o->stage, stamp, &st, &err);
    free(bins);
    free(stamp);
    if (rc < 0) return fprintf(stderr, "pzflow: export: %s\n", err.msg), PZ_EXIT_CACHE;
    printf("pzflow: exported %zu file%s of %s to %s (%zu with provenance in their header; all in %s/PROVENANCE.txt)\n",
           st.files, st.files == 1 ? "" : "s", s->results_shown, o->stage, st.stamped, o->stage);
    return PZ_EXIT_OK;
}

/* The manifest of a run named on the command line: the pipeline's own name or an experiment's. */
static pz_results_manifest *named_run(session *s, const char *name, char **dir)
{
    pz_err err;
    char *checked = NULL;
    int mine = !strcmp(name, s->p->name);
    if (!mine && pz_experiment_name(s->p->name, NULL, 0, name, &checked, &err) < 0) { /* no '/' or ".." */
        fprintf(stderr, "pzflow: %s\n", err.msg);
        *dir = NULL;
        return NULL;
    }
    free(checked);
    *dir = pz_results_dir(s->p->workspace_dir, mine ? NULL : name);
    pz_results_manifest *m = pz_results_read(*dir, &err);
    if (!m) {
        char *names = pz_results_experiments(s->p->workspace_dir);
        fprintf(stderr, "pzflow: no complete run '%s' of %s: %s\n(runs: %s%s%s)\n", name, s->p->path, err.msg,
                s->p->name, *names ? " " : "", names);
        free(names);
    }
    return m;
}

static void describe_run(const char *label, const char *dir, const pz_results_manifest *m)
{
    char when[64];
    format_time(m->finished_ns, when, sizeof when);
    printf("%s = %s (complete run of %s)", label, dir, when);
    for (size_t k = 0; k < m->nsets; k++) printf(" --set %s", m->sets[k]);
    printf("\n");
}

static int cmd_diff(session *s, const opts *o)
{
    const char *na = o->stage, *nb = o->arg2 ? o->arg2 : s->p->name;
    char *da, *db;
    pz_results_manifest *a = named_run(s, na, &da), *b = a ? named_run(s, nb, &db) : NULL;
    if (!a || !b) {
        pz_results_free(a);
        free(da), free(a ? db : NULL);
        return PZ_EXIT_USAGE;
    }
    describe_run("A", da, a);
    describe_run("B", db, b);
    char *params = pz_diff_params(s->plan, a, b);
    printf("\nparams (stage, param, A, B):\n%s", *params ? params : "  (identical)\n");
    free(params);
    for (size_t k = 0; k < s->p->nshow; k++) {
        const pz_input_ref *ref = &s->p->show[k];
        if (ref->is_external) continue;
        const char *stage = s->p->stages[ref->stage].name;
        char *text[2] = {NULL, NULL};
        const pz_results_manifest *m[2] = {a, b};
        for (int j = 0; j < 2; j++) {
            const char *key = pz_results_key(m[j], stage);
            pz_record *r = key ? pz_plan_read_record(s->plan, key) : NULL;
            const char *h = r ? pz_record_output(r, ref->output) : NULL;
            char *path = h ? pz_cache_object_path(&s->cache, h) : NULL;
            pz_err err;
            text[j] = path ? pz_read_file(path, NULL, &err) : NULL;
            free(path);
            pz_record_free(r);
        }
        char *d = pz_diff_tables(text[0], text[1], 0);
        printf("\nmetrics %s/%s (metric, A, B, change B - A):\n%s", stage, ref->output, *d ? d : "  (identical)\n");
        free(d), free(text[0]), free(text[1]);
    }
    pz_results_free(a), pz_results_free(b);
    free(da), free(db);
    return PZ_EXIT_OK;
}

static int take_lock(pz_lock *lk, const char *dir, const opts *o)
{
    pz_err err;
    int busy = 0;
    if (pz_lock_acquire(lk, dir, !o->no_wait, stderr, &busy, &err) == 0) return 0;
    fprintf(stderr, "pzflow: %s\n", err.msg);
    return busy ? PZ_EXIT_BUSY : PZ_EXIT_CACHE;
}

/* --force and --until names, checked before a run waits for the lock. */
static int check_stage_names(session *s, const opts *o)
{
    for (size_t f = 0; f <= o->nforces; f++) {
        const char *name = f < o->nforces ? o->forces[f] : o->until;
        if (!name) continue;
        size_t *idx = NULL, n = match_stage(s->p, name, &idx);
        free(idx);
        if (!n) return PZ_EXIT_USAGE;
    }
    return 0;
}

static int mark_forced_and_selected(session *s, const opts *o, int **selected)
{
    for (size_t f = 0; f < o->nforces; f++) {
        size_t *idx = NULL, n = match_stage(s->p, o->forces[f], &idx);
        if (!n) return PZ_EXIT_USAGE;
        for (size_t k = 0; k < n; k++) s->plan->forced[idx[k]] = 1;
        free(idx);
    }
    *selected = NULL;
    if (!o->until) return 0;
    size_t *idx = NULL, n = match_stage(s->p, o->until, &idx);
    if (!n) return PZ_EXIT_USAGE;
    int *sel = pz_xcalloc(s->p->nstages, sizeof *sel);
    for (size_t k = 0; k < n; k++) sel[idx[k]] = 1;
    free(idx);
    /* Topological order: walking backwards reaches every upstream stage. */
    for (size_t i = s->p->nstages; i-- > 0;)
        if (sel[i])
            for (size_t d = 0; d < s->p->stages[i].ndeps; d++) sel[s->p->stages[i].deps[d]] = 1;
    *selected = sel;
    return 0;
}

/* The results folder follows complete runs only (results.h). The index names the keys the
 * folder shows before the folder changes, so gc never takes what it will link to. */
static int update_results(session *s, int complete, const opts *o, pz_err *err)
{
    if (!complete) {
        struct stat st;
        if (stat(s->results_dir, &st) < 0)
            printf("pzflow: %s not made: only a complete run makes it\n", s->results_shown);
        else
            printf("pzflow: %s unchanged: %s\n", s->results_shown,
                   o->until ? "this run stopped at --until" : "not every stage of this run finished");
        return 0;
    }
    size_t n = s->p->nstages;
    char (*keys)[PZ_HASH_HEX] = pz_xcalloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) memcpy(keys[i], s->plan->current[i]->key, PZ_HASH_HEX);
    pz_index_set_results(s->index, (const char (*)[PZ_HASH_HEX])keys, n);
    free(keys);
    if (s->index->dirty) {
        char *text = pz_index_format(s->index);
        int rc = pz_write_atomic(s->index_path, text, strlen(text), err);
        free(text);
        if (rc < 0) return -1;
        s->index->dirty = 0;
    }
    int changed = 0;
    char *note = NULL;
    if (pz_results_publish(s->results_dir, s->plan, s->abs_pipeline, s->experiment, s->exp_sets, s->nexp_sets,
                           &changed, &note, err) < 0)
        return -1;
    if (note) printf("pzflow: %s\n", note);
    if (changed) printf("pzflow: %s now shows this run\n", s->results_shown);
    free(note);
    return 0;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void human_bytes(uint64_t b, char *out, size_t size)
{
    const char *unit[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1000 && u < 4) v /= 1000, u++;
    snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* "pzflow: 3 ran, 0 up to date, 1 FAILED in 1.7 s; hashed 3 external files (185.2 KB)": the time
 * is the whole command's, next to what ran (not next to the hashing, which it would seem to
 * measure). On a terminal too narrow for the line, the hashing goes on a line of its own. */
static void print_summary(const session *s, const pz_run_result *res, double seconds, int live)
{
    char bytes[32], counts[160], hashed[128];
    human_bytes(pz_statcache_bytes_hashed(s->sc), bytes, sizeof bytes);
    int n = snprintf(counts, sizeof counts, "pzflow: %zu ran, %zu up to date", res->ran, res->up_to_date);
    if (res->failed) n += snprintf(counts + n, sizeof counts - n, ", %zu FAILED", res->failed);
    if (res->skipped) n += snprintf(counts + n, sizeof counts - n, ", %zu not run", res->skipped);
    snprintf(counts + n, sizeof counts - n, " in %.1f s", seconds);
    unsigned long long files = (unsigned long long)pz_statcache_files_hashed(s->sc);
    snprintf(hashed, sizeof hashed, "hashed %llu external file%s (%s)", files, files == 1 ? "" : "s", bytes);
    int fits = !live || strlen(counts) + 2 + strlen(hashed) <= (size_t)pz_display_columns(1);
    printf("%s;%s%s\n", counts, fits ? " " : "\n  ", hashed);
}

static int cmd_run(session *s, const opts *o, double t0)
{
    int *selected = NULL;
    int rc = mark_forced_and_selected(s, o, &selected);
    if (rc) return rc;
    if (o->dry_run) {
        free(selected);
        return cmd_status(s, o);
    }
    pz_err err;
    pz_sweep sw = {0};
    if (pz_cache_clean_tmp(&s->cache, &sw, &err) < 0 || pz_cache_clean_stale(&s->cache, &sw, &err) < 0)
        fprintf(stderr, "pzflow: warning: %s\n", err.msg);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
    int live = isatty(1) && term && strcmp(term, "dumb");
    /* NO_COLOR (no-color.org): set and not empty turns colour off, unless --color=always. */
    const char *when = o->color ? o->color : "auto";
    int color = !strcmp(when, "always") || (!strcmp(when, "auto") && live && !(no_color && *no_color));
    pz_run_opts ro = {.jobs = o->jobs, .cores = cores > 0 ? cores : 1, .keep_going = o->keep_going,
                      .selected = selected, .out = stdout, .live = live, .color = color,
                      .index_path = s->index_path};
    /* --executor, else the pipeline's `executor:`, else local. With Slurm, -j caps the jobs
     * in the queue at once; without it every ready stage is submitted. */
    const char *executor = o->executor ? o->executor : s->p->executor ? s->p->executor : "local";
    pz_slurm_config slurm;
    if (!strcmp(executor, "slurm")) {
        if (pz_slurm_config_from_env(&slurm, &err) < 0) {
            free(selected);
            return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_USAGE;
        }
        ro.slurm = &slurm;
        if (!o->jobs_given) ro.jobs = 100000;
    }
    pz_run_result res;
    int r = pz_run(s->plan, &ro, &res, &err);
    int complete = r == PZ_RUN_OK && !selected && !res.failed && !res.skipped;
    if (r != PZ_RUN_ERROR && update_results(s, complete, o, &err) < 0) r = PZ_RUN_ERROR;
    free(selected);
    print_summary(s, &res, now_mono() - t0, live);
    switch (r) {
    case PZ_RUN_OK: return PZ_EXIT_OK;
    case PZ_RUN_FAILED: return PZ_EXIT_STAGE_FAILED;
    case PZ_RUN_INTERRUPTED: fputs("pzflow: interrupted\n", stderr); return PZ_EXIT_INTERRUPTED;
    default: fprintf(stderr, "pzflow: %s\n", err.msg); return PZ_EXIT_CACHE;
    }
}

static void print_would_remove(void *ctx, const char *path, int is_dir)
{
    printf("would remove %s%s\n", path, is_dir ? "/" : "");
    (void)ctx;
}

/* `pzflow provenance FILE|HASH [-C DIR]`: the target takes the pipeline's place on the command line. */
static int cmd_provenance(const opts *o)
{
    pz_err err;
    char *cache = NULL, hash[PZ_HASH_HEX], *text = NULL;
    if (pz_provenance_resolve(o->pipeline, o->cache_dir, &cache, hash, &err) == 0)
        text = pz_provenance_report(cache, hash, &err);
    free(cache);
    if (!text) return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_CACHE;
    fputs(text, stdout);
    free(text);
    return PZ_EXIT_OK;
}

/* gc --experiment NAME: forget the experiment (its index, its results folder) so gc can
 * collect what only it reached. Caller holds the lock. With dry_run nothing is removed: the
 * index and the folder are listed as `gc -n` lists what it would remove, and *index (malloc'd)
 * names the index for pz_gc to leave out of its roots, so the objects and records only the
 * experiment reaches are listed too. */
static int drop_experiment(const pz_cache *c, const pz_pipeline *p, const char *name, int dry_run, char **index_out)
{
    char *abs = realpath(p->path, NULL), *id = pz_xasprintf("%s@%s", abs ? abs : p->path, name);
    char *index = pz_cache_index_path(c, id), *dir = pz_results_dir(p->workspace_dir, name);
    int rc = 0, has_index = access(index, F_OK) == 0, has_dir = access(dir, F_OK) == 0;
    if (!has_index && !has_dir) {
        char *names = pz_results_experiments(p->workspace_dir);
        fprintf(stderr, "pzflow: no experiment '%s' of %s (experiments: %s)\n", name, p->path, *names ? names : "none");
        free(names);
        rc = PZ_EXIT_USAGE;
    } else if (dry_run) {
        if (has_dir) print_would_remove(NULL, dir, 1);
        if (has_index) print_would_remove(NULL, index, 0);
        printf("pzflow gc: would remove experiment %s (%s)\n", name, dir);
    } else if (unlink(index) < 0 && errno != ENOENT) {
        fprintf(stderr, "pzflow: cannot remove %s: %s\n", index, strerror(errno));
        rc = PZ_EXIT_CACHE;
    } else {
        char *note;
        pz_results_remove(dir, &note);
        if (note) printf("pzflow: %s\n", note);
        printf("pzflow gc: removed experiment %s (%s)\n", name, dir);
        free(note);
    }
    if (!rc && dry_run) *index_out = index, index = NULL;
    free(abs), free(id), free(index), free(dir);
    return rc;
}

static int cmd_gc(const opts *o)
{
    pz_err err;
    char *dir = NULL;
    pz_pipeline *p = NULL;
    if (o->drop_experiment && !o->pipeline)
        return usage_error("gc --experiment %s needs the pipeline file: pzflow gc PIPELINE.yaml --experiment NAME",
                           o->drop_experiment);
    if (o->pipeline) {
        char *bins = bin_dir();
        p = pz_pipeline_load(o->pipeline, o->sets, o->nsets, bins, &err);
        free(bins);
        if (!p) return fprintf(stderr, "pzflow: %s\n", err.msg), PZ_EXIT_USAGE;
    }
    dir = pz_xstrdup(o->cache_dir ? o->cache_dir : p->cache_dir);
    pz_cache c;
    pz_lock lk = {-1};
    int rc = 0;
    if (pz_cache_open(&c, dir, 0, &err) < 0) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        rc = PZ_EXIT_CACHE;
    }
    free(dir);
    if (!rc && access(c.dir, F_OK) < 0) {
        fprintf(stderr, "pzflow: no cache at %s\n", c.dir);
        rc = PZ_EXIT_CACHE;
    }
    if (!rc && !o->dry_run) rc = take_lock(&lk, c.dir, o);
    char *dropped = NULL;
    if (!rc && o->drop_experiment) rc = drop_experiment(&c, p, o->drop_experiment, o->dry_run, &dropped);
    pz_pipeline_free(p);
    pz_gc_result res;
    pz_sweep sw = {.dry_run = o->dry_run, .fn = o->dry_run ? print_would_remove : NULL};
    if (!rc && pz_gc(&c, dropped, &sw, &res, &err) < 0) {
        fprintf(stderr, "pzflow: %s\n", err.msg);
        rc = PZ_EXIT_CACHE;
    }
    pz_lock_release(&lk);
    free(dropped);
    if (!rc) {
        char bytes[32];
        human_bytes(res.bytes_removed, bytes, sizeof bytes);
        const char *verb = o->dry_run ? "would remove" : "removed";
        printf("pzflow gc: %s %zu objects (%s) and %zu run records; kept %zu objects, %zu records; %s %zu "
               "temporary files, %zu descriptions of executables no longer installed, %zu folders of ended "
               "Slurm jobs\n",
               verb, res.objects_removed, bytes, res.records_removed, res.objects_kept, res.records_kept, verb,
               res.tmp_removed, res.descriptions_removed, res.jobs_removed);
    }
    pz_cache_close(&c);
    return rc;
}

/* `pzflow predict ...` is the command form of the pzflow-predict stage (core/nn/predict_cli.c):
 * the engine links no science, so it runs that program, beside it, as git runs git-foo. */
static int exec_tool(const char *tool, int argc, char **argv)
{
    char *dir = bin_dir(), *path = pz_xasprintf("%s/%s", dir, tool);
    char **args = pz_xcalloc((size_t)argc + 1, sizeof *args);
    args[0] = pz_xasprintf("pzflow %s", strchr(tool, '-') + 1); /* how the tool's messages name it */
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    execv(path, args);
    fprintf(stderr, "pzflow: cannot run %s: %s\n", path, strerror(errno));
    free(args[0]), free(args), free(path), free(dir);
    return PZ_EXIT_USAGE;
}

int pz_cli_main(int argc, char **argv)
{
    double t0 = now_mono();
    /* Past `ulimit -f` a write fails with EFBIG (reported: exit 4, one line) instead of killing
     * pzflow mid-commit with SIGXFSZ. Stages get the default back (run.c). */
    signal(SIGXFSZ, SIG_IGN);
    /* Not in --help: the shell completion scripts' way to ask for stage names and --set paths. */
    if (argc >= 2 && !strcmp(argv[1], "__complete")) return pz_complete_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "predict")) return exec_tool("pzflow-predict", argc - 1, argv + 1);
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(o.sets);
        free(o.forces);
        return rc < 0 ? PZ_EXIT_OK : rc;
    }
    if (!strcmp(o.cmd, "gc")) {
        rc = cmd_gc(&o);
    } else if (!strcmp(o.cmd, "provenance")) {
        rc = cmd_provenance(&o);
    } else {
        session s;
        int is_run = !strcmp(o.cmd, "run"), locks = is_run && !o.dry_run;
        rc = open_session(&s, &o, locks);
        if (!rc && is_run) rc = check_stage_names(&s, &o);
        if (!rc && locks) rc = take_lock(&s.lock, s.cache.dir, &o);
        if (!rc) load_state(&s);
        if (!rc) {
            if (is_run) rc = cmd_run(&s, &o, t0);
            else if (!strcmp(o.cmd, "diff")) rc = cmd_diff(&s, &o);
            else if (!strcmp(o.cmd, "status")) rc = cmd_status(&s, &o);
            else if (!strcmp(o.cmd, "why")) rc = cmd_why(&s, &o);
            else if (!strcmp(o.cmd, "log")) rc = cmd_log(&s, &o);
            else if (!strcmp(o.cmd, "show")) rc = cmd_show(&s, &o);
            else if (!strcmp(o.cmd, "export")) rc = cmd_export(&s, &o);
            else if (!strcmp(o.cmd, "dag")) {
                char *text = o.dot ? pz_pipeline_dag_dot(s.p) : pz_pipeline_dag_text(s.p);
                fputs(text, stdout);
                free(text);
            }
        }
        close_session(&s);
    }
    free(o.sets);
    free(o.forces);
    return rc;
}
