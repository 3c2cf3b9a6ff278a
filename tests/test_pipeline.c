/* The pipeline loader: the format of schemas/pipeline.md, foreach, vars, --set, the graph
 * order, and one exact "file:line:col: message" for every kind of mistake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/pipeline.h"
#include "support/pztest.h"
#include "util/ytree.h"

/* One scratch tree for the whole suite: <tmp>/repo/pipelines/<name>.yaml, <tmp>/repo/data/a.txt,
 * <tmp>/bin (a bin_dir with executables). */
static char *tmp_root;

static const char *tmp(void)
{
    if (!tmp_root) {
        tmp_root = pzt_mkdtemp("pipeline");
        char *p = pz_xasprintf("%s/repo", tmp_root);
        mkdir(p, 0777);
        free(p);
        p = pz_xasprintf("%s/repo/pipelines", tmp_root);
        mkdir(p, 0777);
        free(p);
        p = pz_xasprintf("%s/repo/data", tmp_root);
        mkdir(p, 0777);
        free(p);
        p = pz_xasprintf("%s/repo/data/a.txt", tmp_root);
        pzt_write_file(p, "data\n");
        free(p);
        p = pz_xasprintf("%s/bin", tmp_root);
        mkdir(p, 0777);
        free(p);
    }
    return tmp_root;
}

static char *write_pipeline(const char *name, const char *text)
{
    char *path = pz_xasprintf("%s/repo/pipelines/%s.yaml", tmp(), name);
    CU_ASSERT_EQUAL_FATAL(pzt_write_file(path, text), 0);
    return path;
}

static pz_pipeline *load_sets(const char *text, const char *const *sets, size_t nsets, pz_err *err)
{
    char *path = write_pipeline("t", text);
    char *bin = pz_xasprintf("%s/bin", tmp());
    pz_pipeline *p = pz_pipeline_load(path, sets, nsets, bin, err);
    free(bin);
    free(path);
    return p;
}

static pz_pipeline *load(const char *text, pz_err *err)
{
    return load_sets(text, NULL, 0, err);
}

/* Loading must fail with exactly "<file>:<where_and_what>". */
static void expect_error_sets(const char *text, const char *const *sets, size_t nsets, const char *where_and_what)
{
    pz_err err = {{0}};
    pz_pipeline *p = load_sets(text, sets, nsets, &err);
    CU_ASSERT_PTR_NULL(p);
    pz_pipeline_free(p);
    char *want = pz_xasprintf("%s/repo/pipelines/t.yaml%s", tmp(), where_and_what);
    if (strcmp(err.msg, want) != 0) fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, err.msg);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    free(want);
}

static void expect_error(const char *text, const char *where_and_what)
{
    expect_error_sets(text, NULL, 0, where_and_what);
}

/* For messages that end in system-dependent text: compare the start only. */
static void expect_error_prefix(const char *text, const char *where_and_what)
{
    pz_err err = {{0}};
    pz_pipeline *p = load(text, &err);
    CU_ASSERT_PTR_NULL(p);
    pz_pipeline_free(p);
    char *want = pz_xasprintf("%s/repo/pipelines/t.yaml%s", tmp(), where_and_what);
    if (strncmp(err.msg, want, strlen(want)) != 0) fprintf(stderr, "\n  want: %s...\n  got:  %s\n", want, err.msg);
    CU_ASSERT_EQUAL(strncmp(err.msg, want, strlen(want)), 0);
    free(want);
}

static const pz_stage *stage(const pz_pipeline *p, const char *name)
{
    long i = pz_pipeline_find(p, name);
    CU_ASSERT_FATAL(i >= 0);
    return &p->stages[i];
}

static const pz_stage_input *input(const pz_stage *s, const char *name)
{
    for (size_t i = 0; i < s->ninputs; i++)
        if (!strcmp(s->inputs[i].name, name)) return &s->inputs[i];
    CU_FAIL_FATAL("input not found");
    return NULL;
}

static char *params_json(const pz_stage *s)
{
    return pz_yaml_to_json(s->params, 1, -1);
}

/* ---- the format --------------------------------------------------------------------------- */

