/* The sky cross-match: identical to a brute-force O(N·M) matcher on random skies (a deep field,
 * across RA 0/360, around both poles, the whole sky, a tiny radius), a hand-checked case for the
 * one-to-one rule and the statistics, thread-count independence, errors, and the table join. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/xmatch.h"
#include "support/pztest.h"

#define DEG (M_PI / 180.0)

/* ---- brute force, written independently of the index: haversine and a plain sort ---- */

typedef struct bpair {
    size_t i, j;
    double sep; /* radians */
} bpair;

static double haversine(double ra1, double dec1, double ra2, double dec2)
{
    double sd = sin((dec2 - dec1) * DEG / 2), sa = sin((ra2 - ra1) * DEG / 2);
    double h = sd * sd + cos(dec1 * DEG) * cos(dec2 * DEG) * sa * sa;
    return 2 * asin(sqrt(fmin(1.0, h)));
}

static int cmp_bpair(const void *a, const void *b)
{
    const bpair *x = a, *y = b;
    if (x->sep != y->sep) return x->sep < y->sep ? -1 : 1;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

static void brute(const double *ra1, const double *dec1, size_t n1, const double *ra2, const double *dec2,
                  size_t n2, double r_arcsec, int nearest, int64_t *match, double *sep)
{
    double r = r_arcsec / 3600.0 * DEG;
    size_t np = 0, cap = 1024;
    bpair *p = malloc(cap * sizeof *p);
    for (size_t i = 0; i < n1; i++) {
        match[i] = -1;
        sep[i] = NAN;
        if (!isfinite(ra1[i]) || !isfinite(dec1[i])) continue;
        for (size_t j = 0; j < n2; j++) {
            if (!isfinite(ra2[j]) || !isfinite(dec2[j])) continue;
            double s = haversine(ra1[i], dec1[i], ra2[j], dec2[j]);
            if (s > r) continue;
            if (np == cap) p = realloc(p, (cap *= 2) * sizeof *p);
            p[np++] = (bpair){i, j, s};
        }
    }
    qsort(p, np, sizeof *p, cmp_bpair);
    char *taken = calloc(n2 + 1, 1);
    for (size_t k = 0; k < np; k++) {
        if (match[p[k].i] >= 0 || (!nearest && taken[p[k].j])) continue;
        match[p[k].i] = (int64_t)p[k].j;
        sep[p[k].i] = p[k].sep / DEG * 3600.0;
        taken[p[k].j] = 1;
    }
    free(taken);
    free(p);
}

/* ---- random skies ---- */

typedef struct sky {
    size_t n1, n2;
    double *ra1, *dec1, *ra2, *dec2;
} sky;

static void sky_alloc(sky *s, size_t n1, size_t n2)
{
    s->n1 = n1;
    s->n2 = n2;
    s->ra1 = calloc(n1, sizeof(double));
    s->dec1 = calloc(n1, sizeof(double));
    s->ra2 = calloc(n2, sizeof(double));
    s->dec2 = calloc(n2, sizeof(double));
}

static void sky_free(sky *s)
{
    free(s->ra1);
    free(s->dec1);
    free(s->ra2);
    free(s->dec2);
}

/* Move a point by a Gaussian offset of sigma arcsec on the sky (tangent plane). */
static void perturb(gsl_rng *g, double ra, double dec, double sigma, double *ra_o, double *dec_o)
{
    double dx = gsl_ran_gaussian(g, sigma) / 3600.0, dy = gsl_ran_gaussian(g, sigma) / 3600.0;
    double d = dec + dy;
    if (d > 90) d = 180 - d, ra += 180;
    if (d < -90) d = -180 - d, ra += 180;
    double c = cos(d * DEG);
    *ra_o = fmod(ra + (c > 1e-9 ? dx / c : 0) + 720.0, 360.0);
    *dec_o = d;
}

/* Left: uniform in the box; right: a perturbed copy of the first `ncopy` left sources, then uniform. */
static void box_sky(sky *s, unsigned long seed, size_t n1, size_t n2, size_t ncopy, double ra_lo, double ra_w,
                    double dec_lo, double dec_hi, double sigma)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, seed);
    sky_alloc(s, n1, n2);
    double zlo = sin(dec_lo * DEG), zhi = sin(dec_hi * DEG); /* uniform on the sphere */
    for (size_t i = 0; i < n1 + n2; i++) {
        double ra = fmod(ra_lo + ra_w * gsl_rng_uniform(g) + 360.0, 360.0);
        double dec = asin(zlo + (zhi - zlo) * gsl_rng_uniform(g)) / DEG;
        if (i < n1) {
            s->ra1[i] = ra;
            s->dec1[i] = dec;
        } else if (i - n1 < ncopy) {
            perturb(g, s->ra1[i - n1], s->dec1[i - n1], sigma, &s->ra2[i - n1], &s->dec2[i - n1]);
        } else {
            s->ra2[i - n1] = ra;
            s->dec2[i - n1] = dec;
        }
    }
    gsl_rng_free(g);
}

