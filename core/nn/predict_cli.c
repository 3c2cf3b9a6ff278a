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
#include "photoz/conformal.h"

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
    "  --threads N        threads, each predicting its share of rows (default: the\n"
    "                     online cores; the output does not depend on it)\n"
    "\n"
    "uncertainty (a model with a p(z): head mdn, or method bnn; see\n"
    "docs/uncertainty.md#pzflow-predict):\n"
    "  --intervals P,...  add z_lo_P, z_hi_P: the central P% interval of the p(z)\n"
    "                     (e.g. 68,95), or the conformal one with --calibrate\n"
    "  --calibrate CAT    split-conformal intervals calibrated on CAT, a labelled\n"
    "                     catalogue held out from training; works for point models\n"
    "                     too; levels default to 68,95\n"
    "  --cal-label C      CAT's true-redshift column (default: the --label column)\n"
    "  --score S          conformal score: relative, absolute, normalized, pit\n"
    "                     (default normalized with a p(z), else relative)\n"
    "  --pdf, --no-pdf    keep (default) or leave out the pdf_weight_k, pdf_mean_k,\n"
    "                     pdf_std_k columns of the p(z) (a Gaussian mixture)\n"
    "  --qp FILE          also write the p(z) as a qp ensemble (mixmod, HDF5)\n"
    "Rows with any flag (also 4) get NaN p(z) and intervals.\n"
    "\n"
    "A column whose unit differs from the model's training column is refused.\n"
    "\n"
    "exit status: 0 ok, 1 error (bad model, catalogue or output), 2 usage error\n";

typedef struct {
    const char *model, *catalog, *out, *label, *id, *calibrate, *cal_label, *qp;
    double levels[16];
    size_t nlevels;
    int score, pdf; /* score: pz_score_kind or -1 (auto); pdf: 1 --pdf, 0 --no-pdf, -1 neither */
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

/* "68,95": 1 to 16 percentages strictly between 0 and 100. */
static int parse_levels(const char *v, cli_opts *o)
{
    o->nlevels = 0;
    for (const char *p = v;;) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (errno || end == p || (*end && *end != ',') || !(x > 0 && x < 100) || o->nlevels == 16) {
            fprintf(stderr, "pzflow predict: --intervals needs 1 to 16 percentages between 0 and 100 (e.g. 68,95), "
                            "got '%s'\n", v);
            return 2;
        }
        o->levels[o->nlevels++] = x;
        if (!*end) return 0;
        p = end + 1;
    }
}

static int parse_score(const char *v, cli_opts *o)
{
    for (int k = 0; k < PZ_SCORE_COUNT; k++)
        if (!strcmp(v, pz_score_names[k])) return o->score = k, 0;
    fprintf(stderr, "pzflow predict: --score must be relative, absolute, normalized or pit, got '%s'\n", v);
    return 2;
}

/* The default --threads: every online core, as PyTorch and OpenBLAS default to. Safe because
 * the output bytes do not depend on the thread count (pz_model_predict_at). */
static long online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : n;
}

static int parse(int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk = 65536;
    o->threads = online_cores();
    o->score = -1;
    o->pdf = -1;
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
        if (!strcmp(a, "--pdf") || !strcmp(a, "--no-pdf")) {
            o->pdf = a[2] == 'p';
            continue;
        }
        const char *opts[] = {"-o",      "--output",    "--map",   "--keep",  "--label", "--id",
                              "--chunk", "--threads",   "--intervals", "--calibrate", "--score", "--qp", "--cal-label"};
        int k = -1;
        size_t len = 0;
        for (int j = 0; j < 13 && k < 0; j++) {
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
        case 8: rc = parse_levels(v, o); break;
        case 9: o->calibrate = v; break;
        case 10: rc = parse_score(v, o); break;
        case 11: o->qp = v; break;
        case 12: o->cal_label = v; break;
        }
        if (rc) return rc;
    }
    if (!o->model || !o->catalog) return usage_error("%s", "needs a model and a catalogue: MODEL CATALOG -o OUT");
    if (!o->out) return usage_error("%s", "needs -o OUT (its extension picks the format: .fits .h5 .csv .ecsv)");
    if (o->score >= 0 && !o->calibrate) return usage_error("%s", "--score is the conformal score: it needs --calibrate CAT");
    if (o->cal_label && !o->calibrate) return usage_error("%s", "--cal-label is the column of --calibrate CAT");
    if (o->calibrate && !o->cal_label) o->cal_label = o->label;
    if (o->calibrate && !o->cal_label)
        return usage_error("%s", "--calibrate needs the calibration catalogue's true-redshift column: --cal-label "
                                 "COLUMN (or --label COLUMN when both catalogues have it)");
    if (o->calibrate && !o->nlevels) o->levels[0] = 68, o->levels[1] = 95, o->nlevels = 2;
    return 0;
}