static void test_fixture_example(void)
{
    char *path = pz_xasprintf("%s/tests/fixtures/pipelines/example.yaml", pzt_source_dir());
    pz_err err;
    pz_pipeline *p = pz_pipeline_load(path, NULL, 0, NULL, &err);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "example");
    /* The file is in a directory named pipelines/, so the root is its parent. */
    char *fixtures = pz_xasprintf("%s/tests/fixtures", pzt_source_dir());
    char *root = realpath(fixtures, NULL);
    free(fixtures);
    CU_ASSERT_STRING_EQUAL(p->root_dir, root);
    char *cache = pz_xasprintf("%s/cache", root), *ws = pz_xasprintf("%s/results/example", root);
    CU_ASSERT_STRING_EQUAL(p->cache_dir, cache);
    CU_ASSERT_STRING_EQUAL(p->workspace_dir, ws);
    free(cache);
    free(ws);

    const char *order[] = {"mock-sky", "ingest", "train[3]", "train[1]", "train[2]",
                           "predict[3]", "predict[1]", "predict[2]", "evaluate"};
    CU_ASSERT_EQUAL_FATAL(p->nstages, 9);
    for (size_t i = 0; i < 9; i++) CU_ASSERT_STRING_EQUAL(p->stages[i].name, order[i]);

    const pz_stage *ms = stage(p, "mock-sky");
    CU_ASSERT_EQUAL(ms->noutputs, 2);
    CU_ASSERT_STRING_EQUAL(ms->outputs[0], "cosmos2020"); /* sorted */
    CU_ASSERT_STRING_EQUAL(ms->exe_path, "/bin/true");
    CU_ASSERT_EQUAL(ms->threads, 1);
    CU_ASSERT_EQUAL(ms->ndeps, 0);

    const pz_stage *ing = stage(p, "ingest");
    CU_ASSERT_EQUAL(ing->threads, 2);
    CU_ASSERT_EQUAL(ing->exe_path[0], '/'); /* found on PATH, absolute */
    CU_ASSERT_STRING_EQUAL(ing->run, "sh");
    CU_ASSERT_EQUAL_FATAL(ing->ninputs, 2);
    CU_ASSERT_STRING_EQUAL(ing->inputs[0].name, "catalog"); /* sorted by name */
    CU_ASSERT_FALSE(ing->inputs[0].is_list);
    CU_ASSERT_EQUAL(ing->inputs[0].refs[0].stage, 0);
    CU_ASSERT_STRING_EQUAL(ing->inputs[0].refs[0].output, "cosmos2020");
    CU_ASSERT_TRUE(ing->inputs[1].refs[0].is_external);
    char *ext = pz_xasprintf("%s/pipelines/example-input.txt", root);
    CU_ASSERT_STRING_EQUAL(ing->inputs[1].refs[0].path, ext);
    free(ext);
    CU_ASSERT_EQUAL(ing->ndeps, 1);

    char *j = params_json(stage(p, "train[1]"));
    CU_ASSERT_STRING_EQUAL(j, "{\"lr\":5e-4,\"seed\":1,\"tag\":\"seed-1\"}");
    free(j);
    CU_ASSERT_STRING_EQUAL(stage(p, "train[1]")->base_name, "train");

    const pz_stage *ev = stage(p, "evaluate");
    const pz_stage_input *preds = input(ev, "preds");
    CU_ASSERT_TRUE(preds->is_list);
    CU_ASSERT_EQUAL_FATAL(preds->nrefs, 3);
    /* [*] keeps foreach order (3, 1, 2), not name order. */
    CU_ASSERT_STRING_EQUAL(p->stages[preds->refs[0].stage].name, "predict[3]");
    CU_ASSERT_STRING_EQUAL(p->stages[preds->refs[1].stage].name, "predict[1]");
    CU_ASSERT_STRING_EQUAL(p->stages[preds->refs[2].stage].name, "predict[2]");
    const pz_stage_input *both = input(ev, "both");
    CU_ASSERT_TRUE(both->is_list);
    CU_ASSERT_EQUAL(both->nrefs, 2);
    CU_ASSERT_EQUAL(ev->ndeps, 5);
    for (size_t i = 1; i < ev->ndeps; i++) CU_ASSERT(ev->deps[i - 1] < ev->deps[i]);
    /* Every dependency comes earlier in the order. */
    for (size_t i = 0; i < p->nstages; i++)
        for (size_t k = 0; k < p->stages[i].ndeps; k++) CU_ASSERT(p->stages[i].deps[k] < i);

    CU_ASSERT_EQUAL_FATAL(p->nshow, 1);
    CU_ASSERT_STRING_EQUAL(p->stages[p->show[0].stage].name, "evaluate");
    CU_ASSERT_STRING_EQUAL(p->show[0].output, "table");

    size_t *m;
    CU_ASSERT_EQUAL(pz_pipeline_match(p, "train", &m), 3);
    free(m);
    CU_ASSERT_EQUAL(pz_pipeline_match(p, "train[2]", &m), 1);
    free(m);
    CU_ASSERT_EQUAL(pz_pipeline_find(p, "train"), -1);
    free(root);
    pz_pipeline_free(p);
    free(path);
}

static void test_root_outside_pipelines_dir(void)
{
    char *dir = pz_xasprintf("%s/elsewhere", tmp());
    mkdir(dir, 0777);
    char *path = pz_xasprintf("%s/flow.yml", dir);
    pzt_write_file(path, "cache: c\nworkspace: ../ws\nstages:\n  a: {run: /bin/true, outputs: [x]}\n");
    pz_err err;
    pz_pipeline *p = pz_pipeline_load(path, NULL, 0, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *real = realpath(dir, NULL);
    CU_ASSERT_STRING_EQUAL(p->root_dir, real);
    CU_ASSERT_STRING_EQUAL(p->name, "flow");
    char *c = pz_xasprintf("%s/c", real), *ws = pz_xasprintf("%s/ws", tmp());
    char *realws = realpath(tmp(), NULL);
    char *wantws = pz_xasprintf("%s/ws", realws);
    CU_ASSERT_STRING_EQUAL(p->cache_dir, c);
    CU_ASSERT_STRING_EQUAL(p->workspace_dir, wantws);
    pz_pipeline_free(p);
    free(c); free(ws); free(realws); free(wantws); free(real); free(path); free(dir);
}

static void test_empty_params_and_inputs(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n  a:\n    run: /bin/true\n    params:\n    inputs:\n    outputs: [x]\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->stages[0].params->kind, PZ_Y_MAP);
    CU_ASSERT_EQUAL(p->stages[0].params->n, 0);
    CU_ASSERT_EQUAL(p->stages[0].ninputs, 0);
    pz_pipeline_free(p);
}

/* ---- foreach ------------------------------------------------------------------------------ */

static void test_foreach_selects(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n"
                          "  fit:\n"
                          "    run: /bin/true\n"
                          "    foreach: [7, 8]\n"
                          "    params: {seed: \"${item}\", name: \"m${item}\"}\n"
                          "    outputs: [model]\n"
                          "  pick:\n"
                          "    run: /bin/true\n"
                          "    inputs: {m: \"fit[8]/model\", all: \"fit[*]/model\"}\n"
                          "    outputs: [out]\n",
                          &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nstages, 3);
    const pz_stage *pick = stage(p, "pick");
    const pz_stage_input *m = input(pick, "m");
    CU_ASSERT_FALSE(m->is_list);
    CU_ASSERT_EQUAL_FATAL(m->nrefs, 1);
    CU_ASSERT_STRING_EQUAL(p->stages[m->refs[0].stage].name, "fit[8]");
    const pz_stage_input *all = input(pick, "all");
    CU_ASSERT_TRUE(all->is_list);
    CU_ASSERT_EQUAL(all->nrefs, 2);
    /* A value that is exactly ${item} keeps the item's type even inside quotes. */
    char *j = params_json(stage(p, "fit[7]"));
    CU_ASSERT_STRING_EQUAL(j, "{\"name\":\"m7\",\"seed\":7}");
    free(j);
    pz_pipeline_free(p);
}

