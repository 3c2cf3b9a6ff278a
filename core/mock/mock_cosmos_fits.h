/* The COSMOS2020 CLASSIC catalogue writer (mock sky).
 *
 * HDU 0 is an empty primary, HDU 1 a BINTABLE with EXTNAME PHASE3CATALOG and the real column
 * definitions (pz_cosmos_columns, from the real header). Layout "full" writes all 754 columns
 * (3491-byte rows); "minimal" the documented subset pz_cosmos_minimal, same names and types.
 * Rows are filled in chunks and written by core/table's FITS writer, so memory does not grow
 * with the row count. Columns the mock does not model are NaN (floats) or TNULL (-99). */
#ifndef PZ_MOCK_COSMOS_FITS_H
#define PZ_MOCK_COSMOS_FITS_H

#include <gsl/gsl_rng.h>
#include "mock/mock_population.h"

#define PZ_COSMOS_NCOLS 754
typedef struct pz_cosmos_coldef {
    const char *ttype, *tform, *tunit;
    long tnull; /* 0 = no TNULL keyword */
    const char *tcomm;
} pz_cosmos_coldef;
extern const pz_cosmos_coldef pz_cosmos_columns[PZ_COSMOS_NCOLS];
/* Names of the minimal layout, NULL-terminated (written in the real column order). */
extern const char *const pz_cosmos_minimal[];

/* Write objs[0..n) to path. ids are 1..n. provenance goes into the header (PZPROV keywords). */
int pz_mock_write_cosmos(const char *path, const pz_mock_params *p, const pz_mock_field *f, const pz_mock_obj *objs,
                         size_t n, const char *provenance, pz_err *err);

#endif
