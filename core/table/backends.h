/* The per-format hooks behind table.h's format-independent calls (source.c, reader.c,
 * writer.c). Private to core/table: nothing outside this module includes it.
 *
 * Every back end answers the same three questions for a file and a place inside it (`loc`,
 * NULL = the format's default place; see pz_source in table.h): which columns are there (info),
 * give me rows [start, start+count) of these columns (read), and write tables chunk by chunk
 * (writer open/append/close, `proto` giving columns and attributes, no rows). */
#ifndef PZ_TABLE_BACKENDS_H
#define PZ_TABLE_BACKENDS_H

#include "table/table.h"

/* ---- HDF5 (hdf5.c, h5*.c) ---------------------------------------------------------------
 * loc: a group ("/photometry") or a compound dataset; NULL or "/" = the root. */
int pz_hdf5_info_at(const char *path, const char *loc, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_hdf5_read_at(const char *path, const char *loc, const char *const *columns, size_t ncolumns, size_t start,
                    size_t count, pz_table **out, pz_err *err);
typedef struct pz_hdf5_writer pz_hdf5_writer;
pz_hdf5_writer *pz_hdf5_writer_open(const char *path, const pz_table *proto, pz_err *err);
int pz_hdf5_writer_append(pz_hdf5_writer *w, const pz_table *chunk, pz_err *err);
int pz_hdf5_writer_close(pz_hdf5_writer *w, pz_err *err); /* finishes and frees; NULL-safe */

/* ---- FITS (fits.c reads, fitswrite.c writes) ----------------------------------------------
 * loc: an HDU number (cfitsio's: 1 = first extension) or an EXTNAME (case-insensitive);
 * NULL = the first table HDU. */
int pz_fits_info_at(const char *path, const char *loc, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_fits_read_at(const char *path, const char *loc, const char *const *columns, size_t ncolumns, size_t start,
                    size_t count, pz_table **out, pz_err *err);
/* An open table for repeated row-range reads (the streaming reader): the header is parsed once. */
typedef struct pz_fits_reader pz_fits_reader;
pz_fits_reader *pz_fits_reader_open(const char *path, const char *loc, const char *const *columns, size_t ncolumns,
                                    pz_err *err);
long pz_fits_reader_nrows(const pz_fits_reader *r);
int pz_fits_reader_read(pz_fits_reader *r, size_t start, size_t count, pz_table **out, pz_err *err);
void pz_fits_reader_close(pz_fits_reader *r);
typedef struct pz_fits_writer pz_fits_writer;
/* "path: what: cfitsio's words (cfitsio status N)"; returns -1. */
int pz_fits_fail(pz_err *err, const char *path, int status, const char *what);
pz_fits_writer *pz_fits_writer_open(const char *path, const pz_table *proto, pz_err *err);
int pz_fits_writer_append(pz_fits_writer *w, const pz_table *chunk, pz_err *err);
int pz_fits_writer_close(pz_fits_writer *w, pz_err *err);
/* Header text (names, units, descriptions, attributes) is printable ASCII; other bytes (UTF-8
 * "µJy" from an HDF5 or CSV input) are written as \xNN, and a backslash that would read as such
 * an escape as \x5c, so the reader's decoding gives back the exact bytes. encode: malloc'd;
 * decode: in place (never longer). */
char *pz_fits_text_encode(const char *s);
void pz_fits_text_decode(char *s);

/* ---- CSV and ECSV (csvread.c, csvwrite.c) --------------------------------------------------
 * No places inside a text file: loc must be NULL. Rows are read in order only. */
typedef struct pz_csv_reader pz_csv_reader;
pz_csv_reader *pz_csv_reader_open(const char *path, pz_format fmt, const char *const *columns, size_t ncolumns,
                                  pz_err *err);
/* Columns as they will be read, and the number of data rows (known after the first pass). */
int pz_csv_reader_info(pz_csv_reader *r, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
/* Next rows (at most maxrows); *out = NULL at the end; maxrows 0 gives the empty table. */
int pz_csv_reader_next(pz_csv_reader *r, size_t maxrows, pz_table **out, pz_err *err);
void pz_csv_reader_close(pz_csv_reader *r);
typedef struct pz_csv_writer pz_csv_writer;
pz_csv_writer *pz_csv_writer_open(const char *path, pz_format fmt, const pz_table *proto, pz_err *err);
int pz_csv_writer_append(pz_csv_writer *w, const pz_table *chunk, pz_err *err);
int pz_csv_writer_close(pz_csv_writer *w, pz_err *err);

/* ---- the streaming reader's helpers for row ranges of text files (reader.c) --------------- */
int pz_table_reader_skip(pz_table_reader *r, size_t nrows, pz_err *err);
/* The next `count` rows ((size_t)-1 = all the rest) as one table, empty (with columns) at the end. */
int pz_table_reader_take(pz_table_reader *r, size_t count, pz_table **out, pz_err *err);

/* ---- shared by the back ends (colmatch.c) -------------------------------------------------- */
/* Which of a file's names a wanted column is: exact, else a unique case-insensitive match.
 * Returns the index, -1 when absent, -2 when several names differ from it only in case. */
long pz_match_name(const char *const *names, size_t n, const char *want);
/* Append "name (did you mean X?)" for a missing name to an error list. */
void pz_describe_missing(char *buf, size_t size, size_t *len, const char *want, const char *const *names, size_t n,
                         int ambiguous);

#endif