static void test_foreach_map_items_use_index(void)
{
    pz_err err;
    pz_pipeline *p = load("vars:\n"
                          "  cuts: [{name: low, zmax: 1.5}, {name: high, zmax: 4}]\n"
                          "stages:\n"
                          "  sel:\n"
                          "    run: /bin/true\n"
                          "    foreach: ${cuts}\n"
                          "    params:\n"
                          "      zmax: ${item.zmax}\n"
                          "      label: cut-${item.name}\n"
                          "      all: ${item}\n"
                          "    outputs: [t]\n"
                          "  use:\n"
                          "    run: /bin/true\n"
                          "    inputs: {t: \"sel[1]/t\"}\n"
                          "    outputs: [u]\n",
                          &err);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *j = params_json(stage(p, "sel[1]"));
    CU_ASSERT_STRING_EQUAL(j, "{\"all\":{\"name\":\"high\",\"zmax\":4},\"label\":\"cut-high\",\"zmax\":4}");
    free(j);
    CU_ASSERT_EQUAL(input(stage(p, "use"), "t")->refs[0].stage, (size_t)pz_pipeline_find(p, "sel[1]"));
    pz_pipeline_free(p);
}

static void test_foreach_errors(void)
{
    const char *up = "stages:\n"
                     "  fit:\n"
                     "    run: /bin/true\n"
                     "    foreach: [1, 2]\n"
                     "    outputs: [model]\n"
                     "  use:\n"
                     "    run: /bin/true\n";
    char *t = pz_xasprintf("%s    inputs: {m: fit/model}\n    outputs: [o]\n", up);
    expect_error(t, ":8:17: input 'm' of stage 'use': stage 'fit' is a foreach stage; write 'fit[<item>]/model' "
                    "for one instance or 'fit[*]/model' for all of them");
    free(t);
    t = pz_xasprintf("%s    inputs: {m: \"fit[5]/model\"}\n    outputs: [o]\n", up);
    expect_error(t, ":8:17: input 'm' of stage 'use': stage 'fit' has no instance 'fit[5]' (instances: fit[1], fit[2])");
    free(t);
    t = pz_xasprintf("%s    inputs: {m: \"use[1]/o\"}\n    outputs: [o]\n", up);
    expect_error(t, ":8:17: input 'm' of stage 'use': stage 'use' has no foreach, so it has no [1]; write 'use/o'");
    free(t);
    expect_error("stages:\n  a:\n    run: /bin/true\n    foreach: [1, 1]\n    outputs: [o]\n",
                 ":4:18: foreach item '1' of stage 'a' appears twice; instance names must be unique");
    expect_error("stages:\n  a:\n    run: /bin/true\n    foreach: {x: 1}\n    outputs: [o]\n",
                 ":4:14: foreach of stage 'a' must be a list, got a mapping");
    expect_error("stages:\n  a:\n    run: /bin/true\n    foreach: []\n    outputs: [o]\n",
                 ":4:14: foreach of stage 'a' is an empty list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    params: {s: \"${item}\"}\n    outputs: [o]\n",
                 ":4:17: unknown var 'item': ${item} is only defined in a stage with foreach");
}

/* ---- vars ----------------------------------------------------------------------------------- */

static void test_vars_nested_and_interpolated(void)
{
    pz_err err;
    pz_pipeline *p = load("vars:\n"
                          "  dir: data\n"
                          "  file: ${dir}/a.txt\n"
                          "  n: 5\n"
                          "  big: ${n}000\n"
                          "  opts: {depth: \"${n}\", name: \"n=${n}\"}\n"
                          "  lit: \"$${not_a_var}\"\n"
                          "stages:\n"
                          "  a:\n"
                          "    run: /bin/true\n"
                          "    params: {big: \"${big}\", opts: \"${opts}\", lit: \"${lit}\", s: \"${n}\"}\n"
                          "    inputs: {f: \"${file}\"}\n"
                          "    outputs: [x]\n",
                          &err);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *j = params_json(&p->stages[0]);
    CU_ASSERT_STRING_EQUAL(j, "{\"big\":5000,\"lit\":\"${not_a_var}\",\"opts\":{\"depth\":5,\"name\":\"n=5\"},\"s\":5}");
    free(j);
    CU_ASSERT_TRUE(p->stages[0].inputs[0].refs[0].is_external);
    char *want = pz_xasprintf("%s/repo/data/a.txt", tmp());
    char *real = realpath(want, NULL);
    CU_ASSERT_STRING_EQUAL(p->stages[0].inputs[0].refs[0].path, real);
    free(want);
    free(real);
    pz_pipeline_free(p);
}

