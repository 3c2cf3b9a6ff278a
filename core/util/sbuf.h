/* A growable NUL-terminated string: start from `pz_sbuf b = {0}`, append, take `b.p` (caller
 * frees). Every append allocates on first use, so after one append `b.p` is never NULL. */
#ifndef PZ_SBUF_H
#define PZ_SBUF_H

#include <stddef.h>

typedef struct pz_sbuf {
    char *p;
    size_t len, cap;
} pz_sbuf;

void pz_sb_put(pz_sbuf *b, const char *s, size_t n);
void pz_sb_puts(pz_sbuf *b, const char *s);
void pz_sb_printf(pz_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
