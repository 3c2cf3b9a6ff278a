/* The string builder every emitter (YAML/JSON, DOT, status reasons, cut-flow tables) writes into. */
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/sbuf.h"

static void test_grows_across_capacity(void)
{
    pz_sbuf b = {0};
    char want[5001];
    for (int i = 0; i < 5000; i++) {
        char c = (char)('a' + i % 26);
        pz_sb_put(&b, &c, 1);
        want[i] = c;
    }
    want[5000] = 0;
    CU_ASSERT_EQUAL(b.len, 5000);
    CU_ASSERT_TRUE(b.cap > b.len);
    CU_ASSERT_STRING_EQUAL(b.p, want);
    free(b.p);
}

static void test_printf_longer_than_buffer(void)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "x=");
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    pz_sb_printf(&b, "%s|%d|%.2f", big, 42, 0.5);
    CU_ASSERT_EQUAL(b.len, 2 + 999 + 1 + 2 + 1 + 4);
    CU_ASSERT_EQUAL(strlen(b.p), b.len); /* NUL kept at len, nothing beyond */
    CU_ASSERT_STRING_EQUAL(b.p + b.len - 8, "|42|0.50");
    free(b.p);
}

static void test_empty_append_gives_a_string(void)
{
    pz_sbuf b = {0};
    pz_sb_puts(&b, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.p);
    CU_ASSERT_STRING_EQUAL(b.p, "");
    pz_sb_printf(&b, "%s", "");
    CU_ASSERT_EQUAL(b.len, 0);
    pz_sb_put(&b, "ab\0cd", 5); /* bytes, not a C string: embedded NUL kept */
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_EQUAL(memcmp(b.p, "ab\0cd", 6), 0);
    free(b.p);
}

int main(void)
{
    pzt_suite("sbuf", (pzt_case[]){{"grows across capacity", test_grows_across_capacity},
                                   {"printf longer than the buffer", test_printf_longer_than_buffer},
                                   {"empty appends", test_empty_append_gives_a_string},
                                   {0}});
    return pzt_main();
}
