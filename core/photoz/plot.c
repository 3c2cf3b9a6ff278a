#include "photoz/plot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table/table.h"
#include "util/progress.h"

/* --- running tools ------------------------------------------------------------------------- */

static void first_line_of(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    /* skip blank lines gnuplot prints before a message */
    while (fgets(buf, (int)size, f) && buf[strspn(buf, " \t\n")] == 0) {
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

int pz_run_tool(const char *const *argv, const char *cwd, const char *log, pz_err *err)
{
    pid_t pid = fork();
    if (pid < 0) return pz_errf(err, "fork for %s: %s", argv[0], strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(cwd) < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s (is it installed? setup.sh installs it)\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return pz_errf(err, "waiting for %s: %s", argv[0], strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char line[300];
    first_line_of(log, line, sizeof line);
    if (WIFSIGNALED(status)) return pz_errf(err, "%s killed by signal %d: %s", argv[0], WTERMSIG(status), line);
    return pz_errf(err, "%s exited with status %d: %s", argv[0], WEXITSTATUS(status), line);
}

/* --- reading plot-data tables -------------------------------------------------------------- */

static char *cell(const pz_table *t, const char *col, size_t row)
{
    const pz_column *c = pz_table_col(t, col);
    return strndup((const char *)c->data + row * c->width, c->width);
}

static double num(const pz_table *t, const char *col, size_t row)
{
    return pz_col_f64(pz_table_col(t, col), row);
}

static int cell_is(const pz_table *t, const char *col, size_t row, const char *s)
{
    char *v = cell(t, col, row);
    int eq = !strcmp(v, s);
    free(v);
    return eq;
}

/* Distinct values of a string column in first-seen order (at most max). */
static size_t distinct(const pz_table *t, const char *col, char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        char *v = cell(t, col, i);
        size_t k = 0;
        while (k < n && strcmp(out[k], v)) k++;
        if (k < n || n == max) free(v);
        else out[n++] = v;
    }
    return n;
}

static void free_strs(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++) free(s[i]);
}

static int read_fig(const pz_spec *spec, const char *name, const char *const *need, pz_table **t, pz_err *err)
{
    const char *path;
    if (pz_spec_input(spec, name, &path, err) < 0) return -1;
    if (pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, t, err) < 0) return -1;
    for (const char *const *c = need; *c; c++)
        if (!pz_table_need(*t, *c, name, err)) {
            pz_table_free(*t);
            return -1;
        }
    return 0;
}

/* Why gnuplot text is refused, not escaped: gnuplot reads its script line by line, so a newline
 * (or CR, or any other control byte) inside a label ends the command and the rest of the label
 * becomes gnuplot commands of its own, `!cmd` and `system("cmd")` among them, which run a shell.
 * No quoting turns a newline back into text, and gnuplot 5.4 has no option to switch shell
 * commands off (its command line offers only -p -s -d -c -e; setting SHELL does not stop `!`,
 * which calls system(3)). A backquote is refused too: inside double quotes gnuplot runs it as a
 * command substitution; the script writes only single-quoted strings, where it is inert, but a
 * label has no need of one. Returns the offending byte's index, or -1 when s is safe. */
static long unsafe_byte(const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '`') return p - s;
    }
    return -1;
}

/* s with control bytes written as \n, \r, \t or \xNN, for an error message (malloc'd). */
static char *visible(const char *s)
{
    size_t n = strlen(s), len = 0;
    char *out = pz_xmalloc(4 * n + 1);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') len += (size_t)sprintf(out + len, "\\n");
        else if (c == '\r') len += (size_t)sprintf(out + len, "\\r");
        else if (c == '\t') len += (size_t)sprintf(out + len, "\\t");
        else if (c < 0x20 || c == 0x7f) len += (size_t)sprintf(out + len, "\\x%02x", c);
        else out[len++] = (char)c;
    }
    out[len] = 0;
    return out;
}

static int refuse_text(const char *s, long at, const char *where, pz_err *err)
{
    unsigned char c = (unsigned char)s[at];
    char *v = visible(s);
    const char *why = c == '`' ? "a backquote" : c == '\n' ? "a newline" : c == '\r' ? "a carriage return" : "a control byte";
    pz_errf(err, "%s: '%s' holds %s at byte %ld; labels reach gnuplot, where a line break or backquote could run "
                 "shell commands, so they must be printable text",
            where, v, why, at);
    free(v);
    return -1;
}

