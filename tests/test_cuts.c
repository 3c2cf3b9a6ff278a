/* The quality-cut expression language: results row by row, precedence, chained comparisons,
 * missing values, and every error message with its position. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/cuts.h"
#include "support/pztest.h"

#define NROWS 6

/* a: 0.5 1 2 4 5 NaN     b (float): 1..6     n (int32): 0 1 0 null 2 0
 * flag (bool): 1 0 1 0 1 0     s: strings */
static pz_table *small_table(void)
{
    static const double a[NROWS] = {0.5, 1, 2, 4, 5, NAN};
    static const int32_t n[NROWS] = {0, 1, 0, -99, 2, 0};
    static const uint8_t flag[NROWS] = {1, 0, 1, 0, 1, 0};
    pz_table *t = pz_table_new(NROWS);
    pz_column *ca = pz_table_add(t, "a", PZ_F64, 0);
    memcpy(ca->data, a, sizeof a);
    pz_column *cb = pz_table_add(t, "b", PZ_F32, 0);
    for (int i = 0; i < NROWS; i++) ((float *)cb->data)[i] = (float)(i + 1);
    pz_column *cn = pz_table_add(t, "n", PZ_I32, 0);
    memcpy(cn->data, n, sizeof n);
    cn->null = calloc(NROWS, 1);
    cn->null[3] = 1;
    pz_column *cf = pz_table_add(t, "flag", PZ_BOOL, 0);
    memcpy(cf->data, flag, sizeof flag);
    pz_column *cs = pz_table_add(t, "s", PZ_STR, 4);
    memcpy(cs->data, "aaaabbbbccccddddeeeeffff", 24);
    /* HSC-like object IDs beyond 2^53, where neighbours share one double; the last is null */
    static const int64_t id[NROWS] = {43158176442374224, 43158176442374225, 43158176442374226, -7, 0,
                                      43158176442374225};
    pz_column *cid = pz_table_add(t, "id", PZ_I64, 0);
    memcpy(cid->data, id, sizeof id);
    cid->null = calloc(NROWS, 1);
    cid->null[5] = 1;
    return t;
}

/* The pass mask of one cut as a string of 0/1, or the error message. */
static char *run_cut(const char *expr)
{
    static char out[PZ_ERR_MAX + 8];
    pz_table *t = small_table();
    pz_err err;
    pz_cut *cut = pz_cut_compile(expr, t, &err);
    if (!cut) {
        snprintf(out, sizeof out, "ERR %s", err.msg);
    } else {
        uint8_t pass[NROWS];
        pz_cut_eval(cut, t, pass);
        for (int i = 0; i < NROWS; i++) out[i] = pass[i] ? '1' : '0';
        out[NROWS] = 0;
        pz_cut_free(cut);
    }
    pz_table_free(t);
    return out;
}

#define MASK(expr, want) CU_ASSERT_STRING_EQUAL(run_cut(expr), want)

static void test_comparisons_and_chains(void)
{
    MASK("a < 1", "100000");
    MASK("a <= 1", "110000");
    MASK("a > 2", "000110");
    MASK("a >= 2", "001110");
    MASK("a == 4", "000100");
    MASK("0 < a <= 4", "111100");
    MASK("1 <= a < 5", "011100");
    MASK("0 < a < b < 5", "111000");  /* a < b holds everywhere but the NaN row */
    MASK("5 > a > 1", "001100");
}

static void test_int64_compares_exactly(void)
{
    MASK("id == 43158176442374225", "010000");
    MASK("id != 43158176442374225", "101110"); /* the null row passes neither == nor != */
    MASK("id > 43158176442374224", "011000");
    MASK("id <= 43158176442374225", "110110");
    MASK("43158176442374224 < id < 43158176442374226", "010000");
    MASK("id == -7", "000100");
    MASK("id >= -(7)", "111110");
    MASK("id == id", "111110");
    /* arithmetic leaves int64: done in double, as documented */
    MASK("id + 0 == 43158176442374225", "111000");
    MASK("id == 4.3158176442374225e16", "111000");
}

