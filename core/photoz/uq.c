#include "photoz/uq.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>

/* --- the PIT recalibration map ------------------------------------------------------------- */

size_t pz_pit_map_fit(const double *u, size_t n, double *work, double *knots, size_t *nknots)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(u[i])) work[k++] = u[i] < 0 ? 0 : u[i] > 1 ? 1 : u[i];
    if (*nknots == PZ_PIT_MAP_AUTO)
        *nknots = k / 100 < 5 ? 5 : k / 100 > 101 ? 101 : k / 100;
    if (k == 0 || *nknots < 3 || *nknots > PZ_PIT_MAP_MAX) return 0;
    gsl_sort(work, 1, k);
    size_t m = *nknots - 1;
    knots[0] = 0, knots[m] = 1;
    for (size_t j = 1; j < m; j++) { /* the quantile at j/m, interpolated between order statistics */
        double h = (double)(k - 1) * (double)j / (double)m, lo = floor(h);
        size_t i = (size_t)lo;
        double q = i + 1 < k ? work[i] + (h - lo) * (work[i + 1] - work[i]) : work[k - 1];
        knots[j] = q < knots[j - 1] ? knots[j - 1] : q;
    }
    return k;
}

/* The segment [knots[j], knots[j+1]) holding u: the last j < m with knots[j] <= u. */
static size_t map_segment(const double *knots, size_t m, double u)
{
    size_t lo = 0, hi = m - 1;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (knots[mid] <= u) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

double pz_pit_map_apply(const double *knots, size_t nknots, double u)
{
    size_t m = nknots - 1;
    if (!(u > 0)) return isnan(u) ? NAN : 0;
    if (!(u < 1)) return 1;
    size_t j = map_segment(knots, m, u);
    double width = knots[j + 1] - knots[j];
    return (j + (width > 0 ? (u - knots[j]) / width : 1)) / (double)m;
}

double pz_pit_map_inverse(const double *knots, size_t nknots, double t)
{
    size_t m = nknots - 1;
    if (!(t > 0)) return isnan(t) ? NAN : 0;
    if (!(t < 1)) return 1;
    double x = t * (double)m;
    size_t j = (size_t)x < m ? (size_t)x : m - 1;
    return knots[j] + (x - (double)j) * (knots[j + 1] - knots[j]);
}

double pz_pit_map_slope(const double *knots, size_t nknots, double u)
{
    size_t m = nknots - 1;
    if (!(u >= 0 && u <= 1)) return 0;
    size_t j = map_segment(knots, m, u);
    double width = knots[j + 1] - knots[j];
    return width > 0 ? 1 / (width * (double)m) : 0;
}

/* --- the p(z) -------------------------------------------------------------------------------- */

static double mixture_cdf(const pz_gmix *g, double z)
{
    double c = 0;
    for (size_t i = 0; i < g->k; i++) c += g->w[i] * gsl_cdf_ugaussian_P((z - g->mu[i]) / g->sd[i]);
    return c;
}

double pz_gmix_cdf(const pz_gmix *g, double z)
{
    double c = mixture_cdf(g, z);
    return g->map ? pz_pit_map_apply(g->map, g->nmap, c) : c;
}

double pz_gmix_pdf(const pz_gmix *g, double z)
{
    double p = 0;
    for (size_t i = 0; i < g->k; i++) p += g->w[i] * gsl_ran_gaussian_pdf(z - g->mu[i], g->sd[i]);
    return g->map ? p * pz_pit_map_slope(g->map, g->nmap, mixture_cdf(g, z)) : p;
}

/* The mixture's support: every component within `nsigma` standard deviations. */
static void support(const pz_gmix *g, double nsigma, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = 0; i < g->k; i++) {
        if (g->mu[i] - nsigma * g->sd[i] < *lo) *lo = g->mu[i] - nsigma * g->sd[i];
        if (g->mu[i] + nsigma * g->sd[i] > *hi) *hi = g->mu[i] + nsigma * g->sd[i];
    }
}

/* The raw mixture's p-quantile (0 < p < 1). */
static double mixture_quantile(const pz_gmix *g, double p)
{
    double lo, hi; /* every component's mass lies within 40 sigma, so the root is inside */
    support(g, 40, &lo, &hi);
    if (!(lo <= hi)) return NAN;
    for (int it = 0; it < 200 && hi - lo > 1e-10; it++) {
        double mid = 0.5 * (lo + hi);
        if (mixture_cdf(g, mid) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double pz_gmix_quantile(const pz_gmix *g, double p)
{
    if (!(p > 0)) return -INFINITY;
    if (!(p < 1)) return INFINITY;
    if (g->map) p = pz_pit_map_inverse(g->map, g->nmap, p);
    if (!(p > 0)) return -INFINITY; /* a map can send the tails' mass to the ends */
    if (!(p < 1)) return INFINITY;
    return mixture_quantile(g, p);
}

void pz_gmix_moments(const pz_gmix *g, double *mean, double *std)
{
    double m = 0, m2 = 0;
    if (g->map) {
        enum { N = 512 };
        for (int j = 0; j < N; j++) {
            double z = pz_gmix_quantile(g, (j + 0.5) / N);
            m += z / N, m2 += z * z / N;
        }
    } else {
        for (size_t i = 0; i < g->k; i++) {
            m += g->w[i] * g->mu[i];
            m2 += g->w[i] * (g->sd[i] * g->sd[i] + g->mu[i] * g->mu[i]);
        }
    }
    *mean = m;
    double v = m2 - m * m;
    *std = v > 0 ? sqrt(v) : 0;
}

/* E|Y| for Y ~ N(m, s2). */
static double abs_normal_mean(double m, double s2)
{
    double s = sqrt(s2);
    if (s == 0) return fabs(m);
    double t = m / s;
    return 2 * s * gsl_ran_ugaussian_pdf(t) + m * (2 * gsl_cdf_ugaussian_P(t) - 1);
}

/* int_a^b f(x) dx by the trapezoid rule on n points, f(x) = (F'(x) - above)^2. */
static double squared_cdf_integral(const pz_gmix *g, double a, double b, double above, int n)
{
    if (!(b > a)) return 0;
    double h = (b - a) / (n - 1), sum = 0;
    for (int i = 0; i < n; i++) {
        double d = pz_gmix_cdf(g, a + h * i) - above;
        sum += (i == 0 || i == n - 1 ? 0.5 : 1) * d * d;
    }
    return sum * h;
}

/* CRPS of a recalibrated p(z): split at z, so each side's integrand is smooth. */
static double mapped_crps(const pz_gmix *g, double z)
{
    double lo, hi;
    support(g, 10, &lo, &hi);
    if (z < lo) lo = z;
    if (z > hi) hi = z;
    return squared_cdf_integral(g, lo, z, 0, 401) + squared_cdf_integral(g, z, hi, 1, 401);
}

double pz_gmix_crps(const pz_gmix *g, double z)
{
    if (g->map) return mapped_crps(g, z);
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
