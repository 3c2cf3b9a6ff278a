/* plot-data's binning and tables, and the plot stage's PNG/SVG files, on synthetic inputs
 * written here (z_pred = z_true + a fixed pattern of errors). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/plot.h"
#include "photoz/plotdata.h"
#include "support/pztest.h"
#include "table/table.h"
#include "util/err.h"

static void test_bins_right_closed(void)
{
    pz_bins b = {0, 4, 4};
    CU_ASSERT_EQUAL(pz_bin_index(&b, 0.0), -1); /* lo itself is outside (lo, hi] */
    CU_ASSERT_EQUAL(pz_bin_index(&b, 1e-9), 0);
    CU_ASSERT_EQUAL(pz_bin_index(&b, 1.0), 0);
    CU_ASSERT_EQUAL(pz_bin_index(&b, 1.0000001), 1);
    CU_ASSERT_EQUAL(pz_bin_index(&b, 4.0), 3);
    CU_ASSERT_EQUAL(pz_bin_index(&b, 4.0000001), -1);
    CU_ASSERT_EQUAL(pz_bin_index(&b, NAN), -1);
    /* edges that are not exact in binary still close on the right: 0.3 0.6 0.9 1.2 1.5 */
    pz_bins w = {0, 1.5, 5};
    double edges[5] = {0.3, 0.6, 0.9, 1.2, 1.5};
    for (int k = 0; k < 5; k++) {
        CU_ASSERT_EQUAL(pz_bin_index(&w, edges[k]), k);
        CU_ASSERT_EQUAL(pz_bin_index(&w, nextafter(edges[k], 2)), k == 4 ? -1 : k + 1);
    }
    double x[6] = {0.5, 1.0, 1.5, 3.9, -1, NAN};
    long counts[4] = {0};
    CU_ASSERT_EQUAL(pz_histogram(&b, x, 6, counts), 4);
    CU_ASSERT_EQUAL(counts[0], 2);
    CU_ASSERT_EQUAL(counts[1], 1);
    CU_ASSERT_EQUAL(counts[2], 0);
    CU_ASSERT_EQUAL(counts[3], 1);
}

static void test_csv(void)
{
    pz_table *t = pz_table_new(2);
    pz_table_add(t, "name", PZ_STR, 6);
    pz_table_add(t, "k", PZ_I64, 0);
    pz_table_add(t, "v", PZ_F64, 0);
    memcpy(t->cols[0].data, "a,b\0\0\0plain\0", 12);
    pz_col_set_f64(&t->cols[1], 0, 3);
    pz_col_set_f64(&t->cols[1], 1, -4);
    pz_col_set_f64(&t->cols[2], 0, 0.1);
    pz_col_set_f64(&t->cols[2], 1, NAN);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pz_err err;
    CU_ASSERT_EQUAL(pz_table_write_csv(f, t, &err), 0);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "name,k,v\n\"a,b\",3,0.1\nplain,-4,nan\n");
    free(buf);
    pz_table_free(t);
}

/* --- end to end: evaluate -> plot-data -> plot ------------------------------------------------ */

static void write_table(const char *path, pz_table *t)
{
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    pz_table_free(t);
}

/* A dataset with z = 0.1, 0.2, ... and magnitudes i = 20 + z, colours 0.5 each. */
static void write_dataset(const char *path, const char *zcol, size_t n)
{
    pz_table *t = pz_table_new(n);
    pz_table_add(t, zcol, PZ_F64, 0);
    const char *bands[5] = {"g", "r", "i", "z", "y"};
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "%s_cmodel_mag", bands[b]);
        pz_table_add(t, name, PZ_F32, 0);
    }
    for (size_t i = 0; i < n; i++) {
        double z = (double)(i % 30 + 1) / 10; /* the decimal values, which sit on bin edges */
        pz_col_set_f64(&t->cols[0], i, z);
        for (int b = 0; b < 5; b++) pz_col_set_f64(&t->cols[1 + b], i, 20 + z + 0.5 * (2 - b));
    }
    write_table(path, t);
}

static void write_preds(const char *path, double scale, size_t n)
{
    pz_table *t = pz_table_new(n);
    pz_table_add(t, "z_pred", PZ_F32, 0);
    pz_table_add(t, "z_true", PZ_F64, 0);
    for (size_t i = 0; i < n; i++) {
        double z = 0.05 + 3.9 * (double)i / (double)n;
        double dz = scale * (0.01 * (double)((i * 7) % 11) - 0.04) + (i % 13 == 0 ? 0.4 : 0);
        pz_col_set_f64(&t->cols[0], i, z + dz * (1 + z));
        pz_col_set_f64(&t->cols[1], i, z);
    }
    write_table(path, t);
}

