/* Dataset schemas: every shipped schema loads, templates expand per band and variant, and a file
 * missing or mistyping columns gets one error listing all of them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/schema.h"

static char *tmpdir;

static void test_shipped_schemas_load(void)
{
    const char *names[] = {"cosmos2020_classic", "cosmos2020_farmer", "hsc_pdr2", "hsc_pdr3", "galaxiesml", "transferz"};
    pz_err err;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        pz_schema *s = pz_schema_load(names[i], NULL, &err);
        if (!s) fprintf(stderr, "%s\n", err.msg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_STRING_EQUAL(s->id, names[i]);
        CU_ASSERT_PTR_NOT_NULL(pz_schema_find(s, "ra"));
        pz_schema_free(s);
    }
}

static void test_variants_and_bands(void)
{
    pz_err err;
    pz_schema *s = pz_schema_load("cosmos2020_classic", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->variant, "aper2");
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "z_magerr")->name, "HSC_z_MAGERR_APER2");
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "total_off")->name, "total_off2");
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "ra")->unit, "deg");
    CU_ASSERT_EQUAL(pz_schema_find(s, "lp_type")->null, PZ_NULL_MASK);
    pz_schema_free(s);
    s = pz_schema_load("cosmos2020_classic", "auto", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "g_flux")->name, "HSC_g_FLUX_AUTO");
    CU_ASSERT_PTR_NULL(pz_schema_find(s, "total_off")); /* AUTO has no aperture offset */
    pz_schema_free(s);
    CU_ASSERT_PTR_NULL(pz_schema_load("cosmos2020_classic", "aper9", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "has no variant 'aper9' (have: aper2, aper3, auto)"));
    CU_ASSERT_PTR_NULL(pz_schema_load("cosmos2020_farmer", "aper2", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "has no variants, cannot select 'aper2'"));

    s = pz_schema_load("hsc_pdr3", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "i_cmodel_magsigma")->name, "i_cmodel_magerr");
    pz_schema_free(s);
}

