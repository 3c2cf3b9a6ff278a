/* Applying a model to a catalogue of any size: `pzflow predict MODEL CATALOG -o OUT` and the
 * pipeline's predict stage both end here (nn/predict_cli.c, nn/stage.c).
 *
 * The catalogue is any source the table readers take (table/table.h: "cat.fits[2]",
 * "cat.h5:/photometry", CSV, ECSV), read in chunks by pz_table_reader_next; each chunk goes
 * through the network in blocks of PZ_EVAL_CHUNK rows, one sgemm per layer per block, and is
 * written by pz_table_writer_append, so memory is bounded by one chunk whatever the size.
 * With opts->threads N, N workers (util/parfor.h) each take the chunk's next block and do all of
 * its per-row work: features, flags, the network (a one-thread sgemm on the worker's own
 * workspace), p(z) and intervals; the calling thread, one of them, reads, and writes the
 * blocks in order. A block is cut at multiples of PZ_EVAL_CHUNK in the table's rows and its
 * rows go through the network at their place (pz_model_predict_at), so the output is the same
 * bytes for any N and any chunk size.
 *
 * Output contract (the `evaluate` stage relies on it; docs/network.md), rows in the input's order:
 *     <id column>  int64    the input's id column (default object_id), when present
 *     <--keep columns>      copied as they are, with their names, types and units
 *     z_pred       float32  the network's prediction; NaN when flag & 3
 *     z_true       float64  copy of the label column, when a label was given
 *     flag         int16    bit mask, 0 = ok:
 *                             1 a feature is non-finite
 *                             2 a feature is one of the model's sentinels ("missing", e.g. -99)
 *                             4 a feature is outside the model's training range (z_pred kept)
 *     pdf_weight_k, pdf_mean_k, pdf_std_k  float32 (k = 0..K-1), when the model gives a p(z)
 *                           (a Gaussian mixture; attributes pdf = "gaussian_mixture", pdf_ncomp = K;
 *                           z_pred is then the mixture's mean; NaN where z_pred is)
 *     z_lo_<pct>, z_hi_<pct>  float32, with opts->levels: the central interval of the p(z)
 *                           (attribute interval_method = pdf_quantile), or the split-conformal
 *                           one of pz_predict_calibrate (attributes conformal_*), as
 *                           pzflow-conformal writes them (photoz/conformal.h)
 * Attribute `seed`: the model's seed, when its file records one.
 * With opts->blank_flagged (the command), every row with a flag, also 4, has NaN p(z) and
 * intervals: an extrapolation has no uncertainty to report, and a number would look like one. */
#ifndef PZ_NN_PREDICT_H
#define PZ_NN_PREDICT_H

#include <stddef.h>
#include <stdint.h>
#include "nn/model.h"
#include "nn/net.h"
#include "nn/pdf.h"
#include "photoz/conformal.h"
#include "table/table.h"
#include "util/err.h"

enum { PZ_FLAG_NONFINITE = 1, PZ_FLAG_SENTINEL = 2, PZ_FLAG_OUT_OF_RANGE = 4 };
#define PZ_FLAG_NO_PREDICTION (PZ_FLAG_NONFINITE | PZ_FLAG_SENTINEL)

/* Predict rows of RAW features x [rows x nfeat] (the model's feature order) into out[rows].
 * Scales with the model's scaler; rows with a non-finite feature give NaN. Works in blocks of
 * ws->cap rows. Returns the number of NaN rows. */
size_t pz_model_predict(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out);
/* The same for rows that are rows [first, first + rows) of a longer table: a row's z_pred is then
 * bit for bit the same however the table is cut into calls (chunk sizes never change output). */
size_t pz_model_predict_at(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, size_t first, float *out,
                           const pz_pdf_block *pdf);
/* The same, with the p(z) of every row in pdf (K = pz_model_pdf_ncomp(m) columns of pdf->stride
 * >= rows; NaN for rows without a prediction) when pdf is not NULL and the model has one. */
size_t pz_model_predict_pdf(const pz_model *m, pz_net_ws *ws, const float *x, size_t rows, float *out,
                            const pz_pdf_block *pdf);

/* The flag of each row of raw features x [rows x nfeat] (bits above). A sentinel or non-finite
 * value is not also checked against the range: it is not a measurement. */
void pz_model_flag(const pz_model *m, const float *x, size_t rows, int16_t *flag);

typedef struct pz_predict_opts {
    const char *label;       /* NULL: no z_true */
    const char *id_column;   /* NULL: "object_id" if the table has it, else no id */
    int id_required;         /* the id column was asked for explicitly: missing is an error */
    const char *const *map;  /* "model_feature=catalog_column" items: where a feature is read from */
    size_t nmap;
    const char *const *keep; /* catalogue columns copied to the output as they are */
    size_t nkeep;
    size_t chunk_rows;       /* rows per read and write; 0 = default 65536 */
    long threads;            /* worker threads, each predicting whole PZ_EVAL_CHUNK blocks of a chunk
                                (BLAS stays on one thread); 0 or 1: the calling thread alone. The
                                output does not depend on it */
    void (*progress)(void *ctx, size_t done, size_t total); /* total 0: not known (CSV) */
    void *ctx;
    /* uncertainty (issue 13): all off by default, as the pipeline stage runs */
    const double *levels;    /* interval levels in percent (0, 100), at most 16 */
    size_t nlevels;
    const pz_conformal_result *conformal; /* NULL: intervals from the model's p(z) (it needs one) */
    int no_pdf;              /* leave the mixture columns out of the output */
    const char *qp_path;     /* also write the p(z) as a qp ensemble (mixmod; photoz/qp.h) */
    int blank_flagged;       /* NaN p(z) and intervals on every flagged row (above) */
} pz_predict_opts;

typedef struct pz_predict_stats {
    size_t rows;         /* rows predicted */
    size_t flagged;      /* rows with any flag */
    size_t nonfinite, sentinel, out_of_range; /* rows with each bit */
    size_t no_prediction; /* rows with z_pred NaN (flag & 3) */
    char *notes;         /* malloc'd, may be NULL: warnings for the summary (corrections) */
} pz_predict_stats;

/* Predict `src` into `out_path` written as `fmt`. Before any row is read, the catalogue's
 * columns are checked against the model (every feature, after --map; the label, the id and
 * --keep columns; all missing ones in one error with a did-you-mean), and on the first chunk
 * their units (a unit other than the model's is refused). */
int pz_predict_source(const pz_model *m, const pz_source *src, const char *out_path, pz_format fmt,
                      const pz_predict_opts *opts, pz_predict_stats *stats, pz_err *err);
void pz_predict_stats_free(pz_predict_stats *st);

/* Split-conformal calibration on a labelled catalogue held out from training (`pzflow predict
 * --calibrate`): predicts `cal` with the model (opts->map and chunk_rows apply; every flagged
 * row is left out, as blank_flagged leaves it without an interval), scores each row against its
 * `label` column and takes the quantile of each of opts->levels (pz_conformal_scores and
 * pz_conformal_calibrate: the code of pzflow-conformal). score: a pz_score_kind, or -1 for
 * normalized with a p(z), else relative. Memory: one double per calibration row. */
int pz_predict_calibrate(const pz_model *m, const pz_source *cal, const char *label, int score,
                         const pz_predict_opts *opts, pz_conformal_result *res, pz_predict_stats *stats, pz_err *err);
/* "N rows; flags: a non-finite (1), b sentinel (2), c outside the training range (4); d rows
 * without a prediction (z_pred NaN)" plus the notes, one line each (malloc'd). */
char *pz_predict_summary(const pz_predict_stats *st);

#endif
