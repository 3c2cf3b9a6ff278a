/* Uncertainty: the Gaussian-mixture p(z) (CDF, quantile, CRPS), PIT statistics, and split
 * conformal intervals, whose coverage is checked on generated calibration and test samples
 * (seeded, so deterministic) where a wrong quantile rule would miss it by many sigma. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "photoz/conformal.h"
#include "photoz/qp.h"
#include "photoz/uq.h"
#include "support/pztest.h"
#include "table/table.h"
#include "util/err.h"

static void test_conformal_rank_is_ceil_n_plus_1_times_coverage(void)
{
    /* 100 * 0.95 is 95.00000000000001 in binary: the rank is still 95, not 96 */
    CU_ASSERT_EQUAL(pz_conformal_rank(99, 0.95), 95);
    CU_ASSERT_EQUAL(pz_conformal_rank(19, 0.9), 18);
    CU_ASSERT_EQUAL(pz_conformal_rank(10, 0.68), 8); /* 11 * 0.68 = 7.48 */
    CU_ASSERT_EQUAL(pz_conformal_rank(18, 0.95), 19);
    double s[19], work[19];
    for (int i = 0; i < 19; i++) s[i] = 19 - i; /* 19 .. 1, unsorted */
    size_t used;
    CU_ASSERT_DOUBLE_EQUAL(pz_conformal_quantile(s, 19, 0.9, work, &used), 18, 0);
    CU_ASSERT_EQUAL(used, 19);
    /* 18 scores are too few for 95%: ceil(19 * 0.95) = 19 > 18, so the interval is unbounded */
    CU_ASSERT_TRUE(isinf(pz_conformal_quantile(s, 18, 0.95, work, NULL)));
    /* non-finite scores (flagged predictions) are skipped */
    s[0] = NAN;
    CU_ASSERT_DOUBLE_EQUAL(pz_conformal_quantile(s, 19, 0.9, work, &used), 18, 0); /* ceil(19 * 0.9) = 18 of 1..18 */
    CU_ASSERT_EQUAL(used, 18);
}

static void test_pit_ks_and_cvm_by_hand(void)
{
    double u[3] = {0.9, 0.1, 0.5}, work[3];
    /* sorted 0.1 0.5 0.9: max(1/3 - 0.1, 0.9 - 2/3) = 0.2333... */
    CU_ASSERT_DOUBLE_EQUAL(pz_pit_ks(u, 3, work), 0.7 / 3, 1e-12);
    /* 1/36 + (1/6 - 0.1)^2 + 0 + (5/6 - 0.9)^2 */
    CU_ASSERT_DOUBLE_EQUAL(pz_pit_cvm(u, 3, work), 1.0 / 36 + 2 * (1.0 / 15) * (1.0 / 15), 1e-12);
    double h[2];
    pz_pit_hist((double[]){0.1, 0.2, 0.7, 1.0}, 4, 2, h);
    CU_ASSERT_DOUBLE_EQUAL(h[0], 1.0, 1e-12); /* 2 of 4 in [0, 0.5), density 2 * 2/4 */
    CU_ASSERT_DOUBLE_EQUAL(h[1], 1.0, 1e-12); /* 1.0 falls in the last bin */
    CU_ASSERT_TRUE(isnan(pz_pit_ks(u, 0, work)));
}

/* The CRPS as the integral of (F(x) - [x >= z])^2, by the midpoint rule. */
static double crps_numeric(const pz_gmix *g, double z)
{
    double a = -10, b = 10, sum = 0;
    int n = 400000;
    double h = (b - a) / n;
    for (int i = 0; i < n; i++) {
        double x = a + (i + 0.5) * h, d = pz_gmix_cdf(g, x) - (x >= z);
        sum += d * d * h;
    }
    return sum;
}

