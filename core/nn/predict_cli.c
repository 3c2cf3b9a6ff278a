/* `pzflow predict MODEL CATALOG -o OUT`: pzflow execs pzflow-predict with the arguments after
 * `predict` (core/engine/cli.c), as git runs git-foo, so the engine links no science and the
 * command and the pipeline stage are one program with one behaviour (nn/predict.h). */
#include "nn/predict_cli.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/predict.h"
#include "nn/stage.h"

static const char USAGE[] =
    "usage: pzflow predict MODEL CATALOG -o OUT [options]\n"
    "\n"
    "Predicts a redshift for every row of CATALOG with the network in MODEL (a\n"
    "model file of pzflow-train or pzflow-fine-tune), reading and writing in\n"
    "chunks, so memory stays bounded for any catalogue size.\n"
    "CATALOG: cat.fits, cat.fits[2], cat.fits[EXTNAME], cat.h5, cat.h5:/group,\n"
    "cat.csv or cat.ecsv. OUT's extension picks its format: .fits (BINTABLE),\n"
    ".h5 (astropy's table layout), .csv or .ecsv.\n"
    "OUT has: the id column (object_id, when there), the --keep columns, z_pred,\n"
    "z_true (with --label) and flag, a bit mask: 1 a feature is not finite, 2 a\n"
    "feature is a sentinel of the model (e.g. -99: missing), 4 a feature is\n"
    "outside the model's training range. z_pred is NaN when flag & 3; rows with\n"
    "flag 4 keep their z_pred. The summary on stderr counts each flag.\n"
    "\n"
    "options:\n"
    "  -o, --output OUT   the predictions file (required)\n"
    "  --map F=C,...      read model feature F from catalogue column C\n"
    "  --keep C,...       copy catalogue columns C to OUT (e.g. ra,dec)\n"
    "  --label C          copy column C as z_true\n"
    "  --id C             the id column (default object_id, when the table has it)\n"
    "  --chunk N          rows per read and write (default 65536)\n"
    "  --threads N        BLAS threads (default 1; the output does not depend on it)\n"
    "\n"
    "A column whose unit differs from the model's training column is refused.\n"
    "\n"
    "exit status: 0 ok, 1 error (bad model, catalogue or output), 2 usage error\n";

typedef struct {
    const char *model, *catalog, *out, *label, *id;
    const char **map, **keep; /* items split at commas, pointing into `words` */
    size_t nmap, nkeep;
    char *words[2];           /* the joined --map and --keep texts */
    long chunk, threads;
} cli_opts;

static int usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "pzflow predict: ");
    fprintf(stderr, fmt, a);
    fputs("\n(pzflow predict --help for usage)\n", stderr);
    return 2;
}

/* Append the comma-separated items of `v` to a list (repeated options add up). */
static void add_items(const char *v, char **words, const char ***items, size_t *n)
{
    char *joined = *words ? pz_xasprintf("%s,%s", *words, v) : pz_xstrdup(v);
    free(*words);
    *words = joined;
    free(*items);
    *items = pz_xcalloc(strlen(joined) + 2, sizeof **items);
    *n = 0;
    /* Items point into the new copy (earlier pointers went with the old one). */
    char *s = joined;
    for (char *tok = strsep(&s, ","); tok; tok = strsep(&s, ","))
        if (*tok) (*items)[(*n)++] = tok;
}

static int number(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "pzflow predict: %s needs a whole number in %ld..%ld, got '%s'\n", opt, lo, hi, v);
        return 2;
    }
    *out = x;
    return 0;
}