typedef struct brute_result {
    int64_t *match;
    double *sep;
} brute_result;

static int same_as_brute(const sky *s, double r_arcsec, pz_xmatch_mode mode, int threads, const brute_result *b,
                         const char *what)
{
    pz_xmatch_result res;
    pz_err err;
    if (pz_xmatch(s->ra1, s->dec1, s->n1, s->ra2, s->dec2, s->n2, r_arcsec, mode, threads, &res, &err) != 0) {
        fprintf(stderr, "%s: %s\n", what, err.msg);
        return 0;
    }
    size_t bad = 0, matched = 0;
    for (size_t i = 0; i < s->n1; i++) {
        matched += b->match[i] >= 0;
        if (res.match[i] != b->match[i] || (b->match[i] >= 0 && fabs(res.sep_arcsec[i] - b->sep[i]) > 1e-6)) {
            if (bad++ < 5)
                fprintf(stderr, "%s: left %zu: index %lld (%.9f\") brute %lld (%.9f\")\n", what, i,
                        (long long)res.match[i], res.sep_arcsec[i], (long long)b->match[i], b->sep[i]);
        }
    }
    /* The sky must actually exercise matching, or the comparison proves nothing. */
    if (matched < s->n1 / 10) fprintf(stderr, "%s: only %zu matches\n", what, matched), bad++;
    if (res.stats.matched != matched) bad++;
    pz_xmatch_result_free(&res);
    return bad == 0;
}

/* One-to-one with 1 and 3 threads, nearest with 2, each against its brute-force answer. */
static void check_sky(const sky *s, double r, const char *what)
{
    brute_result b = {malloc(s->n1 * sizeof(int64_t)), malloc(s->n1 * sizeof(double))};
    brute(s->ra1, s->dec1, s->n1, s->ra2, s->dec2, s->n2, r, 0, b.match, b.sep);
    CU_ASSERT_TRUE(same_as_brute(s, r, PZ_XMATCH_BEST, 1, &b, what));
    CU_ASSERT_TRUE(same_as_brute(s, r, PZ_XMATCH_BEST, 3, &b, what));
    brute(s->ra1, s->dec1, s->n1, s->ra2, s->dec2, s->n2, r, 1, b.match, b.sep);
    CU_ASSERT_TRUE(same_as_brute(s, r, PZ_XMATCH_NEAREST, 2, &b, what));
    free(b.match);
    free(b.sep);
}

static void test_deep_field(void)
{
    sky s;
    /* ~1.2 candidates per source within 2": plenty of contested pairs. */
    box_sky(&s, 1, 3000, 3000, 2000, 150.0, 0.05, 2.2, 2.25, 0.7);
    check_sky(&s, 2.0, "deep field");
    sky_free(&s);
}

