/* A stage's params declared once (util/params.h): the one table gives the typed struct with its
 * defaults, the checks (names with a did-you-mean, types, ranges, choices, required), the
 * --describe JSON that the engine reads back, and --help. */
#include <stdlib.h>
#include <string.h>

#include "nn/stage.h"
#include "photoz/catalogue.h"
#include "photoz/evaluate.h"
#include "photoz/ingest.h"
#include "photoz/plot.h"
#include "photoz/plotdata.h"
#include "support/pztest.h"
#include "util/params.h"
#include "util/spec.h"

typedef struct {
    long seed;
    double lr;
    int shuffle;
    const char *mode;
    const char *schema;
    pz_strs cuts;
} toy_params;

#define F(m) PZ_FIELD(toy_params, m)
static const pz_param_def TOY[] = {
    {PZ_PARAM("seed", PZ_PT_INT, "1", "seed"), PZ_RANGE(0, PZ_OPEN), .field = F(seed)},
    {PZ_PARAM("lr", PZ_PT_FLOAT, "5e-4", "learning rate"), PZ_RANGE(0, 1), .field = F(lr)},
    {PZ_PARAM("shuffle", PZ_PT_BOOL, "true", "shuffle"), .field = F(shuffle)},
    {PZ_PARAM("mode", PZ_PT_STRING, "best", "match mode"), .choices = "best|nearest", .field = F(mode)},
    {PZ_PARAM("schema", PZ_PT_PATH, "classic", "schema"), .choices = "classic|pdr2", .field = F(schema)},
    {PZ_PARAM("cuts", PZ_PT_STRINGS, NULL, "cuts"), .required = 1, .field = F(cuts)},
    {0}};

/* Read `params_yaml` through the table; returns the rc and leaves the message in err. */
static int read_toy(const char *params_yaml, toy_params *out, pz_err *err)
{
    char *dir = pzt_mkdtemp("params");
    char *path = pz_xasprintf("%s/spec.json", dir);
    char *text = pz_xasprintf("stage: toy\nparams: %s\n", params_yaml);
    pzt_write_file(path, text);
    pz_spec *spec = pz_spec_load(path, err);
    memset(out, 0, sizeof *out);
    int rc = spec ? pz_params_read(spec, TOY, out, err) : -1;
    if (rc == 0) { /* the strings point into the spec: copy what the tests look at */
        out->mode = pz_xstrdup(out->mode);
        out->schema = pz_xstrdup(out->schema);
    }
    pz_params_release(TOY, out);
    out->cuts.v = NULL;
    pz_spec_free(spec);
    pzt_rmtree(dir);
    free(dir);
    free(path);
    free(text);
    return rc;
}

static void test_defaults_fill_the_struct(void)
{
    toy_params p;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(read_toy("{cuts: [a < 1]}", &p, &err), 0);
    CU_ASSERT_EQUAL(p.seed, 1);
    CU_ASSERT_DOUBLE_EQUAL(p.lr, 5e-4, 0);
    CU_ASSERT_EQUAL(p.shuffle, 1);
    CU_ASSERT_STRING_EQUAL(p.mode, "best");
    CU_ASSERT_EQUAL(p.cuts.n, 1);
    free((char *)p.mode);
    free((char *)p.schema);
}

static void test_given_values_replace_defaults(void)
{
    toy_params p;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(read_toy("{cuts: x, seed: 7, lr: 1e-3, shuffle: false, mode: nearest}", &p, &err), 0);
    CU_ASSERT_EQUAL(p.seed, 7);
    CU_ASSERT_DOUBLE_EQUAL(p.lr, 1e-3, 0);
    CU_ASSERT_EQUAL(p.shuffle, 0);
    CU_ASSERT_STRING_EQUAL(p.mode, "nearest");
    free((char *)p.mode);
    free((char *)p.schema);
}

