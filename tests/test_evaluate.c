/* The evaluate stage end to end on small synthetic prediction files written here, with every
 * expected number derived by hand in the comments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/evaluate.h"
#include "support/pztest.h"
#include "table/table.h"
#include "util/err.h"

#define TOL 1e-12

/* Write a predictions file whose dz are given: z_pred = z_true + dz (1 + z_true). NaN dz gives
 * a NaN prediction. seed < 0: no `seed` attribute. */
static void write_preds(const char *path, const double *zt, const double *dz, size_t n, long seed)
{
    pz_table *t = pz_table_new(n);
    pz_table_add(t, "object_id", PZ_I64, 0);
    pz_table_add(t, "z_pred", PZ_F32, 0);
    pz_table_add(t, "z_true", PZ_F64, 0);
    for (size_t i = 0; i < n; i++) {
        pz_col_set_f64(&t->cols[0], i, (double)i);
        pz_col_set_f64(&t->cols[1], i, zt[i] + dz[i] * (1 + zt[i]));
        pz_col_set_f64(&t->cols[2], i, zt[i]);
    }
    if (seed >= 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", seed);
        pz_table_set_attr(t, "seed", buf);
    }
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    pz_table_free(t);
}

/* z_true of every synthetic set: three galaxies in the LSST window, one at 2.5. */
static const double ZT[5] = {0.5, 1.0, 1.0, 2.5, 1.2};

/* NN-Base seeds: dz = 0.01 0.01 0.03 0.2  and  0.03 0.03 0.05 -0.5
 * NN-TL seeds:   half of those
 * NN-Combo (one seed, file attribute seed=7): 0.001 0.001 0.002 0.001 NaN */
static const double BASE0[4] = {0.01, 0.01, 0.03, 0.2}, BASE1[4] = {0.03, 0.03, 0.05, -0.5};
static const double TL0[4] = {0.005, 0.005, 0.015, 0.1}, TL1[4] = {0.015, 0.015, 0.025, -0.25};
static const double COMBO[5] = {0.001, 0.001, 0.002, 0.001, NAN};

typedef struct fixture {
    char *dir;
    char *spec;
} fixture;

static char *path_in(const char *dir, const char *name)
{
    return pz_xasprintf("%s/%s", dir, name);
}

static fixture make_fixture_bins(const char *bins, const char *extra_params)
{
    fixture f;
    f.dir = pzt_mkdtemp("evaluate");
    const char *names[5] = {"b0.h5", "b1.h5", "t0.h5", "t1.h5", "c.h5"};
    const double *dz[5] = {BASE0, BASE1, TL0, TL1, COMBO};
    for (int i = 0; i < 5; i++) {
        char *p = path_in(f.dir, names[i]);
        write_preds(p, ZT, dz[i], i == 4 ? 5 : 4, i == 4 ? 7 : -1);
        free(p);
    }
    f.spec = path_in(f.dir, "spec.json");
    char *text = pz_xasprintf(
        "{\"pzflow_spec\": 1, \"stage\": \"evaluate\", \"threads\": 1,\n"
        " \"params\": {\"groups\": [{\"model\": \"NN-Base\", \"test\": \"T\", \"input\": \"base\"},\n"
        "                          {\"model\": \"NN-TL\", \"test\": \"T\", \"input\": \"tl\"},\n"
        "                          {\"model\": \"NN-Combo\", \"test\": \"T\", \"input\": \"combo\"}],\n"
        "            \"bins\": %s%s},\n"
        " \"inputs\": {\"base\": [\"%s/b0.h5\", \"%s/b1.h5\"], \"tl\": [\"%s/t0.h5\", \"%s/t1.h5\"],\n"
        "            \"combo\": [\"%s/c.h5\"]},\n"
        " \"outputs\": {\"metrics\": \"%s/metrics.h5\", \"table\": \"%s/table.md\"}}\n",
        bins, extra_params, f.dir, f.dir, f.dir, f.dir, f.dir, f.dir, f.dir);
    pzt_write_file(f.spec, text);
    free(text);
    return f;
}

static fixture make_fixture(const char *extra_params)
{
    return make_fixture_bins("[0, 1, 2, 3, 4]", extra_params);
}

static void free_fixture(fixture *f)
{
    pzt_rmtree(f->dir);
    free(f->dir);
    free(f->spec);
}

static int run_stage(const fixture *f, char **out)
{
    return pzt_run(f->dir, out, "%s/pzflow-evaluate %s", pzt_bin_dir(), f->spec);
}

