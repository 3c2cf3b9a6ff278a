/* What `pzflow run` shows while it works.
 *
 * On a terminal: finished stages scroll up as plain lines, and below them one live line per
 * running stage with a progress bar fed by the stage's `@progress` lines, redrawn in place
 * with ANSI escapes (at most 10 times a second). Otherwise (a pipe, a CI log): plain lines
 * only, one when a stage starts and one when it ends:
 *     [3/12] run train-base[1]: param lr changed 5e-4 → 1e-4
 *     [3/12] done train-base[1] 12.3s */
#ifndef PZ_DISPLAY_H
#define PZ_DISPLAY_H

#include <stddef.h>
#include <stdio.h>

typedef struct pz_display pz_display;

pz_display *pz_display_new(FILE *out, int live, size_t total);
void pz_display_free(pz_display *d);

/* A stage started (id: any unique number, e.g. the stage index). */
void pz_display_start(pz_display *d, size_t id, const char *stage, const char *reason);
void pz_display_progress(pz_display *d, size_t id, double fraction, const char *text);
void pz_display_finish(pz_display *d, size_t id, int ok, double seconds);
/* A line printed above the live area (failures, notices). */
void pz_display_line(pz_display *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Redraw the live area if due. */
void pz_display_tick(pz_display *d);
/* The total of stages that may run changed (early cutoff skipped some). */
void pz_display_set_total(pz_display *d, size_t total);

#endif