static void test_vars_errors(void)
{
    const char *stages = "stages:\n  a: {run: /bin/true, outputs: [x]}\n";
    char *t = pz_xasprintf("vars:\n  a: 1\n  b: ${c}\n  c: 2\n%s", stages);
    expect_error(t, ":3:6: var 'c' is used before it is defined (a var may only use vars above it)");
    free(t);
    expect_error("vars:\n  seeds: [1]\nstages:\n  a:\n    run: /bin/true\n    params: {s: \"${seed}\"}\n"
                 "    outputs: [x]\n",
                 ":6:17: unknown var 'seed' (did you mean 'seeds'?)");
    expect_error("vars:\n  seeds: [1]\nstages:\n  a:\n    run: /bin/true\n    params: {s: \"x${seeds}\"}\n"
                 "    outputs: [x]\n",
                 ":6:17: '${seeds}' is a list; only a scalar can be part of a string (use it alone: '${seeds}')");
    t = pz_xasprintf("vars:\n  x: a${x}\n%s", stages);
    expect_error(t, ":2:6: var 'x' refers to itself");
    free(t);
    t = pz_xasprintf("vars:\n  item: 3\n%s", stages);
    expect_error(t, ":2:3: 'item' is reserved for foreach items; choose another var name");
    free(t);
    t = pz_xasprintf("vars:\n  p: {a: 1}\n  q: ${p.b}\n%s", stages);
    expect_error(t, ":3:6: '${p.b}': 'p' has no key 'b'");
    free(t);
    t = pz_xasprintf("vars:\n  p: \"${p\"\n%s", stages);
    expect_error(t, ":2:6: unterminated '${' in '${p'");
    free(t);
    t = pz_xasprintf("vars: [1]\n%s", stages);
    expect_error(t, ":1:7: vars must be a mapping of name: value, got a list");
    free(t);
}

/* ---- --set ---------------------------------------------------------------------------------- */

static const char *set_base = "vars:\n"
                              "  seeds: [1, 2, 3]\n"
                              "stages:\n"
                              "  train:\n"
                              "    run: /bin/true\n"
                              "    foreach: ${seeds}\n"
                              "    params: {lr: 5e-4, seed: \"${item}\"}\n"
                              "    outputs: [model]\n"
                              "  fit.v2:\n"
                              "    run: /bin/true\n"
                              "    params: {k: 1}\n"
                              "    outputs: [m]\n";

static void test_set_overrides(void)
{
    const char *sets[] = {"vars.seeds=[4, 5]", "stages.train.params.lr=1e-4", "stages.train.params.layers=[200, 200]",
                          "stages.fit.v2.params.k=2", "stages.fit.v2.threads=3"};
    pz_err err;
    pz_pipeline *p = load_sets(set_base, sets, 5, &err);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nstages, 3);
    CU_ASSERT_EQUAL(pz_pipeline_find(p, "train[1]"), -1);
    char *j = params_json(stage(p, "train[5]"));
    CU_ASSERT_STRING_EQUAL(j, "{\"layers\":[200,200],\"lr\":1e-4,\"seed\":5}");
    free(j);
    j = params_json(stage(p, "fit.v2"));
    CU_ASSERT_STRING_EQUAL(j, "{\"k\":2}");
    free(j);
    CU_ASSERT_EQUAL(stage(p, "fit.v2")->threads, 3);
    /* The document keeps the overrides, for messages and `status`. */
    CU_ASSERT_STRING_EQUAL(pz_ynode_path(p->doc, "vars.seeds.1")->str, "5");
    pz_pipeline_free(p);
}

static void test_set_errors(void)
{
    const char *bad_path[] = {"stages.nope.params.lr=1"};
    expect_error_sets(set_base, bad_path, 1, ": --set 'stages.nope.params.lr=1': 'stages.nope' does not exist");
    const char *no_eq[] = {"stages.train.params.lr"};
    expect_error_sets(set_base, no_eq, 1,
                      ": --set 'stages.train.params.lr': expected dotted.path=value (e.g. stages.train.params.lr=1e-4)");
    const char *into_scalar[] = {"stages.train.run.x=1"};
    expect_error_sets(set_base, into_scalar, 1, ": --set 'stages.train.run.x=1': 'stages.train.run' is a scalar, it has no 'x'");
    const char *bad_index[] = {"vars.seeds.7=1"};
    expect_error_sets(set_base, bad_index, 1, ": --set 'vars.seeds.7=1': 'vars.seeds.7' does not exist");
    /* An override's own type errors point at the override. */
    const char *bad_type[] = {"stages.fit.v2.threads=0"};
    expect_error_sets(set_base, bad_type, 1, ": --set 'stages.fit.v2.threads=0': threads must be a positive integer, got '0'");
    const char *bad_yaml[] = {"vars.seeds=[1, 2"};
    expect_error_sets(set_base, bad_yaml, 1,
                      ": --set 'vars.seeds=[1, 2': the value is not valid YAML: did not find expected ',' or ']' "
                      "while parsing a flow sequence");
}

/* ---- loader errors -------------------------------------------------------------------------- */

static void test_error_syntax_and_keys(void)
{
    expect_error_prefix("stages:\n  a: {run: /bin/true, outputs: [x]\n", ":3:1: YAML syntax error");
    expect_error("stage:\n  a: {run: /bin/true, outputs: [x]}\n",
                 ":1:1: unknown key 'stage' in the pipeline file (did you mean 'stages'?)");
    expect_error("foo: 1\nstages:\n  a: {run: /bin/true, outputs: [x]}\n",
                 ":1:1: unknown key 'foo' in the pipeline file (allowed: cache, workspace, show, vars, stages, "
                 "description, extends, executor)");
    expect_error("executor: pbs\nstages:\n  a: {run: /bin/true, outputs: [x]}\n",
                 ":1:11: executor must be local or slurm, got 'pbs'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    resources: {time: 2h}\n",
                 ":5:23: resources: time must be a Slurm time such as 30 (minutes), 2:00:00 or 1-12:00:00, got '2h'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    resources: {cpus: 0}\n",
                 ":5:23: resources: cpus must be a positive integer, got '0'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    resources: {partition: \"a b\"}\n",
                 ":5:28: resources: partition must be a Slurm name (letters, digits, '_', '.', '-', ','), got 'a b'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    ouputs: [x]\n",
                 ":4:5: unknown key 'ouputs' in stage 'a' (did you mean 'outputs'?)");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    param: {}\n",
                 ":5:5: unknown key 'param' in stage 'a' (did you mean 'params'?)");
    expect_error("- a\n- b\n", ":1:1: a pipeline file must be a mapping with 'stages:', got a list");
}

