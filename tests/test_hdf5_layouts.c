/* HDF5 table layouts: pzflow reads a table wherever a catalogue keeps it (a group of 1-D
 * datasets at any depth, a compound dataset: h5py's, pandas', astropy's) and writes astropy's
 * layout, which astropy opens with no arguments, with units, descriptions, masks and meta. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/backends.h"
#include "table/table.h"

static char *dir;

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libhdf5\n";
}

static char *at(const char *name)
{
    return pz_xasprintf("%s/%s", dir, name);
}

/* The files h5py and astropy write (tests/py/hdf5_layouts.py make), once per run. */
static int made;
static void make_files(void)
{
    if (made) return;
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/hdf5_layouts.py make %s 2>&1", pzt_python(), PZ_SOURCE_DIR, dir);
    if (rc) fprintf(stderr, "hdf5_layouts.py: %s\n", out ? out : "");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    made = 1;
}

static double f64(const pz_table *t, const char *col, size_t row)
{
    pz_column *c = pz_table_col(t, col);
    return c ? pz_col_f64(c, row) : -999;
}

static void test_a_group_reads_by_its_path(void)
{
    make_files();
    char *path = at("group.h5");
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(path, "/photometry", NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->nrows, 3);
    CU_ASSERT_EQUAL(t->ncols, 3); /* the subgroup 'deep' is not a column */
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "mag_g", 2), 23.0, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "mag_g")->unit, "mag");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "survey"), "made by h5py");
    pz_table_free(t);
    /* names match exactly, then case-insensitively when that is unique */
    const char *want[] = {"mag_r", "object_id"};
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(path, "photometry", want, 2, 1, 1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->nrows, 1);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "mag_r", 0), 21.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "object_id", 0), 12, 0);
    pz_table_free(t);
    pz_colinfo *cols;
    size_t ncols;
    long nrows;
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_info_at(path, "/photometry/", &cols, &ncols, &nrows, &err), 0);
    CU_ASSERT_EQUAL(ncols, 3);
    CU_ASSERT_EQUAL(nrows, 3);
    pz_colinfo_free(cols, ncols);
    free(path);
}

static void test_a_nested_group_reads_too(void)
{
    make_files();
    char *path = at("group.h5");
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(path, "/photometry/deep", NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 1);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "z", 1), 0.2, 0);
    pz_table_free(t);
    free(path);
}

static void test_errors_say_what_is_there(void)
{
    make_files();
    char *path = at("group.h5");
    pz_table *t = NULL;
    pz_err err;
    /* the root has no columns: asking for some there says where they are */
    const char *want[] = {"mag_g"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(path, want, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "group.h5: missing 1 column: mag_g"));
    CU_ASSERT_TRUE(pzt_has(err.msg, "group.h5: missing 1 column: mag_g; the group holds groups: meta, photometry"));
    /* a mistyped place: did you mean, and what the level holds */
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/photmetry", NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "group.h5: no group or dataset 'photmetry' in / (did you mean "
                                    "'photometry'?); / holds groups: meta, photometry"));
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/photometry/dep/z", NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "no group or dataset 'dep' in /photometry (did you mean 'deep'?)"));
    CU_ASSERT_TRUE(pzt_has(err.msg, "/photometry holds groups: deep; 1-D datasets: MAG_R, mag_g, object_id"));
    /* a missing column in a group: the near names of that group */
    const char *typo[] = {"mag_gg"};
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/photometry", typo, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "group.h5:/photometry: missing 1 column: mag_gg (did you mean 'mag_g'?)"));
    /* a 1-D dataset is a column, not a table */
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/photometry/mag_g", NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "group.h5:/photometry/mag_g: a dataset that is not a table"));
    free(path);
}