int pz_plot_check_text(const char *s, const char *where, pz_err *err)
{
    long at = unsafe_byte(s);
    return at < 0 ? 0 : refuse_text(s, at, where, err);
}

int pz_plot_check_table(const pz_table *t, const char *what, pz_err *err)
{
    for (size_t j = 0; j < t->ncols; j++) {
        const pz_column *c = &t->cols[j];
        if (pz_plot_check_text(c->name, "column name", err)) return -1;
        if (c->type != PZ_STR) continue;
        for (size_t i = 0; i < t->nrows; i++) {
            char *v = strndup((const char *)c->data + i * c->width, c->width);
            long at = unsafe_byte(v);
            if (at >= 0) {
                char *where = pz_xasprintf("%s column '%s' row %zu", what, c->name, i);
                refuse_text(v, at, where, err);
                free(where);
                free(v);
                return -1;
            }
            free(v);
        }
    }
    return 0;
}

/* gnuplot strings are single-quoted: a quote inside is doubled, and nothing else is special
 * there (no backslash escapes, no backquote or macro substitution). Text is checked before a
 * script is written (pz_plot_check_table); as a second line of defence a byte that could end
 * the line or substitute a command is written as '?', so a script line can never become two.
 * Enhanced-text specials in labels (_ ^ @ & ~ { }) are escaped so "NN_Base" prints as written. */
static void put_quoted(FILE *f, const char *s, int enhanced)
{
    fputc('\'', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '`') {
            fputc('?', f);
            continue;
        }
        if (*s == '\'') fputc('\'', f);
        if (enhanced && strchr("_^@&~{}", *s)) fputs("\\\\", f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

#define MAXS 16
static const char *const COLORS[MAXS] = {"#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#3c3c3c",
                                          "#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#3c3c3c"};

/* --- Figure 1 ------------------------------------------------------------------------------ */

static const char *quantity_label(const char *q, char *buf, size_t size)
{
    if (!strcmp(q, "z")) return "redshift z";
    if (strchr(q, '-')) snprintf(buf, size, "colour %s [mag]", q);
    else snprintf(buf, size, "%s-band magnitude [AB mag]", q);
    return buf;
}

static int fig1_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ds[MAXS], *qs[MAXS];
    size_t nd = distinct(t, "dataset", ds, MAXS), nq = distinct(t, "quantity", qs, MAXS);
    size_t cols = nq <= 3 ? nq : 3, rows = (nq + cols - 1) / cols;
    fprintf(gp, "set multiplot layout %zu,%zu title 'Figure 1: the training sets in redshift, magnitude and colour' "
                "font ',13'\nset style fill transparent solid 0.25 noborder\nset key top right\n"
                "set grid lc rgb '#dddddd'\n", rows, cols);
    int rc = 0;
    for (size_t q = 0; q < nq && rc == 0; q++) {
        char label[96];
        fprintf(gp, "set xlabel ");
        put_quoted(gp, quantity_label(qs[q], label, sizeof label), 1);
        fprintf(gp, "\nset ylabel '%s'", strcmp(qs[q], "z") ? "probability density [mag^{-1}]" : "probability density [per unit z]");
        fputs("\nplot ", gp);
        for (size_t d = 0; d < nd; d++) {
            char *path = pz_xasprintf("%s/f1_%zu_%zu.dat", dir, d, q);
            FILE *f = fopen(path, "w");
            if (!f) {
                rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
                free(path);
                break;
            }
            for (size_t i = 0; i < t->nrows; i++)
                if (cell_is(t, "dataset", i, ds[d]) && cell_is(t, "quantity", i, qs[q]))
                    fprintf(f, "%.10g %.10g %.10g\n", num(t, "lo", i), num(t, "hi", i), num(t, "density", i));
            fclose(f);
            free(path);
            fprintf(gp, "%s'f1_%zu_%zu.dat' using (($1+$2)/2):3 with fillsteps lc rgb '%s' notitle, "
                        "'' using (($1+$2)/2):3 with histeps lw 2 lc rgb '%s' title ",
                    d ? ", " : "", d, q, COLORS[d], COLORS[d]);
            put_quoted(gp, ds[d], 1);
        }
        fputc('\n', gp);
    }
    fputs("unset multiplot\n", gp);
    free_strs(ds, nd);
    free_strs(qs, nq);
    return rc;
}

/* --- Figure 2 ------------------------------------------------------------------------------ */

static int fig2_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS];
    size_t nm = distinct(t, "model", ms, MAXS);
    double lo = INFINITY, hi = -INFINITY, cmax = 1;
    for (size_t i = 0; i < t->nrows; i++) {
        lo = fmin(lo, num(t, "z_true_lo", i));
        hi = fmax(hi, num(t, "z_true_hi", i));
        cmax = fmax(cmax, num(t, "count", i));
    }
    fprintf(gp, "set multiplot layout 1,%zu title 'Figure 2: predicted vs true redshift, GalaxiesML test set' font ',13'\n"
                "set xrange [%g:%g]\nset yrange [%g:%g]\nset size ratio -1\nset logscale cb\nset cbrange [1:%g]\n"
                "set cblabel 'galaxies per cell'\nset palette defined (0 '#deebf7', 1 '#9ecae1', 2 '#3182bd', 3 '#08306b')\n"
                "set xlabel 'true redshift z_{true}'\nset ylabel 'predicted redshift z_{pred}'\nset key top left opaque\n",
            nm, lo, hi, lo, hi, cmax);
    int rc = 0;
    for (size_t m = 0; m < nm && rc == 0; m++) {
        char *path = pz_xasprintf("%s/f2_%zu.dat", dir, m);
        FILE *f = fopen(path, "w");
        if (!f) {
            rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
            free(path);
            break;
        }
        /* rows are z_true-major: a blank line after each z_true column makes gnuplot's grid */
        double prev = NAN;
        for (size_t i = 0; i < t->nrows; i++) {
            if (!cell_is(t, "model", i, ms[m])) continue;
            double x = (num(t, "z_true_lo", i) + num(t, "z_true_hi", i)) / 2;
            if (!isnan(prev) && x != prev) fputc('\n', f);
            prev = x;
            double c = num(t, "count", i);
            fprintf(f, "%.10g %.10g ", x, (num(t, "z_pred_lo", i) + num(t, "z_pred_hi", i)) / 2);
            if (c > 0) fprintf(f, "%.0f\n", c);
            else fputs("NaN\n", f); /* empty cells stay white on the log colour scale */
        }
        fclose(f);
        free(path);
        fputs("set title ", gp);
        put_quoted(gp, ms[m], 1);
        fprintf(gp, "\nplot 'f2_%zu.dat' using 1:2:3 with image notitle, x with lines lc rgb 'black' lw 1.5 title "
                    "'z_{pred} = z_{true}', x + 0.15*(1+x) with lines dt 2 lc rgb '#d1495b' lw 1.5 title "
                    "'|{/Symbol D}z| = 0.15', x - 0.15*(1+x) with lines dt 2 lc rgb '#d1495b' lw 1.5 notitle\n", m);
    }
    fputs("unset multiplot\n", gp);
    free_strs(ms, nm);
    return rc;
}