static int str_is(const pz_column *c, size_t row, const char *s)
{
    const char *p = (const char *)c->data + row * c->width;
    size_t l = strlen(s);
    return l <= c->width && !memcmp(p, s, l) && (l == c->width || p[l] == 0);
}

/* Value of `col` in the row (model, test, selection, stat, z_lo); NAN-fails the test if absent. */
static double get(const pz_table *t, const char *model, const char *selection, const char *stat, double zlo,
                  const char *col)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (str_is(pz_table_col(t, "model"), i, model) && str_is(pz_table_col(t, "selection"), i, selection) &&
            str_is(pz_table_col(t, "stat"), i, stat) && pz_col_f64(pz_table_col(t, "z_lo"), i) == zlo)
            return pz_col_f64(pz_table_col(t, col), i);
    CU_FAIL("row not found");
    return NAN;
}

static pz_table *read_metrics(const fixture *f)
{
    char *p = path_in(f->dir, "metrics.h5");
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL(pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    return t;
}

static void test_aggregates_ratios_goals(void)
{
    fixture f = make_fixture("");
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_stage(&f, &out), 0);
    free(out);
    pz_table *t = read_metrics(&f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    /* 3 groups: (2 + 1 + 2 seeds) x 6 selections (lsst, all, 4 bins) seed rows + 3 x 6 x 4
     * aggregate rows + 2 models x 2 selections x 6 ratio rows (2 definitions x ratio, lo, hi) */
    CU_ASSERT_EQUAL(t->nrows, 5 * 6 + 3 * 6 * 4 + 2 * 2 * 6);
    /* NN-Base, LSST window: seed biases 0.01 and 0.03 (medians of 0.01 0.01 0.03 / 0.03 0.03 0.05)
     * mean 0.02, sample std sqrt(2 * 0.01^2) = 0.0141421, p16 0.01 + 0.16*0.02, p84 0.01 + 0.84*0.02 */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "seed", 0.3, "bias"), 0.01, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "mean", 0.3, "bias"), 0.02, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "std", 0.3, "bias"), sqrt(2e-4), 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "p16", 0.3, "bias"), 0.0132, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "p84", 0.3, "bias"), 0.0268, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "lsst", "mean", 0.3, "n"), 3, 0);
    /* whole range: outliers 1/4 in both seeds (0.2 and -0.5); catastrophic only seed 1
     * (|z_pred - z_true| = 0.5 * 3.5 = 1.75), so the mean is 0.125 */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "all", "mean", 0, "outlier"), 0.25, TOL);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "all", "mean", 0, "catastrophic"), 0.125, TOL);
    /* Ratios NN-Base / NN-TL: TL's dz are exactly half, so |bias| and RMS ratios are 2; whole-range
     * outliers 0.25 / 0.125 = 2 (TL seed 0 has |0.1| < 0.15); TL has no catastrophic: inf */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "lsst", "ratio", 0.3, "bias"), 2, 1e-4); /* z_pred is f32 */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "lsst", "ratio", 0.3, "rms"), 2, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "all", "ratio", 0, "outlier"), 2, TOL);
    CU_ASSERT_TRUE(isinf(get(t, "NN-TL", "all", "ratio", 0, "catastrophic")));
    /* Intervals: NN-TL seed s is exactly half of NN-Base seed s, and paired resamples keep
     * that, so every resampled ratio is 2. Whole-range outliers pair (0.25, 0) and (0.25, 0.25):
     * resamples give 0.25/0 = inf, 1 or 2, so the 95% interval runs from 1 to inf. */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "lsst", "ratio_lo", 0.3, "bias"), 2, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "lsst", "ratio_hi", 0.3, "bias"), 2, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "all", "ratio_lo", 0, "outlier"), 1, TOL);
    CU_ASSERT_TRUE(isinf(get(t, "NN-TL", "all", "ratio_hi", 0, "outlier")));
    /* Both bias definitions agree here (no sign changes across seeds)... */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-TL", "lsst", "ratio_mabs", 0.3, "bias"), 2, 1e-4);
    /* ...and a single seed gives a ratio but no interval */
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Combo", "lsst", "ratio", 0.3, "bias"), 20, 1e-3);
    CU_ASSERT_TRUE(isnan(get(t, "NN-Combo", "lsst", "ratio_lo", 0.3, "bias")));
    /* LSST window outliers are 0 for both: 0/0 is NaN, not a crash */
    CU_ASSERT_TRUE(isnan(get(t, "NN-TL", "lsst", "ratio", 0.3, "outlier")));
    /* Goals on the means: NN-Base bias 0.02 fails, NMAD 0 and outliers 0 pass; NN-Combo passes */
    CU_ASSERT_EQUAL(get(t, "NN-Base", "lsst", "mean", 0.3, "pass_bias"), 0);
    CU_ASSERT_EQUAL(get(t, "NN-Base", "lsst", "mean", 0.3, "pass_scatter"), 1);
    CU_ASSERT_EQUAL(get(t, "NN-Base", "lsst", "mean", 0.3, "pass_all"), 0);
    CU_ASSERT_EQUAL(get(t, "NN-Combo", "lsst", "mean", 0.3, "pass_all"), 1);
    /* NN-Combo: one NaN prediction at z = 1.2 is excluded and counted; bias median(0.001 0.001 0.002);
     * one seed: std NaN; its seed number comes from the file attribute */
    CU_ASSERT_EQUAL(get(t, "NN-Combo", "lsst", "seed", 0.3, "n"), 3);
    CU_ASSERT_EQUAL(get(t, "NN-Combo", "lsst", "seed", 0.3, "n_nan"), 1);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Combo", "lsst", "mean", 0.3, "bias"), 0.001, 1e-7);
    CU_ASSERT_TRUE(isnan(get(t, "NN-Combo", "lsst", "std", 0.3, "bias")));
    CU_ASSERT_EQUAL(get(t, "NN-Combo", "all", "seed", 0, "seed"), 7);
    /* right-closed bins: (0,1] holds 0.5 1.0 1.0; (1,2] holds only the NaN one; (2,3] holds 2.5 */
    CU_ASSERT_EQUAL(get(t, "NN-Base", "bin", "mean", 0, "n"), 3);
    CU_ASSERT_EQUAL(get(t, "NN-Base", "bin", "mean", 1, "n"), 0);
    CU_ASSERT_TRUE(isnan(get(t, "NN-Base", "bin", "mean", 1, "bias")));
    CU_ASSERT_EQUAL(get(t, "NN-Combo", "bin", "seed", 1, "n_nan"), 1);
    CU_ASSERT_DOUBLE_EQUAL(get(t, "NN-Base", "bin", "mean", 2, "bias"), (0.2 - 0.5) / 2, 1e-7);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "baseline"), "NN-Base");
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "pzflow_provenance")); /* provenance: in the run record */
    pz_table_free(t);
    free_fixture(&f);
}

