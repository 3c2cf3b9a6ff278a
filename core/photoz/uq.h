/* Uncertainty of photo-z predictions (issue 13; docs/uncertainty.md): a per-galaxy p(z) as a
 * Gaussian mixture (predictions contract 2: pdf_weight_<k>, pdf_mean_<k>, pdf_std_<k>), the
 * probability integral transform (PIT) and its uniformity tests, the continuous ranked
 * probability score (CRPS), and the split-conformal quantile.
 *
 * Pure functions on double arrays: no I/O, nothing allocated except where stated. */
#ifndef PZ_UQ_H
#define PZ_UQ_H

#include <stddef.h>

/* One galaxy's p(z): a Gaussian mixture of k components, weights summing to 1 (not checked
 * here), std > 0, and optionally a PIT recalibration map (see below): the p(z) is then
 * F'(z) = G(F(z)), F the mixture's CDF. map = NULL: the mixture itself. */
typedef struct pz_gmix {
    size_t k;
    const double *w, *mu, *sd;
    const double *map; /* nmap knots of G, or NULL */
    size_t nmap;
} pz_gmix;

/* Every function below honours the map: a recalibrated p(z) is never silently read as its raw
 * mixture. */
double pz_gmix_cdf(const pz_gmix *g, double z);
double pz_gmix_pdf(const pz_gmix *g, double z);
/* Mean and standard deviation: of the mixture by the law of total variance; with a map, from
 * 512 equally spaced quantiles (midpoint rule). */
void pz_gmix_moments(const pz_gmix *g, double *mean, double *std);
/* The p-quantile, 0 < p < 1, by bisection to 1e-10 in z (the CDF is continuous and
 * increasing, so the root is unique); -inf / +inf for p <= 0 / p >= 1. */
double pz_gmix_quantile(const pz_gmix *g, double p);
/* CRPS(F, z) = E|X - z| - E|X - X'|/2 in closed form for a Gaussian mixture (Grimit et al. 2006,
 * QJRMS 132, 2925): sum_i w_i A(z - mu_i, sd_i^2) - 1/2 sum_ij w_i w_j A(mu_i - mu_j, sd_i^2 + sd_j^2),
 * A(m, s2) = 2 s phi(m/s) + m (2 Phi(m/s) - 1). For one Gaussian it reduces to Gneiting's formula.
 * With a map, the definition int (F'(x) - 1{x >= z})^2 dx by the trapezoid rule on 2 x 401 points
 * split at z, over the mixture's support (every component within 10 sigma, and z). */
double pz_gmix_crps(const pz_gmix *g, double z);

/* PIT recalibration (Bordoloi, Lilly & Amara 2010, MNRAS 406, 881): when a model's PITs on a
 * held-out calibration split are not uniform, G, the empirical CDF of those PITs, maps them to
 * uniform, and F'(z) = G(F(z)) is a p(z) whose PIT on exchangeable galaxies is uniform up to the
 * calibration sample's noise. G is stored as n knots u_0 = 0 <= u_1 <= ... <= u_{n-1} = 1, the
 * calibration PITs' quantiles at j/(n-1): G is the piecewise-linear function through
 * (u_j, j/(n-1)). */
#define PZ_PIT_MAP_MAX 257
#define PZ_PIT_MAP_AUTO ((size_t)-1)
/* The knots from the finite values of u[0..n) (work: n doubles). *nknots is 3..PZ_PIT_MAP_MAX,
 * or PZ_PIT_MAP_AUTO: one knot per ~100 finite values, 5 to 101, and *nknots gets that number
 * (also when nothing is fitted). Returns the number of finite values used (0: knots not
 * written), so a caller judges whether they are enough without counting them again. */
size_t pz_pit_map_fit(const double *u, size_t n, double *work, double *knots, size_t *nknots);
/* G(u), its inverse, and its derivative (the density of the recalibrated PIT). */
double pz_pit_map_apply(const double *knots, size_t nknots, double u);
double pz_pit_map_inverse(const double *knots, size_t nknots, double t);
double pz_pit_map_slope(const double *knots, size_t nknots, double u);

/* Kolmogorov-Smirnov distance of the values u[0..n) from the uniform law on [0, 1]:
 * max_i max(i/n - u_(i), u_(i) - (i-1)/n) over the sorted values. `work` holds n doubles.
 * NaN when n == 0. */
double pz_pit_ks(const double *u, size_t n, double *work);
/* Cramer-von Mises statistic against the uniform law, as scipy.stats.cramervonmises reports it
 * (and RAIL's PIT evaluator with it): T = 1/(12n) + sum_i ((2i - 1)/(2n) - u_(i))^2. */
double pz_pit_cvm(const double *u, size_t n, double *work);
/* Density histogram of u over nbins equal bins of [0, 1] (1 everywhere for a uniform PIT):
 * out[b] = nbins * (count in bin b) / n; a value of exactly 1 falls in the last bin. */
void pz_pit_hist(const double *u, size_t n, size_t nbins, double *out);

/* Split conformal prediction (Vovk et al. 2005; Lei et al. 2018): with n exchangeable
 * calibration scores s_i, the interval {z : score(z) <= q} has coverage >= 1 - alpha on a new
 * galaxy when q is the ceil((n + 1)(1 - alpha))-th smallest score. Non-finite scores are
 * skipped (n counts the finite ones). +inf when ceil((n + 1)(1 - alpha)) > n (too few
 * calibration galaxies for that level); NaN when there is none. `coverage` = 1 - alpha in
 * (0, 1); `work` holds n doubles. *used (may be NULL) gets the number of finite scores. */
double pz_conformal_quantile(const double *scores, size_t n, double coverage, double *work, size_t *used);
/* The rank ceil((n + 1) * coverage) itself, robust to the rounding of the product (0.95 * 100
 * is 95.00000000000001 in binary, whose ceiling would be one rank too many). */
size_t pz_conformal_rank(size_t n, double coverage);

#endif