static void test_ra_wrap(void)
{
    sky s;
    box_sky(&s, 2, 2500, 2500, 2000, 359.96, 0.08, -0.02, 0.02, 1.0);
    /* Sources right on the seam, matched across it. */
    s.ra1[0] = 0.0, s.dec1[0] = 0.0, s.ra2[0] = 359.9999, s.dec2[0] = 0.0;
    s.ra1[1] = 359.99999999, s.dec1[1] = 0.01, s.ra2[1] = 0.0002, s.dec2[1] = 0.01;
    s.ra1[2] = 360.0, s.dec1[2] = -0.01, s.ra2[2] = -0.0001, s.dec2[2] = -0.01; /* unnormalised inputs */
    check_sky(&s, 2.0, "RA wrap");
    pz_xmatch_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_xmatch(s.ra1, s.dec1, 3, s.ra2, s.dec2, 3, 2.0, PZ_XMATCH_BEST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.match[0], 0);
    CU_ASSERT_DOUBLE_EQUAL(res.sep_arcsec[0], 0.36, 1e-6);
    CU_ASSERT_EQUAL(res.match[1], 1);
    CU_ASSERT_EQUAL(res.match[2], 2);
    CU_ASSERT_DOUBLE_EQUAL(res.sep_arcsec[2], 0.36, 1e-6);
    pz_xmatch_result_free(&res);
    sky_free(&s);
}

static void test_poles(void)
{
    sky s;
    /* Caps of radius 0.02 deg around each pole: every RA at once. */
    box_sky(&s, 3, 2000, 2000, 1500, 0.0, 360.0, 89.98, 90.0, 1.0);
    s.dec1[0] = 90.0, s.ra1[0] = 123.0, s.dec2[0] = 89.9998, s.ra2[0] = 303.0; /* across the pole */
    check_sky(&s, 2.0, "north pole");
    sky_free(&s);
    box_sky(&s, 4, 2000, 2000, 1500, 0.0, 360.0, -90.0, -89.98, 1.0);
    s.dec1[0] = -90.0, s.ra1[0] = 0.0, s.dec2[0] = -89.9999, s.ra2[0] = 180.0;
    check_sky(&s, 2.0, "south pole");
    sky_free(&s);
    /* A band straddling the 89-degree switch to whole-zone scans. */
    box_sky(&s, 5, 2000, 2000, 1500, 0.0, 360.0, 88.95, 89.05, 8.0);
    check_sky(&s, 20.0, "89 degrees");
    sky_free(&s);
}

static void test_whole_sky_large_radius(void)
{
    sky s;
    box_sky(&s, 6, 2500, 2500, 1500, 0.0, 360.0, -90.0, 90.0, 3600.0);
    check_sky(&s, 2.0 * 3600.0, "whole sky, 2 deg");
    sky_free(&s);
}

static void test_tiny_radius(void)
{
    sky s;
    /* 0.01" radius: zone height is clamped, queries span several zones. */
    box_sky(&s, 7, 2000, 2000, 1800, 210.0, 0.01, -30.0, -29.99, 0.004);
    check_sky(&s, 0.01, "tiny radius");
    sky_free(&s);
}

/* Offsets along RA at Dec 0, in arcsec, are separations. */
#define AS(x) (10.0 + (x) / 3600.0)

