#include "photoz/plot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
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
    if (pz_table_read_any(path, 0, NULL, 0, 0, (size_t)-1, t, err) < 0) return -1;
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
    /* attributes carry labels too (a dataset's redshift label, the seed of Figure 2) */
    for (size_t a = 0; a < t->nattrs; a++) {
        char *where = pz_xasprintf("%s attribute '%s'", what, t->attr_keys[a]);
        int rc = pz_plot_check_text(t->attr_keys[a], where, err) || pz_plot_check_text(t->attr_vals[a], where, err);
        free(where);
        if (rc) return -1;
    }
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
        if (enhanced && strchr("_^@&~{}", *s)) fputc('\\', f); /* one backslash: the string is single-quoted */
        fputc(*s, f);
    }
    fputc('\'', f);
}

#define MAXS 16
/* Series colours. No green: green is the LSST goal's colour in Figure 3, so no model or test
 * set may share it. */
static const char *const COLORS[MAXS] = {"#1b6ca8", "#d1495b", "#8d6a9f", "#edae49", "#00798c", "#3c3c3c", "#b5651d", "#7f7f7f",
                                          "#1b6ca8", "#d1495b", "#8d6a9f", "#edae49", "#00798c", "#3c3c3c", "#b5651d", "#7f7f7f"};

/* s with gnuplot's enhanced-text specials escaped, for a user label inside a put_quotedf
 * format that carries markup of its own (malloc'd). */
static char *enh(const char *s)
{
    char *out = pz_xmalloc(2 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (strchr("_^@&~{}", *s)) *o++ = '\\';
        *o++ = *s;
    }
    *o = 0;
    return out;
}

/* A label built with printf, quoted for gnuplot. Its format may hold enhanced-text markup
 * (z_{true}), so user strings go through enh() first and `enhanced` is normally 0. */
static void put_quotedf(FILE *gp, int enhanced, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_quotedf(FILE *gp, int enhanced, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    put_quoted(gp, s ? s : "", enhanced);
    free(s);
}

/* "52,841": counts in legends and labels are read by people. */
static const char *grouped(double v, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t n = strlen(digits), j = 0;
    for (size_t i = 0; i < n && j + 2 < size; i++) {
        if (i && (n - i) % 3 == 0 && digits[i - 1] != '-') buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = 0;
    return buf;
}

static double attr_num(const pz_table *t, const char *fmt, const char *label)
{
    char *key = pz_xasprintf(fmt, label);
    const char *v = pz_table_attr(t, key);
    free(key);
    return v ? strtod(v, NULL) : NAN;
}

/* --- Figure 1 ------------------------------------------------------------------------------ */

static void quantity_label(const char *q, char *buf, size_t size)
{
    if (!strcmp(q, "z")) snprintf(buf, size, "redshift z (each dataset's own label: see the legend)");
    else if (strchr(q, '-')) snprintf(buf, size, "colour %s [mag]", q);
    else snprintf(buf, size, "%s-band magnitude [AB mag]", q);
}

/* Legend entry: the dataset, which redshift it holds on the z panel, and its N. */
static void fig1_legend(FILE *gp, const pz_table *t, const char *dataset, const char *quantity)
{
    char *key = pz_xasprintf("z_%s", dataset), n[32];
    const char *zlabel = pz_table_attr(t, key);
    double count = attr_num(t, "n_%s", dataset);
    free(key);
    if (isnan(count)) snprintf(n, sizeof n, "?");
    else grouped(count, n, sizeof n);
    char *d = enh(dataset), *z = enh(zlabel ? zlabel : "");
    if (!strcmp(quantity, "z") && zlabel) put_quotedf(gp, 0, "%s: %s, N = %s", d, z, n);
    else put_quotedf(gp, 0, "%s, N = %s", d, n);
    free(d);
    free(z);
}

static int fig1_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ds[MAXS], *qs[MAXS];
    size_t nd = distinct(t, "dataset", ds, MAXS), nq = distinct(t, "quantity", qs, MAXS);
    size_t cols = nq <= 3 ? nq : 3, rows = (nq + cols - 1) / cols;
    /* the legend sits in headroom above the tallest histogram, never on it */
    fprintf(gp, "set multiplot layout %zu,%zu title 'Figure 1: the two datasets in redshift, magnitude and colour' "
                "font ',13'\nset style fill transparent solid 0.25 noborder\nset key top right font ',10' samplen 2\n"
                "set yrange [0:*]\nset offsets 0, 0, graph 0.28, 0\nset grid lc rgb '#dddddd'\n", rows, cols);
    int rc = 0;
    for (size_t q = 0; q < nq && rc == 0; q++) {
        char label[96];
        quantity_label(qs[q], label, sizeof label);
        fprintf(gp, "set xlabel ");
        put_quoted(gp, label, 1);
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
            fig1_legend(gp, t, ds[d], qs[q]);
        }
        fputc('\n', gp);
    }
    fputs("unset multiplot\n", gp);
    free_strs(ds, nd);
    free_strs(qs, nq);
    return rc;
}