static int has_magic(const char *path, const char *magic, size_t n, size_t min_size)
{
    size_t len = 0;
    char *b = pzt_read_file(path, &len);
    int ok = b && len >= min_size && memmem(b, len < 4096 ? len : 4096, magic, n) != NULL;
    free(b);
    return ok;
}

static void test_end_to_end(void)
{
    char *d = pzt_mkdtemp("plot");
    char *p = pz_xasprintf("%s/tz.h5", d);
    write_dataset(p, "lp_zPDF", 300);
    free(p);
    p = pz_xasprintf("%s/gml.h5", d);
    write_dataset(p, "specz_redshift", 90);
    free(p);
    const char *models[3] = {"base", "tl", "combo"};
    double scale[3] = {1.0, 0.5, 0.4};
    for (int m = 0; m < 3; m++)
        for (int s = 0; s < 2; s++) {
            p = pz_xasprintf("%s/%s%d.h5", d, models[m], s);
            write_preds(p, scale[m] * (1 + 0.1 * s), 400);
            free(p);
        }
    char *spec = pz_xasprintf(
        "{\"stage\": \"evaluate\", \"params\": {\"groups\": ["
        "{\"model\": \"NN-Base\", \"test\": \"GalaxiesML\", \"input\": \"base\"},"
        "{\"model\": \"NN-TL\", \"test\": \"GalaxiesML\", \"input\": \"tl\"},"
        "{\"model\": \"NN-Combo\", \"test\": \"GalaxiesML\", \"input\": \"combo\"}]},"
        "\"inputs\": {\"base\": [\"base0.h5\", \"base1.h5\"], \"tl\": [\"tl0.h5\", \"tl1.h5\"], \"combo\": [\"combo0.h5\", \"combo1.h5\"]},"
        "\"outputs\": {\"metrics\": \"metrics.h5\", \"table\": \"table.md\"}}");
    p = pz_xasprintf("%s/eval.json", d);
    pzt_write_file(p, spec);
    free(p);
    free(spec);
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(pzt_run(d, &out, "%s/pzflow-evaluate eval.json", pzt_bin_dir()), 0);
    free(out);

    spec = pz_xasprintf(
        "{\"stage\": \"plot-data\", \"params\": {"
        "\"datasets\": [{\"name\": \"TransferZ\", \"input\": \"tz\", \"z\": \"lp_zPDF\"},"
        "               {\"name\": \"GalaxiesML\", \"input\": \"gml\", \"z\": \"specz_redshift\"}],"
        "\"z_bins\": {\"lo\": 0, \"hi\": 3, \"n\": 30},"
        "\"predictions\": [{\"model\": \"NN-Base\", \"input\": \"base\"}, {\"model\": \"NN-TL\", \"input\": \"tl\"},"
        "                  {\"model\": \"NN-Combo\", \"input\": \"combo\"},"
        "                  {\"model\": \"NN-Base\", \"test\": \"TransferZ\", \"input\": \"base\"}],"
        "\"seeds\": [3, 4],"
        "\"scatter_bins\": {\"lo\": 0, \"hi\": 4, \"n\": 40}},"
        "\"inputs\": {\"tz\": \"tz.h5\", \"gml\": \"gml.h5\", \"metrics\": \"metrics.h5\","
        "             \"base\": [\"base0.h5\", \"base1.h5\"], \"tl\": \"tl0.h5\", \"combo\": \"combo0.h5\"},"
        "\"outputs\": {\"fig1\": \"fig1.h5\", \"fig1.csv\": \"fig1.csv\", \"fig2\": \"fig2.h5\", \"fig2.csv\": \"fig2.csv\","
        "              \"fig3\": \"fig3.h5\", \"fig3.csv\": \"fig3.csv\", \"fig3_bins\": \"fig3b.h5\", \"fig3_bins.csv\": \"fig3b.csv\"}}");
    p = pz_xasprintf("%s/pd.json", d);
    pzt_write_file(p, spec);
    free(p);
    free(spec);
    CU_ASSERT_EQUAL_FATAL(pzt_run(d, &out, "%s/pzflow-plot-data pd.json", pzt_bin_dir()), 0);
    free(out);

    /* Figure 1: z = 0.1..3.0 in 30 right-closed bins of 0.1: each bin gets the z equal to its
     * upper edge, 10 of TransferZ's 300 rows; density = 10 / (300 * 0.1) = 1/3 */
    pz_table *t = NULL;
    pz_err err;
    p = pz_xasprintf("%s/fig1.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    /* 2 datasets x (z: 30 + i: 70 + 4 colours x 80) rows */
    CU_ASSERT_EQUAL(t->nrows, 2 * (30 + 70 + 4 * 80));
    long zsum = 0;
    for (size_t i = 0; i < 30; i++) {
        CU_ASSERT_EQUAL(pz_col_f64(pz_table_col(t, "count"), i), 10);
        CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "density"), i), 1.0 / 3, 1e-9);
        zsum += (long)pz_col_f64(pz_table_col(t, "count"), i);
    }
    CU_ASSERT_EQUAL(zsum, 300);
    pz_table_free(t);
    /* Figure 2: four panels (three models on GalaxiesML, one on TransferZ); every prediction
     * lands in the 40 x 40 grid (z_pred within (0, 4]) except those pushed past 4 */
    p = pz_xasprintf("%s/fig2.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    CU_ASSERT_EQUAL(t->nrows, 4 * 40 * 40);
    double total = 0;
    for (size_t i = 0; i < 1600; i++) total += pz_col_f64(pz_table_col(t, "count"), i);
    CU_ASSERT_TRUE(total > 380 && total <= 400);
    const pz_column *test_col = pz_table_col(t, "test");
    CU_ASSERT_PTR_NOT_NULL_FATAL(test_col);
    CU_ASSERT_EQUAL(strncmp((const char *)test_col->data + 3 * 1600 * test_col->width, "TransferZ", 9), 0);
    /* the panel's numbers: seed 3 is seeds[seed_index 0]; all 400 rows have 0 < z_true <= 4 */
    const char *stats = pz_table_attr(t, "stats NN-Base @ GalaxiesML");
    CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
    CU_ASSERT_EQUAL(strncmp(stats, "3 400 0 ", 8), 0);
    CU_ASSERT_PTR_NOT_NULL(pz_table_attr(t, "stats NN-Base @ TransferZ"));
    pz_table_free(t);
    /* Figure 3: the LSST window, 4 default metrics x 3 models, one row each; bias goal 0.003 */
    p = pz_xasprintf("%s/fig3.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    CU_ASSERT_EQUAL(t->nrows, 4 * 3);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "goal"), 0), 0.003, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "z_lo"), 0), 0.3, 1e-15);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "seeds"), "2");
    pz_table_free(t);
    /* Figure 3b: 4 metrics x 3 models x 8 default bins */
    p = pz_xasprintf("%s/fig3b.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    CU_ASSERT_EQUAL(t->nrows, 4 * 3 * 8);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "z_mid"), 1), 0.45, 1e-12);
    CU_ASSERT_TRUE(pz_col_f64(pz_table_col(t, "p16"), 0) <= pz_col_f64(pz_table_col(t, "p84"), 0));
    pz_table_free(t);
    p = pz_xasprintf("%s/fig3b.csv", d);
    char *csv = pzt_read_file(p, NULL);
    free(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    const char *head = "model,test,metric,z_lo,z_hi,z_mid,n,n_nan,mean,std,p16,p84,goal\nNN-Base,GalaxiesML,bias,0,0.3,0.15,";
    CU_ASSERT_EQUAL(strncmp(csv, head, strlen(head)), 0);
    free(csv);

    /* plot: every figure as PNG and SVG */
    p = pz_xasprintf("%s/dag.dot", d);
    pzt_write_file(p, "digraph p { \"mock-sky\" -> evaluate; evaluate -> \"plot-data\"; \"plot-data\" -> plot; }\n");
    free(p);
    spec = pz_xasprintf("{\"stage\": \"plot\", \"inputs\": {\"fig1\": \"fig1.h5\", \"fig2\": \"fig2.h5\", \"fig3\": \"fig3.h5\", "
                        "\"fig3_bins\": \"fig3b.h5\", \"flow\": \"dag.dot\", \"dag\": \"dag.dot\"}, "
                        "\"outputs\": {\"fig1.png\": \"f1.png\", \"fig1.svg\": \"f1.svg\", "
                        "\"fig2.png\": \"f2.png\", \"fig2.svg\": \"f2.svg\", \"fig3.png\": \"f3.png\", \"fig3.svg\": \"f3.svg\", "
                        "\"fig3_bins.png\": \"f5.png\", \"fig3_bins.svg\": \"f5.svg\", "
                        "\"fig4.png\": \"f4.png\", \"fig4.svg\": \"f4.svg\", \"dag.png\": \"f6.png\", \"dag.svg\": \"f6.svg\"}}");
    p = pz_xasprintf("%s/plot.json", d);
    pzt_write_file(p, spec);
    free(p);
    free(spec);
    CU_ASSERT_EQUAL(pzt_run(d, &out, "%s/pzflow-plot plot.json", pzt_bin_dir()), 0);
    free(out);
    for (int f = 1; f <= 6; f++) {
        char *png = pz_xasprintf("%s/f%d.png", d, f), *svg = pz_xasprintf("%s/f%d.svg", d, f);
        CU_ASSERT_TRUE(has_magic(png, "\x89PNG\r\n\x1a\n", 8, 2000));
        CU_ASSERT_TRUE(has_magic(svg, "<svg", 4, 1000));
        free(png);
        free(svg);
    }
    /* the stage leaves only its outputs: no work directory behind */
    CU_ASSERT_EQUAL(pzt_run(d, &out, "ls -d plot-work-* 2>/dev/null | wc -l | grep -qx 0"), 0);
    free(out);
    /* a broken DOT file is one clear error naming the figure */
    p = pz_xasprintf("%s/dag.dot", d);
    pzt_write_file(p, "digraph { a -> \n");
    free(p);
    CU_ASSERT_EQUAL(pzt_run(d, &out, "%s/pzflow-plot plot.json", pzt_bin_dir()), 1);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "fig4"));
    free(out);
    pzt_rmtree(d);
    free(d);
}


/* --- what the gnuplot scripts draw ------------------------------------------------------------ */

/* Write figure `name` of table t into a fresh work directory and return its script body. */
static char *figure_script(const char *name, pz_table *t, char **dir)
{
    *dir = pzt_mkdtemp("plotscript");
    char *png = pz_xasprintf("%s/out.png", *dir), *body = pz_xasprintf("%s/%s_body.gp", *dir, name);
    pz_err err;
    int rc = pz_plot_figure(name, t, png, NULL, *dir, &err);
    if (rc) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    char *text = pzt_read_file(body, NULL);
    free(png);
    free(body);
    pz_table_free(t);
    return text;
}

static void set_str(pz_table *t, const char *col, size_t row, const char *v)
{
    pz_column *c = pz_table_col(t, col);
    memcpy((char *)c->data + row * c->width, v, strlen(v));
}

static void test_fig2_zooms_and_labels(void)
{
    /* a 40 x 40 grid over (0, 4] with galaxies only at z < 1.2: the axes stop at 1.25 */
    pz_table *t = pz_table_new(1600);
    pz_table_add(t, "model", PZ_STR, 8);
    pz_table_add(t, "test", PZ_STR, 10);
    const char *num[5] = {"z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count"};
    for (int k = 0; k < 5; k++) pz_table_add(t, num[k], PZ_F64, 0);
    for (size_t i = 0; i < 1600; i++) {
        size_t a = i / 40, b = i % 40;
        set_str(t, "model", i, "NN_Base");
        set_str(t, "test", i, "GalaxiesML");
        pz_col_set_f64(pz_table_col(t, "z_true_lo"), i, 0.1 * (double)a);
        pz_col_set_f64(pz_table_col(t, "z_true_hi"), i, 0.1 * (double)(a + 1));
        pz_col_set_f64(pz_table_col(t, "z_pred_lo"), i, 0.1 * (double)b);
        pz_col_set_f64(pz_table_col(t, "z_pred_hi"), i, 0.1 * (double)(b + 1));
        pz_col_set_f64(pz_table_col(t, "count"), i, a < 12 && b < 12 ? 5 : 0);
    }
    pz_table_set_attr(t, "stats NN_Base @ GalaxiesML", "7 1234 3 -0.0123 0.0456 0.0078");
    char *dir, *gp = figure_script("fig2", t, &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xrange [0:1.25]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set yrange [0:1.25]"));
    /* the outlier lines are 0.15 (1 + z), and say so */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "x + 0.15*(1+x)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "|{/Symbol D}z| = 0.15 (1 + z_{true})"));
    /* the seed, N with the NaN excluded, and the metrics; the model's underscore printed as written */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "(seed 7)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'N = 1,234 (+3 NaN excluded)'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'bias = -0.0123'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'NMAD = 0.0456'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'outlier fraction = 0.0078'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "NN\\_Base on the GalaxiesML test set"));
    free(gp);
    pzt_rmtree(dir);
    free(dir);
}

static void test_fig3_bins_range_ignores_small_bins(void)
{
    /* three bins of bias: two of 1000 galaxies near 0, one of 2 galaxies at -0.5 */
    pz_table *t = pz_table_new(3);
    pz_table_add(t, "model", PZ_STR, 7);
    pz_table_add(t, "test", PZ_STR, 10);
    pz_table_add(t, "metric", PZ_STR, 4);
    const char *num[7] = {"z_lo", "z_hi", "z_mid", "n", "mean", "std", "goal"};
    for (int k = 0; k < 7; k++) pz_table_add(t, num[k], PZ_F64, 0);
    double rows[3][7] = {{0, 1, 0.5, 1000, 0.01, 0.002, 0.003}, {1, 2, 1.5, 1000, -0.02, 0.004, 0.003},
                         {2, 3, 2.5, 2, -0.5, 0.1, 0.003}};
    for (size_t i = 0; i < 3; i++) {
        set_str(t, "model", i, "NN-Base");
        set_str(t, "test", i, "GalaxiesML");
        set_str(t, "metric", i, "bias");
        for (int k = 0; k < 7; k++) pz_col_set_f64(pz_table_col(t, num[k]), i, rows[i][k]);
    }
    char *dir, *gp = figure_script("fig3_bins", t, &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    const char *yr = strstr(gp, "set yrange [");
    CU_ASSERT_PTR_NOT_NULL_FATAL(yr);
    double lo = NAN, hi = NAN;
    CU_ASSERT_EQUAL(sscanf(yr, "set yrange [%lf:%lf]", &lo, &hi), 2);
    CU_ASSERT_TRUE(lo > -0.05 && lo < -0.024); /* -0.024 - padding, not -0.6 */
    CU_ASSERT_TRUE(hi > 0.012 && hi < 0.05);
    /* N per bin is written, in red below 50 */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'N=1000' at 0.5, graph 0.96"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'N=1000' at 1.5, graph 0.91")); /* the next bin, one row down */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'N=2' at 2.5, graph 0.96 center font ',8' tc rgb '#aa0000'"));
    free(gp);
    pzt_rmtree(dir);
    free(dir);
}


static void test_fig3_window_as_the_paper(void)
{
    /* two models on two test sets, one metric: models along x, test sets as series, sd bars */
    pz_table *t = pz_table_new(4);
    pz_table_add(t, "model", PZ_STR, 7);
    pz_table_add(t, "test", PZ_STR, 10);
    pz_table_add(t, "metric", PZ_STR, 4);
    const char *num[5] = {"n", "n_nan", "mean", "std", "goal"};
    for (int k = 0; k < 5; k++) pz_table_add(t, num[k], PZ_F64, 0);
    const char *models[2] = {"NN-Base", "NN-TL"}, *tests[2] = {"GalaxiesML", "TransferZ"};
    for (size_t i = 0; i < 4; i++) {
        set_str(t, "model", i, models[i % 2]);
        set_str(t, "test", i, tests[i / 2]);
        set_str(t, "metric", i, "nmad");
        double v[5] = {1000, i == 3 ? 2 : 0, 0.01 * (double)(i + 1), 0.001, 0.02};
        for (int k = 0; k < 5; k++) pz_col_set_f64(pz_table_col(t, num[k]), i, v[k]);
    }
    pz_table_set_attr(t, "seeds", "10");
    pz_table_set_attr(t, "lsst_window", "0.3,1.5");
    char *dir, *gp = figure_script("fig3", t, &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "LSST window 0.3 < z_{true} ≤ 1.5; mean over 10 seeds, bars ± 1 standard deviation"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "NaN predictions excluded per seed: NN-TL on TransferZ 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xtics ('NN-Base' 1, 'NN-TL' 2)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "with yerrorbars"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'TransferZ test set'"));
    /* the goal is the only green */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'LSST goal'"));
    CU_ASSERT_PTR_NULL(strstr(gp, "'#2e933c' title 'GalaxiesML"));
    CU_ASSERT_PTR_NULL(strstr(gp, "'#2e933c' title 'TransferZ"));
    free(gp);
    pzt_rmtree(dir);
    free(dir);
}