static void test_gaussian_mixture_cdf_quantile_crps(void)
{
    /* one Gaussian: Gneiting & Raftery's closed form sigma (t (2 Phi(t) - 1) + 2 phi(t) - 1/sqrt(pi)) */
    double w1 = 1, m1 = 0.8, s1 = 0.1;
    pz_gmix g1 = {1, &w1, &m1, &s1};
    double t = (1.0 - 0.8) / 0.1;
    double gneiting = 0.1 * (t * (2 * gsl_cdf_ugaussian_P(t) - 1) + 2 * gsl_ran_ugaussian_pdf(t) - 1 / sqrt(M_PI));
    CU_ASSERT_DOUBLE_EQUAL(pz_gmix_crps(&g1, 1.0), gneiting, 1e-12);
    /* two components, against the integral definition */
    double w[2] = {0.3, 0.7}, mu[2] = {0.4, 1.1}, sd[2] = {0.05, 0.2};
    pz_gmix g = {2, w, mu, sd};
    for (double z = 0.2; z < 1.6; z += 0.35) CU_ASSERT_DOUBLE_EQUAL(pz_gmix_crps(&g, z), crps_numeric(&g, z), 1e-7);
    /* quantile inverts the CDF; moments by the law of total variance */
    for (double p = 0.05; p < 1; p += 0.15) CU_ASSERT_DOUBLE_EQUAL(pz_gmix_cdf(&g, pz_gmix_quantile(&g, p)), p, 1e-9);
    double mean, std;
    pz_gmix_moments(&g, &mean, &std);
    CU_ASSERT_DOUBLE_EQUAL(mean, 0.3 * 0.4 + 0.7 * 1.1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(std * std, 0.3 * (0.0025 + 0.16) + 0.7 * (0.04 + 1.21) - mean * mean, 1e-12);
}

/* A sample of a point model whose error grows with redshift: z_pred = z + 0.04 (1 + z) e, with e
 * standard normal in 95% of galaxies and 8x wider in 5% (outliers). With `pdf`, each row also
 * carries a one-component p(z) N(z_pred, s 0.04 (1 + z_pred)) (s = 0.5: overconfident). */
static pz_table *sample(gsl_rng *r, size_t n, int pdf, double s)
{
    pz_table *t = pz_table_new(n);
    pz_table_add(t, "z_pred", PZ_F32, 0);
    pz_table_add(t, "z_true", PZ_F64, 0);
    if (pdf) {
        pz_table_add(t, "pdf_weight_0", PZ_F32, 0);
        pz_table_add(t, "pdf_mean_0", PZ_F32, 0);
        pz_table_add(t, "pdf_std_0", PZ_F32, 0);
        pz_table_set_attr(t, "pdf", "gaussian_mixture");
        pz_table_set_attr(t, "pdf_ncomp", "1");
    }
    for (size_t i = 0; i < n; i++) {
        double z = 0.05 + 2.5 * gsl_rng_uniform(r);
        double e = gsl_ran_ugaussian(r) * (gsl_rng_uniform(r) < 0.05 ? 8 : 1);
        double zp = z + 0.04 * (1 + z) * e;
        pz_col_set_f64(&t->cols[0], i, zp);
        pz_col_set_f64(&t->cols[1], i, z);
        if (pdf) {
            pz_col_set_f64(&t->cols[2], i, 1);
            pz_col_set_f64(&t->cols[3], i, zp);
            pz_col_set_f64(&t->cols[4], i, s * 0.04 * (1 + zp));
        }
    }
    return t;
}

static double coverage(const pz_table *t, double pct)
{
    char lo[40], hi[40];
    pz_interval_colname(lo, sizeof lo, "lo", pct);
    pz_interval_colname(hi, sizeof hi, "hi", pct);
    const pz_column *l = pz_table_col(t, lo), *h = pz_table_col(t, hi), *z = pz_table_col(t, "z_true");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    size_t in = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        double zt = pz_col_f64(z, i);
        in += zt >= pz_col_f64(l, i) && zt <= pz_col_f64(h, i);
    }
    return (double)in / t->nrows;
}

