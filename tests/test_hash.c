/* Content hashes, canonical params, stage keys and the text formats of records and indexes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hash.h"
#include "engine/key.h"
#include "engine/record.h"
#include "support/pztest.h"

static void test_known_vectors(void)
{
    char h[PZ_HASH_HEX];
    pz_hash_bytes("", 0, h);
    CU_ASSERT_STRING_EQUAL(h, "99aa06d3014798d86001c324468d497f"); /* XXH3-128 of "" (xxhsum -H2) */
    CU_ASSERT_TRUE(pz_hash_valid(h));
    CU_ASSERT_FALSE(pz_hash_valid("99AA06d3014798d86001c324468d497f"));
    CU_ASSERT_FALSE(pz_hash_valid("99aa06"));
}

static void test_file_hash_matches_bytes_across_chunks(void)
{
    char *dir = pzt_mkdtemp("hash");
    char *path = pz_xasprintf("%s/f", dir);
    size_t n = 3 * 256 * 1024 + 123; /* several read chunks and a tail */
    char *data = pz_xmalloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)(i * 2654435761u >> 13);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
    char a[PZ_HASH_HEX], b[PZ_HASH_HEX];
    uint64_t nbytes = 0;
    pz_err err;
    CU_ASSERT_EQUAL(pz_hash_file(path, a, &nbytes, &err), 0);
    CU_ASSERT_EQUAL(nbytes, n);
    pz_hash_bytes(data, n, b);
    CU_ASSERT_STRING_EQUAL(a, b);
    data[n - 1] ^= 1;
    pz_hash_bytes(data, n, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    char *missing = pz_xasprintf("%s/nope", dir);
    CU_ASSERT_EQUAL(pz_hash_file(missing, a, NULL, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nope: cannot open for hashing"));
    free(missing);
    free(data);
    free(path);
    pzt_rmtree(dir);
    free(dir);
}

static char *canon(const char *yaml)
{
    pz_err err;
    pz_ynode *n = pz_yaml_load_string(yaml, strlen(yaml), "t.yaml", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    char *s = pz_params_canonical(n);
    pz_ynode_free(n);
    return s;
}

static void test_canonical_params(void)
{
    char *a = canon("lr: 5e-4\nopt: {b: 1, a: 2.50}\n");
    char *b = canon("# a comment\nopt: {a: 2.5, b: 1}\nlr: 0.0005\n");
    char *c = canon("lr: 5.0E-4\nopt: {a: 25e-1, b: 1}\n");
    char *d = canon("lr: \"5e-4\"\nopt: {a: 2.5, b: 1}\n");
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_STRING_EQUAL(a, c);
    CU_ASSERT_STRING_EQUAL(a, "{\"lr\":0.0005,\"opt\":{\"a\":2.5,\"b\":1}}");
    CU_ASSERT_STRING_NOT_EQUAL(a, d); /* a quoted string is a string */
    char *e = canon("n: 100.0\nbig: 12345678901234567890\nx: 1e999\ny: 0.1\n");
    CU_ASSERT_STRING_EQUAL(e, "{\"big\":12345678901234567890,\"n\":100,\"x\":1e999,\"y\":0.1}");
    free(a), free(b), free(c), free(d), free(e);
}

/* YAML 1.2 reads these as numbers: the same number is the same key however it is spelled. */
static void test_canonical_params_read_numbers_as_yaml_1_2(void)
{
    char *a = canon("p: 0.15\nq: 5\nr: 0.5\n");
    char *b = canon("p: .15\nq: +5\nr: +.5\n");
    char *c = canon("p: +0.15\nq: 5.\nr: 5E-1\n");
    CU_ASSERT_STRING_EQUAL(a, "{\"p\":0.15,\"q\":5,\"r\":0.5}");
    CU_ASSERT_STRING_EQUAL(b, a);
    CU_ASSERT_STRING_EQUAL(c, a);
    char *d = canon("a: .inf\nb: -.Inf\nc: +.INF\nd: .NaN\ne: inf\nf: \".15\"\n");
    /* JSON has no infinity: the canonical spellings stay strings; "inf" and quoted text are text. */
    CU_ASSERT_STRING_EQUAL(d, "{\"a\":\".inf\",\"b\":\"-.inf\",\"c\":\".inf\",\"d\":\".nan\",\"e\":\"inf\",\"f\":\".15\"}");
    free(a), free(b), free(c), free(d);
}

/* An integer is its value however YAML 1.2 spells it, and the usual spelling keeps its bytes
 * (and so every cached key): 16, -5, 0, and a -0 that keeps its sign like the float -0.0. */
static void test_an_integer_in_any_spelling_is_its_decimal_value(void)
{
    char *a = canon("n: 16\nm: -5\nz: 0\nnz: -0\nbig: 18446744073709551615\n");
    CU_ASSERT_STRING_EQUAL(a, "{\"big\":18446744073709551615,\"m\":-5,\"n\":16,\"nz\":-0,\"z\":0}");
    char *b = canon("n: 0x10\nm: -005\nz: 0o0\nnz: -00\nbig: 0xFFFFFFFFFFFFFFFF\n");
    char *c = canon("n: 0o20\nm: -5.0\nz: +0\nnz: -0\nbig: 0o1777777777777777777777\n");
    char *d = canon("n: +016\nm: -5\nz: 000\nnz: -0\nbig: +018446744073709551615\n");
    CU_ASSERT_STRING_EQUAL(b, a);
    CU_ASSERT_STRING_EQUAL(c, a);
    CU_ASSERT_STRING_EQUAL(d, a);
    /* not integers to YAML 1.2 (or beyond 64 bits): kept as text */
    char *e = canon("a: 0X10\nb: -0x10\nc: \"0x10\"\nd: 0x10000000000000000\n");
    CU_ASSERT_STRING_EQUAL(e, "{\"a\":\"0X10\",\"b\":\"-0x10\",\"c\":\"0x10\",\"d\":\"0x10000000000000000\"}");
    free(a), free(b), free(c), free(d), free(e);
}

static pz_record *sample_record(void)
{
    pz_record *r = pz_xcalloc(1, sizeof *r);
    r->stage = pz_xstrdup("train base[3]");
    r->format = PZ_STAGE_FORMAT;
    memcpy(r->exe_hash, "0123456789abcdef0123456789abcdef", PZ_HASH_HEX);
    r->exe_path = pz_xstrdup("/bin/with space/pzflow-x");
    r->threads = 2;
    r->params = pz_xstrdup("{\"lr\":0.0005}");
    r->params_text = pz_xstrdup("{\"lr\":5e-4}");
    pz_record_add_input(r, "cat", 0);
    pz_record_input_push(&r->inputs[0], "11111111111111111111111111111111");
    pz_record_add_input(r, "models", 1);
    pz_record_input_push(&r->inputs[1], "22222222222222222222222222222222");
    pz_record_input_push(&r->inputs[1], "33333333333333333333333333333333");
    r->out_names = pz_xcalloc(1, sizeof *r->out_names);
    r->out_hashes = pz_xcalloc(1, sizeof *r->out_hashes);
    r->out_names[0] = pz_xstrdup("model");
    memcpy(r->out_hashes[0], "44444444444444444444444444444444", PZ_HASH_HEX);
    r->noutputs = 1;
    r->start_ns = 1700000000000000000LL;
    r->end_ns = 1700000001500000000LL;
    pz_record_compute_key(r);
    return r;
}

static void test_record_roundtrip_and_key(void)
{
    pz_record *r = sample_record();
    char *text = pz_record_format(r);
    pz_err err;
    pz_record *back = pz_record_parse(text, "rec", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    char *again = pz_record_format(back);
    CU_ASSERT_STRING_EQUAL(text, again);
    CU_ASSERT_STRING_EQUAL(back->stage, "train base[3]");
    CU_ASSERT_STRING_EQUAL(back->exe_path, "/bin/with space/pzflow-x");
    CU_ASSERT_EQUAL(back->inputs[1].nhashes, 2);
    /* A new record names the pzflow that ran it (for `pzflow provenance`; not in the key). */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\npzflow " PZ_VERSION "\n"));
    CU_ASSERT_STRING_EQUAL(back->pzflow_version, PZ_VERSION);
    /* The key ignores names and times, and sees every ingredient. */
    char key[PZ_HASH_HEX];
    memcpy(key, back->key, PZ_HASH_HEX);
    free(back->stage);
    back->stage = pz_xstrdup("renamed");
    back->end_ns++;
    pz_record_compute_key(back);
    CU_ASSERT_STRING_EQUAL(back->key, key);
    back->threads = 1;
    pz_record_compute_key(back);
    CU_ASSERT_STRING_NOT_EQUAL(back->key, key);
    back->threads = 2;
    back->inputs[1].is_list = 0;
    pz_record_compute_key(back);
    CU_ASSERT_STRING_NOT_EQUAL(back->key, key);
    /* Damaged records are refused with the line. */
    char *bad = pz_xstrdup(text);
    char *p = strstr(bad, "output model ");
    p[13] = 'Z';
    CU_ASSERT_PTR_NULL(pz_record_parse(bad, "rec", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rec:12: malformed run record line"));
    free(bad);
    free(text);
    free(again);
    pz_record_free(r);
    pz_record_free(back);
}

/* Keys hash numbers as their decimal text: the hand-written formatting (a no-op check's hot
 * spot with 3000 instances) must give exactly printf's text, or every key would change. */
static void test_numbers_hash_as_their_printf_text(void)
{
    const long values[] = {0, 1, -1, 7, 10, -10, 123456789, LONG_MAX, LONG_MIN};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char text[32], a[PZ_HASH_HEX], b[PZ_HASH_HEX];
        snprintf(text, sizeof text, "%ld", values[i]);
        pz_hasher *h = pz_hasher_new();
        pz_hasher_long(h, values[i]);
        pz_hasher_final(h, a);
        h = pz_hasher_new();
        pz_hasher_str(h, text);
        pz_hasher_final(h, b);
        CU_ASSERT_STRING_EQUAL(a, b);
    }
}

/* Outputs are found by binary search in a record sorted by name (a partition stage has a
 * thousand), and still found in one that is not sorted (a record written by hand). */
static void test_a_record_output_is_found_sorted_or_not(void)
{
    pz_record *r = pz_xcalloc(1, sizeof *r);
    const char *names[] = {"0", "1", "10", "100", "11", "2", "zeta", "alpha"}; /* sorted, then two out of order */
    char hash[PZ_HASH_HEX];
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        pz_hash_bytes(names[k], strlen(names[k]), hash);
        pz_record_add_output(r, names[k], hash);
    }
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        pz_hash_bytes(names[k], strlen(names[k]), hash);
        const char *got = pz_record_output(r, names[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, hash);
    }
    CU_ASSERT_PTR_NULL(pz_record_output(r, "3"));
    pz_record_free(r);
}

static void test_index_and_escape(void)
{
    char *e = pz_escape("a b%c\n");
    CU_ASSERT_STRING_EQUAL(e, "a%20b%25c%0A");
    char *u = pz_unescape(e);
    CU_ASSERT_STRING_EQUAL(u, "a b%c\n");
    CU_ASSERT_PTR_NULL(pz_unescape("%zz"));
    free(e), free(u);
    pz_index *ix = pz_index_new("/p/x y.yaml");
    pz_index_entry *en = pz_index_put(ix, "train[1]");
    memcpy(en->key, "55555555555555555555555555555555", PZ_HASH_HEX);
    en->failed_status = 3;
    pz_index_put(ix, "never");
    char *text = pz_index_format(ix);
    pz_err err;
    pz_index *back = pz_index_parse(text, "ix", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_STRING_EQUAL(back->pipeline, "/p/x y.yaml");
    CU_ASSERT_EQUAL(back->n, 2);
    CU_ASSERT_EQUAL(pz_index_get(back, "train[1]")->failed_status, 3);
    CU_ASSERT_STRING_EQUAL(pz_index_get(back, "never")->key, "");
    free(text);
    pz_index_free(ix);
    pz_index_free(back);
}

int main(void)
{
    pzt_suite("hash", (pzt_case[]){{"known vectors", test_known_vectors},
                                   {"file hash across chunks", test_file_hash_matches_bytes_across_chunks},
                                   {"canonical params", test_canonical_params},
                                   {"canonical params read numbers as YAML 1.2", test_canonical_params_read_numbers_as_yaml_1_2},
                                   {"an integer in any spelling is its decimal value", test_an_integer_in_any_spelling_is_its_decimal_value},
                                   {"record roundtrip and key", test_record_roundtrip_and_key},
                                   {"numbers hash as their printf text", test_numbers_hash_as_their_printf_text},
                                   {"a record output is found, sorted or not", test_a_record_output_is_found_sorted_or_not},
                                   {"index and escaping", test_index_and_escape},
                                   {0}});
    return pzt_main();
}
