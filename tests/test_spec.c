/* The spec format has one owner, util/spec.c: what its writer produces (the engine's spec.json
 * for each stage it starts) its reader loads back field by field, and the bytes are pinned so
 * a change to the format is a deliberate one (schemas/spec.md documents it). */
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/spec.h"

static char *write_example(void)
{
    pz_err err;
    pz_ynode *params = pz_yaml_load_string("{seed: 3, cuts: [a, b]}", 23, "params", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(params);
    pz_spec_writer *w = pz_spec_writer_new("train[seed=3]", 2, params);
    pz_spec_writer_param_path(w, "schema", "/data/schema.yaml");
    pz_spec_writer_input(w, "catalogue", "/cache/objects/ab/cdef");
    const char *list[] = {"/x/one.h5", "/x/two.h5"};
    pz_spec_writer_input_list(w, "models", list, 2);
    pz_spec_writer_output(w, "model", "/scratch/out/model");
    return pz_spec_writer_json(w);
}

static void test_what_the_writer_writes_the_reader_reads(void)
{
    char *dir = pzt_mkdtemp("spec"), *path = malloc(strlen(dir) + 16), *json = write_example();
    sprintf(path, "%s/spec.json", dir);
    CU_ASSERT_EQUAL_FATAL(pzt_write_file(path, json), 0);
    pz_err err;
    pz_spec *s = pz_spec_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->stage, "train[seed=3]");
    CU_ASSERT_EQUAL(s->threads, 2);
    long seed = 0;
    const char *p = NULL, **paths = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(pz_spec_long(s, "seed", &seed, &err), 0);
    CU_ASSERT_EQUAL(seed, 3);
    CU_ASSERT_EQUAL(pz_spec_str(s, "schema", &p, &err), 0);
    CU_ASSERT_STRING_EQUAL(p, "/data/schema.yaml");
    CU_ASSERT_EQUAL(pz_spec_input(s, "catalogue", &p, &err), 0);
    CU_ASSERT_STRING_EQUAL(p, "/cache/objects/ab/cdef");
    CU_ASSERT_EQUAL(pz_spec_inputs(s, "models", &paths, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 2);
    if (n == 2) CU_ASSERT_STRING_EQUAL(paths[1], "/x/two.h5");
    CU_ASSERT_EQUAL(pz_spec_output(s, "model", &p, &err), 0);
    CU_ASSERT_STRING_EQUAL(p, "/scratch/out/model");
    free(paths);
    pz_spec_free(s);
    pzt_rmtree(dir);
    free(dir);
    free(path);
    free(json);
}

static void test_the_bytes_are_sorted_and_pinned(void)
{
    char *json = write_example();
    const char *expected = "{\n"
                           "  \"inputs\": {\n"
                           "    \"catalogue\": \"/cache/objects/ab/cdef\",\n"
                           "    \"models\": [\n"
                           "      \"/x/one.h5\",\n"
                           "      \"/x/two.h5\"\n"
                           "    ]\n"
                           "  },\n"
                           "  \"outputs\": {\n"
                           "    \"model\": \"/scratch/out/model\"\n"
                           "  },\n"
                           "  \"params\": {\n"
                           "    \"cuts\": [\n"
                           "      \"a\",\n"
                           "      \"b\"\n"
                           "    ],\n"
                           "    \"schema\": \"/data/schema.yaml\",\n"
                           "    \"seed\": 3\n"
                           "  },\n"
                           "  \"pzflow_spec\": 1,\n"
                           "  \"stage\": \"train[seed=3]\",\n"
                           "  \"threads\": 2\n"
                           "}\n";
    CU_ASSERT_STRING_EQUAL(json, expected);
    if (strcmp(json, expected)) fputs(json, stderr);
    free(json);
}

static void test_an_error_names_the_pipeline_output_not_the_cache_path(void)
{
    pz_spec_writer *w = pz_spec_writer_new("train", 1, NULL);
    pz_spec_writer_input(w, "train", "/c/objects/ab/cdef");
    pz_spec_writer_source(w, "/c/objects/ab/cdef", "ingest-galaxiesml/training");
    char *json = pz_spec_writer_json(w), *dir = pzt_mkdtemp("spec2"), *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/spec.json", dir);
    CU_ASSERT_EQUAL_FATAL(pzt_write_file(path, json), 0);
    pz_err err;
    pz_spec *s = pz_spec_load(path, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(pz_spec_source(s, "/c/objects/ab/cdef"), "ingest-galaxiesml/training");
    CU_ASSERT_PTR_NULL(pz_spec_source(s, "/elsewhere.h5"));
    pz_errf(&err, "input 'train': /c/objects/ab/cdef: missing 1 column: x (and again /c/objects/ab/cdef)");
    pz_spec_name_sources(s, &err);
    CU_ASSERT_STRING_EQUAL(err.msg, "input 'train': ingest-galaxiesml/training: missing 1 column: x (and again "
                                    "ingest-galaxiesml/training)");
    pz_spec_free(s);
    pzt_rmtree(dir);
    free(dir), free(path), free(json);
}

int main(void)
{
    pzt_suite("spec", (pzt_case[]){{"what the writer writes the reader reads", test_what_the_writer_writes_the_reader_reads},
                                   {"the bytes are sorted and pinned", test_the_bytes_are_sorted_and_pinned},
                                   {"an error names the pipeline output, not the cache path",
                                    test_an_error_names_the_pipeline_output_not_the_cache_path},
                                   {0}});
    return pzt_main();
}