/* threads and cpus are integers as YAML 1.2 writes them, as every other integer in a pipeline. */
static void test_counts_are_yaml_integers(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    threads: 0x2\n"
                          "    resources: {cpus: 0o10}\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->stages[0].threads, 2);
    CU_ASSERT_EQUAL(p->stages[0].resources.cpus, 8);
    pz_pipeline_free(p);
}

/* `timeout:` takes seconds or a unit; it is not part of the key, so changing it reruns nothing. */
static void test_timeout_units(void)
{
    const char *forms[][2] = {{"90", "90"}, {"1.5", "1.5"}, {"90s", "90"}, {"20m", "1200"}, {"2h", "7200"}, {"1d", "86400"}};
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++) {
        char *text = pz_xasprintf("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    timeout: %s\n", forms[k][0]);
        pz_err err;
        pz_pipeline *p = load(text, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_DOUBLE_EQUAL(p->stages[0].timeout_s, atof(forms[k][1]), 1e-9);
        pz_pipeline_free(p);
        free(text);
    }
    pz_err err;
    pz_pipeline *p = load("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->stages[0].timeout_s, 0); /* no limit unless asked */
    pz_pipeline_free(p);
}

static void test_error_types(void)
{
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: x\n",
                 ":4:14: outputs of stage 'a' must be a list of names, got a scalar");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [[x]]\n",
                 ":4:15: outputs of stage 'a' must be names, got a list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: []\n", ":4:14: stage 'a' declares no outputs");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    threads: 0\n",
                 ":5:14: threads must be a positive integer, got '0'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    threads: two\n",
                 ":5:14: threads must be a positive integer, got 'two'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    threads: \" 2\"\n",
                 ":5:14: threads must be a positive integer, got ' 2'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    resources: {cpus: \" 2\"}\n",
                 ":5:23: resources: cpus must be a positive integer, got ' 2'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    timeout: 0\n",
                 ":5:14: timeout must be a positive number of seconds, optionally with a unit (90, 90s, 20m, 2h, 1d), "
                 "got '0'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    timeout: 2 h\n",
                 ":5:14: timeout must be a positive number of seconds, optionally with a unit (90, 90s, 20m, 2h, 1d), "
                 "got '2 h'");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    timeout: [1]\n",
                 ":5:14: timeout must be a positive number of seconds, optionally with a unit (90, 90s, 20m, 2h, 1d), "
                 "got a list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    params: [1, 2]\n",
                 ":5:13: params of stage 'a' must be a mapping, got a list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    inputs: [data/a.txt]\n",
                 ":5:13: inputs of stage 'a' must be a mapping of name: reference, got a list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x]\n    inputs: {f: {g: 1}}\n",
                 ":5:17: input 'f' of stage 'a': expected 'stage/output', a file path or a list of them, got a mapping");
    expect_error("stages:\n  a:\n    run: [x]\n    outputs: [x]\n", ":3:10: run must be a string, got a list");
    expect_error("stages:\n  a: 3\n", ":2:6: stage 'a' must be a mapping (run, inputs, outputs, ...), got a scalar");
    expect_error("stages: [a]\n", ":1:9: stages must be a mapping of stage name: stage, got a list");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x, \"a/b\"]\n",
                 ":4:18: bad output name 'a/b' (letters, digits, '_', '.', '-')");
}

static void test_error_structure(void)
{
    expect_error("stages:\n  a:\n    outputs: [x]\n", ":2:3: stage 'a' has no 'run' (the executable to run)");
    expect_error("stages:\n  a:\n    run: /bin/true\n", ":2:3: stage 'a' has no 'outputs' (a list of output names)");
    expect_error("stages:\n  a:\n    run: /bin/true\n    outputs: [x, y, x]\n",
                 ":4:21: duplicate output 'x' in stage 'a'");
    expect_error("stages:\n  a/b:\n    run: /bin/true\n    outputs: [x]\n",
                 ":2:3: bad stage name 'a/b': use letters, digits, '_', '.' and '-' only");
    expect_error("stages:\n  \"a[1]\":\n    run: /bin/true\n    outputs: [x]\n",
                 ":2:3: bad stage name 'a[1]': use letters, digits, '_', '.' and '-' only");
    expect_error("stages: {}\n", ":1:9: stages is empty: declare at least one stage");
    expect_error("vars:\nstages:\n", ":2:8: stages is empty: declare at least one stage");
    expect_error("description: nothing\n", ":1:1: no 'stages:' in the pipeline file");
}

static void test_error_missing_executable(void)
{
    char *want = pz_xasprintf(":3:10: missing executable 'pzflow-no-such-stage': not found in the pzflow directory "
                              "%s/bin nor in $PATH (%s)",
                              tmp(), getenv("PATH"));
    expect_error("stages:\n  a:\n    run: pzflow-no-such-stage\n    outputs: [x]\n", want);
    free(want);
    want = pz_xasprintf(":3:10: missing executable 'tools/nope': %s/repo/tools/nope is not an executable file", tmp());
    char *real = realpath(tmp(), NULL);
    free(want);
    want = pz_xasprintf(":3:10: missing executable 'tools/nope': %s/repo/tools/nope is not an executable file", real);
    expect_error("stages:\n  a:\n    run: tools/nope\n    outputs: [x]\n", want);
    free(want);
    free(real);
    expect_error("stages:\n  a:\n    run: /bin/true --fast\n    outputs: [x]\n",
                 ":3:10: run takes one executable, not a command line: '/bin/true --fast' (put arguments in params)");
}