static void check_coverage(int score, int pdf)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 13);
    pz_table *cal = sample(r, 5000, pdf, 0.5), *test = sample(r, 40000, pdf, 0.5);
    double levels[2] = {68, 95};
    pz_conformal_opts o = {levels, 2, score, "z_pred", "z_true"};
    pz_conformal_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_conformal_apply(cal, test, &o, &res, &err), 0);
    CU_ASSERT_EQUAL(res.ncal, 5000);
    /* sampling error of the coverage: ~0.25 pp (test) and ~0.7 pp (calibration) at 68% */
    CU_ASSERT_DOUBLE_EQUAL(coverage(test, 68), 0.68, 0.015);
    CU_ASSERT_DOUBLE_EQUAL(coverage(test, 95), 0.95, 0.008);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(test, "conformal_score"), pz_score_names[res.score]);
    pz_table_free(cal);
    pz_table_free(test);
    gsl_rng_free(r);
}

static void test_conformal_coverage_point_model(void)
{
    check_coverage(-1, 0); /* auto: the relative score */
    check_coverage(PZ_SCORE_ABSOLUTE, 0);
}

static void test_conformal_coverage_overconfident_pdf(void)
{
    /* the p(z)'s own 68% interval covers only ~38% here; the conformal one covers 68% */
    check_coverage(-1, 1); /* auto: the normalized score */
    check_coverage(PZ_SCORE_PIT, 1);
}

/* PITs u = x^2, x uniform, have the CDF sqrt(u): the fitted map is that CDF, and inverts. */
static void test_pit_map_is_the_pits_cdf(void)
{
    enum { N = 20000, K = 101 };
    double *u = pz_xmalloc(N * sizeof *u), *work = pz_xmalloc(N * sizeof *work), knots[K];
    size_t nknots = K;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    for (int i = 0; i < N; i++) u[i] = pow(gsl_rng_uniform(r), 2);
    u[7] = NAN; /* not counted */
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, N, work, knots, &nknots), N - 1);
    CU_ASSERT_EQUAL(nknots, K);
    CU_ASSERT_EQUAL(knots[0], 0);
    CU_ASSERT_EQUAL(knots[K - 1], 1);
    for (double x = 0.005; x < 1; x += 0.01) {
        CU_ASSERT_DOUBLE_EQUAL(pz_pit_map_apply(knots, K, x), sqrt(x), 0.02);
        CU_ASSERT_DOUBLE_EQUAL(pz_pit_map_inverse(knots, K, pz_pit_map_apply(knots, K, x)), x, 1e-12);
    }
    double integral = 0; /* G' is a density (midpoint rule; the first knot is at ~1e-4) */
    for (int i = 0; i < 1000000; i++) integral += pz_pit_map_slope(knots, K, (i + 0.5) * 1e-6) * 1e-6;
    CU_ASSERT_DOUBLE_EQUAL(integral, 1, 1e-3);
    CU_ASSERT_EQUAL(pz_pit_map_apply(knots, K, -0.5), 0);
    CU_ASSERT_EQUAL(pz_pit_map_apply(knots, K, 1.5), 1);
    CU_ASSERT_TRUE(isnan(pz_pit_map_apply(knots, K, NAN)));
    gsl_rng_free(r);
    free(u), free(work);
}