static void test_fig1_legends_say_which_redshift(void)
{
    pz_table *t = pz_table_new(2);
    pz_table_add(t, "dataset", PZ_STR, 10);
    pz_table_add(t, "quantity", PZ_STR, 4);
    const char *num[3] = {"lo", "hi", "density"};
    for (int k = 0; k < 3; k++) pz_table_add(t, num[k], PZ_F64, 0);
    const char *names[2] = {"TransferZ", "GalaxiesML"};
    for (size_t i = 0; i < 2; i++) {
        set_str(t, "dataset", i, names[i]);
        set_str(t, "quantity", i, "z");
        pz_col_set_f64(pz_table_col(t, "hi"), i, 1);
        pz_col_set_f64(pz_table_col(t, "density"), i, 1);
    }
    pz_table_set_attr(t, "n_TransferZ", "70123");
    pz_table_set_attr(t, "z_TransferZ", "photo-z (lp_zPDF)");
    pz_table_set_attr(t, "n_GalaxiesML", "60000");
    pz_table_set_attr(t, "z_GalaxiesML", "spec-z");
    char *dir, *gp = figure_script("fig1", t, &dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'TransferZ: photo-z (lp\\_zPDF), N = 70,123'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'GalaxiesML: spec-z, N = 60,000'"));
    /* headroom above the histograms for the legend */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set offsets 0, 0, graph 0.28, 0"));
    free(gp);
    pzt_rmtree(dir);
    free(dir);
}


static void test_dag_flow_params(void)
{
    char *d = pzt_mkdtemp("dagflow"), *out = NULL;
    char *p = pz_xasprintf("%s/p.yaml", d);
    pzt_write_file(p, "stages:\n  a: {run: /bin/true, outputs: [o]}\n  b: {run: /bin/true, inputs: {i: a/o}, outputs: [t]}\n");
    free(p);
    const char *specs[3] = {
        "{\"stage\": \"dag\", \"params\": {\"flow_of\": \"b\"}, \"inputs\": {\"pipeline\": \"p.yaml\"}, "
        "\"outputs\": {\"dot\": \"d.dot\"}}",
        "{\"stage\": \"dag\", \"params\": {\"flow_of\": \"nope\"}, \"inputs\": {\"pipeline\": \"p.yaml\"}, "
        "\"outputs\": {\"dot\": \"d.dot\", \"flow\": \"f.dot\"}}",
        "{\"stage\": \"dag\", \"params\": {\"flow_of\": \"b\", \"flow_title\": \"T\"}, \"inputs\": {\"pipeline\": \"p.yaml\"}, "
        "\"outputs\": {\"dot\": \"d.dot\", \"flow\": \"f.dot\"}}"};
    const char *want[3] = {"param 'flow_of' and output 'flow' go together: declare both or neither",
                           "flow chart: no stage 'nope' in ", NULL};
    for (int k = 0; k < 3; k++) {
        p = pz_xasprintf("%s/s.json", d);
        pzt_write_file(p, specs[k]);
        free(p);
        int rc = pzt_run(d, &out, "%s/pzflow-dag s.json", pzt_bin_dir());
        CU_ASSERT_EQUAL(rc, want[k] ? 1 : 0);
        if (want[k]) CU_ASSERT_PTR_NOT_NULL(out && strstr(out, want[k]));
        if (!want[k] && rc) fprintf(stderr, "\n%s\n", out);
        free(out);
    }
    p = pz_xasprintf("%s/f.dot", d);
    char *flow = pzt_read_file(p, NULL);
    free(p);
    CU_ASSERT_PTR_NOT_NULL(flow && strstr(flow, "\"released:b/t\""));
    free(flow);
    pzt_rmtree(d);
    free(d);
}

int main(void)
{
    pzt_suite("plot", (pzt_case[]){
                          {"right-closed histogram bins", test_bins_right_closed},
                          {"CSV writer", test_csv},
                          {"evaluate -> plot-data -> plot", test_end_to_end},
                          {"Figure 2: zoomed axes, seed, N, metrics, outlier label", test_fig2_zooms_and_labels},
                          {"Figure 3b: y-range from bins of >= 50 galaxies, N per bin", test_fig3_bins_range_ignores_small_bins},
                          {"Figure 3: the LSST window per model and test set, as the paper", test_fig3_window_as_the_paper},
                          {"Figure 1: legends say which redshift, and N", test_fig1_legends_say_which_redshift},
                          {"dag: flow_of and the flow output", test_dag_flow_params},
                          {0}});
    return pzt_main();
}