static void test_precedence_and_arithmetic(void)
{
    MASK("1 + 2 * 3 == 7", "111111");
    MASK("(1 + 2) * 3 == 9", "111111");
    MASK("10 - 4 - 3 == 3", "111111");   /* left-associative */
    MASK("8 / 4 / 2 == 1", "111111");
    MASK("-2 * -3 == 6", "111111");
    MASK("-a < -1", "001110");
    MASK("2 * b == b + b", "111111");
    MASK("1e1 > 9.5 && .5 < 1 && 2.5E-1 == 0.25", "111111");
    MASK("b - a < 0.5 + 0.25", "100110");
    MASK("abs(a - 3) < 1.5", "001100");
    MASK("sqrt(b) == 2 || log10(a) == 0", "010100");
    MASK("min(a, b) >= 1", "011110");
    MASK("max(a, 3) == 3", "111000");
    MASK("isfinite(a) + isfinite(b) == 2", "111110");
    /* && binds tighter than ||; not/! looser than comparisons */
    MASK("a > 1 and not b < 2 or flag", "101110");
    MASK("a > 1 && (b < 4 || flag)", "001010");
    MASK("a > 4 || a < 1 && flag", "100010");
    MASK("!a == 1", "101111");          /* as Python's not: !(a == 1) */
    MASK("!a", "ERR column 2: '!' needs a condition here (a comparison, isfinite(), ...), not a number\n"
               "    !a\n     ^");
    MASK("!(a == 1)", "101111");
    MASK("not not flag", "101010");
    MASK("true", "111111");
    MASK("false || `a` < 1", "100000");
}

static void test_missing_values(void)
{
    MASK("a != 1", "101110");       /* NaN compares false, != included */
    MASK("!(a == 1)", "101111");    /* ... but negating a false comparison is true */
    MASK("isnan(a)", "000001");
    MASK("isfinite(a)", "111110");
    MASK("a == a", "111110");
    MASK("n == 0", "101001");       /* null integer: missing */
    MASK("n != 0", "010010");
    MASK("n >= 0", "111011");
    MASK("isnan(n)", "000100");
    MASK("flag", "101010");
    MASK("flag == 1", "101010");
    MASK("min(a, 10) > 0", "111110");
}

#define ERR(expr, want) CU_ASSERT_STRING_EQUAL(run_cut(expr), "ERR " want)
/* Only the first line (the caret lines are checked in test_caret). */
static void err_first_line(const char *expr, const char *want)
{
    char *msg = run_cut(expr);
    char *nl = strchr(msg, '\n');
    if (nl) *nl = 0;
    CU_ASSERT_STRING_EQUAL(msg, want);
    if (strcmp(msg, want) != 0) fprintf(stderr, "\n  cut '%s'\n  got  '%s'\n  want '%s'\n", expr, msg, want);
}

static void test_error_messages(void)
{
    err_first_line("a <= ", "ERR column 5: expected a number or column name, got the end of the cut");
    err_first_line("", "ERR column 1: empty cut");
    err_first_line("   ", "ERR column 1: empty cut");
    err_first_line("a < 1 b", "ERR column 7: unexpected 'b' after a complete expression (missing '&&'?)");
    err_first_line("(a < 1", "ERR column 7: expected ')' to close the '(' at column 1, got the end of the cut");
    err_first_line("(a < 1))", "ERR column 8: unexpected ')' after a complete expression (missing '&&'?)");
    err_first_line("a = 1", "ERR column 3: '=' is not a comparison; write '==' for equality");
    err_first_line("aa < 1", "ERR column 1: unknown column 'aa' (did you mean 'a'?)");
    err_first_line("FLAG == 0", "ERR column 1: unknown column 'FLAG' (did you mean 'flag'?)");
    err_first_line("a < 1 && zzzzzz > 2", "ERR column 10: unknown column 'zzzzzz'");
    err_first_line("foo(a) < 1", "ERR column 1: unknown function 'foo'");
    err_first_line("abs(a, b) < 1", "ERR column 1: abs() takes 1 argument, got 2");
    err_first_line("min(a) < 1", "ERR column 1: min() takes 2 arguments, got 1");
    err_first_line("abs(a < 1", "ERR column 10: expected ',' or ')' in the call of abs(), got the end of the cut");
    err_first_line("a", "ERR column 1: a cut must be a condition (a comparison, isfinite(), ...), this is a number");
    err_first_line("a + 1", "ERR column 1: a cut must be a condition (a comparison, isfinite(), ...), this is a number");
    err_first_line("a && b > 1", "ERR column 1: '&&' needs a condition here (a comparison, isfinite(), ...), not a number");
    err_first_line("flag or b", "ERR column 9: 'or' needs a condition here (a comparison, isfinite(), ...), not a number");
    err_first_line("s == 1", "ERR column 1: column 's' holds strings; cuts compare numbers");
    err_first_line("a < 1.2.3", "ERR column 5: malformed number '1.2.3'");
    err_first_line("a < 3x", "ERR column 5: malformed number '3x'");
    err_first_line("a < $", "ERR column 5: unexpected character '$'");
    err_first_line("a < 1 # note", "ERR column 7: unexpected '#' after a complete expression (missing '&&'?)");
    err_first_line("not", "ERR column 4: expected a number or column name, got the end of the cut");
    err_first_line("a < and", "ERR column 5: expected a number or column name, got the keyword 'and' "
                              "(quote odd column names in backticks: `and`)");
    err_first_line("`` < 1", "ERR column 1: unterminated or empty `quoted` column name");
    err_first_line("`a < 1", "ERR column 1: unterminated or empty `quoted` column name");
    err_first_line("a < * 2", "ERR column 5: expected a number or column name, got '*'");
}