/* PZ_PIT_MAP_AUTO: one knot per ~100 finite PITs, 5 to 101; what is not finite does not count. */
static void test_pit_map_chooses_its_knots_from_the_finite_pits(void)
{
    enum { N = 20000 };
    double *u = pz_xmalloc(N * sizeof *u), *work = pz_xmalloc(N * sizeof *work), knots[PZ_PIT_MAP_MAX];
    for (int i = 0; i < N; i++) u[i] = (i + 0.5) / N;
    size_t nknots = PZ_PIT_MAP_AUTO;
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, 1234, work, knots, &nknots), 1234);
    CU_ASSERT_EQUAL(nknots, 12);
    nknots = PZ_PIT_MAP_AUTO;
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, 300, work, knots, &nknots), 300);
    CU_ASSERT_EQUAL(nknots, 5);
    nknots = PZ_PIT_MAP_AUTO;
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, N, work, knots, &nknots), N);
    CU_ASSERT_EQUAL(nknots, 101);
    u[0] = NAN;
    nknots = PZ_PIT_MAP_AUTO;
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, 1200, work, knots, &nknots), 1199);
    CU_ASSERT_EQUAL(nknots, 11);
    nknots = PZ_PIT_MAP_AUTO; /* none finite: the smallest map, and nothing fitted */
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, 1, work, knots, &nknots), 0);
    CU_ASSERT_EQUAL(nknots, 5);
    nknots = 2;
    CU_ASSERT_EQUAL(pz_pit_map_fit(u, N, work, knots, &nknots), 0);
    free(u), free(work);
}

/* With the identity map a recalibrated p(z) is its mixture: CDF, quantile, moments and the
 * numerical CRPS agree with the closed forms. */
static void test_identity_map_changes_nothing(void)
{
    double w[2] = {0.3, 0.7}, mu[2] = {0.4, 1.1}, sd[2] = {0.05, 0.2}, id[11];
    for (int j = 0; j <= 10; j++) id[j] = j / 10.0;
    pz_gmix g = {2, w, mu, sd}, m = {2, w, mu, sd, id, 11};
    for (double z = 0.2; z < 1.6; z += 0.35) {
        CU_ASSERT_DOUBLE_EQUAL(pz_gmix_cdf(&m, z), pz_gmix_cdf(&g, z), 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(pz_gmix_pdf(&m, z), pz_gmix_pdf(&g, z), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(pz_gmix_crps(&m, z), pz_gmix_crps(&g, z), 1e-5);
    }
    for (double p = 0.05; p < 1; p += 0.15) CU_ASSERT_DOUBLE_EQUAL(pz_gmix_quantile(&m, p), pz_gmix_quantile(&g, p), 1e-8);
    double mean, std, mean_m, std_m;
    pz_gmix_moments(&g, &mean, &std);
    pz_gmix_moments(&m, &mean_m, &std_m);
    CU_ASSERT_DOUBLE_EQUAL(mean_m, mean, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(std_m, std, 2e-3);
}

/* PITs of every row of t with a usable p(z); *raw: of the mixture without its map. */
static size_t table_pits(const pz_table *t, double *pit, double *raw)
{
    pz_pdf_cols pc;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_pdf_cols_find(t, "t", &pc, &err), 1);
    const pz_column *zt = pz_table_col(t, "z_true");
    double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
    size_t n = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        pz_gmix g;
        if (pz_pdf_row(&pc, i, w, mu, sd, &g) < 0) continue;
        pit[n] = pz_gmix_cdf(&g, pz_col_f64(zt, i));
        g.map = NULL;
        raw[n++] = pz_gmix_cdf(&g, pz_col_f64(zt, i));
    }
    return n;
}

/* The overconfident p(z) of sample() (its PIT piles up at 0 and 1, and 5% outliers): recalibrated
 * on 5,000 calibration galaxies, its PIT on 40,000 others is uniform within the calibration
 * sample's noise (KS ~ 0.01), and its CRPS improves. */
static void test_recalibration_makes_the_pit_uniform(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    pz_table *cal = sample(r, 5000, 1, 0.5), *test = sample(r, 40000, 1, 0.5);
    double levels[1] = {68};
    pz_conformal_opts o = {levels, 1, -1, "z_pred", "z_true", 101};
    pz_conformal_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_conformal_apply(cal, test, &o, &res, &err), 0);
    CU_ASSERT_EQUAL(res.nmap, 101);
    CU_ASSERT_PTR_NOT_NULL(pz_table_attr(test, PZ_PIT_MAP_ATTR));
    double *pit = pz_xmalloc(40000 * sizeof *pit), *raw = pz_xmalloc(40000 * sizeof *raw);
    double *work = pz_xmalloc(40000 * sizeof *work);
    size_t n = table_pits(test, pit, raw); /* (an outlier's z_pred < -1 has no usable p(z)) */
    CU_ASSERT_TRUE(n > 39900);
    CU_ASSERT_TRUE(pz_pit_ks(raw, n, work) > 0.1);
    CU_ASSERT_TRUE(pz_pit_ks(pit, n, work) < 0.02);
    /* qp's mixmod cannot carry the map; interp writes the recalibrated density */
    char *dir = pzt_mkdtemp("uq"), *qp = pz_xasprintf("%s/pz.hdf5", dir);
    pz_table *head = pz_table_take(test, (size_t[]){0, 1, 2}, 3);
    CU_ASSERT_EQUAL(pz_qp_write(qp, head, &(pz_qp_opts){PZ_QP_MIXMOD, 0, 4, 401, "z_pred"}, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "use format: interp"));
    CU_ASSERT_EQUAL(pz_qp_write(qp, head, &(pz_qp_opts){PZ_QP_INTERP, 0, 4, 401, "z_pred"}, &err), 0);
    pz_table_free(head);
    pzt_rmtree(dir);
    free(dir), free(qp);
    /* a second recalibration on top of the first is refused */
    CU_ASSERT_EQUAL(pz_conformal_apply(cal, test, &o, &res, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "recalibrated already"));
    /* too few calibration galaxies for the knots */
    pz_table *few = sample(r, 500, 1, 0.5), *t2 = sample(r, 10, 1, 0.5);
    CU_ASSERT_EQUAL(pz_conformal_apply(few, t2, &o, &res, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "need at least 10 per knot"));
    /* a damaged map is named */
    pz_table_set_attr(t2, PZ_PIT_MAP_ATTR, "0,0.7,0.5,1");
    pz_pdf_cols pc;
    CU_ASSERT_EQUAL(pz_pdf_cols_find(t2, "t2.fits", &pc, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "t2.fits: attribute pdf_pit_map"));
    pz_table_free(few), pz_table_free(t2), pz_table_free(cal), pz_table_free(test);
    free(pit), free(raw), free(work);
    gsl_rng_free(r);
}