static void expect_error(const char *params, const char *want)
{
    toy_params p;
    pz_err err;
    CU_ASSERT_EQUAL(read_toy(params, &p, &err), -1);
    if (!strstr(err.msg, want)) printf("\n  params %s\n  got  '%s'\n  want '%s'\n", params, err.msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
}

static void test_mistakes_are_named(void)
{
    expect_error("{cuts: x, sed: 3}", "unknown param 'sed' (did you mean 'seed'?)");
    expect_error("{cuts: x, seed: three}", "param 'seed': expected an integer, got 'three'");
    expect_error("{cuts: x, seed: \" 12\"}", "param 'seed': expected an integer, got ' 12' (not a number as YAML "
                                             "writes one: 12, -0.5, 3e-4, 0x1F, .inf, -.inf or .nan)");
    expect_error("{cuts: x, seed: -1}", "param 'seed': -1 is out of range: must be >= 0");
    expect_error("{cuts: x, lr: 2}", "param 'lr': 2 is out of range: must be in [0, 1]");
    expect_error("{cuts: x, lr: nan}", "param 'lr': expected a number, got 'nan' (not a number as YAML writes one: "
                                       "12, -0.5, 3e-4, 0x1F, .inf, -.inf or .nan)");
    expect_error("{cuts: x, mode: closest}", "param 'mode': 'closest' is not one of best|nearest");
    expect_error("{seed: 2}", "param 'cuts' is required");
    expect_error("{cuts: [[a]]}", "param 'cuts': item 0 is a list, expected a string");
}

static void test_an_unknown_param_names_its_line(void)
{
    expect_error("{cuts: x,\n  sed: 3}", "spec.json:3:3: unknown param 'sed'");
}

static void test_describe_reads_back_as_the_same_table(void)
{
    static const pz_io_def in[] = {{"table", PZ_IO_ONE, 0, "a table"}, {0}};
    static const pz_io_def out[] = {{"table", PZ_IO_ONE, 0, "rows"}, {"cutflow", PZ_IO_ONE, 1, "flow"}, {0}};
    pz_stage_def def = {.prog = "pzflow-toy", .summary = "a toy", .params = TOY, .inputs = in, .outputs = out};
    char *json = pz_stage_describe_json(&def);
    pz_err err;
    pz_stage_desc *d = pz_stage_desc_parse(json, "toy", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    size_t n = 0;
    for (const pz_param_def *p = d->def.params; p->name; p++, n++) {
        CU_ASSERT_STRING_EQUAL(p->name, TOY[n].name);
        CU_ASSERT_EQUAL(p->type, TOY[n].type);
        CU_ASSERT_EQUAL(p->required, TOY[n].required);
        CU_ASSERT_EQUAL(p->ranged, TOY[n].ranged);
    }
    CU_ASSERT_EQUAL(n, 6);
    const pz_param_def *lr = pz_param_find(d->def.params, "lr");
    CU_ASSERT_DOUBLE_EQUAL(lr->hi, 1, 0);
    CU_ASSERT_TRUE(isnan(pz_param_find(d->def.params, "seed")->hi));
    CU_ASSERT_TRUE(pz_param_is_builtin(pz_param_find(d->def.params, "schema"), "pdr2"));
    CU_ASSERT_FALSE(pz_param_is_builtin(pz_param_find(d->def.params, "schema"), "my.yaml"));
    CU_ASSERT_TRUE(pz_io_find(d->def.outputs, "cutflow")->optional);
    CU_ASSERT_FALSE(pz_io_find(d->def.inputs, "table")->optional);
    CU_ASSERT_STRING_EQUAL(pz_io_suggest(d->def.outputs, "cutflw"), "cutflow");
    pz_stage_desc_free(d);
    free(json);
    /* The engine's compact cache form keeps what the check needs. */
    CU_ASSERT_TRUE(pz_stage_def_lines_safe(&def));
    char *lines = pz_stage_desc_format_lines(&def);
    d = pz_stage_desc_parse_lines(lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(d->def.prog, "pzflow-toy");
    CU_ASSERT_EQUAL(pz_param_find(d->def.params, "cuts")->required, 1);
    CU_ASSERT_DOUBLE_EQUAL(pz_param_find(d->def.params, "lr")->hi, 1, 0);
    CU_ASSERT_TRUE(isnan(pz_param_find(d->def.params, "seed")->hi));
    CU_ASSERT_STRING_EQUAL(pz_param_find(d->def.params, "mode")->choices, "best|nearest");
    CU_ASSERT_TRUE(pz_io_find(d->def.outputs, "cutflow")->optional);
    CU_ASSERT_EQUAL(pz_io_find(d->def.inputs, "table")->files, PZ_IO_ONE);
    pz_stage_desc_free(d);
    free(lines);
    CU_ASSERT_PTR_NULL(pz_stage_desc_parse_lines("pzflow-describe-lines 2 0 x\nparam a nosuchtype 0 0 0 0 -\n"));
    char *help = pz_stage_help_text(&def);
    CU_ASSERT_PTR_NOT_NULL(strstr(help, "seed                   int     default 1, in [0, inf]"));
    free(help);
}

static void test_text_that_is_not_a_description_is_refused(void)
{
    pz_err err;
    CU_ASSERT_PTR_NULL(pz_stage_desc_parse("{\"params\": []}", "x", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a pzflow stage description"));
    CU_ASSERT_PTR_NULL(pz_stage_desc_parse("usage: toy SPEC", "x", &err));
}

/* Partition's outputs are the parts the pipeline declares (issue 14): a stage may say so, and
 * both the JSON and the engine's compact cache form keep it (open inputs alone: "... 2 1 x"). */
static void test_open_outputs_survive_both_forms(void)
{
    static const pz_io_def in[] = {{"table", PZ_IO_ONE, 0, "a table"}, {0}};
    static const pz_io_def none[] = {{0}};
    pz_stage_def def = {.prog = "pzflow-toy", .summary = "a toy", .inputs = in, .outputs = none, .open_outputs = 1};
    char *json = pz_stage_describe_json(&def);
    pz_err err;
    pz_stage_desc *d = pz_stage_desc_parse(json, "toy", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_TRUE(d->def.open_outputs);
    CU_ASSERT_FALSE(d->def.open_inputs);
    pz_stage_desc_free(d);
    free(json);
    char *lines = pz_stage_desc_format_lines(&def);
    d = pz_stage_desc_parse_lines(lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_TRUE(d->def.open_outputs);
    CU_ASSERT_FALSE(d->def.open_inputs);
    pz_stage_desc_free(d);
    free(lines);
    d = pz_stage_desc_parse_lines("pzflow-describe-lines 2 1 x\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_TRUE(d->def.open_inputs);
    CU_ASSERT_FALSE(d->def.open_outputs);
    pz_stage_desc_free(d);
    char *help = pz_stage_help_text(&def);
    CU_ASSERT_PTR_NOT_NULL(strstr(help, "the outputs the pipeline names"));
    free(help);
}

/* Issue 16: every stage reads its params once, into its typed struct, from its table; none looks
 * a param up by name while it runs. A table entry without a field would be a param the library
 * still looks up itself (plot-data's were, until they moved into plot_params). */
static void test_every_library_stage_reads_every_param_into_its_struct(void)
{
    const pz_stage_def *const stages[] = {
        &pz_stage_quality_cuts, &pz_stage_cross_match, &pz_stage_build_transferz, &pz_stage_split,
        &pz_evaluate_stage, &pz_ingest_stage_cosmos2020, &pz_ingest_stage_hsc, &pz_ingest_stage_galaxiesml,
        &pz_plot_stage, &pz_plot_data_stage, &pz_nn_train_stage, &pz_nn_fine_tune_stage, &pz_nn_predict_stage};
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
        const pz_stage_def *d = stages[i];
        for (const pz_param_def *p = d->params; p && p->name; p++) {
            if (!p->field || p->field > d->params_size) fprintf(stderr, "\n%s: param '%s' has no field\n", d->prog, p->name);
            CU_ASSERT(p->field > 0 && p->field <= d->params_size);
        }
    }
}

int main(void)
{
    pzt_suite("params", (pzt_case[]){{"defaults fill the struct", test_defaults_fill_the_struct},
                                     {"given values replace defaults", test_given_values_replace_defaults},
                                     {"mistakes are named", test_mistakes_are_named},
                                     {"an unknown param names its line", test_an_unknown_param_names_its_line},
                                     {"describe reads back as the same table", test_describe_reads_back_as_the_same_table},
                                     {"text that is not a description is refused", test_text_that_is_not_a_description_is_refused},
                                     {"open outputs survive both forms", test_open_outputs_survive_both_forms},
                                     {"every library stage reads every param into its struct",
                                      test_every_library_stage_reads_every_param_into_its_struct},
                                     {0}});
    return pzt_main();
}
