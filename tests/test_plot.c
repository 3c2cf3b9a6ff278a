/* plot-data's binning and tables, and the plot stage's PNG/SVG files, on synthetic inputs
 * written here (z_pred = z_true + a fixed pattern of errors). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        "                  {\"model\": \"NN-Combo\", \"input\": \"combo\"}],"
        "\"scatter_bins\": {\"lo\": 0, \"hi\": 4, \"n\": 40}},"
        "\"inputs\": {\"tz\": \"tz.h5\", \"gml\": \"gml.h5\", \"metrics\": \"metrics.h5\","
        "             \"base\": [\"base0.h5\", \"base1.h5\"], \"tl\": \"tl0.h5\", \"combo\": \"combo0.h5\"},"
        "\"outputs\": {\"fig1\": \"fig1.h5\", \"fig1_csv\": \"fig1.csv\", \"fig2\": \"fig2.h5\", \"fig2_csv\": \"fig2.csv\","
        "              \"fig3\": \"fig3.h5\", \"fig3_csv\": \"fig3.csv\"}}");
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
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(p, NULL, 0, 0, (size_t)-1, &t, &err), 0);
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
    /* Figure 2: every prediction lands in the 40 x 40 grid (z_pred within (0, 4]) except those pushed past 4 */
    p = pz_xasprintf("%s/fig2.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(p, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    CU_ASSERT_EQUAL(t->nrows, 3 * 40 * 40);
    double total = 0;
    for (size_t i = 0; i < 1600; i++) total += pz_col_f64(pz_table_col(t, "count"), i);
    CU_ASSERT_TRUE(total > 380 && total <= 400);
    CU_ASSERT_DOUBLE_EQUAL(strtod(pz_table_attr(t, "n_NN-Base"), NULL), total, 0);
    pz_table_free(t);
    /* Figure 3: 3 metrics x 3 models x 8 default bins; bias goal 0.003 */
    p = pz_xasprintf("%s/fig3.h5", d);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(p, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    free(p);
    CU_ASSERT_EQUAL(t->nrows, 3 * 3 * 8);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "goal"), 0), 0.003, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "z_mid"), 1), 0.45, 1e-12);
    CU_ASSERT_TRUE(pz_col_f64(pz_table_col(t, "p16"), 0) <= pz_col_f64(pz_table_col(t, "p84"), 0));
    pz_table_free(t);
    p = pz_xasprintf("%s/fig3.csv", d);
    char *csv = pzt_read_file(p, NULL);
    free(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    const char *head = "model,test,metric,z_lo,z_hi,z_mid,n,mean,std,p16,p84,goal\nNN-Base,GalaxiesML,bias,0,0.3,0.15,";
    CU_ASSERT_EQUAL(strncmp(csv, head, strlen(head)), 0);
    free(csv);

    /* plot: every figure as PNG and SVG */
    p = pz_xasprintf("%s/dag.dot", d);
    pzt_write_file(p, "digraph p { \"mock-sky\" -> evaluate; evaluate -> \"plot-data\"; \"plot-data\" -> plot; }\n");
    free(p);
    spec = pz_xasprintf("{\"stage\": \"plot\", \"inputs\": {\"fig1\": \"fig1.h5\", \"fig2\": \"fig2.h5\", \"fig3\": \"fig3.h5\", "
                        "\"dag\": \"dag.dot\"}, \"outputs\": {\"fig1_png\": \"f1.png\", \"fig1_svg\": \"f1.svg\", "
                        "\"fig2_png\": \"f2.png\", \"fig2_svg\": \"f2.svg\", \"fig3_png\": \"f3.png\", \"fig3_svg\": \"f3.svg\", "
                        "\"fig4_png\": \"f4.png\", \"fig4_svg\": \"f4.svg\"}}");
    p = pz_xasprintf("%s/plot.json", d);
    pzt_write_file(p, spec);
    free(p);
    free(spec);
    CU_ASSERT_EQUAL(pzt_run(d, &out, "%s/pzflow-plot plot.json", pzt_bin_dir()), 0);
    free(out);
    for (int f = 1; f <= 4; f++) {
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

int main(void)
{
    pzt_suite("plot", (pzt_case[]){
                          {"right-closed histogram bins", test_bins_right_closed},
                          {"CSV writer", test_csv},
                          {"evaluate -> plot-data -> plot", test_end_to_end},
                          {0}});
    return pzt_main();
}
