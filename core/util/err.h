/* Error reporting shared by the engine, libraries and stages.
 *
 * Library functions never print or exit: they return -1 (or NULL) and fill a pz_err with one
 * line that names the file, line, column or column name involved. Only main() functions print
 * the message and choose the exit status. This keeps every library unit-testable. */
#ifndef PZ_ERR_H
#define PZ_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define PZ_ERR_MAX 1024

typedef struct pz_err {
    char msg[PZ_ERR_MAX];
} pz_err;

/* Set the message (printf-style). Always returns -1 so callers can `return pz_errf(...)`. */
int pz_errf(pz_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message with context ("reading foo.h5: " + old message). Returns -1. */
int pz_err_prefix(pz_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "prog: msg" to stderr and exit(status). For main() functions only. */
void pz_die(const char *prog, const pz_err *err, int status) __attribute__((noreturn));

/* Allocation that never returns NULL: out of memory aborts with a message, because no caller
 * could do anything better. */
void *pz_xmalloc(size_t n);
void *pz_xcalloc(size_t count, size_t size);
void *pz_xrealloc(void *p, size_t n);
char *pz_xstrdup(const char *s);
char *pz_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* At most n bytes of s; and the concatenation of strings up to a NULL. For paths and names
 * built once per stage instance, where printf's format parsing was a measurable part of a
 * no-op check of 3000 instances. */
char *pz_xstrndup(const char *s, size_t n);
char *pz_xconcat(const char *first, ...) __attribute__((sentinel));

#endif