/* The finite-sample rule exactly: with n = 10 calibration scores and coverage 0.68, the expected
 * coverage over calibration draws is rank/(n + 1) = ceil(11 * 0.68)/11 = 8/11 = 0.727. The
 * rank ceil(n * 0.68) = 7 would give 7/11 = 0.636, numpy's interpolated 68% quantile ~0.64:
 * 30 sigma away. */
static void test_finite_sample_coverage_is_exact_on_average(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    double levels[1] = {68};
    pz_conformal_opts o = {levels, 1, PZ_SCORE_ABSOLUTE, "z_pred", "z_true"};
    double sum = 0;
    int reps = 2000;
    for (int k = 0; k < reps; k++) {
        pz_table *cal = sample(r, 10, 0, 1), *test = sample(r, 50, 0, 1);
        pz_conformal_result res;
        pz_err err;
        CU_ASSERT_EQUAL_FATAL(pz_conformal_apply(cal, test, &o, &res, &err), 0);
        sum += coverage(test, 68);
        pz_table_free(cal);
        pz_table_free(test);
    }
    CU_ASSERT_DOUBLE_EQUAL(sum / reps, 8.0 / 11, 0.012); /* std of the mean ~0.003 */
    gsl_rng_free(r);
}

static void test_intervals_of_flagged_rows_are_nan(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 3);
    pz_table *cal = sample(r, 100, 0, 1), *test = sample(r, 3, 0, 1);
    pz_col_set_f64(pz_table_col(test, "z_pred"), 1, NAN);
    pz_col_set_f64(pz_table_col(cal, "z_pred"), 5, NAN);
    double levels[1] = {68};
    pz_conformal_opts o = {levels, 1, -1, "z_pred", "z_true"};
    pz_conformal_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_conformal_apply(cal, test, &o, &res, &err), 0);
    CU_ASSERT_EQUAL(res.ncal, 99);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(test, "z_lo_68"), 1)));
    CU_ASSERT_TRUE(isfinite(pz_col_f64(pz_table_col(test, "z_hi_68"), 0)));
    CU_ASSERT_TRUE(pz_col_f64(pz_table_col(test, "z_lo_68"), 0) >= 0); /* clipped at 0 */
    /* a PDF score on tables without a p(z) is refused, naming the score */
    o.score = PZ_SCORE_PIT;
    CU_ASSERT_EQUAL(pz_conformal_apply(cal, test, &o, &res, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "'pit' needs a p(z)"));
    /* a pdf attribute that promises columns the table lacks is refused, naming the column */
    pz_table_set_attr(cal, "pdf", "gaussian_mixture");
    pz_table_set_attr(cal, "pdf_ncomp", "1");
    o.score = -1;
    CU_ASSERT_EQUAL(pz_conformal_apply(cal, test, &o, &res, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "no column 'pdf_weight_0'"));
    pz_table_free(cal);
    pz_table_free(test);
    gsl_rng_free(r);
}

