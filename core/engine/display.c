#include "engine/display.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

typedef struct running {
    size_t id, number;
    char *stage;
    double fraction, started;
    char text[96];
} running;

typedef struct failure {
    char *stage, *log;
} failure;

struct pz_display {
    FILE *out;
    int live, color;
    int cols;         /* columns a line may use (live only) */
    size_t total, started;
    running *run;
    size_t nrun, caprun;
    failure *failed;
    size_t nfailed;
    int drawn;        /* live lines currently on screen */
    double last_draw;
    struct sigaction old_winch;
};

/* Set by the SIGWINCH handler, read at the next redraw: a signal handler can only talk to the
 * display through a process-wide flag (one display exists at a time, in `pzflow run`). */
static volatile sig_atomic_t resized;

static void on_winch(int sig)
{
    (void)sig;
    resized = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int pz_display_columns(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col - 1;
    return 79;
}

size_t pz_display_fit(const char *s, int cols)
{
    size_t i = 0;
    int used = 0;
    while (s[i]) {
        size_t k = 1;
        while (((unsigned char)s[i + k] & 0xC0) == 0x80) k++; /* continuation bytes of one character */
        if (used + 1 > cols) break;
        used++;
        i += k;
    }
    return i;
}

pz_display *pz_display_new(FILE *out, int live, size_t total)
{
    pz_display *d = pz_xcalloc(1, sizeof *d);
    d->out = out;
    d->live = live;
    d->total = total;
    if (live) {
        d->cols = pz_display_columns(fileno(out));
        struct sigaction sa = {0};
        sa.sa_handler = on_winch;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGWINCH, &sa, &d->old_winch);
        resized = 0;
    }
    return d;
}

void pz_display_set_color(pz_display *d, int color) { d->color = color; }

static const char *paint(const pz_display *d, const char *ansi) { return d->color ? ansi : ""; }

/* Writes s, cut to `cols` columns on a live display ("…" marks a cut). */
static void put_fitted(pz_display *d, const char *s, int cols)
{
    size_t n = strlen(s);
    if (d->live && s[pz_display_fit(s, cols)]) {
        n = pz_display_fit(s, cols - 1);
        fwrite(s, 1, n, d->out);
        fputs("…", d->out);
        return;
    }
    fwrite(s, 1, n, d->out);
}

/* "[3/12] done train-base[1] 12.3s": the word may be coloured, the rest is cut to fit. */
static void status_line(pz_display *d, size_t number, const char *word, const char *ansi, const char *rest)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "[%zu/%zu] ", number, d->total);
    fputs(head, d->out);
    fprintf(d->out, "%s%s%s", paint(d, ansi), word, paint(d, "\x1b[0m"));
    int left = d->cols - hn - (int)strlen(word);
    put_fitted(d, rest, left < 8 ? 8 : left);
    fputc('\n', d->out);
}

static void clear_live(pz_display *d)
{
    if (!d->live || !d->drawn) return;
    fprintf(d->out, "\x1b[%dA\r\x1b[J", d->drawn);
    d->drawn = 0;
}

/* "  train-base[1]     [#####.....]  52%   12.3s epoch 21, val loss 0.41": name and bar shrink
 * on a narrow terminal, the stage's own text takes what is left and is cut. */
static void draw_live(pz_display *d)
{
    if (!d->live) return;
    if (resized) {
        resized = 0;
        d->cols = pz_display_columns(fileno(d->out));
    }
    clear_live(d);
    double t = now_s();
    int name_w = 0;
    for (size_t i = 0; i < d->nrun; i++) {
        int n = (int)strlen(d->run[i].stage);
        if (n > name_w) name_w = n;
    }
    if (name_w > 24) name_w = 24;
    int bar_w = d->cols >= 100 ? 20 : 10;
    for (size_t i = 0; i < d->nrun; i++) {
        const running *r = &d->run[i];
        char bar[21];
        int filled = (int)(r->fraction * bar_w + 0.5);
        for (int k = 0; k < bar_w; k++) bar[k] = k < filled ? '#' : '.';
        bar[bar_w] = 0;
        char *line = pz_xasprintf("  %-*.*s [%s] %3d%% %6.1fs %s", name_w, name_w, r->stage, bar,
                                  (int)(r->fraction * 100 + 0.5), t - r->started, r->text);
        fwrite(line, 1, pz_display_fit(line, d->cols), d->out);
        fputc('\n', d->out);
        free(line);
    }
    d->drawn = (int)d->nrun;
    d->last_draw = t;
    fflush(d->out);
}

