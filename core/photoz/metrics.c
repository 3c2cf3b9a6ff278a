#include "photoz/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "util/err.h"

const char *const pz_metric_names[PZ_M_COUNT] = {
    "bias", "bias_bw", "nmad", "scatter_bw", "rms", "outlier", "outlier_bw", "catastrophic", "loss",
};

double pz_median(const double *x, size_t n, double *work)
{
    if (n == 0) return NAN;
    memcpy(work, x, n * sizeof *work);
    gsl_sort(work, 1, n);
    return gsl_stats_median_from_sorted_data(work, 1, n);
}

/* Median absolute deviation around m (unscaled, as astropy uses inside the biweight). */
static double mad_around(const double *x, size_t n, double m, double *work)
{
    for (size_t i = 0; i < n; i++) work[i] = fabs(x[i] - m);
    gsl_sort(work, 1, n);
    return gsl_stats_median_from_sorted_data(work, 1, n);
}

double pz_biweight_location(const double *x, size_t n, double c, double *work)
{
    if (n == 0) return NAN;
    double m = pz_median(x, n, work);
    double mad = mad_around(x, n, m, work);
    if (mad == 0) return m;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m, u = d / (c * mad);
        if (fabs(u) >= 1) continue; /* Tukey weight is zero outside |u| < 1 */
        double w = (1 - u * u) * (1 - u * u);
        num += d * w;
        den += w;
    }
    return m + num / den;
}

double pz_biweight_midvariance(const double *x, size_t n, double c, double *work)
{
    if (n == 0) return NAN;
    double m = pz_median(x, n, work);
    double mad = mad_around(x, n, m, work);
    if (mad == 0) return 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m, u = d / (c * mad), u2 = u * u;
        if (fabs(u) >= 1) continue;
        double w = 1 - u2;
        num += d * d * w * w * w * w;
        den += w * (1 - 5 * u2);
    }
    /* astropy's default modify_sample_size=False: n counts every point, rejected ones too. */
    return (double)n * num / (den * den);
}

static void metrics_of_dz(const double *dz, const double *adz_abs, size_t n, pz_metrics *out, double *work)
{
    double *v = out->v;
    double bias = pz_median(dz, n, work);
    v[PZ_M_BIAS] = bias;
    v[PZ_M_NMAD] = PZ_NMAD_FACTOR * mad_around(dz, n, bias, work);
    v[PZ_M_BIAS_BW] = pz_biweight_location(dz, n, PZ_BIWEIGHT_C_LOCATION, work);
    v[PZ_M_SCATTER_BW] = sqrt(pz_biweight_midvariance(dz, n, PZ_BIWEIGHT_C_SCALE, work));
    double sum2 = 0, loss = 0;
    long outl = 0, outl_bw = 0, cat = 0;
    for (size_t i = 0; i < n; i++) {
        double r = dz[i] / PZ_OUTLIER_DZ;
        sum2 += dz[i] * dz[i];
        loss += 1 - 1 / (1 + r * r);
        outl += fabs(dz[i]) > PZ_OUTLIER_DZ;
        outl_bw += fabs(dz[i] - v[PZ_M_BIAS_BW]) > 2 * v[PZ_M_SCATTER_BW];
        cat += adz_abs[i] > PZ_CATASTROPHIC_DZ;
    }
    v[PZ_M_RMS] = sqrt(sum2 / n);
    v[PZ_M_LOSS] = loss / n;
    v[PZ_M_OUTLIER] = (double)outl / n;
    v[PZ_M_OUTLIER_BW] = (double)outl_bw / n;
    v[PZ_M_CATASTROPHIC] = (double)cat / n;
}

void pz_metrics_select(const double *z_pred, const double *z_true, size_t n, double lo, double hi,
                       pz_metrics *out, double *work)
{
    double *dz = work, *diff = work + n, *scratch = work + 2 * n;
    size_t k = 0;
    out->n_nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(z_true[i] > lo && z_true[i] <= hi)) continue; /* right-closed; NaN z_true never matches */
        if (!isfinite(z_pred[i])) {
            out->n_nan++;
            continue;
        }
        dz[k] = (z_pred[i] - z_true[i]) / (1 + z_true[i]);
        diff[k] = fabs(z_pred[i] - z_true[i]);
        k++;
    }
    out->n = (long)k;
    if (k == 0) {
        for (int m = 0; m < PZ_M_COUNT; m++) out->v[m] = NAN;
        return;
    }
    metrics_of_dz(dz, diff, k, out, scratch);
}

