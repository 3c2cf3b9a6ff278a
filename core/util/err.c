#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pz_errf(pz_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int pz_err_prefix(pz_err *err, const char *fmt, ...)
{
    if (!err) return -1;
    char prefix[PZ_ERR_MAX], old[PZ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s%s", prefix, old);
    return -1;
}

/* _exit, not exit: a failing process has said all it has to say in the line above, but exit()
 * would run library atexit handlers, and HDF5's, after a decode of a corrupt file left objects
 * half-open, prints "HDF5: infinite loop closing library" plus a list of ids: noise after the
 * one error line. Nothing in pzflow registers atexit handlers; stdio buffers (stdout summaries,
 * text outputs) are flushed here by hand; output files of a failed stage are discarded by the
 * engine with its scratch directory, so unclosed HDF5 handles lose nothing. (Side effect:
 * LeakSanitizer, which reports at exit, does not check failing processes; valgrind still does.) */
void pz_die(const char *prog, const pz_err *err, int status)
{
    fflush(stdout); /* what the stage printed first, so the error is the last line of a shared log */
    fprintf(stderr, "%s: %s\n", prog, err && err->msg[0] ? err->msg : "unknown error");
    fflush(NULL);
    _exit(status);
}

static void out_of_memory(size_t n)
{
    fprintf(stderr, "pzflow: out of memory allocating %zu bytes\n", n);
    abort();
}

void *pz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *pz_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *pz_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *pz_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pz_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

char *pz_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = pz_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *pz_xconcat(const char *first, ...)
{
    va_list ap;
    size_t len = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) len += strlen(s);
    va_end(ap);
    char *out = pz_xmalloc(len + 1), *o = out;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        memcpy(o, s, n);
        o += n;
    }
    va_end(ap);
    *o = 0;
    return out;
}

char *pz_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) out_of_memory(0);
    char *s = pz_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