/* --- Figure 2 ------------------------------------------------------------------------------ */

/* The panel's numbers from plot-data ("seed n n_nan bias nmad outlier"); 0 when absent. */
typedef struct panel_stats {
    char seed[32];
    double n, n_nan, bias, nmad, outlier;
} panel_stats;

static int read_panel_stats(const pz_table *t, const char *model, const char *test, panel_stats *ps)
{
    char *key = pz_xasprintf("stats %s @ %s", model, test);
    const char *v = pz_table_attr(t, key);
    free(key);
    return v && sscanf(v, "%31s %lf %lf %lf %lf %lf", ps->seed, &ps->n, &ps->n_nan, &ps->bias, &ps->nmad, &ps->outlier) == 6;
}

/* Where the galaxies are: the smallest upper edge (in steps of 0.25 above the grid's lower
 * edge) holding 99.5% of the test set's counts in both z_true and z_pred, so the panels are
 * not 70% empty. */
static double fig2_zoom(const pz_table *t, int has_test, const char *test, double lo, double hi)
{
    double total = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (!has_test || cell_is(t, "test", i, test)) total += num(t, "count", i);
    if (total <= 0) return hi;
    for (double top = lo + 0.5; top < hi; top += 0.25) {
        double in = 0;
        for (size_t i = 0; i < t->nrows; i++)
            if ((!has_test || cell_is(t, "test", i, test)) && num(t, "z_true_hi", i) <= top + 1e-9 &&
                num(t, "z_pred_hi", i) <= top + 1e-9)
                in += num(t, "count", i);
        if (in >= 0.995 * total) return top;
    }
    return hi;
}

static int fig2_panel_data(const pz_table *t, const char *dir, size_t panel, const char *model, int has_test,
                           const char *test, pz_err *err)
{
    char *path = pz_xasprintf("%s/f2_%zu.dat", dir, panel);
    FILE *f = fopen(path, "w");
    if (!f) {
        int rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    /* rows are z_true-major: a blank line after each z_true column makes gnuplot's grid */
    double prev = NAN;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!cell_is(t, "model", i, model) || (has_test && !cell_is(t, "test", i, test))) continue;
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
    return 0;
}

/* The panel's metrics in its top-left corner: what the eye cannot read off a density map. */
static void fig2_stats_label(FILE *gp, const pz_table *t, const char *model, const char *test, double lo, double hi)
{
    panel_stats ps;
    fputs("unset label\n", gp);
    if (!read_panel_stats(t, model, test, &ps)) return;
    char n[32], nn[64] = "";
    grouped(ps.n, n, sizeof n);
    if (ps.n_nan > 0) snprintf(nn, sizeof nn, " (+%.0f NaN excluded)", ps.n_nan);
    char *seed = enh(ps.seed);
    char *lines[5] = {pz_xasprintf("seed %s, %g < z_{true} ≤ %g", seed, lo, hi), pz_xasprintf("N = %s%s", n, nn),
                      pz_xasprintf("bias = %+.4f", ps.bias), pz_xasprintf("NMAD = %.4f", ps.nmad),
                      pz_xasprintf("outlier fraction = %.4f", ps.outlier)};
    /* one label per line: a newline may not reach a gnuplot script */
    for (int k = 0; k < 5; k++) {
        fprintf(gp, "set label %d ", k + 1);
        put_quoted(gp, lines[k], 0);
        fprintf(gp, " at graph 0.03, graph %.3f left front font ',10'\n", 0.95 - 0.065 * k);
        free(lines[k]);
    }
    free(seed);
}

