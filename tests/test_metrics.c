/* Photo-z metrics against values computed by hand (derivations in the comments), plus a
 * cross-check of the biweight statistics against astropy on random data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/metrics.h"
#include "support/pztest.h"
#include "util/err.h"

#define TOL 1e-9

/* The worked example used throughout:
 *   z_true = 0.5   0.5   1.0   1.0   2.0
 *   z_pred = 0.53  0.47  1.10  0.96  3.50
 *   dz     = 0.03/1.5, -0.03/1.5, 0.10/2, -0.04/2, 1.5/3
 *          = 0.02  -0.02  0.05  -0.02  0.5          */
static const double ZT[5] = {0.5, 0.5, 1.0, 1.0, 2.0};
static const double ZP[5] = {0.53, 0.47, 1.10, 0.96, 3.50};

static pz_metrics example(double lo, double hi)
{
    double work[15];
    pz_metrics m;
    pz_metrics_select(ZP, ZT, 5, lo, hi, &m, work);
    return m;
}

static void test_median_and_nmad(void)
{
    pz_metrics m = example(0, 4);
    CU_ASSERT_EQUAL(m.n, 5);
    CU_ASSERT_EQUAL(m.n_nan, 0);
    /* sorted dz: -0.02 -0.02 0.02 0.05 0.5 -> median 0.02 */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS], 0.02, TOL);
    /* |dz - 0.02| = 0 0.04 0.03 0.04 0.48 -> median 0.04; NMAD = 1.4826 * 0.04 */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_NMAD], 0.059304, TOL);
    /* even count: the mean of the two middle values */
    double even[4] = {4, 1, 3, 2}, work[4];
    CU_ASSERT_DOUBLE_EQUAL(pz_median(even, 4, work), 2.5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(even[0], 4, 0); /* input untouched */
}

static void test_rms_outliers_catastrophic_loss(void)
{
    pz_metrics m = example(0, 4);
    /* dz^2 sum = 0.0004*3 + 0.0025 + 0.25 = 0.2537; rms = sqrt(0.2537/5) */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_RMS], sqrt(0.2537 / 5), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_RMS], 0.2252554106, 1e-9);
    /* only dz = 0.5 has |dz| > 0.15 */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_OUTLIER], 0.2, TOL);
    /* only |3.5 - 2.0| = 1.5 exceeds 1 (0.5 in dz: catastrophic is absolute) */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_CATASTROPHIC], 0.2, TOL);
    /* HSC loss per galaxy 1 - 1/(1 + (dz/0.15)^2):
     *   |dz| = 0.02: (2/15)^2 = 4/225 -> 4/229   (three of them)
     *   dz = 0.05:   (1/3)^2 = 1/9    -> 1/10
     *   dz = 0.5:    (10/3)^2 = 100/9 -> 100/109
     * mean = (12/229 + 1/10 + 100/109) / 5 */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_LOSS], (12.0 / 229 + 0.1 + 100.0 / 109) / 5, TOL);
}

static void test_biweight(void)
{
    pz_metrics m = example(0, 4);
    /* Location, c = 6: M = 0.02, MAD = 0.04, c*MAD = 0.24, d = 0 -0.04 0.03 -0.04 0.48,
     * u = 0 -1/6 1/8 -1/6 2 (the last is rejected, |u| >= 1),
     * w = (1-u^2)^2 = 1, (35/36)^2, (63/64)^2, (35/36)^2
     * M + sum(d w)/sum(w) = 0.02 + (-0.08 (35/36)^2 + 0.03 (63/64)^2) / (1 + 2 (35/36)^2 + (63/64)^2) */
    double a = (35.0 / 36) * (35.0 / 36), b = (63.0 / 64) * (63.0 / 64);
    double loc = 0.02 + (-0.08 * a + 0.03 * b) / (1 + 2 * a + b);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS_BW], loc, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS_BW], 0.007939279871, 1e-11); /* astropy 5.2 */
    /* Midvariance, c = 9: c*MAD = 0.36, u = 0 -1/9 1/12 -1/9 (4/3 rejected),
     * n sum d^2 (1-u^2)^4 / (sum (1-u^2)(1-5u^2))^2 with n = 5 (all points, astropy default) */
    double p = 80.0 / 81, q = 143.0 / 144;
    double num = 2 * 0.0016 * pow(p, 4) + 0.0009 * pow(q, 4);
    double den = 1 + 2 * p * (76.0 / 81) + q * (139.0 / 144);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_SCATTER_BW], sqrt(5 * num / (den * den)), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_SCATTER_BW], 0.036727246491, 1e-11); /* astropy 5.2 */
    /* biweight outliers: |dz - 0.00794| > 2 * 0.03673 = 0.0735 only for 0.5 */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_OUTLIER_BW], 0.2, TOL);
    /* zero MAD: location = median, midvariance = 0 (astropy's convention) */
    double flat[5] = {1, 1, 1, 1, 7}, work[5];
    CU_ASSERT_DOUBLE_EQUAL(pz_biweight_location(flat, 5, 6, work), 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_biweight_midvariance(flat, 5, 9, work), 0, 0);
}

