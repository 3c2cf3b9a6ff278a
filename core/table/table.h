/* Columnar tables: typed, named columns in memory, read from HDF5 (groups of 1-D datasets, the
 * GalaxiesML style, or compound datasets, astropy's layout), FITS and CSV, and written in
 * astropy's HDF5 layout, FITS or CSV. Every science stage moves data through this one type.
 *
 * Missing values: floating columns use NaN. Integer columns may carry a `null` mask
 * (1 = missing), filled from FITS TNULL; `null` is NULL when nothing is missing. */
#ifndef PZ_TABLE_H
#define PZ_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

typedef enum {
    PZ_F64, PZ_F32, PZ_I64, PZ_I32, PZ_I16, PZ_U8, PZ_BOOL, /* numeric; BOOL stored as uint8 0/1 */
    PZ_STR                                                  /* fixed-width byte strings, `width` bytes */
} pz_coltype;

typedef struct pz_column {
    char *name;
    pz_coltype type;
    size_t width;        /* bytes per element (PZ_STR: string width, no terminator required) */
    void *data;          /* nrows * width bytes, host byte order */
    uint8_t *null;       /* optional missing mask for integer columns, NULL if none */
    char *unit;          /* may be NULL */
    char *desc;          /* description (astropy `description`, FITS TCOMMn); may be NULL */
    int has_null_value;  /* integer columns: missing rows are stored in files as `null_value` */
    int64_t null_value;  /* (FITS TNULLn, read from and written to it); else writers use the type's minimum */
} pz_column;

typedef struct pz_table {
    size_t nrows;
    size_t ncols;
    pz_column *cols;
    size_t nattrs;       /* string attributes: provenance etc., written as HDF5 group attributes */
    char **attr_keys;
    char **attr_vals;
} pz_table;

size_t pz_coltype_size(pz_coltype t);
const char *pz_coltype_name(pz_coltype t);

pz_table *pz_table_new(size_t nrows);
void pz_table_free(pz_table *t);
/* Add a zero-filled column (width only used for PZ_STR). Replaces a same-named column in place.
 * The returned pointer stays valid across later pz_table_add calls while the table has at most
 * PZ_TABLE_COL_BLOCK columns (the column array grows in blocks of that size); past that, fetch
 * columns again with pz_table_col. */
#define PZ_TABLE_COL_BLOCK 256
pz_column *pz_table_add(pz_table *t, const char *name, pz_coltype type, size_t width);
/* The same, but NULL (table unchanged) when memory for the column cannot be had: for sizes a
 * file declares, which may be corrupt or hostile, where aborting is not an answer. */
pz_column *pz_table_try_add(pz_table *t, const char *name, pz_coltype type, size_t width);
pz_column *pz_table_col(const pz_table *t, const char *name);
/* Find a column or fail with "table 'what': no column 'name' (have: ...)". */
pz_column *pz_table_need(const pz_table *t, const char *name, const char *what, pz_err *err);
/* Set `key`, replacing an attribute of that name in any case (FITS upper-cases keywords). */
void pz_table_set_attr(pz_table *t, const char *key, const char *value);
/* Remove a column (the others keep their order; pointers to later columns move) or an attribute;
 * nothing when there is none of that name. */
void pz_table_drop(pz_table *t, const char *name);
void pz_table_unset_attr(pz_table *t, const char *key);
/* The attribute `key`: exact, else the unique one differing in case (FITS keywords are upper case). */
const char *pz_table_attr(const pz_table *t, const char *key);

/* Numeric access with conversion; a null integer or non-numeric column gives NaN. */
double pz_col_f64(const pz_column *c, size_t row);
void pz_col_set_f64(pz_column *c, size_t row, double v);
/* Copy columns into a row-major float matrix out[row*ncols + j] (for the network). Fails,
 * naming the column and row, on a missing column or a non-finite value unless allow_nan. */
int pz_table_matrix_f32(const pz_table *t, const char *const *cols, size_t ncols, float *out, int allow_nan,
                        pz_err *err);

