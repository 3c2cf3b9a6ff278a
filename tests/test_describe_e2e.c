/* End to end: pipelines checked against the stages' own descriptions, and files named by
 * params in the stage key. Real stages and the real pipelines/quick.yaml.
 *
 * - A typo in a param (in the file or through --set), a --set path that matches nothing, a value
 *   of the wrong type or out of range, an unknown input or output: exit 2, one message naming
 *   the place, before any stage runs (nothing in the cache's runs/).
 * - Every stage executable answers --describe with its table, and --help for people.
 * - A schema named by a `schema:` param is hashed into the ingest stage's key: a comment edit
 *   reruns that stage only (its table is identical: early cutoff), a semantic edit reruns it and
 *   what its new output changes; status and
 *   why name the file as "input param:schema". */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

static char *tmp;

static const char *work(void)
{
    if (!tmp) tmp = pzt_mkdtemp("describe");
    return tmp;
}

/* pzflow on the checkout's quick.yaml with a private cache and workspace. */
static int quick(char **out, const char *cmd, const char *extra)
{
    return pzt_run(pzt_source_dir(), out, "'%s/pzflow' %s pipelines/quick.yaml -C '%s/cache' --set 'workspace=%s/results' %s",
                   pzt_bin_dir(), cmd, work(), work(), extra);
}


/* No stage ran: the cache holds no run record. */
static int nothing_ran(void)
{
    char *out = NULL;
    pzt_run(work(), &out, "ls cache/runs 2>/dev/null | wc -l");
    int none = out && atoi(out) == 0;
    free(out);
    return none;
}

static void expect_load_error(const char *cmd, const char *extra, const char *needle)
{
    char *out = NULL;
    int rc = quick(&out, cmd, extra);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_TRUE(pzt_has(out, needle));
    CU_ASSERT_TRUE(out && !strstr(out, "] run "));
    free(out);
    CU_ASSERT_TRUE(nothing_ran());
}

static void test_a_param_typo_through_set_fails_before_anything_runs(void)
{
    expect_load_error("run", "--set stages.train-base.params.lrr=1e-4",
                      "--set 'stages.train-base.params.lrr=1e-4': stage 'train-base[1]' (pzflow-train): unknown param "
                      "'lrr' (did you mean 'lr'?)");
    expect_load_error("run -n", "--set stages.hsc-cuts.params.cut=x",
                      "unknown param 'cut' (did you mean 'cuts'?)");
    expect_load_error("status", "--set stages.split-transferz.params.seed=abc",
                      "param 'seed': expected an integer, got 'abc'");
    expect_load_error("run", "--set stages.train-base.params.epochs=0", "param 'epochs': 0 is out of range: must be >= 1");
    expect_load_error("run", "--set stages.cross-match.params.mode=closest",
                      "param 'mode': 'closest' is not one of best|nearest");
}

static void test_a_set_path_that_matches_nothing_fails(void)
{
    expect_load_error("run", "--set vars.seed=3",
                      "--set 'vars.seed=3': 'vars.seed' does not exist (did you mean 'vars.seeds'?)");
    expect_load_error("run", "--set stages.trian-base.params.lr=1",
                      "'stages.trian-base' does not exist (did you mean 'stages.train-base'?)");
}

/* A copy of the pipelines folder with one edit to paper.yaml, run from that copy's root. */
static int edited_paper(char **out, const char *from, const char *to)
{
    char *root = pz_xasprintf("%s/edited", work());
    pzt_run(NULL, NULL, "rm -rf '%s' && mkdir -p '%s' && cp -r '%s/pipelines' '%s/'", root, root, pzt_source_dir(), root);
    char *paper = pz_xasprintf("%s/pipelines/paper.yaml", root);
    char *text = pzt_read_file(paper, NULL);
    char *at = text ? strstr(text, from) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    char *edited = pz_xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    pzt_write_file(paper, edited);
    int rc = pzt_run(root, out, "'%s/pzflow' run pipelines/quick.yaml -C '%s/cache' --set 'workspace=%s/results'",
                     pzt_bin_dir(), work(), work());
    free(root), free(paper), free(text), free(edited);
    return rc;
}

/* The 1-based line of paper.yaml where `text` first occurs (0: nowhere). */
static int paper_line_of(const char *text)
{
    char *path = pz_xasprintf("%s/pipelines/paper.yaml", pzt_source_dir());
    char *yaml = pzt_read_file(path, NULL), *at = yaml ? strstr(yaml, text) : NULL;
    int line = at ? 1 : 0;
    for (const char *c = yaml; at && c < at; c++) line += *c == '\n';
    free(path), free(yaml);
    return line;
}

