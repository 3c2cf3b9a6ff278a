/* The FITS column reader on files written by astropy: types, NaN, TNULL, TZERO unsigned
 * integers, units, column subsets, names in any case, chunk boundaries, and bad files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"

static char *tmpdir;
static char *small_path, *wide_path;

/* 7 rows with every scalar type; TNULL -99 on lp_type as in COSMOS2020. A 3000-byte string
 * column in the wide file makes its 5000 rows span several 4 MB read chunks. */
static const char *writer =
    "import sys, numpy as np\n"
    "from astropy.table import Table, Column\n"
    "from astropy.io import fits\n"
    "t = Table()\n"
    "t['ID'] = np.array([1, 2, 3, 4, 5, 6, 2**60], dtype=np.int64)\n"
    "t['ALPHA_J2000'] = Column(np.array([150.1, 150.2, 0.0, 359.9, 1.5, 2.5, 3.5]), unit='deg')\n"
    "t['HSC_i_MAG_AUTO'] = Column(np.array([21.5, np.nan, 23.25, 24.0, 99.0, -1, 0], dtype=np.float32), unit='mag')\n"
    "t['lp_type'] = np.array([0, 1, -99, 2, -9, 0, 0], dtype=np.int64)\n"
    "t['FLAG_COMBINED'] = np.array([0, 1, 0, 0, 1, -99, 0], dtype=np.int16)\n"
    "t['nbfilt'] = np.array([30, 31, 32, 33, 34, 35, -99], dtype=np.int32)\n"
    "t['u16'] = np.array([0, 1, 65535, 3, 4, 5, 6], dtype=np.uint16)\n"
    "t['flag'] = np.array([True, False, True, True, False, False, True])\n"
    "t['name'] = np.array(['a', 'bb', 'ccc', '', 'e', 'f', 'g'])\n"
    "t['Mixed'] = np.arange(7, dtype=np.int16)\n"
    "t['MIXED'] = np.arange(7, dtype=np.int16) * 2\n"
    "hdu = fits.BinTableHDU(t, name='PHASE3CATALOG')\n"
    "for n in ('lp_type', 'FLAG_COMBINED', 'nbfilt'):\n"
    "    i = t.colnames.index(n) + 1\n"
    "    hdu.header['TNULL%d' % i] = -99\n"
    "fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(sys.argv[1], overwrite=True)\n"
    "n = 5000\n"
    "w = Table()\n"
    "w['row'] = np.arange(n, dtype=np.int64)\n"
    "w['pad'] = np.array(['x' * 3000] * n)\n"
    "w['val'] = np.arange(n, dtype=np.float64) * 0.5\n"
    "fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(w)]).writeto(sys.argv[2], overwrite=True)\n";

static void make_files(void)
{
    char *script = pz_xasprintf("%s/w.py", tmpdir);
    pzt_write_file(script, writer);
    small_path = pz_xasprintf("%s/small.fits", tmpdir);
    wide_path = pz_xasprintf("%s/wide.fits", tmpdir);
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s %s %s", pzt_python(), script, small_path, wide_path);
    if (rc != 0) fprintf(stderr, "astropy writer failed: %s\n", out ? out : "");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    free(script);
}

