/* Fuzz target: labels reaching gnuplot through the figure writer (core/photoz/plot.h).
 *
 * The input is up to four model names separated by NUL bytes; they become the `model` column of
 * a small Figure 2 table, which pz_plot_figure turns into a gnuplot script and runs through the
 * real gnuplot, writing one SVG. The invariant (issue 17, part 3): whatever the labels, nothing
 * outside the output directory is touched. Each input gets a fresh workspace
 *   W/            must hold only out/ afterwards
 *   W/out/        the output directory: fig2.svg and work/
 *   W/out/work/   gnuplot's working directory: only the files the writer creates
 * so a label that smuggled in `!touch ../../x` or `system('...')` leaves a file the checks see,
 * and the seed corpus (tests/fuzz/plot/) also aims at the fixed path /tmp/x, checked by name.
 * A violation aborts, which libFuzzer and the replay driver report as a crash.
 *
 * Each input forks gnuplot (tens of milliseconds), so this target runs far fewer inputs than
 * the parsers' targets; the escaping itself is also unit-tested in tests/test_plot_text.c. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "photoz/plot.h"

#define MAX_LABELS 4

static pz_table *fig2_table(char **labels, size_t n)
{
    size_t width = 1;
    for (size_t i = 0; i < n; i++)
        if (strlen(labels[i]) > width) width = strlen(labels[i]);
    pz_table *t = pz_table_new(n * 4);
    pz_column *model = pz_table_add(t, "model", PZ_STR, width);
    const char *num[] = {"z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count"};
    for (int k = 0; k < 5; k++) pz_table_add(t, num[k], PZ_F64, 0);
    for (size_t r = 0; r < n * 4; r++) {
        memcpy((char *)model->data + r * width, labels[r / 4], strlen(labels[r / 4]));
        double x = (double)(r % 4 / 2), y = (double)(r % 2);
        pz_col_set_f64(pz_table_col(t, "z_true_lo"), r, x);
        pz_col_set_f64(pz_table_col(t, "z_true_hi"), r, x + 1);
        pz_col_set_f64(pz_table_col(t, "z_pred_lo"), r, y);
        pz_col_set_f64(pz_table_col(t, "z_pred_hi"), r, y + 1);
        pz_col_set_f64(pz_table_col(t, "count"), r, (double)(r + 1));
    }
    return t;
}

/* Names the writer may leave in its work directory: f2_<n>.dat, fig2.gp, fig2_body.gp, fig2.log. */
static int expected_work_file(const char *name)
{
    if (!strcmp(name, "fig2.gp") || !strcmp(name, "fig2_body.gp") || !strcmp(name, "fig2.log")) return 1;
    unsigned n;
    char tail[8];
    return sscanf(name, "f2_%u%7s", &n, tail) == 2 && !strcmp(tail, ".dat") && n < MAX_LABELS;
}

/* Every entry of dir satisfies ok(name); removes them (files only, or `keep_dir` recursed). */
static void check_and_clear(const char *dir, int (*ok)(const char *), const char *what)
{
    DIR *d = opendir(dir);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!ok(e->d_name)) {
            fprintf(stderr, "fuzz_plot: %s holds '%s', which the figure writer never creates\n", what, e->d_name);
            abort();
        }
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        if (unlink(p) != 0) abort();
        free(p);
    }
    closedir(d);
}

static int is_output(const char *name)
{
    return !strcmp(name, "fig2.svg");
}

static int is_out_dir(const char *name)
{
    return !strcmp(name, "out");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0; /* long labels add nothing but gnuplot time */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char *labels[MAX_LABELS];
    size_t n = 0;
    for (const char *p = text; n < MAX_LABELS && p <= text + size; p += strlen(p) + 1) labels[n++] = (char *)p;

    struct stat st;
    int canary_before = stat("/tmp/x", &st) == 0;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *w = pz_xasprintf("%s/pzfuzz-plot-XXXXXX", tmp);
    if (!mkdtemp(w)) abort();
    char *out = pz_xasprintf("%s/out", w), *work = pz_xasprintf("%s/out/work", w);
    char *svg = pz_xasprintf("%s/fig2.svg", out);
    if (mkdir(out, 0700) != 0 || mkdir(work, 0700) != 0) abort();

    pz_table *t = fig2_table(labels, n);
    pz_err err;
    pz_plot_figure("fig2", t, NULL, svg, work, &err);
    pz_table_free(t);

    check_and_clear(work, expected_work_file, "the work directory");
    if (rmdir(work) != 0) abort();
    check_and_clear(out, is_output, "the output directory");
    if (rmdir(out) != 0) abort();
    DIR *d = opendir(w);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !is_out_dir(e->d_name)) {
            fprintf(stderr, "fuzz_plot: '%s' appeared next to the output directory\n", e->d_name);
            abort();
        }
    if (d) closedir(d);
    if (rmdir(w) != 0) abort();
    if (!canary_before && stat("/tmp/x", &st) == 0) {
        fprintf(stderr, "fuzz_plot: /tmp/x was created: a label ran a shell command\n");
        abort();
    }
    free(w);
    free(out);
    free(work);
    free(svg);
    free(text);
    return 0;
}
