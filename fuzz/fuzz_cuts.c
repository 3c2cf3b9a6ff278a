/* Fuzz target: the quality-cut expression parser and evaluator (core/photoz/cuts.h).
 *
 * The input is read as cut expressions, one per line; each is compiled alone against a small
 * fixed table whose columns cover every column type and every kind of missing value (NaN, ±inf,
 * null integers, a string column that cuts must reject), then all lines are applied together as
 * the quality-cuts step would. 1100 rows so evaluation crosses a block boundary. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/cuts.h"

#define ROWS 1100

static pz_table *fixed_table(void)
{
    pz_table *t = pz_table_new(ROWS);
    pz_column *f64 = pz_table_add(t, "lp_zPDF", PZ_F64, 0);
    pz_column *f32 = pz_table_add(t, "i_cmodel_mag", PZ_F32, 0);
    pz_column *i64 = pz_table_add(t, "object_id", PZ_I64, 0);
    pz_column *i32 = pz_table_add(t, "lp_type", PZ_I32, 0);
    pz_column *i16 = pz_table_add(t, "flag", PZ_I16, 0);
    pz_column *u8 = pz_table_add(t, "FLAG_COMBINED", PZ_U8, 0);
    pz_column *b = pz_table_add(t, "specz_flag_homogeneous", PZ_BOOL, 0);
    pz_table_add(t, "name", PZ_STR, 8);
    i32->null = calloc(ROWS, 1);
    static const double specials[] = {NAN, INFINITY, -INFINITY, -99.0, 99.0, 0.0, -0.0, 1e308};
    for (size_t r = 0; r < ROWS; r++) {
        double v = r % 7 == 0 ? specials[(r / 7) % 8] : (double)r / 100.0;
        pz_col_set_f64(f64, r, v);
        pz_col_set_f64(f32, r, r % 5 == 0 ? specials[(r / 5) % 8] : 20.0 + (double)(r % 50) / 10.0);
        ((int64_t *)i64->data)[r] = (int64_t)r * 1000003 - (r % 2 ? INT64_MAX / 2 : 0);
        ((int32_t *)i32->data)[r] = (int32_t)(r % 4) - 1;
        i32->null[r] = r % 11 == 0;
        ((int16_t *)i16->data)[r] = (int16_t)(r % 3 ? 0 : -32768);
        ((uint8_t *)u8->data)[r] = (uint8_t)(r % 256);
        ((uint8_t *)b->data)[r] = (uint8_t)(r % 2);
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pz_table *t; /* built once: the harness must stay fast */
    if (!t) t = fixed_table();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    /* Lines become separate cuts (a NUL byte ends the text, as it would in a C string). */
    const char *cuts[16];
    size_t ncuts = 0;
    for (char *line = text; line && ncuts < 16;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cuts[ncuts++] = line;
        line = nl ? nl + 1 : NULL;
    }
    uint8_t *pass = malloc(ROWS);
    pz_err err;
    for (size_t k = 0; k < ncuts; k++) {
        pz_cut *c = pz_cut_compile(cuts[k], t, &err);
        if (c) {
            pz_cut_eval(c, t, pass);
            pz_cut_free(c);
        }
    }
    pz_cutflow flow = {0};
    pz_table *kept = pz_quality_cuts(t, cuts, ncuts, &flow, &err);
    if (flow.cuts) free(pz_cutflow_markdown(&flow));
    pz_cutflow_free(&flow);
    pz_table_free(kept);
    free(pass);
    free(text);
    return 0;
}
