/* End to end: the study's pipelines as users run them.
 *
 * pipelines/quick.yaml (paper.yaml at toy size) runs from scratch with the real stages into a
 * private cache and workspace; then a no-op rerun runs nothing, an evaluate-only param change
 * reruns only evaluate and the plot stages, and pipelines/real.yaml is checked to be the same
 * study pointed at the real files. The run's numbers are checked too: metrics within loose
 * physical bounds, N equal to the test set minus the NaN predictions, and every figure read back
 * from the plot-data CSVs it is drawn from (its panels) and as a PNG. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"
#include "util/err.h"

static char *dir;

static int run_quick(char **out, const char *extra)
{
    return pzt_run(pzt_source_dir(), out, "'%s/pzflow' run pipelines/quick.yaml -j 2 -C '%s/cache' --set 'workspace=%s/results' %s",
                   pzt_bin_dir(), dir, dir, extra);
}

static int is_png(const char *path)
{
    size_t len;
    char *b = pzt_read_file(path, &len);
    int ok = b && len > 1000 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
    free(b);
    return ok;
}

static void test_quick_from_scratch(void)
{
    dir = pzt_mkdtemp("paper");
    char *out = NULL;
    int rc = run_quick(&out, "");
    if (rc != 0) fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_TRUE(pzt_ran(out, "mock-sky"));
    CU_ASSERT_TRUE(pzt_ran(out, "train-combo[2]"));
    free(out);

    char *table_path = pz_xasprintf("%s/results/evaluate/table.md", dir);
    char *table = pzt_read_file(table_path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    const char *want[] = {"NN-Base", "NN-TL", "NN-Combo", "GalaxiesML", "TransferZ", NULL};
    for (const char **w = want; *w; w++) CU_ASSERT_PTR_NOT_NULL(strstr(table, *w));
    free(table);
    free(table_path);

    const char *figs[] = {"fig1.png", "fig2.png", "fig3.png", "fig3_bins.png", "fig4.png", "dag.png", NULL};
    for (const char **f = figs; *f; f++) {
        char *p = pz_xasprintf("%s/results/plot/%s", dir, *f);
        CU_ASSERT_TRUE(is_png(p));
        free(p);
    }
}


/* --- the numbers of the quick run ------------------------------------------------------------ */

static pz_table *read_result(const char *rel)
{
    char *p = pz_xasprintf("%s/results/%s", dir, rel);
    pz_table *t = NULL;
    pz_err err;
    if (pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err) < 0) {
        fprintf(stderr, "\n%s\n", err.msg);
        t = NULL;
    }
    free(p);
    return t;
}

static int str_is(const pz_table *t, const char *col, size_t row, const char *s)
{
    const pz_column *c = pz_table_col(t, col);
    const char *p = (const char *)c->data + row * c->width;
    size_t l = strlen(s);
    return l <= c->width && !memcmp(p, s, l) && (l == c->width || p[l] == 0);
}

static double val(const pz_table *t, const char *col, size_t row)
{
    return pz_col_f64(pz_table_col(t, col), row);
}

/* Rows of a predictions file with lo < z_true <= hi, and all its rows. */
static long rows_in_range(const char *rel, double lo, double hi, long *total)
{
    pz_table *t = read_result(rel);
    if (!t) return -1;
    long n = 0;
    for (size_t i = 0; i < t->nrows; i++) n += val(t, "z_true", i) > lo && val(t, "z_true", i) <= hi;
    *total = (long)t->nrows;
    pz_table_free(t);
    return n;
}