static void test_bad_schema_files(void)
{
    pz_err err;
    char *p = pz_xasprintf("%s/bad.yaml", tmpdir);
    pzt_write_file(p, "schema: x\ncolumns:\n  - {canonical: a, name: A, type: float64}\n");
    CU_ASSERT_PTR_NULL(pz_schema_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.yaml:3:35: unknown type 'float64'"));
    pzt_write_file(p, "schema: x\ncolumns:\n  - {canonical: a, name: A, type: f64, colour: red}\n");
    CU_ASSERT_PTR_NULL(pz_schema_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.yaml:3:40: unknown column key 'colour'"));
    pzt_write_file(p, "schema: x\ncolumns:\n  - {canonical: \"{b}_m\", name: \"M_{b}\", type: f64}\n");
    CU_ASSERT_PTR_NULL(pz_schema_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'M_{b}' uses {b} but the schema has no bands"));
    pzt_write_file(p, "schema: x\nbands: [g]\ncolumns:\n  - {canonical: a, name: A, type: f64}\n  - {canonical: a, name: B, type: f64}\n");
    CU_ASSERT_PTR_NULL(pz_schema_load(p, NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.yaml:5: canonical name 'a' used twice (also line 4)"));
    CU_ASSERT_PTR_NULL(pz_schema_load("no_such_dataset", NULL, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "schema 'no_such_dataset': "));
    free(p);
}

/* A HSC-like file with three required columns missing and two of the wrong type. */
static void test_missing_and_mistyped_listed_together(void)
{
    char *path = pz_xasprintf("%s/hsc.fits", tmpdir);
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import sys, numpy as np; from astropy.table import Table; t = Table(); n = 3\n"
                     "t['object_id'] = np.arange(n, dtype=np.int64); t['ra'] = np.zeros(n); t['dec'] = np.array(['a','b','c'])\n"
                     "for b in 'grizy':\n"
                     "    t[b + '_cmodel_mag'] = np.zeros(n, dtype=np.float32)\n"
                     "    t[b + '_cmodel_magsigma'] = np.zeros(n, dtype=np.float32)\n"
                     "    if b != 'z': t['a_' + b] = np.zeros(n, dtype=np.float32)\n"
                     "del t['y_cmodel_magsigma']; t['tract'] = np.zeros(n); del t['g_cmodel_mag']\n"
                     "t.write(sys.argv[1], overwrite=True)\" %s",
                     pzt_python(), path);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    pz_err err;
    pz_schema *s = pz_schema_load("hsc_pdr2", NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    pz_table *t = NULL;
    CU_ASSERT_EQUAL(pz_schema_read(s, path, 0, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hsc.fits (schema hsc_pdr2): missing 3 columns: a_z, g_cmodel_mag, y_cmodel_magsigma; "
                                           "mistyped 2: dec (str, expected f64), tract (f64, expected i32)"));
    pz_schema_free(s);

    /* PDR3 names do not satisfy PDR2 and vice versa: the error names the PDR3 spellings */
    s = pz_schema_load("hsc_pdr3", NULL, &err);
    CU_ASSERT_EQUAL(pz_schema_read(s, path, 0, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "g_cmodel_magerr, r_cmodel_magerr"));
    pz_schema_free(s);
    free(path);
}

/* Reading through a schema: renames, type conversion, sentinel nulls, pass-through, HDF5. */
static void test_read_converts(void)
{
    char *ypath = pz_xasprintf("%s/s.yaml", tmpdir);
    pzt_write_file(ypath, "schema: small\nformat: hdf5\nbands: [g, r]\ncolumns:\n"
                          "  - {canonical: id, name: ID, type: i64}\n"
                          "  - {canonical: \"{b}_m\", name: \"MAG_{b}\", type: f64, null: -99, unit: mag}\n"
                          "  - {canonical: flag, name: Flag, type: i16, null: -1}\n"
                          "  - {canonical: extra, name: nothere, type: f32, required: false}\n");
    pz_table *src = pz_table_new(3);
    pz_column *id = pz_table_add(src, "ID", PZ_I32, 0);
    pz_column *g = pz_table_add(src, "MAG_g", PZ_F32, 0);
    pz_column *r = pz_table_add(src, "mag_r", PZ_F32, 0); /* case differs: still found */
    pz_column *f = pz_table_add(src, "Flag", PZ_I32, 0);
    pz_column *o = pz_table_add(src, "other", PZ_F64, 0);
    for (size_t i = 0; i < 3; i++) {
        pz_col_set_f64(id, i, 10 + (double)i);
        pz_col_set_f64(g, i, i == 1 ? -99 : 20 + (double)i);
        pz_col_set_f64(r, i, 21.5);
        pz_col_set_f64(f, i, i == 2 ? -1 : 0);
        pz_col_set_f64(o, i, 7);
    }
    char *h5 = pz_xasprintf("%s/s.h5", tmpdir);
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(h5, src, &err), 0);
    pz_schema *s = pz_schema_load(ypath, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    pz_table *t = NULL;
    int rc = pz_schema_read(s, h5, 1, &t, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(t->ncols, 5); /* id g_m r_m flag + passthrough other */
    CU_ASSERT_EQUAL(pz_table_col(t, "id")->type, PZ_I64);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "id"), 2), 12, 0);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "g_m"), 1)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_m"), 2), 22, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "r_m")->unit, "mag");
    CU_ASSERT_EQUAL(pz_table_col(t, "flag")->type, PZ_I16);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "flag"), 2)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "flag"), 1), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "other"), 0), 7, 0);
    CU_ASSERT_PTR_NULL(pz_table_col(t, "extra"));
    pz_table_free(t);

    /* a mapping renames a column and adds a new one */
    CU_ASSERT_EQUAL(pz_schema_map(s, "flag", "other", &err), 0);
    CU_ASSERT_EQUAL(pz_schema_read(s, h5, 0, &t, &err), -1); /* f64 cannot become the i16 flag */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mistyped 1 column: other (f64, expected i16)"));
    CU_ASSERT_EQUAL(pz_schema_map(s, "flag", "Flag", &err), 0);
    CU_ASSERT_EQUAL(pz_schema_map(s, "g_m", "other", &err), 0);
    CU_ASSERT_EQUAL(pz_schema_map(s, "id_again", "ID", &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_schema_read(s, h5, 0, &t, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_m"), 0), 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "id_again"), 1), 11, 0);
    pz_table_free(t);
    pz_schema_free(s);
    pz_table_free(src);
    free(h5);
    free(ypath);
}

static pz_ynode *yaml(const char *text)
{
    pz_err err;
    pz_ynode *n = pz_yaml_load_string(text, strlen(text), "t", &err);
    if (!n) fprintf(stderr, "%s\n", err.msg);
    return n;
}

/* A stage's inline mapping: canonical -> file name or column map, {b} over bands, sentinel
 * lists; renaming a schema's column keeps its type and unit. */
static void test_inline_mapping(void)
{
    pz_err err;
    pz_ynode *cols = yaml("{id: ID, \"{b}_m\": {name: \"MAG_{b}\", null: [-99, 99], unit: mag}, "
                          "flag: {name: Flag, type: i16, null: [-1]}, other: {}}");
    pz_ynode *bands = yaml("[g, r]");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cols);
    pz_schema *s = pz_schema_new("inline");
    CU_ASSERT_EQUAL_FATAL(pz_schema_add_columns(s, cols, bands, "param 'columns'", &err), 0);
    CU_ASSERT_EQUAL(s->ncols, 5);
    const pz_schema_col *g = pz_schema_find(s, "g_m");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->name, "MAG_g");
    CU_ASSERT_TRUE(g->file_type);
    CU_ASSERT_EQUAL(g->nnull, 2);
    CU_ASSERT_EQUAL(g->null_values[1], 99);
    CU_ASSERT_STRING_EQUAL(pz_schema_find(s, "other")->name, "other"); /* name defaults to the canonical */

    /* read: -99 and 99 both become missing, the file's type is kept, a case-different name found */
    char *h5 = pz_xasprintf("%s/inline.h5", tmpdir);
    pz_table *src = pz_table_new(3);
    pz_column *id = pz_table_add(src, "ID", PZ_I32, 0), *mg = pz_table_add(src, "MAG_g", PZ_F32, 0);
    pz_column *mr = pz_table_add(src, "mag_R", PZ_F64, 0), *f = pz_table_add(src, "Flag", PZ_I32, 0);
    pz_column *o = pz_table_add(src, "OTHER", PZ_F64, 0);
    double gv[3] = {-99, 21, 99};
    for (size_t i = 0; i < 3; i++) {
        pz_col_set_f64(id, i, (double)i), pz_col_set_f64(mg, i, gv[i]), pz_col_set_f64(mr, i, 22);
        pz_col_set_f64(f, i, i == 1 ? -1 : 1), pz_col_set_f64(o, i, 5);
    }
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(h5, src, &err), 0);
    pz_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_schema_read(s, h5, 0, &t, &err), 0);
    CU_ASSERT_EQUAL(pz_table_col(t, "g_m")->type, PZ_F32);
    CU_ASSERT_EQUAL(pz_table_col(t, "r_m")->type, PZ_F64);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "g_m"), 0)) && isnan(pz_col_f64(pz_table_col(t, "g_m"), 2)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "g_m"), 1), 21, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "r_m")->unit, "mag");
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "flag"), 1)));
    CU_ASSERT_EQUAL(pz_table_col(t, "id")->type, PZ_I32);
    pz_table_free(t);
    pz_schema_free(s);

    /* renaming a built-in schema's column keeps its type (f32) and unit */
    s = pz_schema_load("galaxiesml", NULL, &err);
    pz_ynode *ren = yaml("{g_cmodel_mag: G_MAG}");
    CU_ASSERT_EQUAL(pz_schema_add_columns(s, ren, NULL, "param 'columns'", &err), 0);
    const pz_schema_col *gc = pz_schema_find(s, "g_cmodel_mag");
    CU_ASSERT_STRING_EQUAL(gc->name, "G_MAG");
    CU_ASSERT_EQUAL(gc->type, PZ_F32);
    CU_ASSERT_FALSE(gc->file_type);
    CU_ASSERT_STRING_EQUAL(gc->unit, "mag");
    pz_schema_free(s);

    /* errors name the param, not a line of the engine's spec file */
    const char *bad[][2] = {{"{a: {colour: red}}", "param 'columns': unknown column key 'colour' (expected name, type"},
                            {"{\"{b}_m\": \"M_{b}\"}", "param 'columns': 'M_{b}' uses {b} but no bands are given (param 'bands')"},
                            {"{a: {null: [x]}}", "param 'columns': null: [...] must list numbers"},
                            {"{a: {type: float}}", "param 'columns': unknown type 'float'"},
                            {"{a: [1]}", "param 'columns': a column must be a map or the file's column name"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pz_ynode *n = yaml(bad[i][0]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        s = pz_schema_new("inline");
        CU_ASSERT_EQUAL(pz_schema_add_columns(s, n, NULL, "param 'columns'", &err), -1);
        CU_ASSERT_TRUE(pzt_has(err.msg, bad[i][1]));
        pz_schema_free(s);
        pz_ynode_free(n);
    }
    pz_ynode_free(ren);
    pz_ynode_free(cols);
    pz_ynode_free(bands);
    pz_table_free(src);
    free(h5);
}

int main(void)
{
    tmpdir = pzt_mkdtemp("schema");
    pzt_suite("schema", (pzt_case[]){{"shipped_schemas_load", test_shipped_schemas_load},
                                     {"variants_and_bands", test_variants_and_bands},
                                     {"bad_schema_files", test_bad_schema_files},
                                     {"inline_mapping", test_inline_mapping},
                                     {"missing_and_mistyped", test_missing_and_mistyped_listed_together},
                                     {"read_converts", test_read_converts},
                                     {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(tmpdir);
    free(tmpdir);
    return rc;
}
