/* End to end: the study's pipelines as users run them.
 *
 * pipelines/quick.yaml (paper.yaml at toy size) runs from scratch with the real stages into a
 * private cache and workspace; then a no-op rerun runs nothing, an evaluate-only param change
 * reruns only evaluate and the plot stages, and pipelines/real.yaml is checked to be the same
 * study pointed at the real files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/err.h"

static char *dir;

static int run_quick(char **out, const char *extra)
{
    return pzt_run(pzt_source_dir(), out, "'%s/pzflow' run pipelines/quick.yaml -j 2 -C '%s/cache' --set 'workspace=%s/results' %s",
                   pzt_bin_dir(), dir, dir, extra);
}

/* Names of the stages a run output says it ran ("[k/n] run NAME: reason"). */
static int ran(const char *out, const char *stage)
{
    char *needle = pz_xasprintf("] run %s:", stage);
    int found = strstr(out, needle) != NULL;
    free(needle);
    return found;
}

static int count_runs(const char *out)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, "] run ")); p++) n++;
    return n;
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
    CU_ASSERT_TRUE(ran(out, "mock-sky"));
    CU_ASSERT_TRUE(ran(out, "train-combo[2]"));
    free(out);

    char *table_path = pz_xasprintf("%s/results/evaluate/table", dir);
    char *table = pzt_read_file(table_path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    const char *want[] = {"NN-Base", "NN-TL", "NN-Combo", "GalaxiesML", "TransferZ", NULL};
    for (const char **w = want; *w; w++) CU_ASSERT_PTR_NOT_NULL(strstr(table, *w));
    free(table);
    free(table_path);

    const char *figs[] = {"fig1_png", "fig2_png", "fig3_png", "fig4_png", NULL};
    for (const char **f = figs; *f; f++) {
        char *p = pz_xasprintf("%s/results/plot/%s", dir, *f);
        CU_ASSERT_TRUE(is_png(p));
        free(p);
    }
}

static void test_noop_runs_nothing(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(run_quick(&out, ""), 0);
    CU_ASSERT_EQUAL(count_runs(out), 0);
    free(out);
}

static void test_evaluate_param_reruns_only_evaluate_and_plots(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(run_quick(&out, "--set 'stages.evaluate.params.window=[0.3, 1.4]'"), 0);
    CU_ASSERT_TRUE(ran(out, "evaluate"));
    CU_ASSERT_TRUE(ran(out, "plot-data"));
    CU_ASSERT_TRUE(ran(out, "plot"));
    CU_ASSERT_EQUAL(count_runs(out), 3);
    if (count_runs(out) != 3) fprintf(stderr, "\n%s\n", out);
    free(out);
    /* Switching back is a run-cache hit: nothing runs. */
    CU_ASSERT_EQUAL(run_quick(&out, ""), 0);
    CU_ASSERT_EQUAL(count_runs(out), 0);
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
                                    {"no-op rerun", test_noop_runs_nothing},
                                    {"evaluate param change", test_evaluate_param_reruns_only_evaluate_and_plots},
                                    {"show", test_show_prints_the_table},
                                    {"real.yaml", test_real_yaml_is_the_study_on_real_files},
                                    {0}});
    return pzt_main();
}