/* A path under the current directory is shown relative to it: shorter, and still usable. */
static const char *short_path(const char *path, const char *cwd)
{
    size_t n = cwd ? strlen(cwd) : 0;
    if (n > 1 && !strncmp(path, cwd, n) && path[n] == '/') return path + n + 1;
    return path;
}

static void list_failures(pz_display *d)
{
    if (!d->nfailed) return;
    char *cwd = getcwd(NULL, 0);
    fprintf(d->out, "%s%zu stage%s FAILED%s (pzflow log PIPELINE STAGE prints a log):\n", paint(d, "\x1b[1;31m"),
            d->nfailed, d->nfailed == 1 ? "" : "s", paint(d, "\x1b[0m"));
    for (size_t i = 0; i < d->nfailed; i++) {
        fputs("  ", d->out);
        put_fitted(d, d->failed[i].stage, d->cols - 2);
        fprintf(d->out, "\n    %s\n", short_path(d->failed[i].log, cwd)); /* never cut: it is to be copied */
    }
    free(cwd);
}

void pz_display_free(pz_display *d)
{
    if (!d) return;
    clear_live(d);
    list_failures(d);
    for (size_t i = 0; i < d->nrun; i++) free(d->run[i].stage);
    for (size_t i = 0; i < d->nfailed; i++) {
        free(d->failed[i].stage);
        free(d->failed[i].log);
    }
    if (d->live) sigaction(SIGWINCH, &d->old_winch, NULL);
    free(d->failed);
    free(d->run);
    fflush(d->out);
    free(d);
}

static running *find(pz_display *d, size_t id)
{
    for (size_t i = 0; i < d->nrun; i++)
        if (d->run[i].id == id) return &d->run[i];
    return NULL;
}

void pz_display_set_total(pz_display *d, size_t total)
{
    if (total > d->total) d->total = total;
}

void pz_display_start(pz_display *d, size_t id, const char *stage, const char *reason)
{
    if (d->nrun == d->caprun) d->run = pz_xrealloc(d->run, (d->caprun = d->caprun ? d->caprun * 2 : 8) * sizeof *d->run);
    running *r = &d->run[d->nrun++];
    memset(r, 0, sizeof *r);
    r->id = id;
    r->number = ++d->started;
    if (d->total < d->started) d->total = d->started;
    r->stage = pz_xstrdup(stage);
    r->started = now_s();
    clear_live(d);
    char *rest = pz_xasprintf(" %s%s%s", stage, reason ? ": " : "", reason ? reason : "");
    status_line(d, r->number, "run", "", rest);
    free(rest);
    if (d->live) draw_live(d);
    else fflush(d->out);
}

void pz_display_progress(pz_display *d, size_t id, double fraction, const char *text)
{
    running *r = find(d, id);
    if (!r) return;
    r->fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
    snprintf(r->text, sizeof r->text, "%s", text);
    for (char *c = r->text; *c; c++) /* a stage's text must not move the cursor or recolour */
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    pz_display_tick(d);
}

void pz_display_finish(pz_display *d, size_t id, int ok, double seconds)
{
    running *r = find(d, id);
    if (!r) return;
    clear_live(d);
    char *rest = pz_xasprintf(" %s %.1fs", r->stage, seconds);
    status_line(d, r->number, ok ? "done" : "FAILED", ok ? "\x1b[32m" : "\x1b[1;31m", rest);
    free(rest);
    free(r->stage);
    *r = d->run[--d->nrun];
    if (d->live) draw_live(d);
    else fflush(d->out);
}

void pz_display_failed(pz_display *d, const char *stage, const char *log_path)
{
    d->failed = pz_xrealloc(d->failed, (d->nfailed + 1) * sizeof *d->failed);
    d->failed[d->nfailed++] = (failure){pz_xstrdup(stage), pz_xstrdup(log_path)};
}

void pz_display_line(pz_display *d, const char *fmt, ...)
{
    clear_live(d);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    fputc('\n', d->out);
    if (d->live) draw_live(d);
    else fflush(d->out);
}

void pz_display_tick(pz_display *d)
{
    if (d->live && now_s() - d->last_draw >= 0.1) draw_live(d);
}
