/* Stage progress protocol. A stage reports progress as single lines
 *     @progress <fraction 0..1> <free text>\n
 * written to the file descriptor named by the environment variable PZFLOW_PROGRESS_FD (set by
 * the scheduler, which renders them as live progress bars), or to stderr when it is unset, so a
 * stage run by hand still shows them. Lines are written with one write() so they never
 * interleave. Calls are rate-limited to ~10 per second except the final (fraction 1). */
#ifndef PZ_PROGRESS_H
#define PZ_PROGRESS_H

void pz_progress(double fraction, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