static void test_a_param_typo_in_the_file_names_its_line(void)
{
    char *out = NULL;
    /* fine-tune-tl's `lr: 1.0e-4` misspelt */
    CU_ASSERT_EQUAL(edited_paper(&out, "lr: 1.0e-4", "lt: 1.0e-4"), 2);
    char *where = pz_xasprintf("pipelines/paper.yaml:%d:", paper_line_of("lr: 1.0e-4"));
    CU_ASSERT_TRUE(pzt_has(out, where));
    free(where);
    CU_ASSERT_TRUE(pzt_has(out, "stage 'fine-tune-tl[1]' (pzflow-fine-tune): unknown param 'lt' (did you mean 'lr'?)"));
    free(out);
    CU_ASSERT_EQUAL(edited_paper(&out, "outputs: [table, cutflow]", "outputs: [table, cutflows]"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow-quality-cuts has no output 'cutflows' (did you mean 'cutflow'?)"));
    free(out);
    CU_ASSERT_EQUAL(edited_paper(&out, "inputs: {table: build-transferz/table}", "inputs: {tabel: build-transferz/table}"), 2);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow-split has no input 'tabel' (did you mean 'table'?)"));
    free(out);
    CU_ASSERT_TRUE(nothing_ran());
}

static void test_range_gives_seed_lists(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(quick(&out, "status", "--set 'vars.seeds=range(1, 4)'"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "train-base[3]") && !strstr(out, "train-base[4]"));
    free(out);
    CU_ASSERT_EQUAL(quick(&out, "status", "--set 'vars.seeds=range(10, 0, -5)'"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "train-base[10]") && pzt_has(out, "train-base[5]") && !strstr(out, "train-base[0]"));
    free(out);
}

static void test_every_stage_describes_itself(void)
{
    static const char *const stages[] = {"mock-sky", "ingest-cosmos2020", "ingest-hsc", "ingest-galaxiesml",
                                         "quality-cuts", "cross-match", "build-transferz", "split", "train",
                                         "fine-tune", "predict", "evaluate", "dag", "plot-data", "plot"};
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
        char *out = NULL;
        CU_ASSERT_EQUAL(pzt_run(NULL, &out, "'%s/pzflow-%s' --describe", pzt_bin_dir(), stages[i]), 0);
        char *want = pz_xasprintf("\"stage\": \"pzflow-%s\"", stages[i]);
        CU_ASSERT_TRUE(pzt_has(out, "\"pzflow_describe\": 1") && pzt_has(out, want));
        free(want), free(out);
        CU_ASSERT_EQUAL(pzt_run(NULL, &out, "'%s/pzflow-%s' --help", pzt_bin_dir(), stages[i]), 0);
        CU_ASSERT_TRUE(pzt_has(out, "params:") && pzt_has(out, "outputs:"));
        free(out);
    }
}

/* ---- a schema named by a param is part of the key ---- */

static const char *schema_yaml =
    "stages:\n"
    "  mock-sky:\n"
    "    run: pzflow-mock-sky\n"
    "    params: {seed: 7, n_cosmos: 3000, n_galaxiesml: 300}\n"
    "    outputs: [cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing]\n"
    "  ingest-hsc:\n"
    "    run: pzflow-ingest-hsc\n"
    "    params: {schema: schemas/my_hsc.yaml}\n"
    "    inputs: {catalog: mock-sky/hsc}\n"
    "    outputs: [catalog]\n"
    "  hsc-cuts:\n"
    "    run: pzflow-quality-cuts\n"
    "    params: {cuts: [0 < i_cmodel_mag < 50]}\n"
    "    inputs: {table: ingest-hsc/catalog}\n"
    "    outputs: [table, cutflow]\n";

static char *schema_root(void)
{
    return pz_xasprintf("%s/schemaroot", work());
}

static int schema_pzflow(char **out, const char *cmd, const char *stage)
{
    char *root = schema_root();
    int rc = pzt_run(root, out, "'%s/pzflow' %s pipelines/s.yaml %s", pzt_bin_dir(), cmd, stage);
    free(root);
    return rc;
}

static void edit_schema(const char *from, const char *to)
{
    char *root = schema_root();
    char *path = pz_xasprintf("%s/schemas/my_hsc.yaml", root);
    char *text = pzt_read_file(path, NULL);
    char *at = text ? strstr(text, from) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    char *edited = pz_xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    pzt_write_file(path, edited);
    /* past the stat cache's racy window, so the new stat is trusted as the current one */
    usleep(100000);
    free(root), free(path), free(text), free(edited);
}

static void test_a_schema_file_is_part_of_the_key(void)
{
    char *root = schema_root();
    pzt_run(NULL, NULL, "mkdir -p '%s/pipelines' '%s/schemas' && cp '%s/schemas/hsc_pdr2.yaml' '%s/schemas/my_hsc.yaml'",
            root, root, pzt_source_dir(), root);
    char *p = pz_xasprintf("%s/pipelines/s.yaml", root);
    pzt_write_file(p, schema_yaml);
    usleep(100000);
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(schema_pzflow(&out, "run", ""), 0);
    free(out);
    CU_ASSERT_EQUAL(schema_pzflow(&out, "run", ""), 0);
    CU_ASSERT_TRUE(out && !pzt_ran(out, "ingest-hsc"));
    free(out);

    /* A semantic edit: a column renamed. The stage that reads the schema reruns, its output
     * changes, so the cuts rerun too. */
    edit_schema("{canonical: \"a_{b}\", name", "{canonical: \"ext_{b}\", name");
    CU_ASSERT_EQUAL(schema_pzflow(&out, "status", ""), 0);
    CU_ASSERT_TRUE(pzt_has(out, "ingest-hsc: input param:schema changed"));
    free(out);
    CU_ASSERT_EQUAL(schema_pzflow(&out, "why", "ingest-hsc"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "param:schema"));
    free(out);
    CU_ASSERT_EQUAL(schema_pzflow(&out, "run", ""), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "ingest-hsc") && pzt_ran(out, "hsc-cuts") && !pzt_ran(out, "mock-sky"));
    free(out);

    /* A comment: the stage that reads the schema reruns (its key holds the file's bytes), writes
     * the same table, and nothing downstream reruns (early cutoff). */
    edit_schema("schema: hsc_pdr2\n", "# a comment\nschema: hsc_pdr2\n");
    CU_ASSERT_EQUAL(schema_pzflow(&out, "run", ""), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "ingest-hsc") && !pzt_ran(out, "mock-sky"));
    CU_ASSERT_TRUE(!pzt_ran(out, "hsc-cuts") && pzt_has(out, "1 ran, 2 up to date"));
    free(out);

    /* The key holds the content, not where the checkout is: a copy elsewhere sharing the cache
     * finds everything up to date. */
    char *copy = pz_xasprintf("%s/moved", work());
    pzt_run(NULL, NULL, "cp -r '%s' '%s' && cd '%s' && touch -d '2020-01-01' schemas/my_hsc.yaml", root, copy, copy);
    usleep(100000);
    CU_ASSERT_EQUAL(pzt_run(copy, &out, "'%s/pzflow' status pipelines/s.yaml -C '%s/cache'", pzt_bin_dir(), root), 0);
    CU_ASSERT_TRUE(pzt_has(out, "0 stale, 0 waiting on upstream, 3 up to date"));
    free(out);
    free(copy);

    /* A schema path that names no file fails at load. */
    CU_ASSERT_EQUAL(pzt_run(root, &out, "'%s/pzflow' status pipelines/s.yaml --set stages.ingest-hsc.params.schema=schemas/nope.yaml",
                            pzt_bin_dir()), 2);
    CU_ASSERT_TRUE(pzt_has(out, "param 'schema': ") && pzt_has(out, "schemas/nope.yaml: No such file or directory"));
    free(out);
    free(p);
    free(root);
}

static void test_cleanup(void)
{
    pzt_rmtree(work());
    free(tmp);
    tmp = NULL;
}

int main(void)
{
    pzt_suite("describe_e2e",
              (pzt_case[]){{"a param typo through --set fails before anything runs", test_a_param_typo_through_set_fails_before_anything_runs},
                           {"a --set path that matches nothing fails", test_a_set_path_that_matches_nothing_fails},
                           {"a param typo in the file names its line", test_a_param_typo_in_the_file_names_its_line},
                           {"range() gives seed lists", test_range_gives_seed_lists},
                           {"every stage describes itself", test_every_stage_describes_itself},
                           {"a schema file is part of the key", test_a_schema_file_is_part_of_the_key},
                           {"cleanup", test_cleanup},
                           {0}});
    return pzt_main();
}