/* --- Figure 3 ------------------------------------------------------------------------------ */

static const char *metric_label(const char *m)
{
    if (!strcmp(m, "bias")) return "bias, median {/Symbol D}z";
    if (!strcmp(m, "bias_bw")) return "bias, biweight location of {/Symbol D}z";
    if (!strcmp(m, "nmad")) return "scatter {/Symbol s}_{NMAD}";
    if (!strcmp(m, "scatter_bw")) return "scatter, biweight {/Symbol s}";
    if (!strcmp(m, "rms")) return "RMS of {/Symbol D}z";
    if (!strcmp(m, "outlier")) return "outlier fraction, |{/Symbol D}z| > 0.15";
    if (!strcmp(m, "outlier_bw")) return "biweight outlier fraction";
    if (!strcmp(m, "catastrophic")) return "catastrophic fraction, |z_{pred} - z_{true}| > 1";
    if (!strcmp(m, "loss")) return "HSC loss";
    return m;
}

/* The goal as plot elements: a shaded band of allowed values and its dashed edges. Plotted as
 * functions (not objects) so autoscaling always brings the goal into view. */
static void fig3_goal(FILE *gp, const pz_table *t, size_t row, const char *metric)
{
    double g = num(t, "goal", row);
    if (isnan(g)) return;
    double lo = !strncmp(metric, "bias", 4) ? -g : 0.0;
    fprintf(gp, "'+' using 1:(%.10g):(%.10g) with filledcurves fc rgb '#2e933c' fs transparent solid 0.12 noborder "
                "notitle, %.10g with lines dt 2 lw 1.5 lc rgb '#2e933c' title 'LSST goal', ",
            lo, g, g);
    if (lo < 0) fprintf(gp, "%.10g with lines dt 2 lw 1.5 lc rgb '#2e933c' notitle, ", lo);
}