static void test_types_and_nulls(void)
{
    make_files();
    pz_table *t = NULL;
    pz_err err;
    const char *cols[] = {"ID", "ALPHA_J2000", "HSC_i_MAG_AUTO", "lp_type", "FLAG_COMBINED", "nbfilt", "u16", "flag", "name"};
    int rc = pz_table_read_fits(small_path, 1, cols, 9, &t, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(t->nrows, 7);
    CU_ASSERT_EQUAL(t->ncols, 9);
    pz_column *id = pz_table_col(t, "ID");
    CU_ASSERT_EQUAL(id->type, PZ_I64);
    CU_ASSERT_EQUAL(((int64_t *)id->data)[6], 1LL << 60);
    pz_column *ra = pz_table_col(t, "ALPHA_J2000");
    CU_ASSERT_EQUAL(ra->type, PZ_F64);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(ra, 3), 359.9, 0);
    CU_ASSERT_STRING_EQUAL(ra->unit, "deg");
    pz_column *m = pz_table_col(t, "HSC_i_MAG_AUTO");
    CU_ASSERT_EQUAL(m->type, PZ_F32);
    CU_ASSERT_TRUE(isnan(pz_col_f64(m, 1)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(m, 2), 23.25, 0);
    CU_ASSERT_STRING_EQUAL(m->unit, "mag");
    pz_column *lt = pz_table_col(t, "lp_type");
    CU_ASSERT_TRUE(isnan(pz_col_f64(lt, 2)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(lt, 4), -9, 0);
    CU_ASSERT_EQUAL(lt->null[0] + lt->null[1] + lt->null[3] + lt->null[4], 0);
    pz_column *fc = pz_table_col(t, "FLAG_COMBINED");
    CU_ASSERT_EQUAL(fc->type, PZ_I16);
    CU_ASSERT_TRUE(isnan(pz_col_f64(fc, 5)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(fc, 4), 1, 0);
    pz_column *nb = pz_table_col(t, "nbfilt");
    CU_ASSERT_EQUAL(nb->type, PZ_I32);
    CU_ASSERT_TRUE(isnan(pz_col_f64(nb, 6)));
    pz_column *u = pz_table_col(t, "u16");
    CU_ASSERT_EQUAL(u->type, PZ_I32);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(u, 2), 65535, 0);
    pz_column *fl = pz_table_col(t, "flag");
    CU_ASSERT_EQUAL(fl->type, PZ_BOOL);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(fl, 0) + 2 * pz_col_f64(fl, 1), 1, 0);
    pz_column *nm = pz_table_col(t, "name");
    CU_ASSERT_EQUAL(nm->type, PZ_STR);
    CU_ASSERT_EQUAL(nm->width, 3);
    CU_ASSERT_EQUAL(memcmp((char *)nm->data + 6, "ccc", 3), 0);
    pz_table_free(t);
}

static void test_names(void)
{
    pz_table *t = NULL;
    pz_err err;
    /* subset, other order, case-insensitive when unambiguous, exact preferred */
    const char *cols[] = {"alpha_j2000", "Mixed", "id"};
    CU_ASSERT_EQUAL_FATAL(pz_table_read_fits(small_path, 1, cols, 3, &t, &err), 0);
    CU_ASSERT_EQUAL(t->ncols, 3);
    CU_ASSERT_STRING_EQUAL(t->cols[0].name, "ALPHA_J2000");
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "Mixed"), 3), 3, 0);
    pz_table_free(t);

    const char *bad[] = {"ID", "HSC_g_MAG_AUTO", "mixed", "lp_zPDF"};
    CU_ASSERT_EQUAL(pz_table_read_fits(small_path, 1, bad, 4, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "small.fits: missing 3 columns: HSC_g_MAG_AUTO (did you mean 'HSC_i_MAG_AUTO'?), mixed (ambiguous"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ", lp_zPDF"));

    CU_ASSERT_EQUAL(pz_table_read_fits(small_path, 2, cols, 3, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "small.fits: no such HDU"));
}