static void test_error_references(void)
{
    const char *up = "stages:\n  up:\n    run: /bin/true\n    outputs: [table, model]\n  down:\n    run: /bin/true\n";
    char *t = pz_xasprintf("%s    inputs: {t: up/tabel}\n    outputs: [o]\n", up);
    expect_error(t, ":7:17: input 't' of stage 'down': dangling reference 'up/tabel': stage 'up' has no output "
                    "'tabel' (did you mean 'table'?) (outputs: model, table)");
    free(t);
    t = pz_xasprintf("%s    inputs: {t: up}\n    outputs: [o]\n", up);
    expect_error(t, ":7:17: input 't' of stage 'down': dangling reference 'up': write 'up/<output>' (outputs: model, "
                    "table)");
    free(t);
    t = pz_xasprintf("%s    inputs: {t: data/missing.txt}\n    outputs: [o]\n", up);
    expect_error_prefix(t, ":7:17: input 't' of stage 'down': missing file 'data/missing.txt' (");
    free(t);
    t = pz_xasprintf("%s    inputs: {t: pu/table}\n    outputs: [o]\n", up);
    pz_err err;
    CU_ASSERT_PTR_NULL(load(t, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":7:17: input 't' of stage 'down': missing file 'pu/table' ("));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "did you mean stage 'up'?"));
    free(t);
    t = pz_xasprintf("%s    inputs: {t: data}\n    outputs: [o]\n", up);
    expect_error_prefix(t, ":7:17: input 't' of stage 'down': 'data' (");
    free(t);
    t = pz_xasprintf("%s    inputs: {t: up/table}\n    outputs: [o]\nshow: [down/x]\n", up);
    expect_error(t, ":9:8: show: dangling reference 'down/x': stage 'down' has no output 'x' (outputs: o)");
    free(t);
    t = pz_xasprintf("%s    inputs: {t: up/table}\n    outputs: [o]\nshow: [data/a.txt]\n", up);
    expect_error(t, ":9:8: show: 'data/a.txt' is not a stage output ('stage/output')");
    free(t);
}

static void test_error_cycle(void)
{
    expect_error("stages:\n"
                 "  a:\n    run: /bin/true\n    inputs: {x: c/out}\n    outputs: [out]\n"
                 "  b:\n    run: /bin/true\n    inputs: {x: a/out}\n    outputs: [out]\n"
                 "  c:\n    run: /bin/true\n    inputs: {x: b/out}\n    outputs: [out]\n"
                 "  d:\n    run: /bin/true\n    inputs: {x: c/out}\n    outputs: [out]\n",
                 ":2:3: cycle: a -> b -> c -> a");
    expect_error("stages:\n  self:\n    run: /bin/true\n    inputs: {x: self/out}\n    outputs: [out]\n",
                 ":2:3: cycle: self -> self");
}

/* ---- order, executables, size -------------------------------------------------------------- */

static void test_topological_order_ties(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n"
                          "  z-last: {run: /bin/true, inputs: {a: m/o, b: b/o}, outputs: [o]}\n"
                          "  m: {run: /bin/true, inputs: {a: b/o}, outputs: [o]}\n"
                          "  c: {run: /bin/true, outputs: [o]}\n"
                          "  b: {run: /bin/true, outputs: [o]}\n"
                          "  a: {run: /bin/true, inputs: {x: c/o}, outputs: [o]}\n",
                          &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Ready first: c, b (declaration order); c releases a (declared after m, but m waits on b). */
    const char *want[] = {"c", "b", "m", "z-last", "a"};
    for (size_t i = 0; i < 5; i++) CU_ASSERT_STRING_EQUAL(p->stages[i].name, want[i]);
    char *text = pz_pipeline_dag_text(p);
    CU_ASSERT_STRING_EQUAL(text, "c -> o\n"
                                 "b -> o\n"
                                 "m <- a=b/o -> o\n"
                                 "z-last <- a=m/o b=b/o -> o\n"
                                 "a <- x=c/o -> o\n");
    free(text);
    pz_pipeline_free(p);
}

static void test_bin_dir_first(void)
{
    /* An executable named like one on PATH: bin_dir must win. A non-executable file must not. */
    char *exe = pz_xasprintf("%s/bin/true", tmp());
    pzt_write_file(exe, "#!/bin/sh\nexit 0\n");
    chmod(exe, 0755);
    char *plain = pz_xasprintf("%s/bin/pzflow-not-exec", tmp());
    pzt_write_file(plain, "not executable\n");
    chmod(plain, 0644);
    pz_err err;
    pz_pipeline *p = load("stages:\n  a: {run: true, outputs: [x]}\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *real = realpath(exe, NULL);
    CU_ASSERT_STRING_EQUAL(p->stages[0].exe_path, real);
    pz_pipeline_free(p);
    CU_ASSERT_PTR_NULL(load("stages:\n  a: {run: pzflow-not-exec, outputs: [x]}\n", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing executable 'pzflow-not-exec'"));
    unlink(exe);
    free(real);
    free(exe);
    free(plain);
}


static void test_flow_chart(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n"
                          "  gen: {run: /bin/true, outputs: [cat, other]}\n"
                          "  ingest: {run: /bin/true, inputs: {c: gen/cat, d: data/a.txt}, outputs: [table]}\n"
                          "  build: {run: /bin/true, inputs: {t: ingest/table}, outputs: [train, test]}\n"
                          "  fit: {run: /bin/true, foreach: [1, 2], inputs: {d: build/train}, outputs: [m]}\n",
                          &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *dot = pz_pipeline_flow_dot(p, "build", "How \"build\" is made", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dot);
    /* the title, escaped; top to bottom */
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "label=\"How \\\"build\\\" is made\";"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "rankdir=TB;"));
    /* inputs: the generating stage's output that is used (not `other`), and the external file */
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"gen/cat\" [label=\"input\\ngen/cat\", shape=cylinder"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"gen\" -> \"gen/cat\";"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "[label=\"input\\ndata/a.txt\", shape=cylinder"));
    CU_ASSERT_PTR_NULL(strstr(dot, "gen/other"));
    /* processes joined by what flows; the target's outputs released; nothing downstream */
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"ingest\" [label=\"ingest\\n(true)\", shape=box"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"gen/cat\" -> \"ingest\";"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"ingest\" -> \"build\" [label=\"table\"];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"released:build/train\" [label=\"released\\nbuild/train\", shape=folder"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"build\" -> \"released:build/test\";"));
    CU_ASSERT_PTR_NULL(strstr(dot, "\"fit")); /* no node; paths may hold "fit" (a checkout in wt-fits) */
    free(dot);
    /* a foreach target is drawn once */
    dot = pz_pipeline_flow_dot(p, "fit", "t", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dot);
    const char *first = strstr(dot, "\"released:fit/m\" [");
    CU_ASSERT_TRUE(first && !strstr(first + 1, "\"released:fit/m\" ["));
    free(dot);
    /* an unknown target is one error naming it */
    CU_ASSERT_PTR_NULL(pz_pipeline_flow_dot(p, "nope", "t", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "flow chart: no stage 'nope' in "));
    pz_pipeline_free(p);
}