/* h5py's structured array: only the fields asked for are read; array fields are skipped. */
static void test_a_compound_dataset_reads_a_subset_of_its_fields(void)
{
    make_files();
    char *path = at("compound.h5");
    pz_table *t = NULL;
    pz_err err;
    const char *want[] = {"NAME", "mag_i", "flag"};
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(path, "/cat", want, 3, 1, 3, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 3);
    CU_ASSERT_EQUAL(t->nrows, 3);
    CU_ASSERT_STRING_EQUAL(t->cols[0].name, "NAME");
    CU_ASSERT_EQUAL(t->cols[0].width, 5);
    CU_ASSERT_EQUAL(memcmp((char *)t->cols[0].data + 5, "ccc\0\0", 5), 0);
    CU_ASSERT_TRUE(isnan(f64(t, "mag_i", 1)));
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "flag", 0), -1, 0);
    pz_table_free(t);
    /* all columns: the root's only table is the default; the array field is no column */
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 6);
    CU_ASSERT_PTR_NULL(pz_table_col(t, "vec"));
    CU_ASSERT_EQUAL(pz_table_col(t, "good")->type, PZ_BOOL);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "good", 1), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "ra", 3), 150.75, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "origin"), "h5py structured array");
    pz_table_free(t);
    const char *vec[] = {"vec"};
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/cat", vec, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "field 'vec' of table 'cat' is not a column of one scalar per row"));
    const char *typo[] = {"mag_ii"};
    CU_ASSERT_EQUAL(pz_hdf5_read_at(path, "/cat", typo, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "compound.h5:/cat: missing 1 column: mag_ii (did you mean 'mag_i'?)"));
    /* pandas/PyTables: a group whose only table is `table` (chunked) */
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(path, "/df", NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 2);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "id", 3), 4, 0);
    pz_table_free(t);
    free(path);
}

/* astropy's own writer: units, descriptions, a MaskedColumn and meta come through. */
static void test_astropys_file_reads_with_units_masks_and_meta(void)
{
    make_files();
    char *path = at("astropy.h5");
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 3); /* n.mask is n's null mask, not a column */
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "z")->unit, "mag");
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "z")->desc, "a magnitude");
    pz_column *n = pz_table_col(t, "n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n->null);
    CU_ASSERT_EQUAL(n->null[0], 0);
    CU_ASSERT_EQUAL(n->null[1], 1);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "seed"), "3");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "pipeline"), "astropy");
    pz_table_free(t);
    free(path);
}

/* Two tables where one is asked for by default, and a header that is not YAML: refused, named. */
static void test_a_place_holds_one_readable_table(void)
{
    make_files();
    char *two = at("two_tables.h5"), *bad = at("bad_header.h5");
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL(pz_table_read_hdf5(two, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "two_tables.h5: 2 tables and no 1-D datasets here: name the table, e.g. "));
    CU_ASSERT_TRUE(pzt_has(err.msg, "two_tables.h5:/a (here: tables (compound datasets): a, b)"));
    CU_ASSERT_EQUAL_FATAL(pz_hdf5_read_at(two, "/b", NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(f64(t, "ra", 1), 150.25, 0);
    pz_table_free(t);
    CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "bad_header.h5, header 't.__table_column_meta__':"));
    free(two);
    free(bad);
}

/* Every column type, a null, NaN, strings, units, descriptions and attributes. */
static pz_table *sample(size_t n)
{
    pz_table *t = pz_table_new(n);
    pz_column *id = pz_table_add(t, "object_id", PZ_I64, 0);
    pz_column *z = pz_table_add(t, "z_pred", PZ_F32, 0);
    pz_column *zt = pz_table_add(t, "z_true", PZ_F64, 0);
    pz_column *a = pz_table_add(t, "tract", PZ_I32, 0);
    pz_column *f = pz_table_add(t, "flag", PZ_I16, 0);
    pz_column *u = pz_table_add(t, "band", PZ_U8, 0);
    pz_column *b = pz_table_add(t, "good", PZ_BOOL, 0);
    pz_column *s = pz_table_add(t, "name", PZ_STR, 7);
    z->unit = pz_xstrdup("mag");
    z->desc = pz_xstrdup("the \"predicted\" redshift: z\nsecond line");
    zt->desc = pz_xstrdup("µ — unicode");
    f->null = pz_xcalloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++) {
        ((int64_t *)id->data)[i] = 43158035740000000LL + (int64_t)i;
        pz_col_set_f64(z, i, i % 7 == 3 ? NAN : 0.01 * (double)i);
        pz_col_set_f64(zt, i, 0.5 + (double)i);
        pz_col_set_f64(a, i, 9813 + (double)i);
        pz_col_set_f64(f, i, -(double)(i % 5));
        f->null[i] = i % 4 == 1;
        pz_col_set_f64(u, i, (double)(i % 256));
        pz_col_set_f64(b, i, i % 2);
        snprintf((char *)s->data + i * 7, 7, "g%zu", i);
    }
    pz_table_set_attr(t, "seed", "3");
    pz_table_set_attr(t, "pdf", "gaussian_mixture");
    pz_table_set_attr(t, "note", "a: b, {c} 'd' #e");
    return t;
}

