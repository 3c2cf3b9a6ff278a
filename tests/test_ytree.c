/* The YAML tree loader and the spec-file reader every stage relies on. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/spec.h"
#include "util/ytree.h"

static pz_ynode *load(const char *text, pz_err *err)
{
    return pz_yaml_load_string(text, strlen(text), "t.yaml", err);
}

static void test_positions_and_types(void)
{
    pz_err err;
    pz_ynode *r = load("a: 1\nb:\n  - x\n  - \"5\"\nc: {d: 2.5e-4}\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    pz_ynode *b = pz_ymap_get(r, "b");
    CU_ASSERT_EQUAL(b->kind, PZ_Y_SEQ);
    CU_ASSERT_EQUAL(b->line, 3);
    CU_ASSERT_EQUAL(b->col, 3);
    CU_ASSERT_TRUE(b->items[1]->quoted);
    double d;
    CU_ASSERT_EQUAL(pz_yscalar_double(pz_ynode_path(r, "c.d"), "t", &d, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 2.5e-4, 1e-12);
    CU_ASSERT_STRING_EQUAL(pz_ynode_path(r, "b.0")->str, "x");
    CU_ASSERT_PTR_NULL(pz_ynode_path(r, "b.2"));
    long l;
    CU_ASSERT_EQUAL(pz_yscalar_long(pz_ymap_get(r, "b")->items[0], "t.yaml", &l, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "t.yaml:3:5: expected an integer, got 'x'"));
    pz_ynode_free(r);
}

/* pz_yscalar_long (with l) or pz_yscalar_double on the value of the one-line YAML document
 * `v: TEXT`. */
static int scalar(const char *text, double *d, long *l, pz_err *err)
{
    char *yaml = pz_xasprintf("v: %s\n", text);
    pz_ynode *r = load(yaml, err);
    pz_ynode *v = r ? pz_ymap_get(r, "v") : NULL;
    int rc = !r ? -2 : l ? pz_yscalar_long(v, "t.yaml", l, err) : pz_yscalar_double(v, "t.yaml", d, err);
    pz_ynode_free(r), free(yaml);
    return rc;
}

static int number(const char *text, double *d, pz_err *err)
{
    return scalar(text, d, NULL, err);
}

static int integer(const char *text, long *l, pz_err *err)
{
    return scalar(text, NULL, l, err);
}

/* Whether `v: TEXT` is refused with "t.yaml:1:4: expected WANT, got 'SHOWN'WHY" (WANT "an
 * integer" reads it as one, anything else as a number). */
static int refused_as(const char *want, const char *text, const char *shown, const char *why)
{
    pz_err err;
    double d;
    long l;
    int integral = !strcmp(want, "an integer");
    if (scalar(text, &d, integral ? &l : NULL, &err) != -1) return 0;
    char *msg = pz_xasprintf("t.yaml:1:4: expected %s, got '%s'%s", want, shown, why);
    int ok = !strcmp(err.msg, msg);
    if (!ok) fprintf(stderr, "\n--- want: %s\n--- got:  %s\n", msg, err.msg);
    free(msg);
    return ok;
}

static int refused(const char *text, const char *shown, const char *why)
{
    return refused_as("a number", text, shown, why);
}

/* A number is what YAML 1.2's core schema reads as one (yaml.org/spec/1.2.2, 10.3.2), also
 * quoted (a spec's JSON carries .inf and 5. as strings); what else C's strtod reads ("inf",
 * "nan", hex floats, a leading blank) is refused, naming the text and how YAML writes numbers. */
