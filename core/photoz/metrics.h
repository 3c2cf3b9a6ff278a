/* Photo-z point-estimate metrics, exactly as the study's group defines them
 * (Soriano et al. 2024, arXiv 2411.18054, and the group's public code, astrodatalab/photoz on
 * GitHub; docs/evaluate.md):
 *
 *   dz            = (z_pred - z_true) / (1 + z_true)
 *   bias          = median(dz)                      bias_bw    = biweight location of dz (c = 6)
 *   nmad          = 1.4826 * median|dz - median dz| scatter_bw = sqrt(biweight midvariance of dz, c = 9)
 *   rms           = sqrt(mean dz^2)
 *   outlier       = fraction with |dz| > 0.15
 *   outlier_bw    = fraction with |dz - bias_bw| > 2 * scatter_bw
 *   catastrophic  = fraction with |z_pred - z_true| > 1   (absolute, not normalised)
 *   loss          = HSC loss, mean(1 - 1/(1 + (dz/0.15)^2))
 *
 * The biweight statistics follow astropy.stats (biweight_location, biweight_midvariance with
 * their defaults: M = median, MAD unscaled, |u| < 1 kept, modify_sample_size=False), so results
 * can be cross-checked against astropy. Selections are right-closed: lo < z_true <= hi.
 *
 * Pure functions on double arrays: no I/O, no allocation visible to the caller except where
 * stated. An empty selection gives n = 0 and NaN for every metric. */
#ifndef PZ_METRICS_H
#define PZ_METRICS_H

#include <stddef.h>

#define PZ_OUTLIER_DZ 0.15     /* |dz| above this is an outlier, and the HSC loss scale */
#define PZ_CATASTROPHIC_DZ 1.0 /* |z_pred - z_true| above this is catastrophic */
#define PZ_NMAD_FACTOR 1.4826
#define PZ_BIWEIGHT_C_LOCATION 6.0
#define PZ_BIWEIGHT_C_SCALE 9.0

typedef enum {
    PZ_M_BIAS, PZ_M_BIAS_BW, PZ_M_NMAD, PZ_M_SCATTER_BW, PZ_M_RMS,
    PZ_M_OUTLIER, PZ_M_OUTLIER_BW, PZ_M_CATASTROPHIC, PZ_M_LOSS,
    PZ_M_COUNT
} pz_metric_id;

/* Column names used in every output: "bias", "bias_bw", "nmad", "scatter_bw", "rms",
 * "outlier", "outlier_bw", "catastrophic", "loss". */
extern const char *const pz_metric_names[PZ_M_COUNT];

typedef struct pz_metrics {
    long n;                 /* galaxies used (finite z_pred, z_true in the selection) */
    long n_nan;             /* galaxies in the selection whose z_pred is not finite (excluded) */
    double v[PZ_M_COUNT];   /* NaN when n == 0 */
} pz_metrics;

/* Median of x[0..n) (mean of the two middle values for even n). `work` holds n doubles and is
 * overwritten; x is untouched. NaN when n == 0. */
double pz_median(const double *x, size_t n, double *work);

/* astropy.stats.biweight_location(x, c) and biweight_midvariance(x, c). `work` holds n doubles.
 * If the median absolute deviation is 0, the location is the median and the midvariance 0,
 * as in astropy. NaN when n == 0. */
double pz_biweight_location(const double *x, size_t n, double c, double *work);
double pz_biweight_midvariance(const double *x, size_t n, double c, double *work);

/* Metrics of the galaxies with lo < z_true <= hi (use -INFINITY/INFINITY for no bound).
 * `work` holds 3*n doubles. Rows with a non-finite z_true never match a selection. */
void pz_metrics_select(const double *z_pred, const double *z_true, size_t n, double lo, double hi,
                       pz_metrics *out, double *work);

/* Aggregate of one metric over seeds: NaN values (empty selections) are skipped and n counts
 * the finite ones. std is the sample standard deviation (n - 1), NaN for n < 2. p16/p84 are
 * linearly interpolated percentiles (numpy's default). All NaN when n == 0. */
typedef struct pz_agg {
    long n;
    double mean, std, p16, p84;
} pz_agg;

/* `work` holds n doubles. */
void pz_aggregate(const double *x, size_t n, pz_agg *out, double *work);

/* LSST photo-z goals as drawn by the group: |bias| < 0.003, scatter < 0.02, outliers < 0.10. */
typedef struct pz_lsst_goals {
    double bias, scatter, outlier;
} pz_lsst_goals;

#define PZ_LSST_GOALS_DEFAULT ((pz_lsst_goals){0.003, 0.02, 0.10})

enum { PZ_GOAL_BIAS = 1, PZ_GOAL_SCATTER = 2, PZ_GOAL_OUTLIER = 4, PZ_GOAL_ALL = 7 };

/* Bit set of the goals met (strict inequalities; NaN never passes). */
int pz_lsst_goals_met(const pz_lsst_goals *goals, double bias, double scatter, double outlier);

/* A ratio baseline/model of one metric over seeds. For a signed metric (bias) the two
 * definitions differ: |mean| cancels signs across seeds, so a model whose seeds scatter
 * around zero looks better than any one of its seeds; mean |.| does not cancel.
 *   PZ_RATIO_ABS_MEAN  |mean(base)| / |mean(model)|   (the ratio of the table's seed means)
 *   PZ_RATIO_MEAN_ABS  mean(|base|) / mean(|model|)
 * For a metric that is never negative (NMAD, RMS, fractions) the two are equal. Non-finite
 * values (a seed with an empty selection) are skipped; NaN when either side has none. */
typedef enum { PZ_RATIO_ABS_MEAN, PZ_RATIO_MEAN_ABS } pz_ratio_kind;

double pz_ratio_of_means(const double *base, size_t nb, const double *model, size_t nm, pz_ratio_kind kind);

/* Percentile bootstrap interval of pz_ratio_of_means over seeds: `nboot` resamples of the seeds
 * with replacement, from GSL's MT19937 seeded with rng_seed (so the interval is the same on
 * every run and machine). When both sides have the same number of seeds they are resampled
 * together, index by index (NN-TL seed s is fine-tuned from NN-Base seed s, so the seeds are
 * paired); otherwise each side is resampled on its own. lo/hi are the (1 - level)/2 and
 * (1 + level)/2 quantiles (numpy's linear rule) of the finite resampled ratios (a resample
 * whose model mean is 0 gives inf, which counts); NaN when fewer than two seeds on a side. */
void pz_ratio_interval(const double *base, size_t nb, const double *model, size_t nm, pz_ratio_kind kind,
                       size_t nboot, unsigned long rng_seed, double level, double *lo, double *hi);

#endif
