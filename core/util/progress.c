#include "util/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void pz_progress(double fraction, const char *fmt, ...)
{
    /* The only mutable statics in the stage libraries: the fd and the rate limiter belong to
     * the process, like stderr does. */
    static int fd = -2;
    static double last;
    if (fd == -2) {
        const char *env = getenv("PZFLOW_PROGRESS_FD");
        fd = env && *env ? atoi(env) : 2;
    }
    double t = now_seconds();
    if (fraction < 1.0 && t - last < 0.1) return;
    last = t;
    char line[512];
    int n = snprintf(line, sizeof line, "@progress %.4f ", fraction < 0 ? 0 : fraction > 1 ? 1 : fraction);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(fd, line, (size_t)n);
    (void)w;
}