static void test_caret_and_column_list(void)
{
    ERR("a <= ", "column 5: expected a number or column name, got the end of the cut\n    a <= \n        ^");
    ERR("aa < 1", "column 1: unknown column 'aa' (did you mean 'a'?)\n    aa < 1\n    ^\n"
                  "available columns: a, b, n, flag, s, id");
    ERR("b >\t", "column 4: expected a number or column name, got the end of the cut\n    b > \n       ^");
}

static void test_deep_nesting_is_an_error(void)
{
    char expr[2100];
    memset(expr, '(', 1000);
    strcpy(expr + 1000, "a < 1");
    memset(expr + 1005, ')', 1000);
    expr[2005] = 0;
    err_first_line(expr, "ERR column 201: expression nested too deeply");
    memset(expr, '-', 1000);
    strcpy(expr + 1000, "a < 1");
    char *msg = run_cut(expr);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "nested too deeply"));
    for (int i = 0; i < 1000; i++) expr[i] = i % 2 ? ' ' : '!';
    strcpy(expr + 1000, "flag");
    CU_ASSERT_PTR_NOT_NULL(strstr(run_cut(expr), "nested too deeply"));
    MASK("((((a < 1))))", "100000");
}

static void test_cutflow_and_table(void)
{
    pz_table *t = small_table();
    const char *cuts[] = {"isfinite(a)", "a > 0.7", "n == 0"};
    pz_cutflow flow;
    pz_err err;
    pz_table *out = pz_quality_cuts(t, cuts, 3, &flow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(flow.nrows, 6);
    CU_ASSERT_EQUAL(flow.left[0], 5);
    CU_ASSERT_EQUAL(flow.left[1], 4);
    CU_ASSERT_EQUAL(flow.left[2], 1);
    CU_ASSERT_EQUAL(out->nrows, 1);
    CU_ASSERT_DOUBLE_EQUAL(((double *)pz_table_col(out, "a")->data)[0], 2.0, 0);
    const char *want = "| # | cut | rows left | removed | kept % |\n|---|---|---:|---:|---:|\n"
                       "| 0 | (input) | 6 | | 100.00 |\n"
                       "| 1 | `isfinite(a)` | 5 | 1 | 83.33 |\n"
                       "| 2 | `a > 0.7` | 4 | 1 | 66.67 |\n"
                       "| 3 | `n == 0` | 1 | 3 | 16.67 |\n";
    char *md = pz_cutflow_markdown(&flow);
    CU_ASSERT_STRING_EQUAL(md, want);
    CU_ASSERT_PTR_NULL(pz_table_attr(out, "cutflow")); /* the rows only: early cutoff */
    free(md);
    pz_cutflow_free(&flow);
    pz_table_free(out);

    /* A '|' inside a cut must not break the Markdown table. */
    const char *orcut[] = {"a < 1 || a > 4"};
    out = pz_quality_cuts(t, orcut, 1, &flow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    md = pz_cutflow_markdown(&flow);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| 1 | `a < 1 \\|\\| a > 4` | 2 | 4 | 33.33 |"));
    free(md);
    pz_cutflow_free(&flow);
    pz_table_free(out);
    pz_table_free(t);
}

static void test_zero_rows_and_parse_errors_name_the_cut(void)
{
    pz_table *t = small_table();
    pz_cutflow flow;
    pz_err err;
    const char *none[] = {"a > 1", "b < 2", "flag"};
    CU_ASSERT_PTR_NULL(pz_quality_cuts(t, none, 3, &flow, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "no rows left after cut 2 'b < 2' (3 rows before it)");
    CU_ASSERT_EQUAL(flow.left[0], 3);
    CU_ASSERT_EQUAL(flow.left[1], 0);
    CU_ASSERT_EQUAL(flow.left[2], 0);
    pz_cutflow_free(&flow);

    /* Every cut is compiled before any is evaluated: the typo in cut 3 is reported. */
    const char *bad[] = {"a > 1", "flag", "lp_zPDF <= "};
    CU_ASSERT_PTR_NULL(pz_quality_cuts(t, bad, 3, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cut 3 'lp_zPDF <= ': column 1: unknown column 'lp_zPDF'"));
    const char *bad2[] = {"a <= "};
    CU_ASSERT_PTR_NULL(pz_quality_cuts(t, bad2, 1, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cut 1 'a <= ': column 5: expected a number or column name"));
    pz_table_free(t);
}

static void test_many_rows_blocks(void)
{
    /* More rows than one evaluation block, odd count, to cover the block edges. */
    size_t n = 5000 + 17;
    pz_table *t = pz_table_new(n);
    pz_column *x = pz_table_add(t, "x", PZ_I64, 0);
    for (size_t i = 0; i < n; i++) ((int64_t *)x->data)[i] = (int64_t)i;
    const char *cuts[] = {"x >= 1000", "x - 2 * (x / 2) == 0", "x < 4100"};
    pz_cutflow flow;
    pz_err err;
    pz_table *out = pz_quality_cuts(t, cuts, 3, &flow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(flow.left[0], n - 1000);
    CU_ASSERT_EQUAL(flow.left[1], n - 1000); /* x / 2 is real division: x - x == 0 */
    CU_ASSERT_EQUAL(flow.left[2], 3100);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(out, "x")->data)[3099], 4099);
    pz_cutflow_free(&flow);
    pz_table_free(out);
    pz_table_free(t);
}

/* Random token soup: every input either compiles or gets a positioned message, never a crash
 * (the ASan build runs this too). */
static void test_random_inputs_never_crash(void)
{
    static const char *const toks[] = {"a", "b", "n", "flag", "s", "1", "2.5", "1e3", "(", ")", "<", "<=", "==",
                                       "!=", ">", "&&", "||", "!", "not", "and", "or", "+", "-", "*", "/",
                                       "abs(", "min(", ",", "isfinite(", "`a`", "`", "=", "$", " ", "1.2.3",
                                       "true", "zz"};
    const int ntok = sizeof toks / sizeof *toks;
    pz_table *t = small_table();
    unsigned long x = 12345;
    int compiled = 0, failed_well = 0;
    for (int it = 0; it < 20000; it++) {
        char expr[256] = "";
        int len = 1 + (int)(it % 12);
        for (int k = 0; k < len; k++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            strcat(expr, toks[(x >> 33) % (unsigned long)ntok]);
        }
        pz_err err;
        pz_cut *cut = pz_cut_compile(expr, t, &err);
        if (cut) {
            uint8_t pass[NROWS];
            pz_cut_eval(cut, t, pass);
            pz_cut_free(cut);
            compiled++;
        } else {
            failed_well += strncmp(err.msg, "column ", 7) == 0;
        }
    }
    CU_ASSERT_EQUAL(compiled + failed_well, 20000);
    CU_ASSERT_TRUE(compiled > 100);
    pz_table_free(t);
}

int main(void)
{
    pzt_suite("cuts", (pzt_case[]){{"comparisons and chains", test_comparisons_and_chains},
                                   {"int64 compares exactly", test_int64_compares_exactly},
                                   {"precedence and arithmetic", test_precedence_and_arithmetic},
                                   {"missing values", test_missing_values},
                                   {"error messages", test_error_messages},
                                   {"caret and column list", test_caret_and_column_list},
                                   {"deep nesting", test_deep_nesting_is_an_error},
                                   {"cut-flow table", test_cutflow_and_table},
                                   {"zero rows and named cuts", test_zero_rows_and_parse_errors_name_the_cut},
                                   {"block edges", test_many_rows_blocks},
                                   {"random inputs", test_random_inputs_never_crash},
                                   {0}});
    return pzt_main();
}
