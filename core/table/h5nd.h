/* Small deterministic HDF5 writes of N-D arrays in groups, for files whose layout another tool
 * fixes (qp ensembles: /meta, /data, /ancil; core/photoz/qp.c). Tables go through the table
 * writer (table.h); this is for the rest. Files carry no times (object time tracking off) and
 * the v1.8 format, like every pzflow HDF5 file, so the same arrays give the same bytes. */
#ifndef PZ_H5ND_H
#define PZ_H5ND_H

#include <stddef.h>

#include "util/err.h"

typedef enum { PZ_H5ND_F32, PZ_H5ND_F64, PZ_H5ND_I64, PZ_H5ND_STR } pz_h5nd_type;

typedef struct pz_h5nd pz_h5nd;

/* Create (truncate) path. NULL with err on failure. */
pz_h5nd *pz_h5nd_create(const char *path, pz_err *err);
/* A group, e.g. "/meta" (its parent must exist). */
int pz_h5nd_group(pz_h5nd *f, const char *name, pz_err *err);
/* A dataset `name` ("/data/means") of `rank` dims, row-major `data`; PZ_H5ND_STR elements are
 * fixed-length byte strings of `str_width` bytes (numpy's |S<width>), width ignored otherwise. */
int pz_h5nd_write(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims, const void *data,
                  size_t str_width, pz_err *err);
/* A dataset growing along its first dimension (dims[0] is ignored: it starts with 0 rows),
 * stored in chunks of `chunk_rows` rows; pz_h5nd_append adds `rows` rows (row-major) at its end.
 * The file's bytes depend on the sequence of appends: a caller that wants them to depend on the
 * data alone appends whole chunks (and one last partial one). */
int pz_h5nd_create_growing(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims,
                           size_t chunk_rows, size_t str_width, pz_err *err);
int pz_h5nd_append(pz_h5nd *f, const char *name, pz_h5nd_type type, size_t rows, const void *data, size_t str_width,
                   pz_err *err);
/* Read a numeric dataset back as doubles (row-major, malloc'd into *out), its rank (<= 4) and
 * dims: the round trip of the tests, and a way to check a file another tool wrote. */
int pz_h5nd_read_f64(const char *path, const char *name, int *rank, size_t dims[4], double **out, pz_err *err);
/* Close and free (NULL-safe); -1 when closing failed. */
int pz_h5nd_close(pz_h5nd *f, pz_err *err);

#endif