/* New table with rows `rows[0..n)` of t (all columns, attributes copied). */
pz_table *pz_table_take(const pz_table *t, const size_t *rows, size_t n);
/* Copy rows `rows[0..n)` of column `src` into a new column `name` of `dst` (dst->nrows == n),
 * keeping type, unit and nulls: how the cross-match and the catalogue stages assemble tables. */
pz_column *pz_column_copy_rows(pz_table *dst, const char *name, const pz_column *src, const size_t *rows,
                               size_t n);
/* Unit, description and null value of src onto dst (which keeps its name, type and data). */
void pz_column_copy_meta(pz_column *dst, const pz_column *src);
/* Row-wise concatenation of tables with the same column names (types converted to the first's). */
pz_table *pz_table_concat(pz_table *const *ts, size_t n, pz_err *err);

/* HDF5 (docs/tables.md): the table at the file's default place (the root group's 1-D datasets,
 * or the root's only compound dataset: astropy's layout). `columns` NULL = all columns (in a
 * group, datasets of other shapes, such as images, are skipped unless named). Row range
 * [start, start+count) for chunked reading; count = (size_t)-1 means to the end.
 * pz_table_write_hdf5 writes astropy's table layout (table.h, Writing). Writes go to `path`
 * directly: atomicity is the engine's job (stages write into scratch). */
int pz_table_read_hdf5(const char *path, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                       pz_table **out, pz_err *err);
int pz_table_write_hdf5(const char *path, const pz_table *t, pz_err *err);
/* GalaxiesML's own layout: one dataset per column in "/", strings of shape (N,1), units in a
 * `unit` attribute, integer nulls as a sentinel named by a `null_value` attribute. Only for
 * files that stand in for that survey's (the mock); pzflow's own outputs use astropy's. */
int pz_table_write_hdf5_columns(const char *path, const pz_table *t, pz_err *err);
/* Number of rows of the table at the default place, -1 on error. */
long pz_hdf5_nrows(const char *path, pz_err *err);

/* FITS binary table in HDU `hdu` (1 = first extension): only the named columns, read in row
 * chunks so memory grows with the columns read, not the row width. NaN stays NaN; TNULL
 * integers set the null mask. Errors list every missing column at once. */
int pz_table_read_fits(const char *path, int hdu, const char *const *columns, size_t ncolumns, pz_table **out,
                       pz_err *err);
/* The same for file rows [start, start + count) only (clamped to the table; count (size_t)-1 =
 * to the end), for chunked passes over catalogues larger than memory. */
int pz_table_read_fits_rows(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                            size_t count, pz_table **out, pz_err *err);

/* Column names and types of a file without reading any data, so a schema can check a 6 GB
 * catalogue before reading it. Types are what the readers above would produce. */