static void test_hand_checked_one_to_one(void)
{
    double ra1[] = {AS(0), AS(1.0), AS(10.0), NAN}, dec1[] = {0, 0, 0, 0};
    double ra2[] = {AS(0.7), AS(10.2), AS(30.0)}, dec2[] = {0, 0, 0};
    pz_xmatch_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_xmatch(ra1, dec1, 4, ra2, dec2, 3, 1.0, PZ_XMATCH_BEST, 1, &res, &err), 0);
    /* Candidates: L0-R0 0.7", L1-R0 0.3", L2-R1 0.2". R0 goes to the closer L1; L0 is left out. */
    CU_ASSERT_EQUAL(res.match[0], -1);
    CU_ASSERT_EQUAL(res.match[1], 0);
    CU_ASSERT_EQUAL(res.match[2], 1);
    CU_ASSERT_EQUAL(res.match[3], -1);
    CU_ASSERT_TRUE(isnan(res.sep_arcsec[0]));
    CU_ASSERT_DOUBLE_EQUAL(res.sep_arcsec[1], 0.3, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(res.sep_arcsec[2], 0.2, 1e-7);
    const pz_xmatch_stats *s = &res.stats;
    CU_ASSERT_EQUAL(s->pairs, 3);
    CU_ASSERT_EQUAL(s->matched, 2);
    CU_ASSERT_EQUAL(s->unmatched_left, 2);
    CU_ASSERT_EQUAL(s->unmatched_right, 1);
    CU_ASSERT_EQUAL(s->left_multiple, 0);
    CU_ASSERT_EQUAL(s->right_multiple, 1);
    CU_ASSERT_EQUAL(s->left_no_position, 1);
    CU_ASSERT_DOUBLE_EQUAL(s->median_sep_arcsec, 0.25, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(s->max_sep_arcsec, 0.3, 1e-7);
    char *json = pz_xmatch_stats_json(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"matched\": 2, \"unmatched_left\": 2, \"unmatched_right\": 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"median_sep_arcsec\": 0.250000"));
    free(json);
    pz_xmatch_result_free(&res);

    /* Nearest mode lets R0 serve both. */
    CU_ASSERT_EQUAL_FATAL(pz_xmatch(ra1, dec1, 4, ra2, dec2, 3, 1.0, PZ_XMATCH_NEAREST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.match[0], 0);
    CU_ASSERT_EQUAL(res.match[1], 0);
    CU_ASSERT_EQUAL(res.stats.matched, 3);
    CU_ASSERT_EQUAL(res.stats.unmatched_right, 1);
    pz_xmatch_result_free(&res);

    /* Exactly at the radius counts; just beyond does not. */
    double rb[] = {AS(0.5)};
    double z1[] = {0};
    CU_ASSERT_EQUAL_FATAL(pz_xmatch(ra1, dec1, 1, rb, z1, 1, 0.5 + 1e-9, PZ_XMATCH_BEST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.match[0], 0);
    pz_xmatch_result_free(&res);
    CU_ASSERT_EQUAL_FATAL(pz_xmatch(ra1, dec1, 1, rb, z1, 1, 0.5 - 1e-6, PZ_XMATCH_BEST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.match[0], -1);
    CU_ASSERT_TRUE(isnan(res.stats.median_sep_arcsec));
    json = pz_xmatch_stats_json(&res.stats);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"median_sep_arcsec\": null"));
    free(json);
    pz_xmatch_result_free(&res);
}

static void test_errors(void)
{
    double ra[] = {1, 2}, dec[] = {0, 91}, ok[] = {0, 0};
    pz_xmatch_result res;
    pz_err err;
    CU_ASSERT_EQUAL(pz_xmatch(ra, dec, 2, ra, ok, 2, 1.0, PZ_XMATCH_BEST, 1, &res, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "left row 1: Dec 91 is outside [-90, 90] degrees");
    CU_ASSERT_EQUAL(pz_xmatch(ra, ok, 2, ra, dec, 2, 1.0, PZ_XMATCH_BEST, 1, &res, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "right row 1: Dec 91 is outside [-90, 90] degrees");
    CU_ASSERT_EQUAL(pz_xmatch(ra, ok, 2, ra, ok, 2, 0.0, PZ_XMATCH_BEST, 1, &res, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "radius 0 arcsec must be > 0"));
    CU_ASSERT_EQUAL(pz_xmatch(ra, ok, 2, ra, ok, 2, NAN, PZ_XMATCH_BEST, 1, &res, &err), -1);
    /* Empty sides are fine. */
    CU_ASSERT_EQUAL(pz_xmatch(ra, ok, 0, ra, ok, 2, 1.0, PZ_XMATCH_BEST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.stats.unmatched_right, 2);
    pz_xmatch_result_free(&res);
    CU_ASSERT_EQUAL(pz_xmatch(ra, ok, 2, ra, ok, 0, 1.0, PZ_XMATCH_BEST, 1, &res, &err), 0);
    CU_ASSERT_EQUAL(res.stats.unmatched_left, 2);
    pz_xmatch_result_free(&res);
}

static pz_table *positions(const double *ra, const double *dec, size_t n, const char *idname, int64_t id0)
{
    pz_table *t = pz_table_new(n);
    pz_column *id = pz_table_add(t, idname, PZ_I64, 0);
    pz_column *a = pz_table_add(t, "ra", PZ_F64, 0);
    pz_column *d = pz_table_add(t, "dec", PZ_F32, 0);
    a->unit = pz_xstrdup("deg");
    for (size_t i = 0; i < n; i++) {
        ((int64_t *)id->data)[i] = id0 + (int64_t)i;
        ((double *)a->data)[i] = ra[i];
        ((float *)d->data)[i] = (float)dec[i];
    }
    return t;
}

static void test_table_join(void)
{
    double ra1[] = {AS(0), AS(1.0), AS(10.0)}, dec1[] = {0, 0, 0};
    double ra2[] = {AS(0.7), AS(10.2), AS(30.0)}, dec2[] = {0, 0, 0};
    pz_table *l = positions(ra1, dec1, 3, "id", 100), *r = positions(ra2, dec2, 3, "object_id", 7000);
    pz_column *mag = pz_table_add(r, "i_cmodel_mag", PZ_F32, 0);
    for (int i = 0; i < 3; i++) ((float *)mag->data)[i] = 20.0f + (float)i;
    pz_xmatch_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_xmatch_tables(l, "cosmos", "ra", "dec", r, "hsc", "ra", "dec", 1.0, PZ_XMATCH_BEST, 1,
                                           &res, &err), 0);
    pz_table *j = pz_xmatch_join(l, r, &res, "hsc_", NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(j->nrows, 2);
    CU_ASSERT_EQUAL(j->ncols, 8);
    const char *names[] = {"id", "ra", "dec", "hsc_object_id", "hsc_ra", "hsc_dec", "hsc_i_cmodel_mag", "sep_arcsec"};
    for (int k = 0; k < 8; k++) CU_ASSERT_STRING_EQUAL(j->cols[k].name, names[k]);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(j, "id")->data)[0], 101);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(j, "hsc_object_id")->data)[0], 7000);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(j, "hsc_object_id")->data)[1], 7001);
    CU_ASSERT_EQUAL(pz_table_col(j, "hsc_dec")->type, PZ_F32);
    CU_ASSERT_STRING_EQUAL(pz_table_col(j, "hsc_ra")->unit, "deg");
    CU_ASSERT_DOUBLE_EQUAL(((float *)pz_table_col(j, "hsc_i_cmodel_mag")->data)[1], 21.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(((double *)pz_table_col(j, "sep_arcsec")->data)[1], 0.2, 1e-6);
    pz_table_free(j);

    const char *sel[] = {"i_cmodel_mag"};
    j = pz_xmatch_join(l, r, &res, "", sel, 1, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(j->ncols, 5);
    pz_table_free(j);
    CU_ASSERT_PTR_NULL(pz_xmatch_join(l, r, &res, "", NULL, 0, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "joined table would have duplicate columns: ra, dec (set another right-column prefix)");
    const char *missing[] = {"r_cmodel_mag"};
    CU_ASSERT_PTR_NULL(pz_xmatch_join(l, r, &res, "hsc_", missing, 1, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no column 'r_cmodel_mag'"));
    pz_xmatch_result_free(&res);

    CU_ASSERT_EQUAL(pz_xmatch_tables(l, "cosmos", "RA", "dec", r, "hsc", "ra", "dec", 1.0, PZ_XMATCH_BEST, 1, &res,
                                     &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table 'cosmos': no column 'RA'"));
    ((float *)pz_table_col(r, "dec")->data)[2] = -95.0f;
    CU_ASSERT_EQUAL(pz_xmatch_tables(l, "cosmos", "ra", "dec", r, "hsc", "ra", "dec", 1.0, PZ_XMATCH_BEST, 1, &res,
                                     &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "table 'hsc' (columns ra, dec): right row 2: Dec -95 is outside [-90, 90] degrees");
    pz_table_free(l);
    pz_table_free(r);
}

int main(void)
{
    pzt_suite("xmatch", (pzt_case[]){{"deep field vs brute force", test_deep_field},
                                     {"RA 0/360 vs brute force", test_ra_wrap},
                                     {"poles vs brute force", test_poles},
                                     {"whole sky, large radius", test_whole_sky_large_radius},
                                     {"tiny radius", test_tiny_radius},
                                     {"hand-checked one-to-one", test_hand_checked_one_to_one},
                                     {"errors", test_errors},
                                     {"table join", test_table_join},
                                     {0}});
    return pzt_main();
}