static int parse(int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk = 65536;
    o->threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            /* `pzflow predict --help` is the command's (pzflow names it so in argv[0]; it fits 80
             * columns, like every pzflow COMMAND --help); pzflow-predict --help adds the stage's. */
            char *stage = strcmp(argv[0], "pzflow predict") ? pz_stage_help_text(&pz_nn_predict_stage) : NULL;
            printf("%s%s%s", USAGE, stage ? "\nThe pipeline stage, pzflow-predict SPEC.json:\n\n" : "", stage ? stage : "");
            free(stage);
            return -1;
        }
        const char *opts[] = {"-o", "--output", "--map", "--keep", "--label", "--id", "--chunk", "--threads"};
        int k = -1;
        size_t len = 0;
        for (int j = 0; j < 8 && k < 0; j++) {
            len = strlen(opts[j]);
            if (!strncmp(a, opts[j], len) && (a[len] == 0 || (a[len] == '=' && a[1] == '-'))) k = j;
        }
        if (k < 0 && a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
        if (k < 0) {
            if (!o->model) o->model = a;
            else if (!o->catalog) o->catalog = a;
            else return usage_error("unexpected argument '%s' (MODEL CATALOG -o OUT)", a);
            continue;
        }
        const char *v = a[len] == '=' ? a + len + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v) return usage_error("%s needs a value", a);
        int rc = 0;
        switch (k) {
        case 0: case 1: o->out = v; break;
        case 2: add_items(v, &o->words[0], &o->map, &o->nmap); break;
        case 3: add_items(v, &o->words[1], &o->keep, &o->nkeep); break;
        case 4: o->label = v; break;
        case 5: o->id = v; break;
        case 6: rc = number("--chunk", v, 1, 100000000, &o->chunk); break;
        case 7: rc = number("--threads", v, 1, 256, &o->threads); break;
        }
        if (rc) return rc;
    }
    if (!o->model || !o->catalog) return usage_error("%s", "needs a model and a catalogue: MODEL CATALOG -o OUT");
    if (!o->out) return usage_error("%s", "needs -o OUT (its extension picks the format: .fits .h5 .csv .ecsv)");
    return 0;
}

static void on_rows(void *ctx, size_t done, size_t total)
{
    if (!*(int *)ctx) return;
    if (total) fprintf(stderr, "\r%zu/%zu rows (%.0f%%)", done, total, 100.0 * done / total);
    else fprintf(stderr, "\r%zu rows", done);
    fflush(stderr);
}

/* Writes into a hidden file next to OUT, renamed over it at the end: a failure or Ctrl-C never
 * leaves a half-written OUT that looks like a result. */
static int run(const cli_opts *c, pz_err *err)
{
    pz_format fmt;
    pz_source src = {0};
    if (pz_format_from_name(c->out, &fmt, err) || pz_source_parse(c->catalog, &src, err)) return -1;
    pz_model *m = pz_model_load(c->model, err);
    if (!m) {
        pz_source_free(&src);
        return -1;
    }
    openblas_set_num_threads((int)c->threads);
    int tty = isatty(2);
    pz_predict_opts o = {.label = c->label, .id_column = c->id, .id_required = c->id != NULL, .map = c->map,
                         .nmap = c->nmap, .keep = c->keep, .nkeep = c->nkeep, .chunk_rows = (size_t)c->chunk,
                         .progress = on_rows, .ctx = &tty};
    const char *slash = strrchr(c->out, '/');
    char *tmp = slash ? pz_xasprintf("%.*s/.%s.partial-%ld", (int)(slash - c->out), c->out, slash + 1, (long)getpid())
                      : pz_xasprintf(".%s.partial-%ld", c->out, (long)getpid());
    pz_predict_stats st;
    int rc = pz_predict_source(m, &src, tmp, fmt, &o, &st, err);
    if (tty) fputs("\r\033[K", stderr);
    if (!rc && rename(tmp, c->out) != 0) rc = pz_errf(err, "%s: cannot rename the finished file into place: %s", c->out, strerror(errno));
    if (rc) unlink(tmp);
    else {
        char *text = pz_predict_summary(&st);
        fprintf(stderr, "pzflow predict: %s -> %s\n", text, c->out);
        free(text);
    }
    pz_predict_stats_free(&st);
    free(tmp);
    pz_model_free(m);
    pz_source_free(&src);
    return rc;
}

int pz_predict_cli_wanted(int argc, char **argv)
{
    /* The stage takes exactly one argument (SPEC.json, --describe); the command takes more, or
     * none (its usage), or asks for its help. */
    return argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
}

int pz_predict_cli_main(int argc, char **argv)
{
    cli_opts c;
    int rc = parse(argc, argv, &c);
    if (rc == 0) {
        pz_err err;
        if (run(&c, &err)) {
            fprintf(stderr, "pzflow predict: %s\n", err.msg);
            rc = 1;
        }
    }
    free(c.map);
    free(c.keep);
    free(c.words[0]);
    free(c.words[1]);
    return rc < 0 ? 0 : rc;
}