static int fig3_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS], *ts[MAXS], *qs[MAXS];
    size_t nm = distinct(t, "model", ms, MAXS), nt = distinct(t, "test", ts, MAXS), nq = distinct(t, "metric", qs, MAXS);
    double xlo = INFINITY, xhi = -INFINITY;
    for (size_t i = 0; i < t->nrows; i++) xlo = fmin(xlo, num(t, "z_lo", i)), xhi = fmax(xhi, num(t, "z_hi", i));
    fprintf(gp, "set multiplot layout %zu,%zu title 'Figure 3: metrics per redshift bin, mean over seeds with "
                "16-84 percentile bars; green: LSST goal' font ',13' margins 0.07,0.98,0.05,0.92 spacing 0.08,0.11\n"
                "set xrange [%g:%g]\nset xlabel 'true redshift z_{true}'\nset grid lc rgb '#dddddd'\n"
                "set key at graph 0.5, graph 1.01 center bottom horizontal font ',9' samplen 2\nset title offset 0,1.2\nset bars small\nset samples 2\n", nq, nt, xlo, xhi);
    int rc = 0;
    double step = (xhi - xlo) * 0.006; /* models side by side within a bin */
    for (size_t q = 0; q < nq && rc == 0; q++) {
        for (size_t s = 0; s < nt && rc == 0; s++) {
            fputs("set title ", gp);
            char title[160];
            snprintf(title, sizeof title, "%s test set", ts[s]);
            put_quoted(gp, title, 1);
            fputs("\nset ylabel ", gp);
            put_quoted(gp, metric_label(qs[q]), 0);
            fputs("\nset autoscale y\nplot ", gp);
            for (size_t i = 0; i < t->nrows; i++)
                if (cell_is(t, "metric", i, qs[q]) && cell_is(t, "test", i, ts[s])) {
                    fig3_goal(gp, t, i, qs[q]);
                    break;
                }
            for (size_t m = 0; m < nm; m++) {
                char *path = pz_xasprintf("%s/f3_%zu_%zu_%zu.dat", dir, q, s, m);
                FILE *f = fopen(path, "w");
                if (!f) {
                    rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
                    free(path);
                    break;
                }
                for (size_t i = 0; i < t->nrows; i++) {
                    if (!cell_is(t, "metric", i, qs[q]) || !cell_is(t, "test", i, ts[s]) || !cell_is(t, "model", i, ms[m]))
                        continue;
                    fprintf(f, "%.10g %.10g %.10g %.10g\n", num(t, "z_mid", i) + step * ((double)m - (nm - 1) / 2.0),
                            num(t, "mean", i), num(t, "p16", i), num(t, "p84", i));
                }
                fclose(f);
                free(path);
                fprintf(gp, "%s'f3_%zu_%zu_%zu.dat' using 1:2:3:4 with yerrorlines pt 7 ps 0.6 lw 1.5 lc rgb '%s' title ",
                        m ? ", " : "", q, s, m, COLORS[m]);
                put_quoted(gp, ms[m], 1);
            }
            fputc('\n', gp);
        }
    }
    fputs("unset multiplot\n", gp);
    free_strs(ms, nm);
    free_strs(ts, nt);
    free_strs(qs, nq);
    return rc;
}

/* --- driving gnuplot ----------------------------------------------------------------------- */

typedef int (*fig_script_fn)(const pz_table *t, const char *dir, FILE *gp, pz_err *err);

typedef struct figure {
    const char *name;              /* "fig1" */
    const char *const *columns;    /* columns the input must have */
    fig_script_fn script;
    int width, height;             /* pixels (PNG and SVG) */
} figure;

static const char *const FIG1_COLS[] = {"dataset", "quantity", "lo", "hi", "density", NULL};
static const char *const FIG2_COLS[] = {"model", "z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count", NULL};
static const char *const FIG3_COLS[] = {"model", "test", "metric", "z_lo", "z_hi", "z_mid", "mean", "p16", "p84", "goal", NULL};

static const figure FIGURES[3] = {
    {"fig1", FIG1_COLS, fig1_script, 1500, 900},
    {"fig2", FIG2_COLS, fig2_script, 1800, 640},
    {"fig3", FIG3_COLS, fig3_script, 1400, 1250},
};

