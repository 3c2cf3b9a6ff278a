/* Applying a model to a table of any size.
 *
 * The table is read in row chunks (pz_table_read_hdf5 row ranges) and each chunk goes through the
 * network in blocks of PZ_EVAL_CHUNK rows, one sgemm per layer per block, so memory stays flat
 * and the arithmetic runs at sgemm speed whatever the catalogue size. The output is written
 * chunk by chunk as well.
 *
 * Output contract (the `evaluate` stage relies on it): an HDF5 table (flat root group, one 1-D
 * dataset per column, no attributes: provenance is in the run record) with
 *     <id column>  int64    the input's id column (default object_id), when present
 *     z_pred       float32  the network's prediction; NaN where a feature is non-finite
 *     z_true       float64  copy of the label column, when a label was given
 * rows in the input's order. */
#ifndef PZ_NN_PREDICT_H
#define PZ_NN_PREDICT_H

#include <stddef.h>
#include "nn/model.h"
#include "nn/net.h"
#include "nn/pdf.h"
#include "util/err.h"

/* Predict rows of RAW features x [rows x nfeat] (the model's feature order) into out[rows].
 * Scales with the model's scaler; rows with a non-finite feature give NaN. Works in blocks of
 * ws->cap rows. Returns the number of NaN rows. */
size_t pz_model_predict(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out);
/* The same, with the p(z) of every row in pdf (K = pz_model_pdf_ncomp(m) columns of pdf->stride
 * >= rows; NaN for rows without a prediction) when pdf is not NULL and the model has one. */
size_t pz_model_predict_pdf(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out,
                            const pz_pdf_block *pdf);

typedef struct pz_predict_opts {
    const char *label;       /* NULL: no z_true */
    const char *id_column;   /* NULL: "object_id" if the table has it, else no id */
    int id_required;         /* the id column was asked for explicitly: missing is an error */
    size_t read_rows;        /* rows per read; 0 = default 65536 */
    int hdu;                 /* FITS tables: the HDU (0 = the default, 1, the first extension) */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *ctx;
} pz_predict_opts;

typedef struct pz_predict_stats {
    size_t rows;      /* rows predicted */
    size_t nan_rows;  /* rows with a non-finite feature (z_pred NaN) */
} pz_predict_stats;

int pz_predict_file(const pz_model *m, const char *table_path, const char *out_path, const pz_predict_opts *opts,
                    pz_predict_stats *stats, pz_err *err);

#endif