static void test_every_type_round_trips(void)
{
    pz_table *t = sample(5), *r = NULL;
    char *path = at("rt.h5");
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 5);
    CU_ASSERT_EQUAL_FATAL(r->ncols, t->ncols);
    for (size_t j = 0; j < t->ncols; j++) {
        const pz_column *a = &t->cols[j], *b = &r->cols[j];
        CU_ASSERT_STRING_EQUAL(a->name, b->name);
        CU_ASSERT_EQUAL(a->type, b->type);
        CU_ASSERT_EQUAL(a->width, b->width);
        for (size_t i = 0; i < 5; i++) {
            int an = a->null && a->null[i], bn = b->null && b->null[i];
            CU_ASSERT_EQUAL(an, bn);
            if (!an) CU_ASSERT_EQUAL(memcmp((char *)a->data + i * a->width, (char *)b->data + i * b->width, a->width), 0);
        }
    }
    CU_ASSERT_STRING_EQUAL(pz_table_col(r, "z_pred")->unit, "mag");
    CU_ASSERT_STRING_EQUAL(pz_table_col(r, "z_pred")->desc, "the \"predicted\" redshift: z\nsecond line");
    CU_ASSERT_STRING_EQUAL(pz_table_col(r, "z_true")->desc, "µ — unicode");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(r, "seed"), "3");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(r, "note"), "a: b, {c} 'd' #e");
    pz_table_free(r);
    /* a subset of the fields, a row range */
    const char *want[] = {"flag", "name"};
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, want, 2, 1, 2, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 2);
    CU_ASSERT_EQUAL(r->cols[0].null[0], 1); /* row 1 */
    CU_ASSERT_EQUAL(memcmp(r->cols[1].data, "g1", 3), 0);
    pz_table_free(r);
    CU_ASSERT_EQUAL(pz_hdf5_nrows(path, &err), 5);
    /* empty tables and tables without columns */
    pz_table *e = sample(0);
    CU_ASSERT_EQUAL(pz_table_write_hdf5(path, e, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 0);
    CU_ASSERT_EQUAL(r->ncols, t->ncols);
    pz_table_free(r);
    pz_table_free(e);
    e = pz_table_new(0);
    pz_table_set_attr(e, "k", "v");
    CU_ASSERT_EQUAL(pz_table_write_hdf5(path, e, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &r, &err), 0);
    CU_ASSERT_EQUAL(r->ncols, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(r, "k"), "v");
    pz_table_free(r);
    pz_table_free(e);
    free(path);
    pz_table_free(t);
}

/* Rows [from, to) of t as a table of their own. */
static pz_table *rows(const pz_table *t, size_t from, size_t to)
{
    size_t *idx = pz_xmalloc((to - from + 1) * sizeof *idx);
    for (size_t i = from; i < to; i++) idx[i - from] = i;
    pz_table *r = pz_table_take(t, idx, to - from);
    free(idx);
    return r;
}