/* The stage end to end: files in, intervals out, levels from the params. */
static void test_conformal_stage(void)
{
    char *dir = pzt_mkdtemp("uq");
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    pz_table *cal = sample(r, 2000, 0, 1), *test = sample(r, 4000, 0, 1);
    char *cp = pz_xasprintf("%s/cal.h5", dir), *tp = pz_xasprintf("%s/test.h5", dir);
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(cp, cal, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(tp, test, &err), 0);
    char *spec = pz_xasprintf("%s/spec.json", dir);
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"conformal\", \"threads\": 1,\n"
                              " \"params\": {\"levels\": [50, 68, 99.5]},\n"
                              " \"inputs\": {\"calibration\": \"%s\", \"predictions\": \"%s\"},\n"
                              " \"outputs\": {\"predictions\": \"%s/out.h5\"}}\n",
                              cp, tp, dir);
    pzt_write_file(spec, text);
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "%s/pzflow-conformal %s", pzt_bin_dir(), spec), 0);
    CU_ASSERT_TRUE(pzt_has(out, "relative score, 2000 calibration galaxies"));
    char *op = pz_xasprintf("%s/out.h5", dir);
    pz_table *o = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(op, 0, NULL, 0, 0, (size_t)-1, &o, &err), 0);
    double pct[4];
    CU_ASSERT_EQUAL(pz_interval_levels(o, pct, 4), 3);
    CU_ASSERT_DOUBLE_EQUAL(pct[2], 99.5, 0);
    CU_ASSERT_PTR_NOT_NULL(pz_table_col(o, "z_hi_99.5"));
    CU_ASSERT_DOUBLE_EQUAL(coverage(o, 50), 0.50, 0.03);
    pz_table_free(o);
    free(out);
    /* a level outside (0, 100) is refused */
    free(text);
    text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"conformal\", \"threads\": 1,\n"
                        " \"params\": {\"levels\": [68, 100]},\n"
                        " \"inputs\": {\"calibration\": \"%s\", \"predictions\": \"%s\"},\n"
                        " \"outputs\": {\"predictions\": \"%s/out.h5\"}}\n",
                        cp, tp, dir);
    pzt_write_file(spec, text);
    CU_ASSERT_NOT_EQUAL(pzt_run(dir, &out, "%s/pzflow-conformal %s 2>&1", pzt_bin_dir(), spec), 0);
    CU_ASSERT_TRUE(pzt_has(out, "100 is not a percentage strictly between 0 and 100"));
    free(out);
    pz_table_free(cal);
    pz_table_free(test);
    gsl_rng_free(r);
    pzt_rmtree(dir);
    free(dir), free(cp), free(tp), free(spec), free(text), free(op);
}