static int fig2_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS], *ts[MAXS];
    int has_test = pz_table_col(t, "test") != NULL;
    size_t nm = distinct(t, "model", ms, MAXS), nt = has_test ? distinct(t, "test", ts, MAXS) : 1;
    if (!has_test) ts[0] = pz_xstrdup("");
    double lo = INFINITY, hi = -INFINITY, cmax = 1;
    for (size_t i = 0; i < t->nrows; i++) {
        lo = fmin(lo, num(t, "z_true_lo", i));
        hi = fmax(hi, num(t, "z_true_hi", i));
        cmax = fmax(cmax, num(t, "count", i));
    }
    panel_stats ps;
    char seed[64] = "one seed";
    if (nm && read_panel_stats(t, ms[0], ts[0], &ps)) snprintf(seed, sizeof seed, "seed %s", ps.seed);
    fprintf(gp, "set multiplot layout %zu,%zu title ", nt, nm);
    char *seed_e = enh(seed);
    /* the lines are explained in the title: a key inside a panel would hide galaxies */
    put_quotedf(gp, 0, "Figure 2: predicted vs true redshift of each model (%s); one row per test set; "
                       "black: z_{pred} = z_{true}; red dashed: outlier limits |{/Symbol D}z| = 0.15 (1 + z_{true})", seed_e);
    free(seed_e);
    fprintf(gp, " font ',13'\nset style textbox opaque noborder margins 1, 1\nset size ratio -1\nset logscale cb\nset cbrange [1:%g]\n"
                "set cblabel 'galaxies per cell'\nset palette defined (0 '#deebf7', 1 '#9ecae1', 2 '#3182bd', 3 '#08306b')\n"
                "set xlabel 'true redshift z_{true}'\nset ylabel 'predicted redshift z_{pred}'\n"
                "unset key\n",
            cmax);
    int rc = 0;
    for (size_t s = 0; s < nt && rc == 0; s++) {
        double top = fig2_zoom(t, has_test, ts[s], lo, hi);
        fprintf(gp, "set xrange [%g:%g]\nset yrange [%g:%g]\n", lo, top, lo, top);
        for (size_t m = 0; m < nm && rc == 0; m++) {
            size_t panel = s * nm + m;
            rc = fig2_panel_data(t, dir, panel, ms[m], has_test, ts[s], err);
            if (rc) break;
            fputs("set title ", gp);
            if (has_test) {
                char *me = enh(ms[m]), *te = enh(ts[s]);
                put_quotedf(gp, 0, "%s on the %s test set", me, te);
                free(me);
                free(te);
            } else {
                put_quoted(gp, ms[m], 1);
            }
            fputc('\n', gp);
            fig2_stats_label(gp, t, ms[m], ts[s], lo, hi);
            fprintf(gp, "plot 'f2_%zu.dat' using 1:2:3 with image notitle, x with lines lc rgb 'black' lw 1.5 title "
                        "'z_{pred} = z_{true}', x + 0.15*(1+x) with lines dt 2 lc rgb '#d1495b' lw 1.5 title "
                        "'outlier limits', x - 0.15*(1+x) with lines dt 2 lc rgb "
                        "'#d1495b' lw 1.5 notitle\n",
                    panel);
        }
    }
    fputs("unset multiplot\n", gp);
    free_strs(ms, nm);
    free_strs(ts, nt);
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
static void fig3_goal(FILE *gp, double g, const char *metric)
{
    if (isnan(g)) return;
    double lo = !strncmp(metric, "bias", 4) ? -g : 0.0;
    fprintf(gp, "'+' using 1:(%.10g):(%.10g) with filledcurves fc rgb '#2e933c' fs transparent solid 0.12 noborder "
                "notitle, %.10g with lines dt 2 lw 1.5 lc rgb '#2e933c' title 'LSST goal', ",
            lo, g, g);
    if (lo < 0) fprintf(gp, "%.10g with lines dt 2 lw 1.5 lc rgb '#2e933c' notitle, ", lo);
}

static double goal_of(const pz_table *t, const char *metric, const char *test)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (cell_is(t, "metric", i, metric) && (!test || cell_is(t, "test", i, test))) return num(t, "goal", i);
    return NAN;
}

/* "; NaN predictions excluded per seed: NN-TL on TransferZ 3" when any row has n_nan > 0, for a
 * figure title (a metric over fewer galaxies than the test set must say so); "" otherwise. */
static char *nan_note(const pz_table *t)
{
    char *note = pz_xstrdup("");
    if (!pz_table_col(t, "n_nan")) return note;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!(num(t, "n_nan", i) > 0)) continue;
        char *m = cell(t, "model", i), *ts = cell(t, "test", i), *em = enh(m), *et = enh(ts);
        char *item = pz_xasprintf("%s on %s %g", em, et, num(t, "n_nan", i));
        if (!strstr(note, item)) {
            char *longer = pz_xasprintf("%s%s%s", note, *note ? ", " : "; NaN predictions excluded per seed: ", item);
            free(note);
            note = longer;
        }
        free(item), free(m), free(ts), free(em), free(et);
    }
    return note;
}