static void test_dot_output(void)
{
    pz_err err;
    pz_pipeline *p = load("stages:\n"
                          "  fit: {run: /bin/true, foreach: [1, 2], inputs: {d: data/a.txt}, outputs: [m]}\n"
                          "  \"we\\\"ird\": {run: /bin/true, inputs: {m: \"fit[*]/m\"}, outputs: [o]}\n",
                          &err);
    /* A quote is not a valid stage-name character: the loader refuses it. */
    CU_ASSERT_PTR_NULL(p);
    p = load("stages:\n"
             "  fit: {run: /bin/true, foreach: [1, 2], inputs: {d: data/a.txt}, outputs: [m]}\n"
             "  sum: {run: /bin/true, inputs: {m: \"fit[*]/m\"}, outputs: [o]}\n",
             &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    char *dot = pz_pipeline_dag_dot(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "digraph \"t\" {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"fit[1]\" -> \"sum\" [label=\"m → m\"];"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "[shape=box, label=\"data/a.txt\"];"));
    char *text = pz_pipeline_dag_text(p);
    CU_ASSERT_STRING_EQUAL(text, "fit[1] <- d=data/a.txt -> m\nfit[2] <- d=data/a.txt -> m\n"
                                 "sum <- m=[fit[1]/m, fit[2]/m] -> o\n");
    free(text);
    if (access("/usr/bin/dot", X_OK) == 0) {
        char *path = pz_xasprintf("%s/g.dot", tmp());
        pzt_write_file(path, dot);
        char *out = NULL;
        CU_ASSERT_EQUAL(pzt_run(NULL, &out, "/usr/bin/dot -Tsvg '%s' -o /dev/null", path), 0);
        if (out && *out) fprintf(stderr, "%s", out);
        free(out);
        free(path);
    }
    free(dot);
    /* Collapsed: one node per declared stage, the two instance edges merged into one. */
    dot = pz_pipeline_dag_dot_collapsed(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(dot, "\"fit\" [label=\"fit ×2\""));
    CU_ASSERT_PTR_NULL(strstr(dot, "fit[1]"));
    const char *edge = "\"fit\" -> \"sum\" [label=\"m → m\"];";
    const char *first = strstr(dot, edge);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_PTR_NULL(strstr(first + 1, edge));
    free(dot);
    pz_pipeline_free(p);
}

static void test_500_stages(void)
{
    /* 100 chains of 5 stages, plus fan-in every 10 stages: 500 stages, 900 edges. */
    size_t cap = 1 << 20, len = 0;
    char *text = pz_xmalloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "stages:\n");
    for (int i = 0; i < 500; i++) {
        len += (size_t)snprintf(text + len, cap - len, "  s%03d:\n    run: /bin/true\n    params: {i: %d}\n", i, i);
        if (i % 5 == 0) {
            len += (size_t)snprintf(text + len, cap - len, "    inputs: {d: data/a.txt}\n");
        } else {
            len += (size_t)snprintf(text + len, cap - len, "    inputs: {a: s%03d/out", i - 1);
            if (i >= 10 && i % 10 == 9) len += (size_t)snprintf(text + len, cap - len, ", b: s%03d/out", i - 10);
            len += (size_t)snprintf(text + len, cap - len, "}\n");
        }
        len += (size_t)snprintf(text + len, cap - len, "    outputs: [out]\n");
    }
    pz_err err;
    pz_pipeline *p = load(text, &err);
    free(text);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nstages, 500);
    size_t edges = 0, external = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        edges += p->stages[i].ndeps;
        for (size_t k = 0; k < p->stages[i].ndeps; k++) CU_ASSERT(p->stages[i].deps[k] < i);
        for (size_t k = 0; k < p->stages[i].ninputs; k++) external += p->stages[i].inputs[k].refs[0].is_external;
    }
    CU_ASSERT_EQUAL(edges, 400 + 49);
    CU_ASSERT_EQUAL(external, 100);
    CU_ASSERT_STRING_EQUAL(p->stages[0].name, "s000");
    CU_ASSERT_EQUAL(pz_pipeline_find(p, "s499") >= 0, 1);
    pz_pipeline_free(p);
}

/* quick.yaml and real.yaml extend paper.yaml: maps merge, values replace, null deletes, and an
 * error inside the base file still names the base file. */