/* Value of `col` in the "all"-selection row of (model, stat). */
static double metric(const pz_table *t, const char *model, const char *stat, const char *col)
{
    const pz_column *m = pz_table_col(t, "model"), *st = pz_table_col(t, "stat"), *sel = pz_table_col(t, "selection");
    for (size_t i = 0; i < t->nrows; i++)
        if (!strncmp((const char *)m->data + i * m->width, model, m->width) &&
            !strncmp((const char *)st->data + i * st->width, stat, st->width) &&
            !strncmp((const char *)sel->data + i * sel->width, "all", sel->width)) {
            const pz_column *c = pz_table_col(t, col);
            CU_ASSERT_PTR_NOT_NULL_FATAL(c);
            return pz_col_f64(c, i);
        }
    CU_FAIL("row not found");
    return NAN;
}

/* evaluate's uncertainty columns: coverage, width and catastrophic-inside-95% on four galaxies by
 * hand; PIT and CRPS on a calibrated Gaussian p(z) (PIT uniform, E[CRPS] = sigma / sqrt(pi)). */
static void test_evaluate_uncertainty_columns(void)
{
    char *dir = pzt_mkdtemp("uq");
    pz_err err;
    /* z_true 0.5 1.0 1.2 2.0; the last two are catastrophic (|dz| 1.3 and 1.1 > 1);
     * inside [lo, hi]: rows 1 and 3 -> coverage 1/2, catastrophic inside 1/2;
     * widths 0.2 0.15 2.9 0.5 -> mean 0.9375 */
    pz_table *h = pz_table_new(4);
    double zt[4] = {0.5, 1.0, 1.2, 2.0}, zp[4] = {0.5, 1.1, 2.5, 0.9}, lo[4] = {0.4, 1.05, 0.1, 1.0},
           hi[4] = {0.6, 1.2, 3.0, 1.5};
    const char *names[4] = {"z_true", "z_pred", "z_lo_95", "z_hi_95"};
    const double *vals[4] = {zt, zp, lo, hi};
    for (int c = 0; c < 4; c++) {
        pz_column *col = pz_table_add(h, names[c], PZ_F64, 0);
        for (size_t i = 0; i < 4; i++) pz_col_set_f64(col, i, vals[c][i]);
    }
    char *hp = pz_xasprintf("%s/hand.h5", dir), *gp = pz_xasprintf("%s/gauss.h5", dir);
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(hp, h, &err), 0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    pz_table *g = sample(r, 5000, 1, 1);
    for (size_t i = 0; i < g->nrows; i++) { /* calibrated: z_true = z_pred + N(0, 0.05) */
        double z = pz_col_f64(pz_table_col(g, "z_true"), i), e = 0.05 * gsl_ran_ugaussian(r);
        pz_col_set_f64(pz_table_col(g, "z_pred"), i, z + e);
        pz_col_set_f64(pz_table_col(g, "pdf_mean_0"), i, z + e);
        pz_col_set_f64(pz_table_col(g, "pdf_std_0"), i, 0.05);
    }
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(gp, g, &err), 0);
    char *spec = pz_xasprintf("%s/spec.json", dir);
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"evaluate\", \"threads\": 1,\n"
                              " \"params\": {\"baseline\": \"\", \"groups\": [{\"model\": \"Hand\", \"test\": \"T\", \"input\": \"h\"},\n"
                              "   {\"model\": \"Gauss\", \"test\": \"T\", \"input\": \"g\"}]},\n"
                              " \"inputs\": {\"h\": [\"%s\"], \"g\": [\"%s\"]},\n"
                              " \"outputs\": {\"metrics\": \"%s/m.h5\", \"table\": \"%s/m.md\"}}\n",
                              hp, gp, dir, dir);
    pzt_write_file(spec, text);
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(pzt_run(dir, &out, "%s/pzflow-evaluate %s", pzt_bin_dir(), spec), 0);
    char *mp = pz_xasprintf("%s/m.h5", dir);
    pz_table *m = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(mp, 0, NULL, 0, 0, (size_t)-1, &m, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(metric(m, "Hand", "seed", "coverage_95"), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(metric(m, "Hand", "seed", "width_95"), 0.9375, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(metric(m, "Hand", "seed", "catastrophic_in_95"), 0.5, 1e-12);
    CU_ASSERT_TRUE(isnan(metric(m, "Hand", "seed", "pit_ks"))); /* no p(z) */
    CU_ASSERT_TRUE(metric(m, "Gauss", "mean", "pit_ks") < 0.03);
    /* no recalibration map: the raw mixture's PIT is the PIT */
    CU_ASSERT_EQUAL(metric(m, "Gauss", "mean", "pit_ks_raw"), metric(m, "Gauss", "mean", "pit_ks"));
    CU_ASSERT_TRUE(metric(m, "Gauss", "mean", "pit_cvm") < 0.35); /* the 5% critical value is 0.46 */
    CU_ASSERT_DOUBLE_EQUAL(metric(m, "Gauss", "mean", "crps"), 0.05 / sqrt(M_PI), 0.001);
    double hsum = 0;
    for (int b = 0; b < 10; b++) {
        char c[16];
        snprintf(c, sizeof c, "pit_h%02d", b);
        CU_ASSERT_DOUBLE_EQUAL(metric(m, "Gauss", "seed", c), 1, 0.15);
        hsum += metric(m, "Gauss", "seed", c) / 10;
    }
    CU_ASSERT_DOUBLE_EQUAL(hsum, 1, 1e-9); /* a density */
    char *mdp = pz_xasprintf("%s/m.md", dir), *md = pzt_read_file(mdp, NULL);
    CU_ASSERT_TRUE(pzt_has(md, "## Uncertainty, LSST window"));
    CU_ASSERT_TRUE(pzt_has(md, "| Hand | T | n/a | n/a | n/a | "));
    pz_table_free(m);
    pz_table_free(h);
    pz_table_free(g);
    gsl_rng_free(r);
    pzt_rmtree(dir);
    free(dir), free(hp), free(gp), free(spec), free(text), free(out), free(mp), free(mdp), free(md);
}

int main(void)
{
    pzt_suite("uq", (pzt_case[]){
                        {"conformal rank is ceil((n+1)(1-alpha))", test_conformal_rank_is_ceil_n_plus_1_times_coverage},
                        {"PIT KS and CvM by hand", test_pit_ks_and_cvm_by_hand},
                        {"Gaussian mixture CDF, quantile, CRPS", test_gaussian_mixture_cdf_quantile_crps},
                        {"conformal coverage of a point model", test_conformal_coverage_point_model},
                        {"conformal coverage of an overconfident p(z)", test_conformal_coverage_overconfident_pdf},
                        {"finite-sample coverage is exact on average", test_finite_sample_coverage_is_exact_on_average},
                        {"the PIT map is the PITs' CDF", test_pit_map_is_the_pits_cdf},
                        {"the PIT map chooses its knots from the finite PITs", test_pit_map_chooses_its_knots_from_the_finite_pits},
                        {"the identity map changes nothing", test_identity_map_changes_nothing},
                        {"recalibration makes the PIT uniform", test_recalibration_makes_the_pit_uniform},
                        {"flagged rows get NaN intervals", test_intervals_of_flagged_rows_are_nan},
                        {"the conformal stage", test_conformal_stage},
                        {"evaluate's uncertainty columns", test_evaluate_uncertainty_columns},
                        {0}});
    return pzt_main();
}
