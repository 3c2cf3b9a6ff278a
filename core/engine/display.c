#include "engine/display.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"

typedef struct running {
    size_t id, number;
    char *stage;
    double fraction, started;
    char text[96];
} running;

struct pz_display {
    FILE *out;
    int live;
    size_t total, started;
    running *run;
    size_t nrun, caprun;
    int drawn;        /* live lines currently on screen */
    double last_draw;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

pz_display *pz_display_new(FILE *out, int live, size_t total)
{
    pz_display *d = pz_xcalloc(1, sizeof *d);
    d->out = out;
    d->live = live;
    d->total = total;
    return d;
}

static void clear_live(pz_display *d)
{
    if (!d->live || !d->drawn) return;
    fprintf(d->out, "\x1b[%dA\r\x1b[J", d->drawn);
    d->drawn = 0;
}

static void draw_live(pz_display *d)
{
    if (!d->live) return;
    clear_live(d);
    double t = now_s();
    for (size_t i = 0; i < d->nrun; i++) {
        const running *r = &d->run[i];
        char bar[21];
        int filled = (int)(r->fraction * 20 + 0.5);
        for (int k = 0; k < 20; k++) bar[k] = k < filled ? '#' : '.';
        bar[20] = 0;
        fprintf(d->out, "  %-24.24s [%s] %3d%% %6.1fs %.60s\n", r->stage, bar, (int)(r->fraction * 100 + 0.5),
                t - r->started, r->text);
    }
    d->drawn = (int)d->nrun;
    d->last_draw = t;
    fflush(d->out);
}

void pz_display_free(pz_display *d)
{
    if (!d) return;
    clear_live(d);
    for (size_t i = 0; i < d->nrun; i++) free(d->run[i].stage);
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
    d->total = total < d->started ? d->started : total;
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
    fprintf(d->out, "[%zu/%zu] run %s%s%s\n", r->number, d->total, stage, reason ? ": " : "", reason ? reason : "");
    if (d->live) draw_live(d);
    else fflush(d->out);
}

void pz_display_progress(pz_display *d, size_t id, double fraction, const char *text)
{
    running *r = find(d, id);
    if (!r) return;
    r->fraction = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
    snprintf(r->text, sizeof r->text, "%s", text);
    pz_display_tick(d);
}

void pz_display_finish(pz_display *d, size_t id, int ok, double seconds)
{
    running *r = find(d, id);
    if (!r) return;
    clear_live(d);
    fprintf(d->out, "[%zu/%zu] %s %s %.1fs\n", r->number, d->total, ok ? "done" : "FAILED", r->stage, seconds);
    free(r->stage);
    *r = d->run[--d->nrun];
    if (d->live) draw_live(d);
    else fflush(d->out);
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