static void test_markdown(void)
{
    fixture f = make_fixture("");
    CU_ASSERT_EQUAL_FATAL(run_stage(&f, NULL), 0);
    char *p = path_in(f.dir, "table.md");
    char *md = pzt_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| NN-Base | T | 2 | 3 | +0.02000 ± 0.01414 | 0.0000 ± 0.0000 |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| FAIL (bias) |"));
    /* the NaN prediction is shown next to the count it was excluded from */
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| NN-Combo | T | 1 | 3 (+1 NaN excluded) | +0.00100 | "));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| NN-Base | T | 2 | 3 | "));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| PASS |"));
    /* |mean bias| | mean |bias| | NMAD | RMS | outliers | catastrophic, each with its interval */
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| T | NN-Base / NN-TL | 2.00 [2.00, 2.00] | 2.00 [2.00, 2.00] | inf [inf, inf] | "
                                      "2.00 [2.00, 2.00] | n/a | n/a |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| T | NN-Base / NN-TL | 2.00 [2.00, 2.00] | 2.00 [2.00, 2.00] | 2.00 [2.00, 2.00] | "
                                      "2.00 [2.00, 2.00] | 2.00 [1.00, inf] | inf [inf, inf] |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| T | NN-Base / NN-Combo | 20.00 | 20.00 | "));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "mean \\|bias\\| = mean over seeds of \\|median bias\\|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| NN-Base | T | (1.00, 2.00] | 0 | n=0 |"));
    /* same inputs, same bytes */
    char *again = pz_xasprintf("%s/again", f.dir);
    CU_ASSERT_EQUAL(pzt_run(NULL, NULL, "mkdir %s && cp %s/metrics.h5 %s/table.md %s/", again, f.dir, f.dir, again), 0);
    CU_ASSERT_EQUAL_FATAL(run_stage(&f, NULL), 0);
    char *a = pz_xasprintf("%s/metrics.h5", again), *b = path_in(f.dir, "metrics.h5");
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a);
    a = pz_xasprintf("%s/table.md", again);
    CU_ASSERT_TRUE(pzt_files_equal(a, p));
    free(a);
    free(b);
    free(again);
    free(md);
    free(p);
    free_fixture(&f);
}