static void on_rows(void *ctx, size_t done, size_t total)
{
    if (!*(int *)ctx) return;
    if (total) fprintf(stderr, "\r%zu/%zu rows (%.0f%%)", done, total, 100.0 * done / total);
    else fprintf(stderr, "\r%zu rows", done);
    fflush(stderr);
}

/* A hidden file next to `path` to write into, renamed over it at the end: a failure or Ctrl-C
 * never leaves a half-written file that looks like a result. */
static char *partial_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? pz_xasprintf("%.*s/.%s.partial-%ld", (int)(slash - path), path, slash + 1, (long)getpid())
                 : pz_xasprintf(".%s.partial-%ld", path, (long)getpid());
}

/* The split-conformal quantiles from --calibrate CAT, with a line of summary on stderr. */
static int calibrate(const cli_opts *c, const pz_model *m, const pz_predict_opts *o, pz_conformal_result *res,
                     pz_err *err)
{
    pz_source cal = {0};
    if (pz_source_parse(c->calibrate, &cal, err)) return -1;
    pz_predict_stats st;
    int rc = pz_predict_calibrate(m, &cal, c->cal_label, c->score, o, res, &st, err);
    if (o->ctx && *(int *)o->ctx) fputs("\r\033[K", stderr);
    if (!rc) {
        fprintf(stderr, "pzflow predict: calibration on %s: %zu rows, %zu with a score (%zu flagged left out); %s score",
                c->calibrate, st.rows, res->ncal, st.flagged, pz_score_names[res->score]);
        for (size_t l = 0; l < c->nlevels; l++) fprintf(stderr, ", %g%% q = %.4g", c->levels[l], res->q[l]);
        fputc('\n', stderr);
    }
    pz_predict_stats_free(&st);
    pz_source_free(&cal);
    return rc;
}

static int predict(const cli_opts *c, const pz_model *m, const pz_source *src, pz_format fmt, pz_predict_opts *o,
                   pz_err *err)
{
    if (c->pdf == 1 && !pz_model_pdf_ncomp(m))
        return pz_errf(err, "--pdf: the model gives a point estimate, no p(z) (train it with head: mdn or method: bnn)");
    pz_conformal_result res;
    if (c->calibrate && calibrate(c, m, o, &res, err)) return -1;
    o->conformal = c->calibrate ? &res : NULL;
    char *tmp = partial_of(c->out), *qp_tmp = c->qp ? partial_of(c->qp) : NULL;
    o->qp_path = qp_tmp;
    pz_predict_stats st;
    int rc = pz_predict_source(m, src, tmp, fmt, o, &st, err);
    if (*(int *)o->ctx) fputs("\r\033[K", stderr);
    if (!rc && qp_tmp && rename(qp_tmp, c->qp) != 0)
        rc = pz_errf(err, "%s: cannot rename the finished file into place: %s", c->qp, strerror(errno));
    if (!rc && rename(tmp, c->out) != 0)
        rc = pz_errf(err, "%s: cannot rename the finished file into place: %s", c->out, strerror(errno));
    if (rc) {
        unlink(tmp);
        if (qp_tmp) unlink(qp_tmp);
    } else {
        char *text = pz_predict_summary(&st);
        fprintf(stderr, "pzflow predict: %s -> %s%s%s\n", text, c->out, c->qp ? " and " : "", c->qp ? c->qp : "");
        free(text);
    }
    pz_predict_stats_free(&st);
    free(tmp);
    free(qp_tmp);
    return rc;
}

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
    /* --threads are row workers (pz_predict_opts.threads), each calling a one-thread sgemm:
     * OpenBLAS threads a 4096 x 200 x 200 sgemm poorly (1.4x on two cores), its threads changed
     * the output's last bits, and they would share the cores with the workers. */
    openblas_set_num_threads(1);
    int tty = isatty(2);
    pz_predict_opts o = {.label = c->label,
                         .id_column = c->id, .id_required = c->id != NULL, .map = c->map,
                         .nmap = c->nmap, .keep = c->keep, .nkeep = c->nkeep, .chunk_rows = (size_t)c->chunk,
                         .threads = c->threads,
                         .progress = on_rows, .ctx = &tty, .levels = c->levels, .nlevels = c->nlevels,
                         .no_pdf = c->pdf == 0, .blank_flagged = 1};
    int rc = predict(c, m, &src, fmt, &o, err);
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
