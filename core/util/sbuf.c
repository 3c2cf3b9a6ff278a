#include "util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

/* Doubling keeps appends amortised O(1); 256 bytes covers most one-line messages at once. */
static void reserve(pz_sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + extra + 1 > cap) cap *= 2;
    b->p = pz_xrealloc(b->p, cap);
    b->cap = cap;
}

void pz_sb_put(pz_sbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void pz_sb_puts(pz_sbuf *b, const char *s)
{
    pz_sb_put(b, s, strlen(s));
}

void pz_sb_printf(pz_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return; /* an invalid format: append nothing rather than garbage */
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