static void test_right_closed_selection(void)
{
    /* (0.5, 1.0] holds the two z_true = 1.0 galaxies, not the two at 0.5:
     * dz = 0.05, -0.02 -> median 0.015, rms sqrt((0.0025 + 0.0004)/2) */
    pz_metrics m = example(0.5, 1.0);
    CU_ASSERT_EQUAL(m.n, 2);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS], 0.015, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_RMS], sqrt(0.00145), TOL);
    /* (0.3, 0.5] holds the two at 0.5 */
    m = example(0.3, 0.5);
    CU_ASSERT_EQUAL(m.n, 2);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS], 0.0, TOL);
    /* the LSST window (0.3, 1.5] leaves out z = 2 */
    m = example(0.3, 1.5);
    CU_ASSERT_EQUAL(m.n, 4);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_OUTLIER], 0.0, TOL);
}

static void test_empty_selection_is_nan(void)
{
    pz_metrics m = example(2.0, 3.0); /* 2.0 itself is outside (2, 3] */
    CU_ASSERT_EQUAL(m.n, 0);
    for (int i = 0; i < PZ_M_COUNT; i++) CU_ASSERT_TRUE(isnan(m.v[i]));
    double work[1];
    pz_metrics_select(NULL, NULL, 0, 0, 4, &m, work);
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_TRUE(isnan(m.v[PZ_M_RMS]));
}

static void test_nan_predictions_excluded_and_counted(void)
{
    double zt[4] = {0.5, 0.5, NAN, 1.0}, zp[4] = {NAN, 0.53, 0.7, INFINITY}, work[12];
    pz_metrics m;
    pz_metrics_select(zp, zt, 4, 0, 4, &m, work);
    CU_ASSERT_EQUAL(m.n, 1);      /* only (0.53, 0.5) */
    CU_ASSERT_EQUAL(m.n_nan, 2);  /* NaN and +inf predictions; the NaN z_true matches no bin */
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_BIAS], 0.02, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.v[PZ_M_NMAD], 0.0, TOL);
}