static const char *seeds_text(const pz_table *t, char *buf, size_t size)
{
    const char *n = pz_table_attr(t, "seeds");
    snprintf(buf, size, "%s seed%s", n ? n : "the", n && !strcmp(n, "1") ? "" : "s");
    return buf;
}

/* Figure 3 as the paper draws it: one panel per metric, the models along x, each test set a
 * series of seed means with ± one standard deviation (as in the tables), the LSST goal green. */
static int fig3_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS], *ts[MAXS], *qs[MAXS];
    size_t nm = distinct(t, "model", ms, MAXS), nt = distinct(t, "test", ts, MAXS), nq = distinct(t, "metric", qs, MAXS);
    size_t cols = nq <= 2 ? nq : 2, rows = (nq + cols - 1) / cols;
    char seeds[48], window[64] = "the LSST window";
    const char *w = pz_table_attr(t, "lsst_window");
    double wlo, whi;
    if (w && sscanf(w, "%lf,%lf", &wlo, &whi) == 2) snprintf(window, sizeof window, "the LSST window %g < z_{true} ≤ %g", wlo, whi);
    fprintf(gp, "set multiplot layout %zu,%zu title ", rows, cols);
    char *nan = nan_note(t);
    put_quotedf(gp, 0, "Figure 3: metrics in %s; mean over %s, bars ± 1 standard deviation; green: LSST goal%s", window,
                seeds_text(t, seeds, sizeof seeds), nan);
    free(nan);
    fprintf(gp, " font ',13' margins 0.08,0.98,0.07,0.90 spacing 0.09,0.12\nset grid ytics lc rgb '#dddddd'\n"
                "set xrange [0.5:%zu.5]\nset xtics (", nm);
    for (size_t m = 0; m < nm; m++) {
        if (m) fputs(", ", gp);
        put_quoted(gp, ms[m], 1);
        fprintf(gp, " %zu", m + 1);
    }
    fputs(")\nset key top left font ',10' samplen 2 opaque\nset bars 2\nset samples 2\nset offsets 0, 0, graph 0.12, graph 0.05\n", gp);
    int rc = 0;
    for (size_t q = 0; q < nq && rc == 0; q++) {
        fputs("set title ", gp);
        put_quoted(gp, metric_label(qs[q]), 0);
        fputs("\nunset ylabel\nplot ", gp);
        fig3_goal(gp, goal_of(t, qs[q], NULL), qs[q]);
        for (size_t s = 0; s < nt && rc == 0; s++) {
            char *path = pz_xasprintf("%s/f3_%zu_%zu.dat", dir, q, s);
            FILE *f = fopen(path, "w");
            if (!f) {
                rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
                free(path);
                break;
            }
            double step = nt > 1 ? 0.25 / (double)(nt - 1) : 0; /* test sets side by side at each model */
            for (size_t m = 0; m < nm; m++)
                for (size_t i = 0; i < t->nrows; i++)
                    if (cell_is(t, "metric", i, qs[q]) && cell_is(t, "test", i, ts[s]) && cell_is(t, "model", i, ms[m]))
                        fprintf(f, "%.10g %.10g %.10g\n", (double)(m + 1) + step * ((double)s - (double)(nt - 1) / 2),
                                num(t, "mean", i), num(t, "std", i));
            fclose(f);
            free(path);
            fprintf(gp, "%s'f3_%zu_%zu.dat' using 1:2:3 with yerrorbars pt %d ps 1.3 lw 2 lc rgb '%s' title ", s ? ", " : "",
                    q, s, s % 2 ? 9 : 7, COLORS[s]);
            char *te = enh(ts[s]);
            put_quotedf(gp, 0, "%s test set", te);
            free(te);
        }
        fputc('\n', gp);
    }
    fputs("unset multiplot\n", gp);
    free_strs(ms, nm);
    free_strs(ts, nt);
    free_strs(qs, nq);
    return rc;
}

/* Bins with fewer galaxies than this do not set a per-bin panel's y-range: a bin of 1-3
 * galaxies (z > 3 in GalaxiesML) would otherwise squash the window where the result lives. */
#define FIG3_BINS_MIN_N 50

