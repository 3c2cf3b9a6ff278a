/* The `evaluate` stage's science: photo-z metrics of every (model, test set) group, per seed,
 * in the LSST window, over the whole range and in redshift bins; aggregated over seeds; LSST
 * goal pass/fail; ratios baseline/model. Output is one tidy table (docs/evaluate.md):
 *
 *   model test versus selection stat seed z_lo z_hi | n n_nan bias bias_bw nmad scatter_bw rms
 *             | outlier outlier_bw catastrophic loss pass_bias pass_scatter pass_outlier pass_all
 *             | pit_ks pit_cvm crps catastrophic_in_95 pit_ks_raw pit_h00..pit_h09 | coverage_<pct> width_<pct>...
 *
 * The uncertainty columns (docs/uncertainty.md): PIT = CDF of the p(z) at z_true; pit_ks and
 * pit_cvm its Kolmogorov-Smirnov and Cramer-von Mises statistics against the uniform law; crps
 * the mean CRPS; pit_hNN the PIT density histogram; pit_ks_raw the KS of the PIT of the raw mixture
 * (before a recalibration map, attribute pdf_pit_map; pit_ks itself when there is none); for each interval level in the inputs
 * (z_lo_<pct>, z_hi_<pct>) the fraction of galaxies inside (coverage) and the mean width;
 * catastrophic_in_95 the fraction of catastrophic outliers inside their own 95% interval. NaN
 * where a model has no p(z) or no such interval.
 *
 * selection: "lsst" (window), "all" (whole range) or "bin" (z_lo < z_true <= z_hi)
 * stat:      "seed"  one seed's values (seed = the file's `seed` attribute, else its list position)
 *            "mean" "std" "p16" "p84"  over seeds (seed = -1); pass_* on the "mean" row are the
 *                    goals tested on the mean values, NaN on std/p16/p84 rows
 *            "ratio" baseline mean / this model's mean (|.| for bias, bias_bw), same test set
 *                    and selection, the baseline named in column `versus`; NaN for n, n_nan,
 *                    pass_* and the uncertainty columns
 *            "ratio_lo" "ratio_hi"  its 95% bootstrap interval over seeds
 *            "ratio_mabs" (+ _lo, _hi)  mean(|baseline|) / mean(|model|) over seeds, which
 *                    differs from "ratio" only for signed metrics (bias, bias_bw)
 * plus a Markdown summary a human reads. */
#ifndef PZ_EVALUATE_H
#define PZ_EVALUATE_H

#include <stddef.h>
#include <stdio.h>

#include "photoz/metrics.h"
#include "table/table.h"
#include "util/err.h"
#include "util/spec.h"

/* Ratio intervals: a percentile bootstrap over seeds (pz_ratio_interval) with a fixed RNG
 * seed, so the table is byte-identical on every run. 10000 resamples put the Monte Carlo
 * error of a 2.5% quantile well below the two digits the tables print. */
#define PZ_EVAL_BOOTSTRAP_N 10000
#define PZ_EVAL_BOOTSTRAP_SEED 20241127UL
#define PZ_EVAL_BOOTSTRAP_LEVEL 0.95
/* Bins of the PIT histogram (pit_h00 .. pit_h09), and the most interval levels evaluated. */
#define PZ_EVAL_PIT_BINS 10
#define PZ_EVAL_MAX_LEVELS 16

typedef struct pz_eval_group {
    const char *model;      /* label, e.g. "NN-Base" */
    const char *test;       /* label, e.g. "GalaxiesML" */
    const char *input;      /* spec input name, for messages */
    const char **paths;     /* one predictions file per seed */
    size_t npaths;
} pz_eval_group;

typedef struct pz_eval_config {
    double window[2];       /* LSST window (lo, hi] */
    double range[2];        /* whole range (lo, hi] */
    double *bins;           /* bin edges, increasing; bins are (bins[k], bins[k+1]] */
    size_t nedges;
    pz_lsst_goals goals;    /* tested on median bias, NMAD and |dz| > 0.15 outliers */
    const char *const *baselines; /* model labels ratios are taken against (each: baseline / model) */
    size_t nbaselines;      /* 0 = no ratios */
    double levels[PZ_EVAL_MAX_LEVELS]; /* interval levels (percent): pz_evaluate fills them from */
    size_t nlevels;                    /* the inputs' z_lo_<pct> columns; callers leave them 0 */
    int nan_error;          /* 1: a non-finite z_pred is an error; 0: excluded and counted */
    const char *z_pred_col, *z_true_col;
} pz_eval_config;

/* Defaults: window (0.3, 1.5], range (0, 4], bins 0 .3 .6 .9 1.2 1.5 2 3 4, LSST goals,
 * baselines {"NN-Base"}, NaN predictions excluded and counted, columns z_pred / z_true.
 * cfg->bins points at static storage. */
void pz_eval_config_default(pz_eval_config *cfg);

/* Evaluate every group (reads the prediction files) into the tidy table described above.
 * Attributes record the window, range, bins, goals and baseline. */
pz_table *pz_evaluate(const pz_eval_config *cfg, const pz_eval_group *groups, size_t ngroups, pz_err *err);

/* The Markdown summary of an evaluate table (deterministic: fixed number formats, no dates). */
int pz_eval_markdown(const pz_table *metrics, FILE *out, pz_err *err);

/* The whole stage: params and inputs from the spec, outputs `metrics` (a table) and `table` (Markdown). */
extern const pz_stage_def pz_evaluate_stage;

/* Helpers shared with plot-data: a param that is a list of numbers (absent -> 1). */
int pz_spec_double_list(const pz_spec *spec, const char *key, double **out, size_t *n, pz_err *err);

#endif