static void test_numbers_are_yaml_1_2_numbers(void)
{
    static const struct { const char *text; double value; } ok[] = {
        {"12", 12},    {"-2.5", -2.5},  {"+.5", 0.5}, {"5.", 5},     {".15", 0.15}, {"2.5e-4", 2.5e-4},
        {"1E3", 1000}, {"-1e+2", -100}, {"007", 7},   {"0x1F", 31}, {"0o17", 15},  {"\"0.25\"", 0.25},
        {".inf", INFINITY}, {"+.Inf", INFINITY}, {"-.INF", -INFINITY}, {"\"-.inf\"", -INFINITY}};
    pz_err err;
    double d;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        CU_ASSERT_TRUE(number(ok[i].text, &d, &err) == 0 && d == ok[i].value);
    CU_ASSERT_TRUE(number(".nan", &d, &err) == 0 && isnan(d));
    CU_ASSERT_TRUE(number(".NaN", &d, &err) == 0 && isnan(d));
    CU_ASSERT_TRUE(number(".NAN", &d, &err) == 0 && isnan(d));
    const char *yaml_way = " (not a number as YAML writes one: 12, -0.5, 3e-4, 0x1F, .inf, -.inf or .nan)";
    const char *c_only[] = {"inf", "-inf", "+inf", "nan", "NaN", "Infinity", "0x1p3", "0x1.8", "0X10", "-0x10"};
    for (size_t i = 0; i < sizeof c_only / sizeof *c_only; i++) CU_ASSERT_TRUE(refused(c_only[i], c_only[i], yaml_way));
    CU_ASSERT_TRUE(refused("\" 1\"", " 1", yaml_way));
    const char *not_numbers[] = {"x", ".", "1e", "e3", "1_000", "0o8", "0x", "-.nan", "1.2.3"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof *not_numbers; i++)
        CU_ASSERT_TRUE(refused(not_numbers[i], not_numbers[i], ""));
    CU_ASSERT_TRUE(refused("1e999", "1e999", " (out of a double's range)"));
    /* integers read through the same rule: 1e3 and 0x10 are integral numbers, inf is none */
    long l;
    pz_ynode *r = load("a: 1e3\nb: 0x10\nc: inf\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(pz_yscalar_long(pz_ymap_get(r, "a"), "t.yaml", &l, &err) == 0 && l == 1000);
    CU_ASSERT_TRUE(pz_yscalar_long(pz_ymap_get(r, "b"), "t.yaml", &l, &err) == 0 && l == 16);
    CU_ASSERT_EQUAL(pz_yscalar_long(pz_ymap_get(r, "c"), "t.yaml", &l, &err), -1);
    pz_ynode_free(r);
}

/* An integer is what the core schema calls one ([-+]?[0-9]+, 0o17, 0x1F), read exactly, also
 * quoted, or an integral number (1e3); a blank C's strtol would skip is refused, naming the text. */
static void test_integers_are_yaml_1_2_integers(void)
{
    static const struct { const char *text; long value; } ok[] = {
        {"12", 12},   {"+12", 12},  {"-12", -12}, {"007", 7},         {"0x1F", 31},
        {"0o17", 15}, {"1e3", 1000}, {"16.0", 16}, {"\"0x10\"", 16}, {"\"-3\"", -3},
        {"0x7FFFFFFFFFFFFFFF", LONG_MAX}, {"-9223372036854775808", LONG_MIN}};
    pz_err err;
    long l;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int good = integer(ok[i].text, &l, &err) == 0 && l == ok[i].value;
        if (!good) fprintf(stderr, "\n--- %s not read as %ld\n", ok[i].text, ok[i].value);
        CU_ASSERT_TRUE(good);
    }
    const char *yaml_way = " (not a number as YAML writes one: 12, -0.5, 3e-4, 0x1F, .inf, -.inf or .nan)";
    CU_ASSERT_TRUE(refused_as("an integer", "\" 12\"", " 12", yaml_way));
    CU_ASSERT_TRUE(refused_as("an integer", "\"\\t12\"", "\t12", yaml_way));
    CU_ASSERT_TRUE(refused_as("an integer", "\"\\n-4\"", "\n-4", yaml_way));
    CU_ASSERT_TRUE(refused_as("an integer", "0X10", "0X10", yaml_way));
    CU_ASSERT_TRUE(refused_as("an integer", "2.5", "2.5", ""));
    CU_ASSERT_TRUE(refused_as("an integer", "0x8000000000000000", "0x8000000000000000", " (out of an integer's range)"));
    CU_ASSERT_TRUE(refused_as("an integer", "99999999999999999999", "99999999999999999999", " (out of an integer's range)"));
}

