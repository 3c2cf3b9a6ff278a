#include "photoz/uq.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>

double pz_gmix_cdf(const pz_gmix *g, double z)
{
    double c = 0;
    for (size_t i = 0; i < g->k; i++) c += g->w[i] * gsl_cdf_ugaussian_P((z - g->mu[i]) / g->sd[i]);
    return c;
}

void pz_gmix_moments(const pz_gmix *g, double *mean, double *std)
{
    double m = 0, m2 = 0;
    for (size_t i = 0; i < g->k; i++) {
        m += g->w[i] * g->mu[i];
        m2 += g->w[i] * (g->sd[i] * g->sd[i] + g->mu[i] * g->mu[i]);
    }
    *mean = m;
    double v = m2 - m * m;
    *std = v > 0 ? sqrt(v) : 0;
}

double pz_gmix_quantile(const pz_gmix *g, double p)
{
    if (!(p > 0)) return -INFINITY;
    if (!(p < 1)) return INFINITY;
    /* Every component's mass lies within 40 sigma, so the root is inside [lo, hi]. */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < g->k; i++) {
        if (g->mu[i] - 40 * g->sd[i] < lo) lo = g->mu[i] - 40 * g->sd[i];
        if (g->mu[i] + 40 * g->sd[i] > hi) hi = g->mu[i] + 40 * g->sd[i];
    }
    if (!(lo <= hi)) return NAN;
    for (int it = 0; it < 200 && hi - lo > 1e-10; it++) {
        double mid = 0.5 * (lo + hi);
        if (pz_gmix_cdf(g, mid) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* E|Y| for Y ~ N(m, s2). */
static double abs_normal_mean(double m, double s2)
{
    double s = sqrt(s2);
    if (s == 0) return fabs(m);
    double t = m / s;
    return 2 * s * gsl_ran_ugaussian_pdf(t) + m * (2 * gsl_cdf_ugaussian_P(t) - 1);
}

double pz_gmix_crps(const pz_gmix *g, double z)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < g->k; i++) {
        a += g->w[i] * abs_normal_mean(z - g->mu[i], g->sd[i] * g->sd[i]);
        for (size_t j = 0; j < g->k; j++)
            b += g->w[i] * g->w[j] * abs_normal_mean(g->mu[i] - g->mu[j], g->sd[i] * g->sd[i] + g->sd[j] * g->sd[j]);
    }
    return a - 0.5 * b;
}

static void sorted_copy(const double *u, size_t n, double *work)
{
    memcpy(work, u, n * sizeof *work);
    gsl_sort(work, 1, n);
}

double pz_pit_ks(const double *u, size_t n, double *work)
{
    if (n == 0) return NAN;
    sorted_copy(u, n, work);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double above = (double)(i + 1) / n - work[i], below = work[i] - (double)i / n;
        if (above > d) d = above;
        if (below > d) d = below;
    }
    return d;
}

double pz_pit_cvm(const double *u, size_t n, double *work)
{
    if (n == 0) return NAN;
    sorted_copy(u, n, work);
    double t = 1.0 / (12.0 * n);
    for (size_t i = 0; i < n; i++) {
        double e = (2.0 * i + 1) / (2.0 * n) - work[i];
        t += e * e;
    }
    return t;
}

void pz_pit_hist(const double *u, size_t n, size_t nbins, double *out)
{
    for (size_t b = 0; b < nbins; b++) out[b] = n ? 0 : NAN;
    for (size_t i = 0; i < n; i++) {
        double x = u[i] < 0 ? 0 : u[i];
        size_t b = (size_t)(x * nbins);
        out[b < nbins ? b : nbins - 1] += (double)nbins / n;
    }
}

size_t pz_conformal_rank(size_t n, double coverage)
{
    double x = (double)(n + 1) * coverage;
    double r = ceil(x - 1e-9 * x); /* a product within rounding of an integer is that integer */
    return r < 1 ? 1 : (size_t)r;
}

double pz_conformal_quantile(const double *scores, size_t n, double coverage, double *work, size_t *used)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(scores[i])) work[k++] = scores[i];
    if (used) *used = k;
    if (k == 0) return NAN;
    size_t rank = pz_conformal_rank(k, coverage);
    if (rank > k) return INFINITY;
    gsl_sort(work, 1, k);
    return work[rank - 1];
}
