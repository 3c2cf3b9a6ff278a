#include "photoz/metrics.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

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