static void test_aggregate(void)
{
    /* finite values 1 2 3 4: mean 2.5; sample std sqrt((2.25+0.25+0.25+2.25)/3) = sqrt(5/3);
     * p16 at rank 0.16*3 = 0.48 -> 1.48; p84 at rank 2.52 -> 3.52 */
    double x[5] = {3, NAN, 1, 4, 2}, work[5];
    pz_agg a;
    pz_aggregate(x, 5, &a, work);
    CU_ASSERT_EQUAL(a.n, 4);
    CU_ASSERT_DOUBLE_EQUAL(a.mean, 2.5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(a.std, sqrt(5.0 / 3), TOL);
    CU_ASSERT_DOUBLE_EQUAL(a.p16, 1.48, TOL);
    CU_ASSERT_DOUBLE_EQUAL(a.p84, 3.52, TOL);
    double one = 0.7;
    pz_aggregate(&one, 1, &a, work);
    CU_ASSERT_DOUBLE_EQUAL(a.mean, 0.7, 0);
    CU_ASSERT_TRUE(isnan(a.std));
    CU_ASSERT_DOUBLE_EQUAL(a.p16, 0.7, 0);
    double none[2] = {NAN, NAN};
    pz_aggregate(none, 2, &a, work);
    CU_ASSERT_EQUAL(a.n, 0);
    CU_ASSERT_TRUE(isnan(a.mean) && isnan(a.p84));
}

static void test_lsst_goals(void)
{
    pz_lsst_goals g = PZ_LSST_GOALS_DEFAULT;
    CU_ASSERT_EQUAL(pz_lsst_goals_met(&g, -0.0029, 0.019, 0.09), PZ_GOAL_ALL);
    CU_ASSERT_EQUAL(pz_lsst_goals_met(&g, -0.003, 0.019, 0.09), PZ_GOAL_SCATTER | PZ_GOAL_OUTLIER); /* strict */
    CU_ASSERT_EQUAL(pz_lsst_goals_met(&g, 0.001, 0.02, 0.10), PZ_GOAL_BIAS);
    CU_ASSERT_EQUAL(pz_lsst_goals_met(&g, NAN, NAN, NAN), 0);
}

/* Random dz with 10% wide outliers, compared with astropy.stats on the same numbers. */
static void test_ratio_definitions(void)
{
    /* NN-Base's seeds straddle zero: |mean| cancels them (0.00667 / 0.01), mean |.| does not */
    double base[3] = {0.02, -0.02, 0.02}, model[3] = {0.01, 0.01, 0.01};
    CU_ASSERT_DOUBLE_EQUAL(pz_ratio_of_means(base, 3, model, 3, PZ_RATIO_ABS_MEAN), 2.0 / 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pz_ratio_of_means(base, 3, model, 3, PZ_RATIO_MEAN_ABS), 2, 1e-12);
    /* the other way round: a model whose seeds cancel looks 15x better by |mean| */
    double flat[3] = {0.01, 0.01, 0.01}, cancel[3] = {0.01, -0.01, 0.002};
    CU_ASSERT_DOUBLE_EQUAL(pz_ratio_of_means(flat, 3, cancel, 3, PZ_RATIO_ABS_MEAN), 15, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pz_ratio_of_means(flat, 3, cancel, 3, PZ_RATIO_MEAN_ABS), 0.01 / (0.022 / 3), 1e-9);
    /* a NaN seed (an empty selection) is skipped, as in the seed means */
    double with_nan[4] = {0.02, -0.02, 0.02, NAN};
    CU_ASSERT_DOUBLE_EQUAL(pz_ratio_of_means(with_nan, 4, model, 3, PZ_RATIO_MEAN_ABS), 2, 1e-12);
}

static void test_ratio_bootstrap_interval(void)
{
    double lo, hi, lo2, hi2;
    /* paired seeds in proportion: every resample has the same ratio */
    double base[4] = {0.2, 0.4, 0.1, 0.3}, half[4] = {0.1, 0.2, 0.05, 0.15};
    pz_ratio_interval(base, 4, half, 4, PZ_RATIO_ABS_MEAN, 2000, 1, 0.95, &lo, &hi);
    CU_ASSERT_DOUBLE_EQUAL(lo, 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hi, 2, 1e-12);
    /* unequal seed counts are resampled independently: NN-Base {1, 1, 1} against {1, 2}, whose
     * resampled means are 1, 1.5 or 2 with chances 1/4, 1/2, 1/4, so ratios 1, 2/3 and 1/2:
     * the 2.5% and 97.5% quantiles are 1/2 and 1 */
    double ones[3] = {1, 1, 1}, m[2] = {1, 2};
    pz_ratio_interval(ones, 3, m, 2, PZ_RATIO_ABS_MEAN, 10000, 7, 0.95, &lo, &hi);
    CU_ASSERT_DOUBLE_EQUAL(lo, 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(hi, 1, 1e-12);
    /* noisy seeds: the interval holds the ratio of the means, and a fixed RNG seed gives the
     * same interval every time */
    double b[6] = {0.012, -0.003, 0.02, 0.007, 0.015, 0.001}, t[6] = {0.002, 0.004, -0.001, 0.003, 0.001, 0.002};
    double r = pz_ratio_of_means(b, 6, t, 6, PZ_RATIO_ABS_MEAN);
    pz_ratio_interval(b, 6, t, 6, PZ_RATIO_ABS_MEAN, 5000, 42, 0.95, &lo, &hi);
    pz_ratio_interval(b, 6, t, 6, PZ_RATIO_ABS_MEAN, 5000, 42, 0.95, &lo2, &hi2);
    CU_ASSERT_TRUE(lo < r && r < hi);
    CU_ASSERT_EQUAL(lo, lo2);
    CU_ASSERT_EQUAL(hi, hi2);
    /* one seed has no spread to resample: no interval */
    pz_ratio_interval(b, 1, t, 6, PZ_RATIO_ABS_MEAN, 100, 1, 0.95, &lo, &hi);
    CU_ASSERT_TRUE(isnan(lo) && isnan(hi));
}

static void test_biweight_matches_astropy(void)
{
    enum { N = 2001 };
    static double x[N], work[N];
    unsigned s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        double u = (s >> 8) / 16777216.0;
        x[i] = (i % 10 == 0 ? 0.5 : 0.03) * (u - 0.4) + 0.001 * (i % 7);
    }
    char *dir = pzt_mkdtemp("metrics");
    char *path = pz_xasprintf("%s/x.txt", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < N; i++) fprintf(f, "%.17g\n", x[i]);
    fclose(f);
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c 'import numpy as np; from astropy.stats import biweight_location as L, "
                     "biweight_midvariance as V; x = np.loadtxt(\"%s\"); print(\"%%.17g %%.17g\" %% (L(x), V(x)))'",
                     pzt_python(), path);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    double loc, var;
    CU_ASSERT_EQUAL_FATAL(sscanf(out, "%lf %lf", &loc, &var), 2);
    CU_ASSERT_DOUBLE_EQUAL(pz_biweight_location(x, N, 6, work), loc, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(pz_biweight_midvariance(x, N, 9, work), var, 1e-14);
    free(out);
    pzt_rmtree(dir);
    free(path);
    free(dir);
}

int main(void)
{
    pzt_suite("metrics", (pzt_case[]){
                             {"median and NMAD", test_median_and_nmad},
                             {"RMS, outliers, catastrophic, HSC loss", test_rms_outliers_catastrophic_loss},
                             {"biweight location and midvariance", test_biweight},
                             {"right-closed selections", test_right_closed_selection},
                             {"empty selection gives NaN", test_empty_selection_is_nan},
                             {"NaN predictions excluded and counted", test_nan_predictions_excluded_and_counted},
                             {"aggregation over seeds", test_aggregate},
                             {"LSST goals", test_lsst_goals},
                             {"biweight matches astropy", test_biweight_matches_astropy},
                             {"ratio definitions: |mean| and mean |.|", test_ratio_definitions},
                             {"ratio bootstrap intervals", test_ratio_bootstrap_interval},
                             {0}});
    return pzt_main();
}
