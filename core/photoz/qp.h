/* Predictions as a qp ensemble file (LSST DESC's qp, which RAIL's evaluators read; layout read
 * from qp's own code: qp.core.ensemble.Ensemble.build_tables / write_to through tables_io, and
 * qp.core.factory.Factory.from_tables / _build_data_dict; docs/uncertainty.md#qp-files):
 *
 *   /meta/pdf_name     |S<len> shape (1,)   "mixmod" or "interp"
 *   /meta/pdf_version  int64 shape (1,)     0
 *   /meta/xvals        float64 (1, n)       interp only: the grid (2-D: qp takes [0] of a 1-D meta array)
 *   /data/means, /data/stds, /data/weights  float32 (npdf, ncomp)   mixmod
 *   /data/yvals        float64 (npdf, n)     interp: the mixture's density on the grid
 *   /ancil/<column>    (npdf,)              every other 1-D column of the predictions (id, z_pred,
 *                                           z_true, flag, z_lo_*, z_hi_*), and zmode = z_pred, the
 *                                           point estimate RAIL's point metrics read
 *
 * Flagged rows keep their NaN mixtures: qp reads them, and they evaluate to NaN. */
#ifndef PZ_QP_H
#define PZ_QP_H

#include <stddef.h>

#include "table/table.h"
#include "util/err.h"
#include "util/spec.h"

typedef enum { PZ_QP_MIXMOD, PZ_QP_INTERP } pz_qp_format;

typedef struct pz_qp_opts {
    pz_qp_format format;
    double grid_lo, grid_hi; /* interp: the grid, n points from lo to hi inclusive */
    size_t grid_n;
    const char *z_pred_col;  /* copied into ancil as zmode */
} pz_qp_opts;

/* Write the predictions table (which must carry a p(z): attribute pdf) as a qp ensemble. */
int pz_qp_write(const char *path, const pz_table *pred, const pz_qp_opts *opts, pz_err *err);

/* The same a chunk of rows at a time, in bounded memory: open with a table of the predictions'
 * columns (rows ignored), append chunks with those columns, close. The file depends on the rows
 * alone, not on how they were cut into chunks. close frees the stream (NULL-safe) and finishes
 * the file; err may be NULL when closing after an error. */
typedef struct pz_qp_stream pz_qp_stream;
pz_qp_stream *pz_qp_open(const char *path, const pz_table *proto, const pz_qp_opts *opts, pz_err *err);
int pz_qp_append(pz_qp_stream *s, const pz_table *chunk, pz_err *err);
int pz_qp_close(pz_qp_stream *s, pz_err *err);

extern const pz_stage_def pz_export_qp_stage;

#endif
