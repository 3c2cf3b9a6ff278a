/* End to end on pipelines/survey.yaml at toy size (issue 14): a mock survey catalogue split into
 * row-range parts, predicted part by part with the three models, merged per model.
 *   - partition -> predict per part -> pzflow-merge gives the very bytes of pzflow-predict on the
 *     whole catalogue in one go, and so the same columns, values and attributes (parts of 4096
 *     rows: a multiple of the network's block of rows, see docs/survey.md);
 *   - a second run does nothing;
 *   - a change to one part's rows (the catalogue cut short inside the last part) reruns the
 *     partition, that part's three predictions and the merges, nothing else;
 *   - a part added (the catalogue grown by one part) adds one instance per model; the others
 *     stay cached (the mock survey's earlier rows do not change when it grows).
 * Each variant is a --set experiment; run cache hits make the comparisons by key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"
#include "util/err.h"

#define SMALL                                                                                               \
    "--set vars.n_cosmos=3000 --set vars.n_galaxiesml=1500 --set vars.epochs=2 --set vars.patience=1 "        \
    "--set vars.rows_per_part=4096 "

static char *dir;

static int run_survey(char **out, const char *sets)
{
    int rc = pzt_run(pzt_source_dir(), out,
                     "'%s/pzflow' run pipelines/survey.yaml -j 2 -C '%s/cache' --set 'workspace=%s/results' " SMALL
                     "%s",
                     pzt_bin_dir(), dir, dir, sets);
    if (rc) fprintf(stderr, "\n%s\n", *out);
    return rc;
}

static const char *const FOUR_PARTS = "--name four --set vars.survey_rows=16384 --set 'vars.parts=range(0, 4)'";

static void test_the_small_survey_runs_every_part_with_every_model(void)
{
    dir = pzt_mkdtemp("survey");
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_survey(&out, FOUR_PARTS), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "partition"));
    CU_ASSERT_TRUE(pzt_ran(out, "survey-tl[3]"));
    CU_ASSERT_TRUE(pzt_ran(out, "merge-combo"));
    free(out);
}

/* The same columns (names, types, every value's bytes) and attributes: when the files' bytes
 * differ, this says whether the content does. */
static int same_table(const char *a, const char *b)
{
    pz_source sa = {.path = (char *)a}, sb = {.path = (char *)b};
    pz_table *x = NULL, *y = NULL;
    pz_err err;
    int same = pz_table_read_src(&sa, NULL, 0, 0, (size_t)-1, &x, &err) == 0 &&
               pz_table_read_src(&sb, NULL, 0, 0, (size_t)-1, &y, &err) == 0 && x->nrows == y->nrows &&
               x->ncols == y->ncols && x->nrows > 0;
    for (size_t j = 0; same && j < x->ncols; j++) {
        const pz_column *c = &x->cols[j], *d = pz_table_col(y, c->name);
        same = d && d->type == c->type && d->width == c->width && !memcmp(c->data, d->data, x->nrows * c->width);
    }
    for (size_t k = 0; same && k < x->nattrs; k++) {
        const char *v = pz_table_attr(y, x->attr_keys[k]);
        same = v && !strcmp(v, x->attr_vals[k]);
    }
    pz_table_free(x);
    pz_table_free(y);
    return same;
}

/* pzflow-predict by hand, on the whole catalogue, with the model the pipeline used. */
static void test_the_merged_predictions_are_the_whole_catalogue_s_bytes(void)
{
    char *spec = pz_xasprintf("%s/spec.json", dir);
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"whole\", \"threads\": 1, \"params\": {\"label\": "
                              "\"z_true\"}, \"inputs\": {\"model\": \"%s/results@four/fine-tune-tl/1/model.h5\", "
                              "\"table\": \"%s/results@four/mock-survey/catalog\"}, \"outputs\": {\"predictions\": \"%s/whole\"}}",
                              dir, dir, dir);
    pzt_write_file(spec, text);
    char *out = NULL, *merged = pz_xasprintf("%s/results@four/merge-tl/table", dir), *whole = pz_xasprintf("%s/whole", dir);
    int rc = pzt_run(dir, &out, "'%s/pzflow-predict' '%s'", pzt_bin_dir(), spec);
    if (rc) fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_exists(merged));
    CU_ASSERT_TRUE(same_table(merged, whole));
    /* Byte for byte: pzflow-predict and pzflow-merge write through the one table writer
     * (table.h), which writes nothing that depends on time or on how the rows arrived. */
    CU_ASSERT_EQUAL(pzt_run(dir, NULL, "cmp '%s' '%s'", merged, whole), 0);
    free(out), free(merged), free(whole), free(text), free(spec);
}

static void test_a_second_run_does_nothing(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(run_survey(&out, FOUR_PARTS), 0);
    CU_ASSERT_EQUAL(pzt_count_runs(out), 0);
    free(out);
}

static int ran_only(const char *out, const char *const *stages, size_t n)
{
    int ok = pzt_count_runs(out) == (int)n;
    for (size_t i = 0; i < n; i++) ok &= pzt_ran(out, stages[i]);
    if (!ok) fprintf(stderr, "\nexpected exactly %zu runs:\n%s\n", n, out);
    return ok;
}

static void test_changing_one_part_s_rows_reruns_that_part_alone(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_survey(&out, "--set vars.survey_rows=16000 --set 'vars.parts=range(0, 4)'"), 0);
    const char *const want[] = {"mock-survey", "partition", "survey-base[3]", "survey-tl[3]", "survey-combo[3]",
                                "merge-base", "merge-tl", "merge-combo"};
    CU_ASSERT_TRUE(ran_only(out, want, sizeof want / sizeof *want));
    free(out);
}

static void test_adding_a_part_adds_one_instance_per_model(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_survey(&out, "--set vars.survey_rows=20480 --set 'vars.parts=range(0, 5)'"), 0);
    const char *const want[] = {"mock-survey", "partition", "survey-base[4]", "survey-tl[4]", "survey-combo[4]",
                                "merge-base", "merge-tl", "merge-combo"};
    CU_ASSERT_TRUE(ran_only(out, want, sizeof want / sizeof *want));
    free(out);
}

static void test_cleanup(void)
{
    if (getenv("PZT_KEEP")) return;
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("survey", (pzt_case[]){{"the small survey runs every part with every model",
                                      test_the_small_survey_runs_every_part_with_every_model},
                                     {"the merged predictions are the whole catalogue's bytes",
                                      test_the_merged_predictions_are_the_whole_catalogue_s_bytes},
                                     {"a second run does nothing", test_a_second_run_does_nothing},
                                     {"changing one part's rows reruns that part alone",
                                      test_changing_one_part_s_rows_reruns_that_part_alone},
                                     {"adding a part adds one instance per model",
                                      test_adding_a_part_adds_one_instance_per_model},
                                     {"cleanup", test_cleanup},
                                     {0}});
    return pzt_main();
}