/* Output path of "figN_png" / "figN_svg", or NULL when not declared. */
static const char *fig_output(const pz_spec *spec, const char *fig, const char *kind)
{
    char key[32];
    snprintf(key, sizeof key, "%s_%s", fig, kind);
    const pz_ynode *n = pz_ymap_get(spec->outputs, key);
    return n && n->kind == PZ_Y_SCALAR ? n->str : NULL;
}

static char *absolute(const char *path)
{
    if (path[0] == '/') return pz_xstrdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) return pz_xstrdup(path);
    return pz_xasprintf("%s/%s", cwd, path);
}

/* Write figure `fig`'s gnuplot scripts into dir and run gnuplot there. */
static int gnuplot_figure(const figure *fig, const pz_table *t, const char *png, const char *svg, const char *dir,
                          pz_err *err)
{
    char *body_path = pz_xasprintf("%s/%s_body.gp", dir, fig->name);
    char *main_path = pz_xasprintf("%s/%s.gp", dir, fig->name);
    char *log = pz_xasprintf("%s/%s.log", dir, fig->name);
    int rc = 0;
    FILE *body = fopen(body_path, "w");
    if (!body) rc = pz_errf(err, "%s: cannot create: %s", body_path, strerror(errno));
    if (rc == 0) {
        fputs("set encoding utf8\n", body);
        rc = fig->script(t, dir, body, err);
        if (fclose(body) != 0 && rc == 0) rc = pz_errf(err, "%s: write failed", body_path);
    }
    FILE *gp = rc == 0 ? fopen(main_path, "w") : NULL;
    if (rc == 0 && !gp) rc = pz_errf(err, "%s: cannot create: %s", main_path, strerror(errno));
    if (gp) {
        /* one body, two terminals; fixed fonts and sizes keep the bytes reproducible */
        const char *terms[2] = {"pngcairo enhanced font 'DejaVu Sans,11'", "svg enhanced font 'DejaVu Sans,11' background 'white'"};
        const char *outs[2] = {png, svg};
        for (int k = 0; k < 2; k++) {
            if (!outs[k]) continue;
            char *abs = absolute(outs[k]);
            fprintf(gp, "reset\nset terminal %s size %d,%d\nset output ", terms[k], fig->width, fig->height);
            put_quoted(gp, abs, 0);
            fprintf(gp, "\nload '%s_body.gp'\nset output\n", fig->name);
            free(abs);
        }
        if (fclose(gp) != 0) rc = pz_errf(err, "%s: write failed", main_path);
    }
    if (rc == 0) {
        char *script = pz_xasprintf("%s.gp", fig->name);
        const char *argv[] = {"gnuplot", script, NULL};
        rc = pz_run_tool(argv, dir, log, err);
        free(script);
    }
    free(body_path);
    free(main_path);
    free(log);
    return rc;
}

int pz_plot_figure(const char *name, const pz_table *t, const char *png, const char *svg, const char *dir,
                   pz_err *err)
{
    const figure *fig = NULL;
    for (int f = 0; f < 3; f++)
        if (!strcmp(FIGURES[f].name, name)) fig = &FIGURES[f];
    if (!fig) return pz_errf(err, "no figure '%s' (gnuplot draws fig1, fig2 and fig3)", name);
    int rc = 0;
    for (const char *const *c = fig->columns; *c && rc == 0; c++)
        if (!pz_table_need(t, *c, name, err)) rc = -1;
    /* every string that reaches the script: the table's text, and the output paths */
    if (rc == 0) rc = pz_plot_check_table(t, "input", err);
    if (rc == 0 && png) rc = pz_plot_check_text(png, "output png path", err);
    if (rc == 0 && svg) rc = pz_plot_check_text(svg, "output svg path", err);
    if (rc == 0) rc = gnuplot_figure(fig, t, png, svg, dir, err);
    if (rc < 0) pz_err_prefix(err, "%s: ", name);
    return rc;
}

static int draw_figure(const pz_spec *spec, const figure *fig, const char *dir, pz_err *err)
{
    const char *png = fig_output(spec, fig->name, "png"), *svg = fig_output(spec, fig->name, "svg");
    pz_table *t = NULL;
    if (read_fig(spec, fig->name, fig->columns, &t, err) < 0) return -1;
    int rc = pz_plot_figure(fig->name, t, png, svg, dir, err);
    pz_table_free(t);
    return rc;
}