static void test_metrics_are_physical(void)
{
    pz_table *m = read_result("evaluate/metrics.fits");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    /* evaluate's groups and the prediction stages and test sets they read (pipelines/paper.yaml) */
    static const char *const groups[6][4] = {
        {"NN-Base", "GalaxiesML", "predict-base-gml", "ingest-galaxiesml/testing.fits"},
        {"NN-TL", "GalaxiesML", "predict-tl-gml", "ingest-galaxiesml/testing.fits"},
        {"NN-Combo", "GalaxiesML", "predict-combo-gml", "ingest-galaxiesml/testing.fits"},
        {"NN-Base", "TransferZ", "predict-base-tz", "split-transferz/test.fits"},
        {"NN-TL", "TransferZ", "predict-tl-tz", "split-transferz/test.fits"},
        {"NN-Combo", "TransferZ", "predict-combo-tz", "split-transferz/test.fits"}};
    int checked = 0;
    for (size_t i = 0; i < m->nrows; i++) {
        if (!str_is(m, "stat", i, "seed") || !(str_is(m, "selection", i, "lsst") || str_is(m, "selection", i, "all")))
            continue;
        /* loose physical bounds: a diverged or mislabelled run would break them */
        CU_ASSERT_TRUE(val(m, "nmad", i) >= 0 && val(m, "nmad", i) < 0.2);
        CU_ASSERT_TRUE(fabs(val(m, "bias", i)) < 0.1);
        const char *fractions[3] = {"outlier", "outlier_bw", "catastrophic"};
        for (int f = 0; f < 3; f++) CU_ASSERT_TRUE(val(m, fractions[f], i) >= 0 && val(m, fractions[f], i) <= 1);
        CU_ASSERT_TRUE(val(m, "n", i) > 0 && val(m, "n_nan", i) >= 0);
        /* N = the test set (in the selection) minus the NaN predictions; quick.yaml's seeds are
         * [1, 2], and evaluate labels rows with the model's seed, which names the instance */
        for (int g = 0; g < 6; g++) {
            if (!str_is(m, "model", i, groups[g][0]) || !str_is(m, "test", i, groups[g][1])) continue;
            char *preds = pz_xasprintf("%s/%lld/predictions.fits", groups[g][2], (long long)val(m, "seed", i));
            long total = 0, in = rows_in_range(preds, val(m, "z_lo", i), val(m, "z_hi", i), &total);
            CU_ASSERT_EQUAL(val(m, "n", i) + val(m, "n_nan", i), (double)in);
            pz_table *test = read_result(groups[g][3]);
            CU_ASSERT_TRUE(test && (long)test->nrows == total);
            pz_table_free(test);
            free(preds);
            checked++;
        }
    }
    CU_ASSERT_EQUAL(checked, 6 * 2 * 2); /* 6 groups x 2 seeds x 2 selections */
    pz_table_free(m);
}

/* Distinct values of the columns `cols` (comma-joined) in a CSV with a header line. */
static size_t csv_distinct(const char *rel, const char *const *cols, size_t ncols, size_t *rows)
{
    char *p = pz_xasprintf("%s/results/%s", dir, rel);
    char *text = pzt_read_file(p, NULL);
    free(p);
    *rows = 0;
    if (!text) return 0;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int idx[8];
    size_t nfields = 0;
    char *header[64];
    for (char *f = line, *s2 = NULL, *tok = strtok_r(f, ",", &s2); tok && nfields < 64; tok = strtok_r(NULL, ",", &s2))
        header[nfields++] = tok;
    for (size_t c = 0; c < ncols; c++) {
        idx[c] = -1;
        for (size_t f = 0; f < nfields; f++)
            if (!strcmp(header[f], cols[c])) idx[c] = (int)f;
        CU_ASSERT_TRUE(idx[c] >= 0);
    }
    char **keys = NULL;
    size_t nkeys = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *fields[64], *s2 = NULL;
        size_t nf = 0;
        for (char *tok = strtok_r(line, ",", &s2); tok && nf < 64; tok = strtok_r(NULL, ",", &s2)) fields[nf++] = tok;
        char key[256] = "";
        for (size_t c = 0; c < ncols; c++)
            if (idx[c] >= 0 && (size_t)idx[c] < nf) snprintf(key + strlen(key), sizeof key - strlen(key), "%s|", fields[idx[c]]);
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], key)) k++;
        if (k == nkeys) {
            keys = pz_xrealloc(keys, (nkeys + 1) * sizeof *keys);
            keys[nkeys++] = pz_xstrdup(key);
        }
        (*rows)++;
    }
    for (size_t k = 0; k < nkeys; k++) free(keys[k]);
    free(keys);
    free(text);
    return nkeys;
}

/* Width and height of a PNG (its IHDR chunk); 0 when not a PNG. */
static void png_size(const char *rel, unsigned *w, unsigned *h)
{
    char *p = pz_xasprintf("%s/results/%s", dir, rel);
    size_t len = 0;
    unsigned char *b = (unsigned char *)pzt_read_file(p, &len);
    free(p);
    *w = *h = 0;
    if (b && len > 24 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8) && !memcmp(b + 12, "IHDR", 4)) {
        *w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
        *h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    }
    free(b);
}

