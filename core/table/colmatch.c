/* The one rule for finding a wanted column among a file's names, shared by every format:
 * an exact match, else a case-insensitive one when it is unique (FITS names are
 * case-insensitive by the standard; catalogues differ in case between releases). Two names
 * differing only in case make a case-insensitive request ambiguous, never a silent choice. */
#include "table/backends.h"
#include "util/suggest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

long pz_match_name(const char *const *names, size_t n, const char *want)
{
    long found = -1;
    for (size_t j = 0; j < n; j++)
        if (names[j] && strcmp(names[j], want) == 0) return (long)j;
    for (size_t j = 0; j < n; j++) {
        if (!names[j] || strcasecmp(names[j], want) != 0) continue;
        if (found >= 0) return -2;
        found = (long)j;
    }
    return found;
}

void pz_describe_missing(char *buf, size_t size, size_t *len, const char *want, const char *const *names, size_t n,
                         int ambiguous)
{
    if (*len >= size - 1) return;
    const char *sep = *len ? ", " : "";
    if (ambiguous) {
        *len += (size_t)snprintf(buf + *len, size - *len, "%s%s (ambiguous: several columns differ only in case)", sep,
                                 want);
    } else {
        const char *guess = pz_closest_name(want, names, n);
        if (guess) *len += (size_t)snprintf(buf + *len, size - *len, "%s%s (did you mean '%s'?)", sep, want, guess);
        else *len += (size_t)snprintf(buf + *len, size - *len, "%s%s", sep, want);
    }
    if (*len > size - 1) *len = size - 1;
}