static void test_streaming_gives_the_bytes_of_one_write(void)
{
    /* 30,000 rows: several HDF5 chunks, appended in uneven pieces */
    pz_table *t = sample(30000);
    char *one = at("one.h5"), *again = at("again.h5"), *streamed = at("streamed.h5");
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(one, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(again, t, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(one, again));
    pz_hdf5_writer *w = pz_hdf5_writer_open(streamed, t, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    size_t cuts[] = {0, 1, 999, 1000, 17000, 29999, 30000};
    for (size_t k = 0; k + 1 < sizeof cuts / sizeof *cuts; k++) {
        pz_table *piece = rows(t, cuts[k], cuts[k + 1]);
        CU_ASSERT_EQUAL(pz_hdf5_writer_append(w, piece, &err), 0);
        pz_table_free(piece);
    }
    CU_ASSERT_EQUAL(pz_hdf5_writer_close(w, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(one, streamed));
    pz_table *r = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(streamed, NULL, 0, 29998, 5, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 2);
    CU_ASSERT_DOUBLE_EQUAL(f64(r, "z_true", 1), 30000 - 1 + 0.5, 0);
    pz_table_free(r);
    free(one);
    free(again);
    free(streamed);
    pz_table_free(t);
}

/* A null where the writer has no mask for it is refused, never written as a number. */
static void test_a_null_without_a_mask_is_refused(void)
{
    pz_table *proto = sample(0), *t = sample(3);
    pz_column *f = pz_table_col(proto, "flag");
    free(f->null);
    f->null = NULL;
    char *path = at("nomask.h5");
    pz_err err;
    pz_hdf5_writer *w = pz_hdf5_writer_open(path, proto, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(pz_hdf5_writer_append(w, t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "nomask.h5: column 'flag' has missing values, but the table was opened without a "
                                    "null mask for it"));
    CU_ASSERT_EQUAL(pz_hdf5_writer_close(w, &err), -1);
    free(path);
    pz_table_free(proto);
    pz_table_free(t);
}

/* astropy Table.read(path), no arguments: columns, units, descriptions, masks and meta. */
static void test_astropy_reads_what_pzflow_writes(void)
{
    pz_table *t = sample(5);
    char *path = at("for_astropy.h5"), *out = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/hdf5_layouts.py read %s 2>&1", pzt_python(), PZ_SOURCE_DIR, path);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "astropy said: %s\n", out ? out : "");
    CU_ASSERT_TRUE(pzt_has(out, "columns ['object_id', 'z_pred', 'z_true', 'tract', 'flag', 'band', 'good', 'name']"));
    CU_ASSERT_TRUE(pzt_has(out, "col z_pred <f4 mag the \"predicted\" redshift: z\nsecond line False"));
    CU_ASSERT_TRUE(pzt_has(out, "col flag <i2 None None True")); /* masked: astropy shows '--' */
    CU_ASSERT_TRUE(pzt_has(out, "col good |b1 None None False"));
    CU_ASSERT_TRUE(pzt_has(out, "col name |S7 None None False"));
    CU_ASSERT_TRUE(pzt_has(out, "meta seed '3'"));
    CU_ASSERT_TRUE(pzt_has(out, "meta note \"a: b, {c} 'd' #e\""));
    CU_ASSERT_TRUE(pzt_has(out, "first 43158035740000000 0.0 0.5 9813 0 0 False g0"));
    free(out);
    free(path);
    pz_table_free(t);
}

/* STILTS reads HDF5 from version 3.4-8 (STIL 4.2); Debian 12's 3.4-7 does not, so the check
 * runs where the installed stilts knows the format and says why it is skipped where not. */
static void test_stilts_opens_what_pzflow_writes(void)
{
    char *out = NULL;
    if (pzt_run(NULL, &out, "stilts tpipe help=ifmt 2>&1") != 0 || !strstr(out, "hdf5")) {
        printf("\n    skipped: the installed stilts has no HDF5 input format (STILTS >= 3.4-8 has it)\n");
        free(out);
        return;
    }
    free(out);
    pz_table *t = sample(5);
    char *path = at("for_stilts.h5");
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    out = NULL;
    int rc = pzt_run(NULL, &out, "stilts tpipe in=%s omode=meta 2>&1", path);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "z_pred"));
    free(out);
    free(path);
    pz_table_free(t);
}

int main(void)
{
    dir = pzt_mkdtemp("hdf5_layouts");
    pzt_suite("hdf5_layouts", (pzt_case[]){
                                  {"a group reads by its path", test_a_group_reads_by_its_path},
                                  {"a nested group reads too", test_a_nested_group_reads_too},
                                  {"errors say what is there", test_errors_say_what_is_there},
                                  {"a compound dataset reads a subset of its fields",
                                   test_a_compound_dataset_reads_a_subset_of_its_fields},
                                  {"astropy's file reads with units, masks and meta",
                                   test_astropys_file_reads_with_units_masks_and_meta},
                                  {"a place holds one readable table", test_a_place_holds_one_readable_table},
                                  {"every type round-trips", test_every_type_round_trips},
                                  {"streaming gives the bytes of one write", test_streaming_gives_the_bytes_of_one_write},
                                  {"a null without a mask is refused", test_a_null_without_a_mask_is_refused},
                                  {"astropy reads what pzflow writes", test_astropy_reads_what_pzflow_writes},
                                  {"stilts opens what pzflow writes", test_stilts_opens_what_pzflow_writes},
                                  {NULL, NULL}});
    int rc = pzt_main();
    pzt_rmtree(dir);
    free(dir);
    return rc;
}