static void test_extends(void)
{
    char *base = write_pipeline("base", "vars: {seeds: [1, 2, 3], n: 10}\n"
                                        "stages:\n"
                                        "  gen: {run: /bin/true, params: {n: \"${n}\", layout: full}, outputs: [o]}\n"
                                        "  train: {run: /bin/true, foreach: \"${seeds}\", inputs: {x: gen/o}, outputs: [m]}\n"
                                        "  extra: {run: /bin/true, outputs: [e]}\n");
    pz_err err;
    pz_pipeline *p = load("extends: base.yaml\nvars: {seeds: [7]}\n"
                          "stages:\n  gen: {params: {n: 5}}\n  extra: null\n", &err);
    if (!p) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->nstages, 2);
    CU_ASSERT_EQUAL(pz_pipeline_find(p, "extra"), -1);
    CU_ASSERT(pz_pipeline_find(p, "train[7]") >= 0);
    char *j = params_json(stage(p, "gen"));
    CU_ASSERT_STRING_EQUAL(j, "{\"layout\":\"full\",\"n\":5}");
    free(j);
    CU_ASSERT_STRING_EQUAL(p->name, "t");
    pz_pipeline_free(p);

    /* A dangling reference created by deleting a stage points into the base file. */
    p = load("extends: base.yaml\nstages: {gen: null}\n", &err);
    CU_ASSERT_PTR_NULL(p);
    char *want = pz_xasprintf("%s:4:", base);
    CU_ASSERT_EQUAL(strncmp(err.msg, want, strlen(want)), 0);
    free(want);

    expect_error("extends: [a]\nstages: {}\n", ":1:10: extends must be the path of another pipeline file");
    expect_error_prefix("extends: nope.yaml\n", ":1:10: extends: ");
    /* A file extending itself is a cycle, stopped by the depth limit. */
    expect_error_prefix("extends: t.yaml\n", ":1:10: extends: ");
    free(base);
}

static void test_cleanup(void)
{
    pzt_rmtree(tmp());
    free(tmp_root);
    tmp_root = NULL;
}

/* ---- endless, huge and unset-able inputs (issue 17) ---------------------------------------- */

static void expect_load_error(const char *path, const char *want)
{
    pz_err err = {{0}};
    pz_pipeline *p = pz_pipeline_load(path, NULL, 0, NULL, &err);
    CU_ASSERT_PTR_NULL(p);
    pz_pipeline_free(p);
    if (strcmp(err.msg, want)) fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, err.msg);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
}

static void test_endless_and_huge_files_are_refused(void)
{
    expect_load_error("/dev/zero", "/dev/zero: not a regular file (a device, FIFO or directory)");
    char *fifo = pz_xasprintf("%s/fifo.yaml", tmp());
    CU_ASSERT_EQUAL(mkfifo(fifo, 0600), 0);
    char *want = pz_xasprintf("%s: not a regular file (a device, FIFO or directory)", fifo);
    expect_load_error(fifo, want); /* returns at once: no writer needed */
    free(want);
    char *path = write_pipeline("t", "extends: /dev/urandom\n");
    want = pz_xasprintf("%s:1:10: extends: /dev/urandom: not a regular file (a device, FIFO or directory)", path);
    expect_load_error(path, want);
    free(want), free(path);
    char *big = pz_xasprintf("%s/big.yaml", tmp());
    FILE *f = fopen(big, "w");
    CU_ASSERT_EQUAL(ftruncate(fileno(f), PZ_YAML_MAX_FILE + 1), 0);
    fclose(f);
    want = pz_xasprintf("%s: 16777217 bytes, more than the 16 MiB a YAML file may have", big);
    expect_load_error(big, want);
    free(want), free(big), free(fifo);
    const char *set_extends[] = {"extends=other.yaml"};
    expect_error_sets(set_base, set_extends, 1,
                      ": --set 'extends=other.yaml': extends cannot be set from the command line (files are merged "
                      "before --set applies); edit the pipeline file");
}

static void test_long_names_fail_at_load(void)
{
    char long_name[301];
    memset(long_name, 'n', 300);
    long_name[300] = 0;
    char *stage_yaml = pz_xasprintf("stages:\n  %s:\n    run: /bin/true\n    outputs: [t]\n", long_name);
    expect_error(stage_yaml, ":2:3: stage name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 300 characters long; at most 128 "
                             "(it becomes a file name)");
    char *output_yaml = pz_xasprintf("stages:\n  a:\n    run: /bin/true\n    outputs: [%s]\n", long_name);
    expect_error(output_yaml, ":4:15: output name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 300 characters long; at most "
                              "128 (it becomes a file name)");
    free(stage_yaml), free(output_yaml);
}

int main(void)
{
    pzt_suite("pipeline", (pzt_case[]){{"fixture example", test_fixture_example},
                                       {"root outside pipelines/", test_root_outside_pipelines_dir},
                                       {"empty params and inputs", test_empty_params_and_inputs},
                                       {"foreach selects", test_foreach_selects},
                                       {"foreach map items", test_foreach_map_items_use_index},
                                       {"foreach errors", test_foreach_errors},
                                       {"vars", test_vars_nested_and_interpolated},
                                       {"vars errors", test_vars_errors},
                                       {"--set", test_set_overrides},
                                       {"--set errors", test_set_errors},
                                       {"syntax and keys", test_error_syntax_and_keys},
                                       {"types", test_error_types},
                                       {"timeout units", test_timeout_units},
                                       {"counts are YAML integers", test_counts_are_yaml_integers},
                                       {"structure", test_error_structure},
                                       {"missing executable", test_error_missing_executable},
                                       {"references", test_error_references},
                                       {"cycle", test_error_cycle},
                                       {"topological ties", test_topological_order_ties},
                                       {"bin_dir first", test_bin_dir_first},
                                       {"dot", test_dot_output},
                                       {"flow chart of one stage's outputs", test_flow_chart},
                                       {"500 stages", test_500_stages},
                                       {"extends", test_extends},
                                       {"endless and huge files are refused", test_endless_and_huge_files_are_refused},
                                       {"long names fail at load", test_long_names_fail_at_load},
                                       {"cleanup", test_cleanup},
                                       {0}});
    return pzt_main();
}
