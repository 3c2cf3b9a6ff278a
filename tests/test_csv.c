/* CSV and ECSV: what the reader makes of a text table (types, missing values, quotes,
 * comments), that chunks add up to the whole, that what pzflow writes comes back (from pzflow
 * and from astropy), and one clear error naming file, line and column for each bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/pztest.h"
#include "table/table.h"
#include "util/sbuf.h"

static char *tmpdir;

static char *file_with(const char *name, const char *text)
{
    char *p = pz_xasprintf("%s/%s", tmpdir, name);
    pzt_write_file(p, text);
    return p;
}

static pz_table *read_all(const char *path, const char *const *cols, size_t ncols, pz_err *err)
{
    pz_source src = {(char *)path, NULL};
    pz_table *t = NULL;
    if (pz_table_read_src(&src, cols, ncols, 0, (size_t)-1, &t, err) < 0) return NULL;
    return t;
}

static const char *sample =
    "# a comment before the header\n"
    "id,mag,name,ok,n\n"
    "1,21.5,alpha,True,3\n"
    "# a comment between rows\n"
    "2,nan,\"beta, the second\",False,\n"
    "\n"
    "3,NA,\"say \"\"hi\"\"\",true,NA\n"
    "4,,\"two\nlines\",False,-7\n"
    "5,1e-3,e,True,9223372036854775807\n";

/* Types from the cells: integers, numbers, bools, text; empty/NA/nan are missing. */
static void test_types_and_missing(void)
{
    pz_err err;
    char *p = file_with("sample.csv", sample);
    pz_table *t = read_all(p, NULL, 0, &err);
    if (!t) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 5);
    CU_ASSERT_EQUAL(pz_table_col(t, "id")->type, PZ_I64);
    pz_column *mag = pz_table_col(t, "mag"), *name = pz_table_col(t, "name"), *n = pz_table_col(t, "n");
    CU_ASSERT_EQUAL(mag->type, PZ_F64);
    CU_ASSERT_TRUE(isnan(pz_col_f64(mag, 1)) && isnan(pz_col_f64(mag, 2)) && isnan(pz_col_f64(mag, 3)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(mag, 4), 1e-3, 0);
    CU_ASSERT_EQUAL(name->type, PZ_STR);
    CU_ASSERT_EQUAL(name->width, strlen("beta, the second"));
    CU_ASSERT_NSTRING_EQUAL((char *)name->data + name->width, "beta, the second", name->width);
    CU_ASSERT_NSTRING_EQUAL((char *)name->data + 2 * name->width, "say \"hi\"", name->width);
    CU_ASSERT_NSTRING_EQUAL((char *)name->data + 3 * name->width, "two\nlines", name->width);
    CU_ASSERT_EQUAL(pz_table_col(t, "ok")->type, PZ_BOOL);
    CU_ASSERT_EQUAL(n->type, PZ_I64);
    CU_ASSERT_TRUE(n->null && !n->null[0] && n->null[1] && n->null[2] && !n->null[3]);
    CU_ASSERT_EQUAL(((int64_t *)n->data)[4], INT64_MAX);
    pz_table_free(t);

    /* a subset in any case, and the listing */
    const char *cols[] = {"NAME", "Id"};
    t = read_all(p, cols, 2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->cols[0].name, "name");
    CU_ASSERT_EQUAL(t->ncols, 2);
    pz_table_free(t);
    pz_source src = {p, NULL};
    pz_colinfo *info = NULL;
    size_t ninfo = 0;
    long nrows = 0;
    CU_ASSERT_EQUAL(pz_table_info_src(&src, &info, &ninfo, &nrows, &err), 0);
    CU_ASSERT_EQUAL(ninfo, 5);
    CU_ASSERT_EQUAL(nrows, 5);
    pz_colinfo_free(info, ninfo);
    free(p);
}

