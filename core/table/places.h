/* The tables inside a file, for messages that say where the columns are: "cat.h5: no column
 * 'g_mag' at the root; the catalogue's columns are in /photometry: use cat.h5:/photometry".
 * Only for hints after a lookup failed: it reads structure, never data. */
#ifndef PZ_PLACES_H
#define PZ_PLACES_H

#include <stddef.h>

#include "util/err.h"

/* Every place a pz_source can name in `path`, as its `loc` text:
 *   HDF5: groups holding 1-D datasets ("/" for the root, "/photometry") and compound datasets
 *         ("/data/table"), in file order;
 *   FITS: table HDUs by EXTNAME when they have one, else by number ("PHOT", "2");
 *   CSV/ECSV: none (the file is the one table).
 * *places is malloc'd (free with pz_places_free); 0 places is not an error. */
int pz_table_places(const char *path, char ***places, size_t *n, pz_err *err);
void pz_places_free(char **places, size_t n);

#endif
