/* Text that reaches gnuplot (issue 17, part 3): a label that could end a script line or run a
 * command is refused with an error naming the column and row, and ordinary punctuation, quotes
 * and gnuplot's own command words inside one line stay text. The figure writer runs the real
 * gnuplot here; the fuzz target fuzz/fuzz_plot.c checks the same invariant on arbitrary labels. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "photoz/plot.h"
#include "support/pztest.h"

static pz_table *fig2_table(const char *model)
{
    pz_table *t = pz_table_new(4);
    size_t w = strlen(model) ? strlen(model) : 1;
    pz_column *m = pz_table_add(t, "model", PZ_STR, w);
    const char *num[] = {"z_true_lo", "z_true_hi", "z_pred_lo", "z_pred_hi", "count"};
    for (int k = 0; k < 5; k++) pz_table_add(t, num[k], PZ_F64, 0);
    for (size_t r = 0; r < 4; r++) {
        memcpy((char *)m->data + r * w, model, strlen(model));
        pz_col_set_f64(pz_table_col(t, "z_true_lo"), r, (double)(r / 2));
        pz_col_set_f64(pz_table_col(t, "z_true_hi"), r, (double)(r / 2 + 1));
        pz_col_set_f64(pz_table_col(t, "z_pred_lo"), r, (double)(r % 2));
        pz_col_set_f64(pz_table_col(t, "z_pred_hi"), r, (double)(r % 2 + 1));
        pz_col_set_f64(pz_table_col(t, "count"), r, (double)(r + 1));
    }
    return t;
}

/* Draw fig2 with `model` as the label into dir/out.svg; returns pz_plot_figure's status. */
static int draw(const char *dir, const char *model, pz_err *err)
{
    pz_table *t = fig2_table(model);
    char *svg = pz_xasprintf("%s/out.svg", dir);
    int rc = pz_plot_figure("fig2", t, NULL, svg, dir, err);
    free(svg);
    pz_table_free(t);
    return rc;
}

static void test_line_breaks_and_backquotes_are_refused(void)
{
    pz_err err;
    CU_ASSERT_EQUAL(pz_plot_check_text("NN-Base", "model", &err), 0);
    CU_ASSERT_EQUAL(pz_plot_check_text("NN\n!touch /tmp/x\n#", "model", &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "model: 'NN\\n!touch /tmp/x\\n#' holds a newline at byte 2; labels reach gnuplot, "
                                    "where a line break or backquote could run shell commands, so they must be "
                                    "printable text");
    CU_ASSERT_EQUAL(pz_plot_check_text("a\rb", "m", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'a\\rb' holds a carriage return at byte 1"));
    CU_ASSERT_EQUAL(pz_plot_check_text("a\x1b[2Jb", "m", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'a\\x1b[2Jb' holds a control byte at byte 1"));
    CU_ASSERT_EQUAL(pz_plot_check_text("a`id`", "m", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "holds a backquote at byte 1"));
    CU_ASSERT_EQUAL(pz_plot_check_text("x\x7f", "m", &err), -1);
}

static void test_the_figure_writer_names_the_column_and_row_and_runs_nothing(void)
{
    char *dir = pzt_mkdtemp("plot_text");
    char *canary = pz_xasprintf("%s/pwned", dir);
    char *label = pz_xasprintf("NN\n!touch %s\n#", canary);
    pz_err err;
    CU_ASSERT_EQUAL(draw(dir, label, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fig2: input column 'model' row 0: 'NN\\n!touch "));
    CU_ASSERT_FALSE(pzt_exists(canary));
    char *svg = pz_xasprintf("%s/out.svg", dir);
    CU_ASSERT_FALSE(pzt_exists(svg)); /* refused before gnuplot ran */
    free(svg);
    free(label);
    free(canary);
    pzt_rmtree(dir);
    free(dir);
}

/* Quotes, enhanced-text specials, a macro sign and gnuplot command words on one line are text:
 * the figure is drawn and shows them, and the command in the label never runs. */
static void test_punctuation_and_command_words_on_one_line_stay_text(void)
{
    char *dir = pzt_mkdtemp("plot_text");
    char *canary = pz_xasprintf("%s/pwned", dir);
    char *label = pz_xasprintf("it's NN_Base @x \"q\" $HOME \\ !touch %s; system('touch %s')", canary, canary);
    pz_err err;
    int rc = draw(dir, label, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_FALSE(pzt_exists(canary));
    char *svg_path = pz_xasprintf("%s/out.svg", dir);
    char *svg = pzt_read_file(svg_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(svg);
    CU_ASSERT_PTR_NOT_NULL(svg && strstr(svg, "touch"));   /* drawn as the title's text */
    CU_ASSERT_PTR_NOT_NULL(svg && strstr(svg, "it's NN")); /* the doubled quote prints once */
    CU_ASSERT_PTR_NOT_NULL(svg && strstr(svg, "NN_Base"));  /* one backslash: the underscore, not a subscript */
    free(svg);
    free(svg_path);
    free(label);
    free(canary);
    pzt_rmtree(dir);
    free(dir);
}

static void test_an_attribute_with_a_newline_is_refused(void)
{
    /* attributes reach the scripts too (Figure 1's redshift labels, Figure 2's seed) */
    pz_table *t = fig2_table("NN-Base");
    pz_table_set_attr(t, "z_TransferZ", "photo-z\n!touch /tmp/x");
    pz_err err;
    CU_ASSERT_EQUAL(pz_plot_check_table(t, "input", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "input attribute 'z_TransferZ': 'photo-z\\n!touch /tmp/x' holds a newline"));
    pz_table_free(t);
}

static void test_an_output_path_with_a_newline_is_refused(void)
{
    char *dir = pzt_mkdtemp("plot_text");
    pz_table *t = fig2_table("NN-Base");
    char *svg = pz_xasprintf("%s/a\nb.svg", dir);
    pz_err err;
    CU_ASSERT_EQUAL(pz_plot_figure("fig2", t, NULL, svg, dir, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fig2: output svg path: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "holds a newline"));
    free(svg);
    pz_table_free(t);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("plot_text", (pzt_case[]){
                               {"line breaks, control bytes and backquotes are refused", test_line_breaks_and_backquotes_are_refused},
                               {"the figure writer names the column and row and runs nothing",
                                test_the_figure_writer_names_the_column_and_row_and_runs_nothing},
                               {"punctuation and command words on one line stay text",
                                test_punctuation_and_command_words_on_one_line_stay_text},
                               {"an output path with a newline is refused", test_an_output_path_with_a_newline_is_refused},
                               {"an attribute with a newline is refused", test_an_attribute_with_a_newline_is_refused},
                               {0}});
    return pzt_main();
}