/* The streaming reader's chunks, put together, are the whole table; so are row ranges. */
static void test_chunks_add_up(void)
{
    pz_err err;
    pz_sbuf text = {0};
    pz_sb_puts(&text, "i,x,s\n");
    for (int i = 0; i < 1000; i++) pz_sb_printf(&text, "%d,%g,\"s%d\"\n", i, i * 0.25, i % 17);
    char *p = file_with("many.csv", text.p);
    free(text.p);
    pz_source src = {p, NULL};
    pz_table_reader *r = pz_table_reader_open(&src, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(pz_table_reader_nrows(r), 1000);
    size_t seen = 0, chunks = 0;
    int ok = 1;
    pz_table *t = NULL;
    while (pz_table_reader_next(r, 64, &t, &err) == 0 && t) {
        for (size_t i = 0; i < t->nrows; i++)
            ok &= pz_col_f64(&t->cols[0], i) == (double)(seen + i) && pz_col_f64(&t->cols[1], i) == 0.25 * (seen + i);
        seen += t->nrows;
        chunks++;
        pz_table_free(t);
    }
    pz_table_reader_close(r);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(seen, 1000);
    CU_ASSERT_EQUAL(chunks, 16);
    pz_table *part = NULL;
    CU_ASSERT_EQUAL(pz_table_read_src(&src, NULL, 0, 990, 50, &part, &err), 0);
    CU_ASSERT_EQUAL(part->nrows, 10);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(&part->cols[0], 0), 990, 0);
    pz_table_free(part);
    CU_ASSERT_EQUAL(pz_table_read_src(&src, NULL, 0, 5000, 5, &part, &err), 0);
    CU_ASSERT_EQUAL(part->nrows, 0);
    CU_ASSERT_EQUAL(part->ncols, 3);
    pz_table_free(part);
    free(p);
}

static pz_table *typed_table(void)
{
    pz_table *t = pz_table_new(4);
    pz_column *c = pz_table_add(t, "z", PZ_F32, 0);
    c->unit = pz_xstrdup("mag");
    c->desc = pz_xstrdup("a \"quoted\" description: with a colon");
    const float z[] = {0.1f, NAN, 1e-7f, 3.25f};
    memcpy(c->data, z, sizeof z);
    c = pz_table_add(t, "d", PZ_F64, 0);
    for (size_t i = 0; i < 4; i++) pz_col_set_f64(c, i, 0.1 * (double)i + 1e-12);
    const pz_coltype ints[] = {PZ_I64, PZ_I32, PZ_I16, PZ_U8, PZ_BOOL};
    const char *names[] = {"id", "n32", "flag", "u8", "ok"};
    for (size_t k = 0; k < 5; k++) {
        c = pz_table_add(t, names[k], ints[k], 0);
        for (size_t i = 0; i < 4; i++) pz_col_set_f64(c, i, ints[k] == PZ_BOOL ? (double)(i % 2) : (double)(i + 100));
        c->null = pz_xcalloc(4, 1);
        c->null[2] = 1;
    }
    c = pz_table_add(t, "name", PZ_STR, 8);
    const char *s[] = {"a,b", "", " edge ", "x\"y"};
    for (size_t i = 0; i < 4; i++) memcpy((char *)c->data + 8 * i, s[i], strlen(s[i]));
    pz_table_set_attr(t, "seed", "7");
    pz_table_set_attr(t, "pdf", "gaussian_mixture");
    return t;
}

static int same_values(const pz_table *a, const pz_table *b, int same_types)
{
    int ok = a->nrows == b->nrows && a->ncols == b->ncols;
    for (size_t j = 0; ok && j < a->ncols; j++) {
        const pz_column *x = &a->cols[j], *y = &b->cols[j];
        ok &= !strcmp(x->name, y->name) && (!same_types || (x->type == y->type));
        for (size_t i = 0; ok && i < a->nrows; i++) {
            int nx = x->null && x->null[i], ny = y->null && y->null[i];
            ok &= nx == ny;
            if (x->type == PZ_STR) {
                const char *u = (char *)x->data + i * x->width, *v = (char *)y->data + i * y->width;
                size_t lu = strnlen(u, x->width), lv = strnlen(v, y->width);
                ok &= lu == lv && !memcmp(u, v, lu);
            }
            else if (!nx) {
                double u = pz_col_f64(x, i), v = pz_col_f64(y, i);
                if (x->type == PZ_F32) u = (float)u, v = (float)v; /* CSV reads a float32 as float64 */
                ok &= (isnan(u) && isnan(v)) || u == v;
            }
        }
        if (!ok) fprintf(stderr, "column %s differs\n", x->name);
    }
    return ok;
}