/* y-range of one per-bin panel: mean ± std of the bins holding >= FIG3_BINS_MIN_N galaxies,
 * and the goal band, padded. Returns 0 when no bin qualifies (gnuplot autoscales then). */
static int fig3_bins_yrange(const pz_table *t, const char *metric, const char *test, double *ylo, double *yhi)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!cell_is(t, "metric", i, metric) || !cell_is(t, "test", i, test) || !(num(t, "n", i) >= FIG3_BINS_MIN_N))
            continue;
        double m = num(t, "mean", i), sd = num(t, "std", i);
        if (isnan(sd)) sd = 0;
        if (isnan(m)) continue;
        lo = fmin(lo, m - sd), hi = fmax(hi, m + sd);
    }
    if (!(hi >= lo)) return 0;
    double g = goal_of(t, metric, test);
    if (!isnan(g)) lo = fmin(lo, !strncmp(metric, "bias", 4) ? -g : 0), hi = fmax(hi, g);
    double pad = (hi - lo) * 0.08 + 1e-6;
    *ylo = lo - pad, *yhi = hi + pad * 3.5; /* room at the top for the two rows of N labels */
    return 1;
}

/* N per bin along the top of a panel (the most galaxies any model has there). */
static void fig3_bins_counts(FILE *gp, const pz_table *t, const char *metric, const char *test)
{
    fputs("unset label\n", gp);
    int tag = 1;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!cell_is(t, "metric", i, metric) || !cell_is(t, "test", i, test)) continue;
        double n = num(t, "n", i), z = num(t, "z_mid", i);
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= cell_is(t, "metric", j, metric) && cell_is(t, "test", j, test) && num(t, "z_mid", j) == z;
        if (seen) continue;
        for (size_t j = i + 1; j < t->nrows; j++)
            if (cell_is(t, "metric", j, metric) && cell_is(t, "test", j, test) && num(t, "z_mid", j) == z)
                n = fmax(n, num(t, "n", j));
        /* neighbouring bins alternate between two rows, so narrow bins' labels do not collide */
        fprintf(gp, "set label %d 'N=%.0f' at %.10g, graph %.2f center font ',8' tc rgb '%s'\n", tag, n, z,
                tag % 2 ? 0.96 : 0.91, n >= FIG3_BINS_MIN_N ? "#333333" : "#aa0000");
        tag++;
    }
}