typedef struct pz_colinfo {
    char *name;
    pz_coltype type;
    size_t width;
} pz_colinfo;
int pz_table_info_fits(const char *path, int hdu, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_table_info_hdf5(const char *path, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
void pz_colinfo_free(pz_colinfo *cols, size_t ncols);

/* Any format, told from the first bytes (core/table/format.c); `hdu` applies to FITS only, 0
 * meaning the file's first table HDU (as a pz_source with no place). How stages read the tables
 * other stages wrote and users' own files alike, whatever format either is in.
 * pz_table_read_any reads rows [start, start + count) of the named columns (NULL = all). */
typedef enum { PZ_FMT_FITS, PZ_FMT_HDF5, PZ_FMT_CSV, PZ_FMT_ECSV } pz_format;
int pz_table_format(const char *path, pz_format *fmt, pz_err *err);
int pz_table_info_any(const char *path, int hdu, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_table_read_any(const char *path, int hdu, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err);

/* ---- Any table, by where it is (docs/tables.md) -------------------------------------------
 * A source names a file and a place inside it:
 *   "cat.h5"               HDF5: the root group's 1-D datasets, or the root's only table dataset
 *   "cat.h5:/photometry"   HDF5: a group of 1-D datasets, or a compound dataset (astropy's layout)
 *   "cat.fits", "cat.fits[2]", "cat.fits[PHOT]"
 *                          FITS: the first BINTABLE/TABLE HDU, HDU number (cfitsio's: 1 = first
 *                          extension) or EXTNAME (case-insensitive)
 *   "cat.csv", "cat.ecsv"  CSV with a header line, or ECSV (told by its "# %ECSV" first line)
 * A spec that names an existing file as a whole is never split. Column names are matched exactly,
 * then case-insensitively when that is unique (FITS names are case-insensitive by the standard).
 * Errors name the file and place, and list what is there (groups, HDUs, near column names). */
typedef struct pz_source {
    char *path;
    char *loc;           /* NULL = the default place */
} pz_source;
int pz_source_parse(const char *spec, pz_source *src, pz_err *err);
void pz_source_free(pz_source *src);
/* "path" or "path:loc" / "path[loc]" as the user would write it (malloc'd). */
char *pz_source_str(const pz_source *src);

int pz_table_info_src(const pz_source *src, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_table_read_src(const pz_source *src, const char *const *columns, size_t ncolumns, size_t start,
                      size_t count, pz_table **out, pz_err *err);

/* Streaming reads: chunks of at most `maxrows` rows of the named columns (NULL = all), in file
 * order, memory bounded by one chunk whatever the file's size. next() gives *out = NULL at the
 * end. nrows is -1 when the format cannot tell without reading (CSV). */
typedef struct pz_table_reader pz_table_reader;
pz_table_reader *pz_table_reader_open(const pz_source *src, const char *const *columns, size_t ncolumns,
                                      pz_err *err);
long pz_table_reader_nrows(const pz_table_reader *r);
int pz_table_reader_next(pz_table_reader *r, size_t maxrows, pz_table **out, pz_err *err);
void pz_table_reader_close(pz_table_reader *r);

/* ---- Writing: one writer per format, all here -----------------------------------------------
 * FITS: a BINTABLE in extension 1 with TUNITn/TCOMMn, attributes as header keywords.
 * HDF5: astropy's table layout (a compound dataset plus its `.__table_column_meta__` YAML, so
 *       astropy Table.read(path) and STILTS open it with no arguments), units and descriptions.
 * CSV:  a header line; ECSV: with its YAML header (types, units, descriptions, attributes).
 * The same table gives the same bytes (no dates, no library versions in the file). Writes go to
 * `path` directly: atomicity is the engine's job (stages write into scratch). */
int pz_format_from_name(const char *path, pz_format *fmt, pz_err *err); /* .fits .fit .fts .h5 .hdf5 .csv .ecsv */
typedef struct pz_table_writer pz_table_writer;
/* `proto` gives columns (name, type, width, unit, desc) and attributes; its rows are not written. */
pz_table_writer *pz_table_writer_open(const char *path, pz_format fmt, const pz_table *proto, pz_err *err);
/* Rows of `chunk`, whose columns are proto's, in the same order. */
int pz_table_writer_append(pz_table_writer *w, const pz_table *chunk, pz_err *err);
/* Finishes and frees (NULL-safe); fails if any write failed. */
int pz_table_writer_close(pz_table_writer *w, pz_err *err);
int pz_table_write(const char *path, pz_format fmt, const pz_table *t, pz_err *err);

/* The format of every table a pipeline stage writes, and the extension its results link gets
 * (docs/tables.md): FITS BINTABLE, because astropy's Table.read and STILTS/TOPCAT both open it
 * with no arguments, while Debian 12's STILTS (3.4.7) has no HDF5 input handler. Changing the
 * pipeline's table format is these two lines. Models and qp ensembles are not tables: HDF5. */
#define PZ_STAGE_TABLE_FORMAT PZ_FMT_FITS
#define PZ_STAGE_TABLE_EXT ".fits"
#define PZ_STAGE_TABLE_MAX_COLUMNS 999 /* FITS's TFIELDS limit */
int pz_stage_table_write(const char *path, const pz_table *t, pz_err *err);

#endif