static void test_chunk_boundaries(void)
{
    pz_table *t = NULL;
    pz_err err;
    const char *cols[] = {"val", "row"};
    CU_ASSERT_EQUAL_FATAL(pz_table_read_fits(wide_path, 1, cols, 2, &t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(t->nrows, 5000);
    int ok = 1;
    for (size_t i = 0; i < 5000; i++)
        ok &= pz_col_f64(&t->cols[0], i) == 0.5 * (double)i && pz_col_f64(&t->cols[1], i) == (double)i;
    CU_ASSERT_TRUE(ok);
    pz_table_free(t);
}

/* Row ranges (predict's chunked pass): a range across the reader's internal chunks, a range
 * running past the end (clamped), and one starting past it (empty, not an error). */
static void test_row_ranges(void)
{
    pz_err err;
    const char *cols[] = {"row", "val"};
    const size_t ranges[][3] = {{1234, 2000, 2000}, {4990, 100, 10}, {6000, 5, 0}, {0, 0, 0}};
    for (size_t k = 0; k < 4; k++) {
        pz_table *t = NULL;
        CU_ASSERT_EQUAL_FATAL(pz_table_read_fits_rows(wide_path, 1, cols, 2, ranges[k][0], ranges[k][1], &t, &err), 0);
        CU_ASSERT_EQUAL(t->nrows, ranges[k][2]);
        int ok = 1;
        for (size_t i = 0; i < t->nrows; i++)
            ok &= pz_col_f64(&t->cols[0], i) == (double)(ranges[k][0] + i) &&
                  pz_col_f64(&t->cols[1], i) == 0.5 * (double)(ranges[k][0] + i);
        CU_ASSERT_TRUE(ok);
        pz_table_free(t);
    }
}

static void test_bad_files(void)
{
    pz_table *t = NULL;
    pz_err err;
    const char *cols[] = {"row"};
    char *p = pz_xasprintf("%s/missing.fits", tmpdir);
    CU_ASSERT_EQUAL(pz_table_read_fits(p, 1, cols, 1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.fits: No such file"));
    free(p);

    p = pz_xasprintf("%s/text.fits", tmpdir);
    pzt_write_file(p, "SIMPLE = nonsense\n");
    CU_ASSERT_EQUAL(pz_table_read_fits(p, 1, cols, 1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "text.fits: "));

    size_t len;
    char *bytes = pzt_read_file(wide_path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    size_t cuts[] = {10, 2880, 2880 + 1000, 2 * 2880 + 5, len / 2, len - 2881};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        FILE *f = fopen(p, "wb");
        fwrite(bytes, 1, cuts[k], f);
        fclose(f);
        int rc = pz_table_read_fits(p, 1, cols, 1, &t, &err);
        CU_ASSERT_EQUAL(rc, -1);
        if (rc == 0) pz_table_free(t);
        else if (cuts[k] > 3 * 2880) CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "text.fits: truncated: the table needs"));
    }
    /* flipped bytes in the header: an error or a read, never a crash */
    for (size_t k = 0; k < 40; k++) {
        char *copy = pz_xmalloc(len);
        memcpy(copy, bytes, len);
        for (size_t i = 2880 + k * 53 % 2880; i < 3 * 2880; i += 211 + k) copy[i] = (char)('0' + k % 40);
        FILE *f = fopen(p, "wb");
        fwrite(copy, 1, len, f);
        fclose(f);
        if (pz_table_read_fits(p, 1, cols, 1, &t, &err) == 0) pz_table_free(t);
        free(copy);
    }
    free(bytes);
    free(p);
}

/* Sources: HDU by number, by EXTNAME in any case, the first table by default; a wrong one
 * lists the HDUs there are. */
static void test_hdu_choice(void)
{
    pz_err err;
    const char *cols[] = {"id"};
    const char *specs[] = {"%s", "%s[1]", "%s[phase3catalog]", "%s[PHASE3CATALOG]"};
    for (size_t k = 0; k < 4; k++) {
        char *spec = pz_xasprintf(specs[k], small_path);
        pz_source src;
        pz_table *t = NULL;
        CU_ASSERT_EQUAL_FATAL(pz_source_parse(spec, &src, &err), 0);
        int rc = pz_table_read_src(&src, cols, 1, 0, (size_t)-1, &t, &err);
        if (rc) fprintf(stderr, "%s: %s\n", spec, err.msg);
        CU_ASSERT_EQUAL(rc, 0);
        if (t) CU_ASSERT_EQUAL(t->nrows, 7);
        pz_table_free(t);
        pz_source_free(&src);
        free(spec);
    }
    const char *bad[][2] = {{"%s[2]", "no HDU 2; the file has HDU 0 primary, HDU 1 BINTABLE 'PHASE3CATALOG' 7 rows"},
                            {"%s[0]", "HDU 0 is the primary HDU, not a table"},
                            {"%s[PHOT]", "no HDU named 'PHOT'; the file has HDU 0 primary, HDU 1 BINTABLE"}};
    for (size_t k = 0; k < 3; k++) {
        char *spec = pz_xasprintf(bad[k][0], small_path);
        pz_source src;
        pz_table *t = NULL;
        CU_ASSERT_EQUAL_FATAL(pz_source_parse(spec, &src, &err), 0);
        CU_ASSERT_EQUAL(pz_table_read_src(&src, cols, 1, 0, (size_t)-1, &t, &err), -1);
        CU_ASSERT_TRUE(pzt_has(err.msg, bad[k][1]));
        pz_source_free(&src);
        free(spec);
    }
}

/* A table with every column type, units, descriptions, nulls and attributes. */
static pz_table *every_type(size_t n)
{
    pz_table *t = pz_table_new(n);
    pz_column *c = pz_table_add(t, "z_f64", PZ_F64, 0);
    c->unit = pz_xstrdup("mag");
    c->desc = pz_xstrdup("a double with a description");
    for (size_t i = 0; i < n; i++) pz_col_set_f64(c, i, i == 2 ? NAN : 0.1 * (double)i);
    c = pz_table_add(t, "z_f32", PZ_F32, 0);
    for (size_t i = 0; i < n; i++) pz_col_set_f64(c, i, i == 3 ? NAN : 1.5 * (double)i);
    c->unit = pz_xstrdup("µJy"); /* UTF-8 (an HDF5 or CSV input's): escaped in the header, exact back */
    c->desc = pz_xstrdup("flux — not a magnitude; a literal \\x41 stays four characters");
    const pz_coltype ints[] = {PZ_I64, PZ_I32, PZ_I16, PZ_U8, PZ_BOOL};
    const char *names[] = {"id", "n32", "flag", "u8", "ok"};
    for (size_t k = 0; k < 5; k++) {
        c = pz_table_add(t, names[k], ints[k], 0);
        c->null = pz_xcalloc(n, 1);
        for (size_t i = 0; i < n; i++) {
            pz_col_set_f64(c, i, ints[k] == PZ_BOOL ? (double)(i % 2) : (double)(i * 7 % 100));
            c->null[i] = i % 5 == 4;
        }
    }
    pz_table_col(t, "id")->desc = pz_xstrdup("the object's identifier, unique within the catalogue and long enough "
                                             "to need the long-string convention of FITS headers");
    c = pz_table_add(t, "name", PZ_STR, 6);
    for (size_t i = 0; i < n; i++) snprintf((char *)c->data + 6 * i, 6, "g%zu", i);
    pz_table_set_attr(t, "seed", "3");
    pz_table_set_attr(t, "ORIGIN", "pzflow test");
    pz_table_set_attr(t, "note", "made in Zürich, C:\\x41\\");
    pz_table_set_attr(t, "EXTNAME", "PREDICTIONS");
    pz_table_set_attr(t, "provenance", "{\"stage\": \"predict\", \"inputs\": [\"a very long path to some file that "
                                       "does not fit in one header card at all\"], \"seed\": 3}");
    return t;
}

static int same_table(const pz_table *a, const pz_table *b)
{
    int ok = a->nrows == b->nrows && a->ncols == b->ncols;
    for (size_t j = 0; ok && j < a->ncols; j++) {
        const pz_column *x = &a->cols[j], *y = &b->cols[j];
        ok &= !strcmp(x->name, y->name) && x->type == y->type && x->width == y->width;
        ok &= (!x->unit && !y->unit) || (x->unit && y->unit && !strcmp(x->unit, y->unit));
        ok &= (!x->desc && !y->desc) || (x->desc && y->desc && !strcmp(x->desc, y->desc));
        for (size_t i = 0; ok && i < a->nrows; i++) {
            int nx = x->null && x->null[i], ny = y->null && y->null[i];
            ok &= nx == ny;
            if (!nx && x->type != PZ_STR) {
                double u = pz_col_f64(x, i), v = pz_col_f64(y, i);
                ok &= (isnan(u) && isnan(v)) || u == v;
            } else if (x->type == PZ_STR) {
                ok &= !memcmp((char *)x->data + i * x->width, (char *)y->data + i * y->width, x->width);
            }
        }
        if (!ok) fprintf(stderr, "column %s differs\n", x->name);
    }
    for (size_t i = 0; ok && i < a->nattrs; i++) {
        const char *v = pz_table_attr(b, a->attr_keys[i]); /* FITS keywords come back upper case */
        ok &= v && !strcmp(v, a->attr_vals[i]);
        if (!ok) fprintf(stderr, "attribute %s: %s\n", a->attr_keys[i], v ? v : "(missing)");
    }
    return ok;
}

/* The FITS writer: every type, units, descriptions, nulls and attributes come back; a stream
 * of chunks gives the same bytes as one write, and the same table the same bytes twice. */
static void test_write_round_trip(void)
{
    pz_err err;
    pz_table *t = every_type(23);
    char *one = pz_xasprintf("%s/one.fits", tmpdir), *again = pz_xasprintf("%s/again.fits", tmpdir),
         *streamed = pz_xasprintf("%s/streamed.fits", tmpdir);
    CU_ASSERT_EQUAL_FATAL(pz_table_write(one, PZ_FMT_FITS, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_write(again, PZ_FMT_FITS, t, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(one, again));
    pz_table_writer *w = pz_table_writer_open(streamed, PZ_FMT_FITS, t, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (size_t start = 0; start < t->nrows; start += 5) {
        size_t rows[5], m = 0;
        for (; m < 5 && start + m < t->nrows; m++) rows[m] = start + m;
        pz_table *chunk = pz_table_take(t, rows, m);
        CU_ASSERT_EQUAL(pz_table_writer_append(w, chunk, &err), 0);
        pz_table_free(chunk);
    }
    CU_ASSERT_EQUAL(pz_table_writer_close(w, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(one, streamed));

    pz_source src = {one, NULL};
    pz_table *back = NULL;
    int rc = pz_table_read_src(&src, NULL, 0, 0, (size_t)-1, &back, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_TRUE(same_table(t, back));
    pz_table_free(back);

    /* astropy sees the same: units, masked integers, NaN, the description, the attributes */
    char *script = pz_xasprintf("%s/check.py", tmpdir), *out = NULL;
    pzt_write_file(script,
                   "import sys, numpy as np\n"
                   "from astropy.table import Table\n"
                   "t = Table.read(sys.argv[1])\n"
                   "assert len(t) == 23 and t.colnames[0] == 'z_f64', t.colnames\n"
                   "assert str(t['z_f64'].unit) == 'mag'\n"
                   "assert t['z_f64'].mask[2] and t['z_f32'][4] == 6.0\n"
                   "assert t['id'].mask[4] and not t['id'].mask[3] and t['id'][3] == 21\n"
                   "assert t['name'][12] == 'g12'\n"
                   "assert t.meta['SEED'] == '3' and t.meta['ORIGIN'] == 'pzflow test', t.meta\n"
                   "assert t.meta['PROVENANCE'].endswith('\"seed\": 3}'), t.meta['provenance']\n"
                   "print('ok')\n");
    rc = pzt_run(NULL, &out, "%s %s %s", pzt_python(), script, one);
    CU_ASSERT_TRUE(rc == 0 && pzt_has(out, "ok"));
    free(out);
    free(script);
    pz_table_free(t);
    free(one);
    free(again);
    free(streamed);
}

/* A stage that reads a FITS table (attributes come back upper case: SEED) and sets `seed` again
 * replaces it: one keyword in what it writes, with the new value, not two SEED cards of which a
 * reader keeps one. A table with more columns than FITS allows is refused by name. */
static void test_attributes_set_over_read_ones(void)
{
    pz_err err;
    pz_table *t = every_type(5), *back = NULL, *again = NULL;
    char *one = pz_xasprintf("%s/attrs1.fits", tmpdir), *two = pz_xasprintf("%s/attrs2.fits", tmpdir);
    CU_ASSERT_EQUAL_FATAL(pz_stage_table_write(one, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(one, 0, NULL, 0, 0, (size_t)-1, &back, &err), 0);
    size_t nattrs = back->nattrs;
    pz_table_set_attr(back, "seed", "4");
    CU_ASSERT_EQUAL(back->nattrs, nattrs);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(back, "SEED"), "4");
    CU_ASSERT_EQUAL_FATAL(pz_stage_table_write(two, back, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_any(two, 0, NULL, 0, 0, (size_t)-1, &again, &err), 0);
    CU_ASSERT_EQUAL(again->nattrs, nattrs);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(again, "seed"), "4");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(again, "provenance"), pz_table_attr(t, "provenance"));
    pz_table_free(again);
    pz_table_free(back);
    pz_table_free(t);

    t = pz_table_new(1);
    for (int j = 0; j < PZ_STAGE_TABLE_MAX_COLUMNS + 1; j++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", j);
        pz_table_add(t, name, PZ_F32, 0);
    }
    CU_ASSERT_EQUAL(pz_stage_table_write(one, t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "1000 columns, more than the 999 a FITS table holds"));
    pz_table_free(t);
    free(one), free(two);
}

/* A FITS file whose columns are upper case, in its second HDU: found by name in any case;
 * names differing only in case are an error, never a choice. */
static void test_case_insensitive(void)
{
    pz_err err;
    const char *cols[] = {"g_cmodel_mag", "object_id"};
    char *spec = pz_xasprintf("%s[phase3catalog]", small_path);
    pz_source src;
    pz_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_source_parse(spec, &src, &err), 0);
    const char *wide[] = {"hsc_I_mag_auto", "mixed"};
    CU_ASSERT_EQUAL(pz_table_read_src(&src, wide, 1, 0, (size_t)-1, &t, &err), 0);
    if (t) CU_ASSERT_STRING_EQUAL(t->cols[0].name, "HSC_i_MAG_AUTO");
    pz_table_free(t);
    CU_ASSERT_EQUAL(pz_table_read_src(&src, wide + 1, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "missing 1 column: mixed (ambiguous: several columns differ only in case)"));
    CU_ASSERT_EQUAL(pz_table_read_src(&src, cols, 2, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "missing 2 columns: g_cmodel_mag, object_id"));
    pz_source_free(&src);
    free(spec);
}

int main(void)
{
    tmpdir = pzt_mkdtemp("fits");
    pzt_suite("fits", (pzt_case[]){{"types_and_nulls", test_types_and_nulls},
                                   {"names", test_names},
                                   {"chunk_boundaries", test_chunk_boundaries},
                                   {"row ranges", test_row_ranges},
                                   {"bad_files", test_bad_files},
                                   {"an HDU by number or name", test_hdu_choice},
                                   {"names in any case, ambiguity refused", test_case_insensitive},
                                   {"the writer round trip, streamed and deterministic", test_write_round_trip},
                                   {"attributes set over ones read back replace them", test_attributes_set_over_read_ones},
                                   {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(tmpdir);
    free(tmpdir);
    free(small_path);
    free(wide_path);
    return rc;
}