static int fig3_bins_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS], *ts[MAXS], *qs[MAXS];
    size_t nm = distinct(t, "model", ms, MAXS), nt = distinct(t, "test", ts, MAXS), nq = distinct(t, "metric", qs, MAXS);
    double xlo = INFINITY, xhi = -INFINITY;
    for (size_t i = 0; i < t->nrows; i++) xlo = fmin(xlo, num(t, "z_lo", i)), xhi = fmax(xhi, num(t, "z_hi", i));
    char seeds[48];
    fprintf(gp, "set multiplot layout %zu,%zu title ", nq, nt);
    char *nan = nan_note(t);
    put_quotedf(gp, 0, "Figure 3b: metrics per redshift bin; mean over %s, bars ± 1 standard deviation; green: LSST "
                       "goal; y-range set by bins of ≥ %d galaxies (N in red: fewer)%s",
                seeds_text(t, seeds, sizeof seeds), FIG3_BINS_MIN_N, nan);
    free(nan);
    fprintf(gp, " font ',13' margins 0.07,0.98,0.04,0.93 spacing 0.08,0.08\n"
                "set xrange [%g:%g]\nset xlabel 'true redshift z_{true}'\nset grid lc rgb '#dddddd'\n"
                "set key at graph 0.5, graph 1.01 center bottom horizontal font ',9' samplen 2\nset title offset 0,1.2\nset bars small\nset samples 2\n",
            xlo, xhi);
    int rc = 0;
    double step = (xhi - xlo) * 0.006; /* models side by side within a bin */
    for (size_t q = 0; q < nq && rc == 0; q++) {
        for (size_t s = 0; s < nt && rc == 0; s++) {
            fputs("set title ", gp);
            char *te = enh(ts[s]);
            put_quotedf(gp, 0, "%s test set", te);
            free(te);
            fputs("\nset ylabel ", gp);
            put_quoted(gp, metric_label(qs[q]), 0);
            double ylo, yhi;
            if (fig3_bins_yrange(t, qs[q], ts[s], &ylo, &yhi)) fprintf(gp, "\nset yrange [%.10g:%.10g]\n", ylo, yhi);
            else fputs("\nset autoscale y\n", gp);
            fig3_bins_counts(gp, t, qs[q], ts[s]);
            fputs("plot ", gp);
            fig3_goal(gp, goal_of(t, qs[q], ts[s]), qs[q]);
            for (size_t m = 0; m < nm; m++) {
                char *path = pz_xasprintf("%s/f3b_%zu_%zu_%zu.dat", dir, q, s, m);
                FILE *f = fopen(path, "w");
                if (!f) {
                    rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
                    free(path);
                    break;
                }
                for (size_t i = 0; i < t->nrows; i++) {
                    if (!cell_is(t, "metric", i, qs[q]) || !cell_is(t, "test", i, ts[s]) || !cell_is(t, "model", i, ms[m]))
                        continue;
                    double sd = num(t, "std", i);
                    fprintf(f, "%.10g %.10g %.10g\n", num(t, "z_mid", i) + step * ((double)m - (nm - 1) / 2.0),
                            num(t, "mean", i), isnan(sd) ? 0 : sd);
                }
                fclose(f);
                free(path);
                fprintf(gp, "%s'f3b_%zu_%zu_%zu.dat' using 1:2:3 with yerrorlines pt 7 ps 0.6 lw 1.5 lc rgb '%s' title ",
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

/* Figure 5: uncertainty, one row of panels per test set: the PIT histogram of every model with a
 * p(z), the coverage curve (empirical against nominal, with the diagonal), and the mean interval
 * width against redshift (68% solid, 95% dashed). Means over seeds, bars ± 1 standard deviation. */
static int fig5_series(const pz_table *t, const char *dir, const char *panel, const char *test, const char *model,
                       const char *file, int *written, pz_err *err)
{
    char *path = pz_xasprintf("%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        int rc = pz_errf(err, "%s: cannot create: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    *written = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (cell_is(t, "panel", i, panel) && cell_is(t, "test", i, test) && cell_is(t, "model", i, model)) {
            double sd = num(t, "std", i);
            fprintf(f, "%.10g %.10g %.10g %.10g %.10g\n", num(t, "x", i), num(t, "mean", i), isnan(sd) ? 0 : sd,
                    num(t, "x_lo", i), num(t, "x_hi", i));
            (*written)++;
        }
    fclose(f);
    free(path);
    return 0;
}

static int fig5_panel(FILE *gp, const pz_table *t, const char *dir, size_t s, const char *test, char **ms, size_t nm,
                      int kind, pz_err *err)
{
    static const char *const titles[3] = {"PIT histogram (1 = calibrated)", "coverage of the intervals",
                                          "mean interval width"};
    static const char *const xl[3] = {"PIT", "nominal coverage", "true redshift z_{true}"};
    static const char *const yl[3] = {"density", "empirical coverage", "z_{hi} - z_{lo}"};
    char *te = enh(test);
    fputs("set title ", gp);
    put_quotedf(gp, 0, "%s test set: %s", te, titles[kind]);
    free(te);
    fprintf(gp, "\nset xlabel '%s'\nset ylabel '%s'\n", xl[kind], yl[kind]);
    fputs(kind == 2 ? "set autoscale x\nset autoscale y\n" : "set xrange [0:1]\n", gp);
    if (kind == 0) fputs("set yrange [0:*]\n", gp);
    if (kind == 1) fputs("set yrange [0:1]\n", gp);
    fputs("plot ", gp);
    if (kind == 0) fputs("1 with lines dt 2 lc rgb '#555555' notitle, ", gp);
    if (kind == 1) fputs("x with lines dt 2 lc rgb '#555555' title 'nominal', ", gp);
    int any = 0;
    for (size_t m = 0; m < nm; m++)
        for (int w = 0; w < (kind == 2 ? 2 : 1); w++) {
            const char *panel = kind == 0 ? "pit" : kind == 1 ? "coverage" : w ? "width_95" : "width_68";
            char *file = pz_xasprintf("f5_%zu_%d_%zu_%d.dat", s, kind, m, w);
            int n = 0;
            if (fig5_series(t, dir, panel, test, ms[m], file, &n, err) < 0) {
                free(file);
                return -1;
            }
            if (n > 0) {
                const char *style = kind == 0 ? "using 1:2 with histeps lw 2" : "using 1:2:3 with yerrorlines pt 7 ps 0.7 lw 1.5";
                fprintf(gp, "%s'%s' %s dt %d lc rgb '%s' title ", any ? ", " : "", file, style, w ? 2 : 1, COLORS[m % MAXS]);
                if (kind == 2) {
                    char *em = enh(ms[m]);
                    put_quotedf(gp, 0, "%s %s", em, w ? "95%" : "68%");
                    free(em);
                } else put_quoted(gp, ms[m], 1);
                any = 1;
            }
            free(file);
        }
    /* a panel with nothing to draw still needs a plot: say why it is empty */
    if (!any) fprintf(gp, "NaN title '%s'", kind == 0 ? "no model with a p(z)" : "no intervals");
    fputc('\n', gp);
    return 0;
}

static int fig5_script(const pz_table *t, const char *dir, FILE *gp, pz_err *err)
{
    char *ms[MAXS], *ts[MAXS], seeds[48];
    size_t nm = distinct(t, "model", ms, MAXS), nt = distinct(t, "test", ts, MAXS);
    fprintf(gp, "set multiplot layout %zu,3 title ", nt ? nt : 1);
    put_quotedf(gp, 0, "Figure 5: uncertainty; whole range, mean over %s, bars ± 1 standard deviation",
                seeds_text(t, seeds, sizeof seeds));
    fputs(" font ',13' margins 0.06,0.98,0.07,0.91 spacing 0.07,0.10\nset grid lc rgb '#dddddd'\n"
          "set key top left font ',9' samplen 2\nset bars small\nset samples 50\n", gp);
    int rc = 0;
    if (nt == 0) fputs("plot NaN title 'no uncertainty metrics'\n", gp);
    for (size_t s = 0; s < nt && rc == 0; s++)
        for (int kind = 0; kind < 3 && rc == 0; kind++) rc = fig5_panel(gp, t, dir, s, ts[s], ms, nm, kind, err);
    fputs("unset multiplot\n", gp);
    free_strs(ms, nm);
    free_strs(ts, nt);
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
/* fig2's `test` column is optional (one row of panels without it) */
static const char *const FIG2_COLS[] = {"model", "z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count", NULL};
static const char *const FIG3_COLS[] = {"model", "test", "metric", "mean", "std", "goal", NULL};
static const char *const FIG3_BINS_COLS[] = {"model", "test", "metric", "z_lo", "z_hi", "z_mid", "n", "mean", "std", "goal", NULL};
static const char *const FIG5_COLS[] = {"model", "test", "panel", "x", "x_lo", "x_hi", "mean", "std", NULL};

#define NFIGURES 5
static const figure FIGURES[NFIGURES] = {
    {"fig1", FIG1_COLS, fig1_script, 1500, 950},
    {"fig2", FIG2_COLS, fig2_script, 1650, 1150},
    {"fig3", FIG3_COLS, fig3_script, 1300, 1000},
    {"fig3_bins", FIG3_BINS_COLS, fig3_bins_script, 1400, 1650},
    {"fig5", FIG5_COLS, fig5_script, 1650, 1000},
};

/* Output path of "figN.png" / "figN.svg", or NULL when not declared. */
static const char *fig_output(const pz_spec *spec, const char *fig, const char *kind)
{
    char key[32];
    snprintf(key, sizeof key, "%s.%s", fig, kind);
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
    for (int f = 0; f < NFIGURES; f++)
        if (!strcmp(FIGURES[f].name, name)) fig = &FIGURES[f];
    if (!fig) return pz_errf(err, "no figure '%s' (gnuplot draws fig1, fig2, fig3, fig3_bins and fig5)", name);
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

/* Figures Graphviz draws from a DOT input: Figure 4 (the TransferZ flow chart, from dag's
 * `flow` output) and the whole pipeline DAG (its `dot` output). */
typedef struct dot_figure {
    const char *name, *input, *what;
    const char *style[3]; /* defaults the DOT file does not set itself */
} dot_figure;

/* The whole DAG has ~25 nodes and long edge labels: small edge labels and tight ranks keep it
 * about 2600 px wide at 110 dpi, where every label still reads. */
static const dot_figure DOT_FIGURES[2] = {
    {"fig4", "flow", "flow chart", {"-Gfontsize=18", "-Nfontsize=13", "-Efontsize=11"}},
    {"dag", "dag", "pipeline DAG", {"-Efontsize=10", "-Granksep=0.4", "-Gnodesep=0.15"}},
};

static int draw_dot(const pz_spec *spec, const dot_figure *fig, const char *dir, pz_err *err)
{
    const char *dot;
    if (pz_spec_input(spec, fig->input, &dot, err) < 0) return -1;
    char *dot_abs = absolute(dot), *log = pz_xasprintf("%s/%s.log", dir, fig->name);
    int rc = 0;
    const char *kinds[2] = {"png", "svg"};
    for (int k = 0; k < 2 && rc == 0; k++) {
        const char *out = fig_output(spec, fig->name, kinds[k]);
        if (!out) continue;
        char *out_abs = absolute(out), *fmt = pz_xasprintf("-T%s", kinds[k]), *o = pz_xasprintf("-o%s", out_abs);
        /* a fixed resolution and font keep the PNG reproducible and readable */
        const char *argv[] = {"dot", fmt, "-Gdpi=110", "-Nfontname=DejaVu Sans", "-Efontname=DejaVu Sans",
                              "-Gfontname=DejaVu Sans", fig->style[0], fig->style[1], fig->style[2], o, dot_abs, NULL};
        rc = pz_run_tool(argv, dir, log, err);
        free(out_abs);
        free(fmt);
        free(o);
    }
    if (rc < 0) pz_err_prefix(err, "%s (%s from input '%s'): ", fig->name, fig->what, fig->input);
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
    for (int f = 0; f < NFIGURES && rc == 0; f++) {
        if (!fig_output(spec, FIGURES[f].name, "png") && !fig_output(spec, FIGURES[f].name, "svg")) continue;
        rc = draw_figure(spec, &FIGURES[f], dir, err);
        drawn++;
        pz_progress((f + 1.0) / (NFIGURES + 2), "%s", FIGURES[f].name);
    }
    for (int f = 0; f < 2 && rc == 0; f++) {
        if (!fig_output(spec, DOT_FIGURES[f].name, "png") && !fig_output(spec, DOT_FIGURES[f].name, "svg")) continue;
        rc = draw_dot(spec, &DOT_FIGURES[f], dir, err);
        drawn++;
    }
    if (rc == 0 && !drawn)
        rc = pz_errf(err, "no output: declare NAME.png and/or NAME.svg for NAME in fig1, fig2, fig3, fig3_bins, fig5, fig4, dag");
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
                                        {"fig3", PZ_IO_ONE, 1, "data of Figure 3 (LSST window)"},
                                        {"fig3_bins", PZ_IO_ONE, 1, "data of Figure 3b (per redshift bin)"},
                                        {"fig5", PZ_IO_ONE, 1, "data of Figure 5 (uncertainty)"},
                                        {"flow", PZ_IO_ONE, 1, "the TransferZ flow chart (DOT, dag's flow) drawn as Figure 4"},
                                        {"dag", PZ_IO_ONE, 1, "the whole pipeline graph (DOT, dag's dot)"},
                                        {0}};
static const pz_io_def PLOT_OUTPUTS[] = {
    {"fig1.png", PZ_IO_ONE, 1, "Figure 1"}, {"fig1.svg", PZ_IO_ONE, 1, "Figure 1"},
    {"fig2.png", PZ_IO_ONE, 1, "Figure 2"}, {"fig2.svg", PZ_IO_ONE, 1, "Figure 2"},
    {"fig3.png", PZ_IO_ONE, 1, "Figure 3"}, {"fig3.svg", PZ_IO_ONE, 1, "Figure 3"},
    {"fig3_bins.png", PZ_IO_ONE, 1, "Figure 3b"}, {"fig3_bins.svg", PZ_IO_ONE, 1, "Figure 3b"},
    {"fig4.png", PZ_IO_ONE, 1, "Figure 4"}, {"fig4.svg", PZ_IO_ONE, 1, "Figure 4"},
    {"fig5.png", PZ_IO_ONE, 1, "Figure 5 (uncertainty)"}, {"fig5.svg", PZ_IO_ONE, 1, "Figure 5 (uncertainty)"},
    {"dag.png", PZ_IO_ONE, 1, "the pipeline DAG"}, {"dag.svg", PZ_IO_ONE, 1, "the pipeline DAG"},
    {0}};

const pz_stage_def pz_plot_stage = {
    .prog = "pzflow-plot", .docs = "docs/evaluate.md",
    .summary = "draw Figures 1-5, 3b and the pipeline DAG (PNG + SVG) with gnuplot and Graphviz dot",
    .params = PLOT_PARAMS, .inputs = PLOT_INPUTS, .outputs = PLOT_OUTPUTS, .run = plot_stage};