void pz_aggregate(const double *x, size_t n, pz_agg *out, double *work)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) work[k++] = x[i];
    out->n = (long)k;
    if (k == 0) {
        out->mean = out->std = out->p16 = out->p84 = NAN;
        return;
    }
    gsl_sort(work, 1, k);
    out->mean = gsl_stats_mean(work, 1, k);
    out->std = k < 2 ? NAN : gsl_stats_sd_m(work, 1, k, out->mean);
    /* GSL's quantile is numpy's "linear" rule: x[floor(f(k-1))] interpolated. */
    out->p16 = gsl_stats_quantile_from_sorted_data(work, 1, k, 0.16);
    out->p84 = gsl_stats_quantile_from_sorted_data(work, 1, k, 0.84);
}

int pz_lsst_goals_met(const pz_lsst_goals *goals, double bias, double scatter, double outlier)
{
    int met = 0;
    if (fabs(bias) < goals->bias) met |= PZ_GOAL_BIAS;
    if (scatter < goals->scatter) met |= PZ_GOAL_SCATTER;
    if (outlier < goals->outlier) met |= PZ_GOAL_OUTLIER;
    return met;
}

/* Mean of f(x) over the finite x[idx[i]] (idx NULL: all of x); NaN when none. */
static double mean_of(const double *x, const size_t *idx, size_t n, int absolute)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[idx ? idx[i] : i];
        if (!isfinite(v)) continue;
        sum += absolute ? fabs(v) : v;
        k++;
    }
    return k ? sum / (double)k : NAN;
}

/* numpy's linear-rule quantile of sorted x[0..n), safe with inf: GSL's interpolation computes
 * 0 * inf = NaN when a quantile lands exactly on a finite value next to an infinite one. */
static double quantile_sorted(const double *x, size_t n, double f)
{
    double index = f * (double)(n - 1);
    size_t lhs = (size_t)index;
    double delta = index - (double)lhs;
    if (lhs >= n - 1 || delta == 0 || x[lhs] == x[lhs + 1]) return x[lhs < n - 1 ? lhs : n - 1];
    return (1 - delta) * x[lhs] + delta * x[lhs + 1];
}

static double ratio_of(const double *base, const size_t *ib, size_t nb, const double *model, const size_t *im,
                       size_t nm, pz_ratio_kind kind)
{
    int mean_abs = kind == PZ_RATIO_MEAN_ABS;
    double b = mean_of(base, ib, nb, mean_abs), m = mean_of(model, im, nm, mean_abs);
    return fabs(b) / fabs(m);
}

double pz_ratio_of_means(const double *base, size_t nb, const double *model, size_t nm, pz_ratio_kind kind)
{
    return ratio_of(base, NULL, nb, model, NULL, nm, kind);
}

void pz_ratio_interval(const double *base, size_t nb, const double *model, size_t nm, pz_ratio_kind kind,
                       size_t nboot, unsigned long rng_seed, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (nb < 2 || nm < 2 || nboot == 0) return;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, rng_seed);
    size_t *ib = pz_xmalloc(nb * sizeof *ib), *im = pz_xmalloc(nm * sizeof *im);
    double *r = pz_xmalloc(nboot * sizeof *r);
    size_t k = 0;
    int paired = nb == nm;
    for (size_t s = 0; s < nboot; s++) {
        for (size_t i = 0; i < nb; i++) ib[i] = gsl_rng_uniform_int(rng, nb);
        for (size_t i = 0; i < nm; i++) im[i] = paired ? ib[i] : gsl_rng_uniform_int(rng, nm);
        double v = ratio_of(base, ib, nb, model, im, nm, kind);
        if (!isnan(v)) r[k++] = v;
    }
    if (k > 0) {
        gsl_sort(r, 1, k);
        *lo = quantile_sorted(r, k, (1 - level) / 2);
        *hi = quantile_sorted(r, k, (1 + level) / 2);
    }
    free(ib);
    free(im);
    free(r);
    gsl_rng_free(rng);
}