static void test_errors_name_position(void)
{
    pz_err err;
    CU_ASSERT_PTR_NULL(load("a: [1, 2\nb: 3\n", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "t.yaml:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "YAML syntax error"));
    CU_ASSERT_PTR_NULL(load("a: 1\nb: 2\na: 3\n", &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:3:1: duplicate key 'a'");
    CU_ASSERT_PTR_NULL(load("a: 1\n---\nb: 2\n", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "only one YAML document"));
}

static void test_alias_bomb_is_refused(void)
{
    /* Each level doubles; 30 levels would be 2^30 nodes without the limit. */
    char text[8192] = "a0: &a0 [x, x]\n";
    for (int i = 1; i < 30; i++) {
        char line[64];
        snprintf(line, sizeof line, "a%d: &a%d [*a%d, *a%d]\n", i, i, i - 1, i - 1);
        strcat(text, line);
    }
    pz_err err;
    CU_ASSERT_PTR_NULL(load(text, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "alias bomb"));
}

static void test_aliases_keys_and_limits(void)
{
    pz_err err;
    /* Aliases expand into copies that keep the anchored node's position. */
    pz_ynode *r = load("x: &a {k: [1, 2]}\ny: *a\nz: [*a]\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    pz_ynode *y = pz_ymap_get(r, "y"), *z0 = pz_ynode_path(r, "z.0");
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    CU_ASSERT_PTR_NOT_EQUAL(y, pz_ymap_get(r, "x"));
    CU_ASSERT_EQUAL(y->line, 1);
    CU_ASSERT_EQUAL(y->col, 4); /* the anchor starts the node */
    CU_ASSERT_STRING_EQUAL(pz_ynode_path(z0, "k.1")->str, "2");
    pz_ynode_free(r);
    /* Hashed duplicate check in a big map, and a duplicate coming from an aliased key. */
    char big[4096] = "";
    for (int i = 0; i < 40; i++) snprintf(big + strlen(big), sizeof big - strlen(big), "k%d: %d\n", i, i);
    r = load(big, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    CU_ASSERT_EQUAL(r ? r->n : 0, 40);
    pz_ynode_free(r);
    strcat(big, "k17: again\n");
    CU_ASSERT_PTR_NULL(load(big, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:41:1: duplicate key 'k17'");
    CU_ASSERT_PTR_NULL(load("&k key: 1\n*k : 2\n", &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:1: duplicate key 'key'");
    CU_ASSERT_PTR_NULL(load("? [1]\n: 2\n", &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:3: mapping keys must be plain strings");
    CU_ASSERT_PTR_NULL(pz_yaml_load_string("a: \"x\\0y\"\n", 10, "t.yaml", &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:4: scalar contains a NUL character");
    CU_ASSERT_PTR_NULL(load("a: *nope\n", &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:4: YAML syntax error: found undefined alias");
    /* A syntax error later in the document wins over an earlier duplicate key. */
    CU_ASSERT_PTR_NULL(load("a: 1\na: 2\nb: [1, 2\n", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "YAML syntax error"));
    /* Nesting: 64 levels below the root load, 65 do not; an alias to its own anchor neither. */
    char deep[512] = "a: ";
    for (int i = 0; i < 65; i++) strcat(deep, "[");
    for (int i = 0; i < 65; i++) strcat(deep, "]");
    CU_ASSERT_PTR_NULL(load(deep, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:68: nesting deeper than 64 levels");
    deep[3] = ' ';
    deep[strlen(deep) - 1] = ' ';
    r = load(deep, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    pz_ynode_free(r);
    CU_ASSERT_PTR_NULL(load("a: &a [*a]\n", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nesting deeper than 64 levels"));
    /* Empty documents are empty maps. */
    r = load("# nothing\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->kind, PZ_Y_MAP);
    CU_ASSERT_EQUAL(r->n, 0);
    pz_ynode_free(r);
}

static void test_json_roundtrip_canonical(void)
{
    pz_err err;
    pz_ynode *a = load("b: [1, \"1\", true, x]\na: {z: 1, y: 'q\"'}\n", &err);
    pz_ynode *b = load("a: {y: 'q\"', z: 1}\nb: [1, \"1\", true, x]  # comment\n", &err);
    char *ja = pz_yaml_to_json(a, 1, -1), *jb = pz_yaml_to_json(b, 1, -1);
    CU_ASSERT_STRING_EQUAL(ja, jb);
    CU_ASSERT_STRING_EQUAL(ja, "{\"a\":{\"y\":\"q\\\"\",\"z\":1},\"b\":[1,\"1\",true,\"x\"]}");
    pz_ynode *c = load(ja, &err);
    char *jc = pz_yaml_to_json(c, 1, -1);
    CU_ASSERT_STRING_EQUAL(ja, jc);
    free(ja); free(jb); free(jc);
    pz_ynode_free(a); pz_ynode_free(b); pz_ynode_free(c);
}

static void test_json_escapes_yaml_line_breaks(void)
{
    /* NEL, LS, PS, C1 controls, DEL and U+FFFE would not survive a reload if written raw. */
    pz_err err;
    pz_ynode *a = load("s: \"a\\Nb\\Lc\\Pd\\x80e\\x7ff\\uFFFEg\\u00e9\"\n", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    char *ja = pz_yaml_to_json(a, 1, -1);
    CU_ASSERT_STRING_EQUAL(ja, "{\"s\":\"a\\u0085b\\u2028c\\u2029d\\u0080e\\u007ff\\ufffeg\xc3\xa9\"}");
    pz_ynode *b = load(ja, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(pz_ymap_get(a, "s")->str, pz_ymap_get(b, "s")->str);
    free(ja);
    pz_ynode_free(a);
    pz_ynode_free(b);
    /* A key too long for libyaml to read back from JSON is refused when loading. */
    char text[1100] = "{";
    memset(text + 1, 'k', 1001);
    strcpy(text + 1002, ": 1}");
    CU_ASSERT_PTR_NULL(load(text, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "t.yaml:1:2: mapping key longer than 1000 characters");
    text[1001] = ':';
    text[1002] = ' ';
    text[1003] = '1';
    text[1004] = '}';
    text[1005] = 0;
    a = load(text, &err);
    CU_ASSERT_PTR_NOT_NULL(a);
    pz_ynode_free(a);
}

static void test_spec_accessors(void)
{
    char *dir = pzt_mkdtemp("ytree");
    char *path = pz_xasprintf("%s/spec.json", dir);
    pzt_write_file(path, "{\"pzflow_spec\":1,\"stage\":\"train\",\"threads\":2,"
                         "\"params\":{\"lr\":5e-4,\"cuts\":[\"a > 1\",\"b < 2\"],\"nested\":{\"k\":3}},"
                         "\"inputs\":{\"train\":\"/x/t.h5\",\"models\":[\"/m1\",\"/m2\"]},"
                         "\"outputs\":{\"model\":\"out/model.h5\"}}");
    pz_err err;
    pz_spec *s = pz_spec_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->threads, 2);
    double lr = 1;
    CU_ASSERT_EQUAL(pz_spec_double(s, "lr", &lr, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(lr, 5e-4, 1e-12);
    double absent = 7;
    CU_ASSERT_EQUAL(pz_spec_double(s, "momentum", &absent, &err), 1);
    CU_ASSERT_EQUAL(absent, 7);
    long k;
    CU_ASSERT_EQUAL(pz_spec_long(s, "nested.k", &k, &err), 0);
    CU_ASSERT_EQUAL(k, 3);
    const char **cuts; size_t n;
    CU_ASSERT_EQUAL(pz_spec_strlist(s, "cuts", &cuts, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(cuts[1], "b < 2");
    free(cuts);
    const char **models;
    CU_ASSERT_EQUAL(pz_spec_inputs(s, "models", &models, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 2);
    free(models);
    const char *p;
    CU_ASSERT_EQUAL(pz_spec_input(s, "models", &p, &err), -1);
    CU_ASSERT_EQUAL(pz_spec_output(s, "model", &p, &err), 0);
    CU_ASSERT_STRING_EQUAL(p, "out/model.h5");
    const pz_param_def allowed[] = {{PZ_PARAM("lr", PZ_PT_FLOAT, NULL, "")}, {PZ_PARAM("cuts", PZ_PT_STRINGS, NULL, "")}, {0}};
    CU_ASSERT_EQUAL(pz_params_validate_spec(s, allowed, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'nested'"));
    pz_spec_free(s);
    pzt_rmtree(dir);
    free(dir);
    free(path);
}

int main(void)
{
    pzt_suite("ytree", (pzt_case[]){{"positions and types", test_positions_and_types},
                                    {"integers are YAML 1.2 integers", test_integers_are_yaml_1_2_integers},
                                    {"errors name position", test_errors_name_position},
                                    {"numbers are YAML 1.2 numbers", test_numbers_are_yaml_1_2_numbers},
                                    {"alias bomb refused", test_alias_bomb_is_refused},
                                    {"aliases keys limits", test_aliases_keys_and_limits},
                                    {"canonical json", test_json_roundtrip_canonical},
                                    {"json escapes line breaks", test_json_escapes_yaml_line_breaks},
                                    {"spec accessors", test_spec_accessors},
                                    {0}});
    return pzt_main();
}