static void test_readable_by_astropy(void)
{
    fixture f = make_fixture("");
    CU_ASSERT_EQUAL_FATAL(run_stage(&f, NULL), 0);
    char *out = NULL;
    int rc = pzt_run(f.dir, &out,
                     "%s -c 'from astropy.table import Table\n"
                     "t = Table.read(\"metrics.h5\")\n"
                     "m = (t[\"model\"] == b\"NN-TL\") & (t[\"stat\"] == b\"ratio\") & (t[\"selection\"] == b\"lsst\")\n"
                     "print(\"%%.6f\" %% t[\"rms\"][m][0])'",
                     pzt_python());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "2.0000"));
    if (rc != 0) fprintf(stderr, "%s\n", out);
    free(out);
    free_fixture(&f);
}

static void test_errors(void)
{
    char *out = NULL;
    fixture f = make_fixture(", \"nan_policy\": \"error\"");
    CU_ASSERT_EQUAL(run_stage(&f, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "column 'z_pred' row 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "input 'combo'"));
    free(out);
    free_fixture(&f);

    f = make_fixture(", \"baseline\": \"NN-Other\"");
    CU_ASSERT_EQUAL(run_stage(&f, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "param 'baseline': model 'NN-Other' is not in groups"));
    free(out);
    free_fixture(&f);

    f = make_fixture_bins("[0, 2, 1]", "");
    CU_ASSERT_EQUAL(run_stage(&f, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "param 'bins': edges must increase (1 after 2)"));
    free(out);
    free_fixture(&f);

    f = make_fixture(", \"z_true_column\": \"specz\"");
    CU_ASSERT_EQUAL(run_stage(&f, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "specz"));
    free(out);
    free_fixture(&f);

    f = make_fixture(", \"windw\": [0.3, 1.5]");
    CU_ASSERT_EQUAL(run_stage(&f, &out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown param 'windw'"));
    free(out);
    free_fixture(&f);
}

/* A second baseline (the follow-up's NN-Spec / NN-Combo): its own ratio rows, named in `versus`,
 * and its own ratio tables; the first baseline's rows are unchanged. */
static void test_two_baselines(void)
{
    fixture f = make_fixture(", \"baseline\": [\"NN-Base\", \"NN-TL\"]");
    CU_ASSERT_EQUAL_FATAL(run_stage(&f, NULL), 0);
    pz_table *t = read_metrics(&f);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "baselines"), "NN-Base,NN-TL");
    const pz_column *versus = pz_table_col(t, "versus"), *stat = pz_table_col(t, "stat"), *model = pz_table_col(t, "model");
    int tl_combo = 0, base_tl = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!str_is(stat, i, "ratio")) continue;
        tl_combo += str_is(versus, i, "NN-TL") && str_is(model, i, "NN-Combo");
        base_tl += str_is(versus, i, "NN-Base") && str_is(model, i, "NN-TL");
    }
    CU_ASSERT_EQUAL(tl_combo, 2); /* lsst and all */
    CU_ASSERT_EQUAL(base_tl, 2);
    pz_table_free(t);
    char *p = path_in(f.dir, "table.md");
    char *md = pzt_read_file(p, NULL);
    CU_ASSERT_TRUE(pzt_has(md, "## Ratios NN-TL / model, LSST window"));
    CU_ASSERT_TRUE(pzt_has(md, "| T | NN-TL / NN-Combo | "));
    CU_ASSERT_TRUE(pzt_has(md, "| T | NN-Base / NN-TL | 2.00 [2.00, 2.00] |"));
    free(md);
    free(p);
    free_fixture(&f);
}

/* The library entry point rejects a model listed twice on the same test set. */
static void test_duplicate_group(void)
{
    pz_eval_config cfg;
    pz_eval_config_default(&cfg);
    const char *paths[1] = {"unused.h5"};
    pz_eval_group g[2] = {{"NN-Base", "T", "a", paths, 1}, {"NN-Base", "T", "b", paths, 1}};
    pz_err err;
    CU_ASSERT_PTR_NULL(pz_evaluate(&cfg, g, 2, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "listed twice"));
}

int main(void)
{
    pzt_suite("evaluate", (pzt_case[]){
                              {"aggregates, ratios, goals, bins, NaN", test_aggregates_ratios_goals},
                              {"Markdown table, deterministic bytes", test_markdown},
                              {"metrics readable by astropy", test_readable_by_astropy},
                              {"errors name the problem", test_errors},
                              {"duplicate group", test_duplicate_group},
                              {"two baselines: ratio rows say which", test_two_baselines},
                              {0}});
    return pzt_main();
}