/* ECSV keeps types, units, descriptions and attributes; CSV keeps values. astropy reads both. */
static void test_round_trips(void)
{
    pz_err err;
    pz_table *t = typed_table();
    char *ecsv = pz_xasprintf("%s/t.ecsv", tmpdir), *csv = pz_xasprintf("%s/t.csv", tmpdir);
    CU_ASSERT_EQUAL_FATAL(pz_table_write(ecsv, PZ_FMT_ECSV, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_write(csv, PZ_FMT_CSV, t, &err), 0);
    pz_table *back = read_all(ecsv, NULL, 0, &err);
    if (!back) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_TRUE(same_values(t, back, 0));
    for (size_t j = 0; j < t->ncols - 1; j++) CU_ASSERT_EQUAL(back->cols[j].type, t->cols[j].type);
    CU_ASSERT_STRING_EQUAL(back->cols[0].unit, "mag");
    CU_ASSERT_STRING_EQUAL(back->cols[0].desc, "a \"quoted\" description: with a colon");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(back, "pdf"), "gaussian_mixture");
    pz_table_free(back);
    back = read_all(csv, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_TRUE(same_values(t, back, 0));
    pz_table_free(back);

    char *script = pz_xasprintf("%s/check.py", tmpdir), *out = NULL;
    pzt_write_file(script,
                   "import sys, numpy as np\n"
                   "from astropy.table import Table\n"
                   "e = Table.read(sys.argv[1])\n"
                   "assert e['z'].dtype == np.float32 and str(e['z'].unit) == 'mag', e['z']\n"
                   "assert e['z'].description == 'a \"quoted\" description: with a colon'\n"
                   "assert e['flag'].dtype == np.int16 and e['flag'].mask[2] and e['flag'][3] == 103\n"
                   "assert e['u8'].dtype == np.uint8 and e['ok'].dtype == bool\n"
                   "assert list(e['name']) == ['a,b', '', ' edge ', 'x\"y'] or e['name'][0] == 'a,b', list(e['name'])\n"
                   "assert e.meta == {'seed': '7', 'pdf': 'gaussian_mixture'}, e.meta\n"
                   "c = Table.read(sys.argv[2])\n"
                   "assert len(c) == 4 and c.colnames == e.colnames and c['id'][3] == 103\n"
                   "print('ok')\n");
    int rc = pzt_run(NULL, &out, "%s %s %s %s", pzt_python(), script, ecsv, csv);
    CU_ASSERT_TRUE(rc == 0 && pzt_has(out, "ok"));
    free(out);
    free(script);
    pz_table_free(t);
    free(ecsv);
    free(csv);
}

/* ECSV as astropy writes it by default (space-delimited, masked values, a string column). */
static void test_astropy_ecsv(void)
{
    char *path = pz_xasprintf("%s/astropy.ecsv", tmpdir), *script = pz_xasprintf("%s/w.py", tmpdir), *out = NULL;
    pzt_write_file(script, "import sys, numpy as np\n"
                           "from astropy.table import Table, MaskedColumn\n"
                           "t = Table()\n"
                           "t['G_MAG'] = np.array([21.5, np.nan, 23.0], dtype=np.float32)\n"
                           "t['G_MAG'].unit = 'mag'\n"
                           "t['id'] = MaskedColumn([1, 2, 3], mask=[False, True, False], dtype=np.int32)\n"
                           "t['name'] = ['a b', 'c', 'd e f']\n"
                           "t.meta['survey'] = 'hsc'\n"
                           "t.write(sys.argv[1], overwrite=True)\n");
    CU_ASSERT_EQUAL_FATAL(pzt_run(NULL, &out, "%s %s %s", pzt_python(), script, path), 0);
    free(out);
    pz_err err;
    const char *cols[] = {"g_mag", "id", "name"};
    pz_table *t = read_all(path, cols, 3, &err);
    if (!t) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->cols[0].type, PZ_F32);
    CU_ASSERT_STRING_EQUAL(t->cols[0].unit, "mag");
    CU_ASSERT_TRUE(isnan(pz_col_f64(&t->cols[0], 1)));
    CU_ASSERT_EQUAL(t->cols[1].type, PZ_I32);
    CU_ASSERT_TRUE(t->cols[1].null && t->cols[1].null[1] && !t->cols[1].null[2]);
    CU_ASSERT_NSTRING_EQUAL((char *)t->cols[2].data + 2 * t->cols[2].width, "d e f", 5);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "survey"), "hsc");
    pz_table_free(t);
    free(path);
    free(script);
}

static void expect_error(const char *name, const char *text, const char *const *cols, size_t ncols,
                         const char *message)
{
    pz_err err;
    char *p = file_with(name, text);
    pz_table *t = read_all(p, cols, ncols, &err);
    CU_ASSERT_PTR_NULL(t);
    if (t) pz_table_free(t);
    else CU_ASSERT_TRUE(pzt_has(err.msg, message));
    free(p);
}

