/* Split conformal intervals on predictions tables (issue 13; docs/uncertainty.md), and the
 * readers of a predictions table's uncertainty columns that `evaluate` and `plot-data` share.
 *
 * Predictions contract (core/nn/predict.h): z_pred, z_true; a p(z) as a Gaussian mixture when
 * the root attribute pdf = "gaussian_mixture" (pdf_ncomp = K; pdf_weight_<k>, pdf_mean_<k>,
 * pdf_std_<k>); intervals z_lo_<pct>, z_hi_<pct> (this stage adds them).
 *
 * Scores (the calibration galaxies' nonconformity; a smaller score = a better prediction):
 *   relative    |z - z_pred| / (1 + z_pred)   interval z_pred -+ q (1 + z_pred)   point models
 *   absolute    |z - z_pred|                  interval z_pred -+ q
 *   normalized  |z - mu| / sigma              interval mu -+ q sigma    (mu, sigma: the mixture's
 *                                                                        mean and std)
 *   pit         |F(z) - 1/2|                  interval [F^-1(1/2 - q), F^-1(1/2 + q)]
 * q is the ceil((n + 1) c)-th smallest of the n calibration scores for coverage c
 * (pz_conformal_quantile). Lower ends are clipped at 0 (a redshift is positive, so coverage is
 * unchanged). */
#ifndef PZ_CONFORMAL_H
#define PZ_CONFORMAL_H

#include <stddef.h>

#include "photoz/uq.h"
#include "table/table.h"
#include "util/err.h"
#include "util/spec.h"

typedef enum { PZ_SCORE_RELATIVE, PZ_SCORE_ABSOLUTE, PZ_SCORE_NORMALIZED, PZ_SCORE_PIT, PZ_SCORE_COUNT } pz_score_kind;
extern const char *const pz_score_names[PZ_SCORE_COUNT]; /* "relative", "absolute", "normalized", "pit" */

#define PZ_PDF_MAX_COMPONENTS 64

/* The mixture columns of a predictions table, and its PIT recalibration map (root attribute
 * pdf_pit_map: the knots, comma-separated; nmap = 0 when there is none). */
typedef struct pz_pdf_cols {
    size_t k;
    const pz_column *w[PZ_PDF_MAX_COMPONENTS], *mu[PZ_PDF_MAX_COMPONENTS], *sd[PZ_PDF_MAX_COMPONENTS];
    size_t nmap;
    double map[PZ_PIT_MAP_MAX];
} pz_pdf_cols;

#define PZ_PIT_MAP_ATTR "pdf_pit_map"
#define PZ_RECALIBRATE_AUTO PZ_PIT_MAP_AUTO

/* 1 and *out filled when the table carries a p(z) (attribute pdf), 0 when not, -1 when the
 * attributes promise columns that are missing or a kind pzflow does not know (`what` names the
 * file in the message). */
int pz_pdf_cols_find(const pz_table *t, const char *what, pz_pdf_cols *out, pz_err *err);
/* Row `row` as a mixture in caller storage (each array PZ_PDF_MAX_COMPONENTS long). 0 when
 * every value is finite, the std's > 0 and the weights sum to 1 within 1e-3 (then normalised
 * exactly); -1 otherwise (a flagged row: the mixture is not usable). */
int pz_pdf_row(const pz_pdf_cols *c, size_t row, double *w, double *mu, double *sd, pz_gmix *g);

/* The interval levels a table carries (z_lo_<pct> with its z_hi_<pct>), ascending, at most
 * `max`; returns how many. */
size_t pz_interval_levels(const pz_table *t, double *pct, size_t max);
/* "z_lo_68", "z_hi_99.7": the column names of a level (%g of the percentage). */
void pz_interval_colname(char *buf, size_t size, const char *which, double pct);

/* Score of one galaxy, NaN when the prediction cannot give one (z_pred not finite, or the
 * mixture not usable for the PDF scores). g may be NULL for the point scores. */
double pz_conformal_score(pz_score_kind kind, double z_true, double z_pred, const pz_gmix *g);
/* The interval of quantile q around one galaxy's prediction. */
void pz_conformal_interval(pz_score_kind kind, double q, double z_pred, const pz_gmix *g, double *lo, double *hi);

typedef struct pz_conformal_opts {
    const double *levels;    /* percentages in (0, 100) */
    size_t nlevels;
    int score;               /* pz_score_kind, or -1: normalized when the tables carry a p(z), else relative */
    const char *z_pred_col, *z_true_col;
    size_t recalibrate;      /* > 0: also recalibrate the p(z) by its calibration PITs, a map of this many knots
                                (PZ_RECALIBRATE_AUTO: one per ~100 calibration galaxies, 5 to 101) */
} pz_conformal_opts;

typedef struct pz_conformal_result {
    pz_score_kind score;
    size_t ncal;             /* calibration galaxies with a finite score */
    double q[16];            /* the quantile of each level */
    size_t nmap;             /* knots of the recalibration map (0: none) */
} pz_conformal_result;

/* Calibrate on `cal` and add z_lo_<pct>, z_hi_<pct> (float32) to `pred` for every level; also
 * root attributes conformal_score, conformal_calibration_n and conformal_q_<pct>. With
 * opts->recalibrate, also the PIT recalibration map of the p(z) (attribute pdf_pit_map; the
 * intervals stay those of the scores). The three steps below, for callers that see the
 * calibration and the predictions a chunk at a time (`pzflow predict --calibrate`, nn/predict.h). */
int pz_conformal_apply(const pz_table *cal, pz_table *pred, const pz_conformal_opts *opts, pz_conformal_result *res,
                       pz_err *err);
/* 1. The score of every row of a calibration table (z_pred, z_true, its p(z) for the PDF
 *    scores) into out[t->nrows]; NaN where a row gives none. */
int pz_conformal_scores(const pz_table *t, pz_score_kind kind, const char *z_pred_col, const char *z_true_col,
                        double *out, pz_err *err);
/* 2. The quantile of every level of opts from n scores (non-finite ones left out of ncal). */
int pz_conformal_calibrate(const double *scores, size_t n, const pz_conformal_opts *opts, pz_score_kind kind,
                           pz_conformal_result *res, pz_err *err);
/* 3. The intervals of res added to `pred` (any rows: the quantile is the calibration's), with
 *    the attributes above. Only opts->levels, nlevels and z_pred_col are read. */
int pz_conformal_intervals(pz_table *pred, const pz_conformal_opts *opts, const pz_conformal_result *res, pz_err *err);

/* The model's own central intervals: z_lo_<pct>, z_hi_<pct> = the (1 -+ pct/100)/2 quantiles of
 * each row's p(z) (lower end clipped at 0, as above), NaN where the mixture is not usable;
 * attribute interval_method = pdf_quantile. An error when the table has no p(z). */
int pz_pdf_intervals(pz_table *pred, const double *levels, size_t nlevels, pz_err *err);

extern const pz_stage_def pz_conformal_stage;

#endif