static int draw_dag(const pz_spec *spec, const char *dir, pz_err *err)
{
    const char *dot;
    if (pz_spec_input(spec, "dag", &dot, err) < 0) return -1;
    char *dot_abs = absolute(dot), *log = pz_xasprintf("%s/fig4.log", dir);
    int rc = 0;
    const char *kinds[2] = {"png", "svg"};
    for (int k = 0; k < 2 && rc == 0; k++) {
        const char *out = fig_output(spec, "fig4", kinds[k]);
        if (!out) continue;
        char *out_abs = absolute(out), *fmt = pz_xasprintf("-T%s", kinds[k]), *o = pz_xasprintf("-o%s", out_abs);
        /* a fixed resolution and font keep the PNG reproducible and readable */
        const char *argv[] = {"dot", fmt, "-Gdpi=110", "-Nfontname=DejaVu Sans", "-Efontname=DejaVu Sans", o, dot_abs, NULL};
        rc = pz_run_tool(argv, dir, log, err);
        free(out_abs);
        free(fmt);
        free(o);
    }
    if (rc < 0) pz_err_prefix(err, "fig4 (pipeline DAG from input 'dag'): ");
    free(dot_abs);
    free(log);
    return rc;
}

/* The work directory holds only plain files we wrote. */
static void remove_work_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = pz_xasprintf("%s/%s", dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

static int plot_stage(const pz_spec *spec, const void *params, char **summary, pz_err *err)
{
    (void)params, (void)summary;
    char tmpl[] = "plot-work-XXXXXX";
    if (!mkdtemp(tmpl)) return pz_errf(err, "cannot create a work directory: %s", strerror(errno));
    char *dir = absolute(tmpl);
    int rc = 0, drawn = 0;
    for (int f = 0; f < 3 && rc == 0; f++) {
        if (!fig_output(spec, FIGURES[f].name, "png") && !fig_output(spec, FIGURES[f].name, "svg")) continue;
        rc = draw_figure(spec, &FIGURES[f], dir, err);
        drawn++;
        pz_progress((f + 1) / 4.0, "%s", FIGURES[f].name);
    }
    if (rc == 0 && (fig_output(spec, "fig4", "png") || fig_output(spec, "fig4", "svg"))) {
        rc = draw_dag(spec, dir, err);
        drawn++;
    }
    if (rc == 0 && !drawn) rc = pz_errf(err, "no output: declare figN_png and/or figN_svg for N in 1..4");
    /* the work directory is scratch: keep it only when something failed, for debugging */
    if (rc == 0) {
        remove_work_dir(dir);
    } else {
        pz_err_prefix(err, "(work files kept in %s) ", dir);
    }
    pz_progress(1, "figures");
    free(dir);
    return rc;
}

static const pz_param_def PLOT_PARAMS[] = {{0}};
static const pz_io_def PLOT_INPUTS[] = {{"fig1", PZ_IO_ONE, 1, "data of Figure 1 (plot-data)"},
                                        {"fig2", PZ_IO_ONE, 1, "data of Figure 2"},
                                        {"fig3", PZ_IO_ONE, 1, "data of Figure 3"},
                                        {"dag", PZ_IO_ONE, 1, "the pipeline graph (DOT) drawn as Figure 4"},
                                        {0}};
static const pz_io_def PLOT_OUTPUTS[] = {
    {"fig1_png", PZ_IO_ONE, 1, "Figure 1"}, {"fig1_svg", PZ_IO_ONE, 1, "Figure 1"},
    {"fig2_png", PZ_IO_ONE, 1, "Figure 2"}, {"fig2_svg", PZ_IO_ONE, 1, "Figure 2"},
    {"fig3_png", PZ_IO_ONE, 1, "Figure 3"}, {"fig3_svg", PZ_IO_ONE, 1, "Figure 3"},
    {"fig4_png", PZ_IO_ONE, 1, "Figure 4"}, {"fig4_svg", PZ_IO_ONE, 1, "Figure 4"},
    {0}};

const pz_stage_def pz_plot_stage = {
    .prog = "pzflow-plot", .docs = "docs/evaluate.md",
    .summary = "draw Figures 1-4 (PNG + SVG) with gnuplot and Graphviz dot",
    .params = PLOT_PARAMS, .inputs = PLOT_INPUTS, .outputs = PLOT_OUTPUTS, .run = plot_stage};
