/* What `pzflow run` shows while it works.
 *
 * On a terminal: finished stages scroll up as plain lines, and below them one live line per
 * running stage with a progress bar fed by the stage's `@progress` lines, redrawn in place
 * with ANSI escapes (at most 10 times a second). Otherwise (a pipe, a CI log): plain lines
 * only, one when a stage starts and one when it ends:
 *     [3/12] run train-base[1]: param lr changed 5e-4 → 1e-4
 *     [3/12] done train-base[1] 12.3s
 *
 * On a terminal every line the display writes fits its width (TIOCGWINSZ, read again after a
 * SIGWINCH): a live line that would wrap could not be erased, and the redraws would pile up in
 * the scrollback. The total N of [n/N] is the number of stages that may run, counted once; it
 * only grows (a damaged output reopens a stage), never shrinks when early cutoff spares a stage,
 * so the numbers a user reads stay comparable. At the end, failed stages are listed again, each
 * with the path of its log. Colour (done green, FAILED red) only when asked for: see
 * pz_display_set_color. */
#ifndef PZ_DISPLAY_H
#define PZ_DISPLAY_H

#include <stddef.h>
#include <stdio.h>

typedef struct pz_display pz_display;

pz_display *pz_display_new(FILE *out, int live, size_t total);
/* Prints the closing list of failed stages (if any) and frees. */
void pz_display_free(pz_display *d);
/* Colour on or off (off by default); the CLI decides (--color, NO_COLOR, a terminal or not). */
void pz_display_set_color(pz_display *d, int color);

/* A stage started (id: any unique number, e.g. the stage index). */
void pz_display_start(pz_display *d, size_t id, const char *stage, const char *reason);
void pz_display_progress(pz_display *d, size_t id, double fraction, const char *text);
void pz_display_finish(pz_display *d, size_t id, int ok, double seconds);
/* A stage failed; its log is at log_path (listed again when the display is freed). */
void pz_display_failed(pz_display *d, const char *stage, const char *log_path);
/* A line printed above the live area (failures, notices). */
void pz_display_line(pz_display *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Redraw the live area if due. */
void pz_display_tick(pz_display *d);
/* The number of stages that may still run changed: the total grows with it, never shrinks. */
void pz_display_set_total(pz_display *d, size_t total);

/* The columns a line may use on terminal fd: its width less one (a line filling the last column
 * makes some terminals wrap early), 79 when the width is unknown. */
int pz_display_columns(int fd);
/* How many bytes of s make up at most `cols` columns (one column per UTF-8 character). */
size_t pz_display_fit(const char *s, int cols);

#endif
