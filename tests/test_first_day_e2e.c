/* End to end, real stages through the engine: small things a user hits on the first day
 * (issue 12, part 5).
 *
 * - A stage's error names the pipeline output an input is (`ingest-galaxiesml/training`), not the
 *   cache object the engine handed it, and suggests the column a missing one is a typo of.
 * - pzflow-split with two fractions is a two-way split: the pipeline declares two outputs. */
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/err.h"

static char *dir;

static const char *const upstream =
    "stages:\n"
    "  mock-sky:\n"
    "    run: pzflow-mock-sky\n"
    "    params: {seed: 1, n_cosmos: 3000, n_galaxiesml: 1500, layout: minimal}\n"
    "    outputs: [cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing]\n"
    "  ingest-galaxiesml:\n"
    "    run: pzflow-ingest-galaxiesml\n"
    "    inputs:\n"
    "      training: mock-sky/galaxiesml_training\n"
    "      validation: mock-sky/galaxiesml_validation\n"
    "      testing: mock-sky/galaxiesml_testing\n"
    "    outputs: [training, validation, testing]\n";

/* `pzflow run` on upstream + `more`, written as NAME.yaml, with one cache for the suite. */
static int run_pipeline(const char *name, const char *more, char **out)
{
    char *yaml = pz_xasprintf("%s%s", upstream, more), *path = pz_xasprintf("%s/%s.yaml", dir, name);
    CU_ASSERT_EQUAL(pzt_write_file(path, yaml), 0);
    int rc = pzt_run(dir, out, "'%s/pzflow' run %s.yaml -C cache 2>&1", pzt_bin_dir(), name);
    free(yaml), free(path);
    return rc;
}

static void test_a_stage_error_names_the_pipeline_output_and_suggests_the_column(void)
{
    char *out = NULL;
    int rc = run_pipeline("typo",
                          "  train:\n"
                          "    run: pzflow-train\n"
                          "    params: {label: specz_redshfit, epochs: 1}\n"
                          "    inputs: {train: ingest-galaxiesml/training, validation: ingest-galaxiesml/validation}\n"
                          "    outputs: [model]\n",
                          &out);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow-train: input 'train': ingest-galaxiesml/training: missing 1 column: "
                                "specz_redshfit (did you mean 'specz_redshift'?)"));
    /* the stage's own line names no cache object */
    const char *line = out ? strstr(out, "pzflow-train:") : NULL;
    const char *end = line ? strchr(line, '\n') : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    char *one = strndup(line, end ? (size_t)(end - line) : strlen(line));
    CU_ASSERT_PTR_NULL(strstr(one, "cache/objects"));
    free(one);
    free(out);
}

static void test_a_two_way_split_declares_two_outputs(void)
{
    char *out = NULL;
    int rc = run_pipeline("two-way",
                          "  split:\n"
                          "    run: pzflow-split\n"
                          "    params: {fractions: {train: 0.8, validation: 0.2}}\n"
                          "    inputs: {table: ingest-galaxiesml/testing}\n"
                          "    outputs: [train, validation]\n",
                          &out);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "\n%s\n", out);
    free(out);
    rc = pzt_run(dir, &out, "'%s/pzflow' log two-way.yaml split 2>&1", pzt_bin_dir());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, ", test 0"));
    free(out);
}

int main(void)
{
    dir = pzt_mkdtemp("firstday");
    pzt_suite("first day", (pzt_case[]){
                               {"a stage error names the pipeline output and suggests the column",
                                test_a_stage_error_names_the_pipeline_output_and_suggests_the_column},
                               {"a two-way split declares two outputs", test_a_two_way_split_declares_two_outputs},
                               {0}});
    return pzt_main();
}