static void test_figures_have_their_panels(void)
{
    size_t rows;
    /* Figure 1: z, i and four colours, both datasets */
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig1.csv", (const char *const[]){"quantity"}, 1, &rows), 6);
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig1.csv", (const char *const[]){"dataset"}, 1, &rows), 2);
    /* Figure 2: three models on two test sets */
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig2.csv", (const char *const[]){"model", "test"}, 2, &rows), 6);
    /* Figure 3: bias, NMAD, RMS, outliers; one point per model (eight: the four point families,
     * the two mixture-density families, the two seed ensembles) and test set in each */
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig3.csv", (const char *const[]){"metric"}, 1, &rows), 4);
    CU_ASSERT_EQUAL(rows, 4 * 8 * 2);
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig3.csv", (const char *const[]){"metric", "model", "test"}, 3, &rows), 64);
    /* Figure 3b: metrics x test sets panels, 8 bins per series */
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig3_bins.csv", (const char *const[]){"metric", "test"}, 2, &rows), 8);
    CU_ASSERT_EQUAL(rows, 4 * 2 * 8 * 8);
    /* Figure 5: coverage, width at 68% and at 95% for every model and test set, and the PIT
     * histogram of the four models with a p(z); a coverage point per conformal level (ten in
     * paper.yaml) */
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig5.csv", (const char *const[]){"panel"}, 1, &rows), 4);
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig5.csv", (const char *const[]){"panel", "model", "test"}, 3, &rows),
                    3 * 8 * 2 + 4 * 2);
    CU_ASSERT_EQUAL(csv_distinct("plot-data/fig5.csv", (const char *const[]){"panel", "x"}, 2, &rows) >= 10, 1);
    /* every figure is a PNG; the two Graphviz figures stay readable (the whole DAG drawn left
     * to right was 5500 px wide) */
    const char *pngs[7] = {"fig1.png", "fig2.png", "fig3.png", "fig3_bins.png", "fig5.png", "fig4.png", "dag.png"};
    for (int f = 0; f < 7; f++) {
        char *rel = pz_xasprintf("plot/%s", pngs[f]);
        unsigned w, h;
        png_size(rel, &w, &h);
        CU_ASSERT_TRUE(w > 500 && h > 300);
        /* (the DAG of six model families and two ensembles, with their calibration predictions
         * and conformal stages, is ~8000 px wide top to bottom: one rank holds every family's
         * predictions; labels stay 10 pt at full size, and the SVG zooms) */
        if (f >= 5) CU_ASSERT_TRUE(w < (f == 5 ? 3000u : 9000u));
        free(rel);
    }
    /* Figure 4 is the TransferZ flow chart: its stages, the released tables, and nothing of the
     * networks downstream */
    char *p = pz_xasprintf("%s/results/dag/flow.dot", dir);
    char *flow = pzt_read_file(p, NULL);
    free(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(flow);
    const char *want[] = {"\"cosmos-cuts\"", "\"hsc-cuts\"", "\"build-transferz\"", "\"split-transferz\"",
                          "released\\nsplit-transferz/train", "released\\nsplit-transferz/validation",
                          "released\\nsplit-transferz/test", "shape=cylinder", NULL};
    for (const char **w = want; *w; w++) CU_ASSERT_PTR_NOT_NULL(strstr(flow, *w));
    CU_ASSERT_PTR_NULL(strstr(flow, "train-base"));
    CU_ASSERT_PTR_NULL(strstr(flow, "evaluate"));
    free(flow);
}

static void test_noop_runs_nothing(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(run_quick(&out, ""), 0);
    CU_ASSERT_EQUAL(pzt_count_runs(out), 0);
    free(out);
}

static void test_evaluate_param_reruns_only_evaluate_and_plots(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(run_quick(&out, "--set 'stages.evaluate.params.window=[0.3, 1.4]'"), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "evaluate"));
    CU_ASSERT_TRUE(pzt_ran(out, "plot-data"));
    CU_ASSERT_TRUE(pzt_ran(out, "plot"));
    CU_ASSERT_EQUAL(pzt_count_runs(out), 3);
    if (pzt_count_runs(out) != 3) fprintf(stderr, "\n%s\n", out);
    free(out);
    /* Switching back is a run-cache hit: nothing runs. */
    CU_ASSERT_EQUAL(run_quick(&out, ""), 0);
    CU_ASSERT_EQUAL(pzt_count_runs(out), 0);
    free(out);
}

static void test_show_prints_the_table(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_run(pzt_source_dir(), &out, "'%s/pzflow' show pipelines/quick.yaml -C '%s/cache' --set 'workspace=%s/results'",
                            pzt_bin_dir(), dir, dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "NN-Combo"));
    free(out);
}

static void test_real_yaml_is_the_study_on_real_files(void)
{
    char *out = NULL;
    /* Without the real files the loader stops at the first one, naming it; everything else in
     * real.yaml (extends, the dropped mock-sky, references) must already be valid. */
    CU_ASSERT_EQUAL(pzt_run(pzt_source_dir(), &out, "'%s/pzflow' status pipelines/real.yaml", pzt_bin_dir()), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "missing file 'data/COSMOS2020_CLASSIC_R1_v2.1_p3.fits'"));
    free(out);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("paper", (pzt_case[]){{"quick.yaml from scratch", test_quick_from_scratch},
                                    {"metrics within physical bounds, N = test set - NaN", test_metrics_are_physical},
                                    {"figures: panels from the CSVs, PNG sizes, flow chart", test_figures_have_their_panels},
                                    {"no-op rerun", test_noop_runs_nothing},
                                    {"evaluate param change", test_evaluate_param_reruns_only_evaluate_and_plots},
                                    {"show", test_show_prints_the_table},
                                    {"real.yaml", test_real_yaml_is_the_study_on_real_files},
                                    {0}});
    return pzt_main();
}