static void test_bad_inputs(void)
{
    expect_error("ragged.csv", "a,b,c\n1,2,3\n4,5\n", NULL, 0, "ragged.csv:3: 2 fields, the header names 3 columns");
    expect_error("word.csv", "id,mag\n1,21.5\n2,22\n3,bright\n", NULL, 0,
                 "word.csv:4: column 'mag' (field 2): 'bright' is not a number, as its first value (line 2) was");
    expect_error("quote.csv", "a,b\n1,\"open\n2,3\n", NULL, 0, "quote.csv:2: a quoted field opened here is never closed");
    expect_error("after.csv", "a,b\n1,\"x\"y\n", NULL, 0, "after.csv:2: field 2: text after a closing quote");
    expect_error("empty.csv", "# only a comment\n", NULL, 0, "empty.csv: no header line naming the columns");
    expect_error("twice.csv", "a,b,a\n1,2,3\n", NULL, 0, "twice.csv: columns 1 and 3 are both named 'a'");
    const char *want[] = {"mag_g", "id"};
    expect_error("missing.csv", "ID,mag_r\n1,2\n", want, 2, "missing.csv: missing 1 column: mag_g (did you mean 'mag_r'?)");
    expect_error("ambiguous.csv", "Mag,MAG\n1,2\n", (const char *[]){"mag"}, 1,
                 "missing 1 column: mag (ambiguous: several columns differ only in case)");
    const char *ecsv_head = "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int16}\n# - {name: b, datatype: float64}\n";
    char *text = pz_xasprintf("%sa b\n1 2.5\n1.5 3\n", ecsv_head);
    expect_error("decl.ecsv", text, NULL, 0, "decl.ecsv:8: column 'a' (field 1): '1.5' is not an integer");
    free(text);
    text = pz_xasprintf("%sa b\n70000 2.5\n", ecsv_head);
    expect_error("range.ecsv", text, NULL, 0, "range.ecsv:7: column 'a' (field 1): '70000' is not in the range of its declared datatype");
    free(text);
    text = pz_xasprintf("%sa c\n1 2\n", ecsv_head);
    expect_error("names.ecsv", text, NULL, 0, "names.ecsv:6: column 2 is named 'c' here but 'b' in the ECSV header");
    free(text);
    expect_error("type.ecsv", "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: complex128}\na\n1\n", NULL, 0,
                 "type.ecsv:4: ECSV column 'a' has datatype 'complex128', which pzflow cannot read");
    expect_error("yaml.ecsv", "# %ECSV 1.0\n# ---\n# datatype: [\na\n1\n", NULL, 0, "yaml.ecsv:");

    /* a text file has no places; a text table needs its name */
    pz_err err;
    char *p = file_with("one.csv", "a\n1\n"), *spec = pz_xasprintf("%s[2]", p);
    pz_source src;
    pz_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_source_parse(spec, &src, &err), 0);
    CU_ASSERT_EQUAL(pz_table_read_src(&src, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "one.csv: a CSV file holds one table; there is no place '2' inside it"));
    pz_source_free(&src);
    free(spec);
    free(p);
    expect_error("t.json", "{\"a\": 1}\n", NULL, 0, "t.json: neither a FITS nor an HDF5 file (a text table must be named .csv or .ecsv)");
}

/* What each writer makes opens with no arguments in astropy, and in STILTS where Debian's STILTS
 * has a handler for the format (FITS, CSV; not ECSV): tests/py/open_all_outputs.py. */
static void test_every_writer_opens_in_the_tools(void)
{
    pz_err err;
    pz_table *t = typed_table();
    char *dir = pz_xasprintf("%s/writers", tmpdir);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    const char *names[] = {"t.fits", "t.csv", "t.ecsv"};
    const pz_format fmts[] = {PZ_FMT_FITS, PZ_FMT_CSV, PZ_FMT_ECSV};
    for (size_t k = 0; k < 3; k++) {
        char *p = pz_xasprintf("%s/%s", dir, names[k]);
        pz_format f;
        CU_ASSERT_EQUAL(pz_format_from_name(p, &f, &err), 0);
        CU_ASSERT_EQUAL(f, fmts[k]);
        CU_ASSERT_EQUAL(pz_table_write(p, f, t, &err), 0);
        free(p);
    }
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/open_all_outputs.py --astropy-only ecsv %s", pzt_python(), pzt_source_dir(), dir);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "3 tables, 0 failures"));
    free(out);
    free(dir);
    pz_table_free(t);
}

int main(void)
{
    tmpdir = pzt_mkdtemp("csv");
    pzt_suite("csv", (pzt_case[]){{"types come from the cells; empty, NA and nan are missing", test_types_and_missing},
                                  {"chunks add up to the whole table", test_chunks_add_up},
                                  {"what pzflow writes comes back, and astropy reads it", test_round_trips},
                                  {"astropy's ECSV reads", test_astropy_ecsv},
                                  {"each bad input gets one error naming file, line and column", test_bad_inputs},
                                  {"every writer's file opens in astropy and STILTS", test_every_writer_opens_in_the_tools},
                                  {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(tmpdir);
    free(tmpdir);
    return rc;
}
