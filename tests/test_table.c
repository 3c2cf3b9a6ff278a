/* The columnar table and its HDF5 form: in-memory operations, round trips of every type,
 * h5py as an independent reader and writer, determinism, and clear errors on bad files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"

static char *tmpdir;

/* Under ASan: HDF5 1.10 leaks metadata-cache entries after a checksum failure while reading the
 * deliberately corrupted files of test_hdf5_bad_files. Those blocks are allocated and lost
 * inside libhdf5, so LeakSanitizer is told to ignore leaks whose stack is in that library. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libhdf5\n";
}

static char *tmp(const char *name)
{
    return pz_xasprintf("%s/%s", tmpdir, name);
}

/* A table with one column of every type, a null in the integer column and a unit. */
static pz_table *sample(void)
{
    pz_table *t = pz_table_new(4);
    pz_column *id = pz_table_add(t, "object_id", PZ_I64, 0);
    pz_column *z = pz_table_add(t, "z", PZ_F64, 0);
    pz_column *m = pz_table_add(t, "i_mag", PZ_F32, 0);
    pz_column *a = pz_table_add(t, "tract", PZ_I32, 0);
    pz_column *f = pz_table_add(t, "flag", PZ_I16, 0);
    pz_column *u = pz_table_add(t, "band", PZ_U8, 0);
    pz_column *b = pz_table_add(t, "good", PZ_BOOL, 0);
    pz_column *s = pz_table_add(t, "specz_name", PZ_STR, 6);
    m->unit = pz_xstrdup("mag");
    const char *names[] = {"alpha", "b", "gamma!", "delta"};
    for (size_t i = 0; i < 4; i++) {
        ((int64_t *)id->data)[i] = 43158035740000000LL + (int64_t)i; /* beyond 2^53: exactness */
        pz_col_set_f64(z, i, 0.25 * (double)i);
        pz_col_set_f64(m, i, i == 2 ? NAN : 20.5 + (double)i);
        pz_col_set_f64(a, i, 9813 + (double)i);
        pz_col_set_f64(f, i, -(double)i);
        pz_col_set_f64(u, i, 200 + (double)i);
        pz_col_set_f64(b, i, i % 2);
        memcpy((char *)s->data + i * 6, names[i], strlen(names[i]));
    }
    f->null = pz_xcalloc(4, 1);
    f->null[3] = 1;
    pz_table_set_attr(t, "pzflow_provenance", "{\"stage\": \"test\"}");
    pz_table_set_attr(t, "note", "µJy — unicode ok");
    return t;
}

static void test_memory_ops(void)
{
    pz_table *t = sample();
    pz_err err;
    CU_ASSERT_EQUAL(t->ncols, 8);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "flag"), 3)));
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "flag"), 2), -2, 0);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "specz_name"), 0)));
    CU_ASSERT_PTR_NULL(pz_table_need(t, "nope", "sample", &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table 'sample': no column 'nope' (have: object_id, z, i_mag"));

    /* replacing keeps the position */
    pz_table_add(t, "z", PZ_F32, 0);
    CU_ASSERT_STRING_EQUAL(t->cols[1].name, "z");
    CU_ASSERT_EQUAL(t->cols[1].type, PZ_F32);
    CU_ASSERT_EQUAL(t->ncols, 8);

    const char *cols[] = {"tract", "i_mag"};
    float mat[8];
    CU_ASSERT_EQUAL(pz_table_matrix_f32(t, cols, 2, mat, 0, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column 'i_mag' row 2: non-finite"));
    CU_ASSERT_EQUAL(pz_table_matrix_f32(t, cols, 2, mat, 1, &err), 0);
    CU_ASSERT_DOUBLE_EQUAL(mat[2 * 3 + 0], 9816, 0);
    CU_ASSERT_DOUBLE_EQUAL(mat[1 * 2 + 1], 21.5, 1e-6);

    size_t rows[] = {3, 1};
    pz_table *k = pz_table_take(t, rows, 2);
    CU_ASSERT_EQUAL(k->nrows, 2);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(k, "object_id")->data)[0], 43158035740000003LL);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(k, "flag"), 0)));
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(k, "specz_name")->data + 6, "b\0\0\0\0\0", 6), 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(k, "note"), "µJy — unicode ok");

    /* concat: second table's types differ and converts to the first's; strings widen */
    pz_table *o = pz_table_new(1);
    pz_column *cols_o[8];
    for (size_t j = 0; j < t->ncols; j++)
        cols_o[j] = pz_table_add(o, t->cols[j].name, t->cols[j].type == PZ_STR ? PZ_STR : PZ_F64, 9);
    for (size_t j = 0; j < t->ncols; j++)
        if (cols_o[j]->type != PZ_STR) pz_col_set_f64(cols_o[j], 0, 7);
    pz_col_set_f64(pz_table_col(o, "flag"), 0, NAN);
    memcpy(pz_table_col(o, "specz_name")->data, "longname9", 9);
    pz_table *parts[] = {k, o};
    pz_table *c = pz_table_concat(parts, 2, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->nrows, 3);
    CU_ASSERT_EQUAL(pz_table_col(c, "tract")->type, PZ_I32);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(c, "tract"), 2), 7, 0);
    CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(c, "flag"), 2)));
    CU_ASSERT_EQUAL(pz_table_col(c, "specz_name")->width, 9);
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(c, "specz_name")->data + 18, "longname9", 9), 0);

    pz_table *bad = pz_table_new(1);
    pz_table_add(bad, "x", PZ_F64, 0);
    pz_table *parts2[] = {k, bad};
    CU_ASSERT_PTR_NULL(pz_table_concat(parts2, 2, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "concat: table 1 has 1 columns"));
    pz_table_free(bad);
    pz_table_free(c);
    pz_table_free(o);
    pz_table_free(k);
    pz_table_free(t);
}

static void test_hdf5_round_trip(void)
{
    pz_table *t = sample();
    char *path = tmp("rt.h5");
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(path, t, &err), 0);
    pz_table *r = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 4);
    CU_ASSERT_EQUAL_FATAL(r->ncols, t->ncols);
    for (size_t j = 0; j < t->ncols; j++) {
        const pz_column *a = &t->cols[j], *b = &r->cols[j];
        CU_ASSERT_STRING_EQUAL(a->name, b->name); /* order kept */
        CU_ASSERT_EQUAL(a->type, b->type);
        CU_ASSERT_EQUAL(a->width, b->width);
        for (size_t i = 0; i < 4; i++) {
            int an = a->null && a->null[i], bn = b->null && b->null[i];
            CU_ASSERT_EQUAL(an, bn);
            if (!an) CU_ASSERT_EQUAL(memcmp((char *)a->data + i * a->width, (char *)b->data + i * b->width, a->width), 0);
        }
    }
    CU_ASSERT_STRING_EQUAL(pz_table_col(r, "i_mag")->unit, "mag");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(r, "pzflow_provenance"), "{\"stage\": \"test\"}");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(r, "note"), "µJy — unicode ok");
    pz_table_free(r);

    /* row range and column subset */
    const char *want[] = {"specz_name", "object_id"};
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, want, 2, 1, 2, &r, &err), 0);
    CU_ASSERT_EQUAL(r->nrows, 2);
    CU_ASSERT_STRING_EQUAL(r->cols[0].name, "specz_name");
    CU_ASSERT_EQUAL(((int64_t *)r->cols[1].data)[1], 43158035740000002LL);
    CU_ASSERT_EQUAL(memcmp(r->cols[0].data, "b\0\0\0\0\0gamma!", 12), 0);
    pz_table_free(r);
    CU_ASSERT_EQUAL(pz_hdf5_nrows(path, &err), 4);

    /* missing columns are listed together */
    const char *miss[] = {"z", "nope1", "object_id", "nope2"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(path, miss, 4, 0, (size_t)-1, &r, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing 2 columns: nope1, nope2"));

    /* deterministic bytes */
    char *path2 = tmp("rt2.h5");
    CU_ASSERT_EQUAL(pz_table_write_hdf5(path2, t, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(path, path2));

    /* GalaxiesML's layout (the mock writes it): h5py reads one dataset per column, and so do we */
    char *flat = tmp("rt_flat.h5");
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5_columns(flat, t, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(flat, NULL, 0, 0, (size_t)-1, &r, &err), 0);
    CU_ASSERT_EQUAL(r->ncols, t->ncols);
    CU_ASSERT_EQUAL(pz_table_col(r, "flag")->null[3], 1);
    CU_ASSERT_STRING_EQUAL(pz_table_col(r, "i_mag")->unit, "mag");
    pz_table_free(r);
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import h5py,sys; f=h5py.File(sys.argv[1],'r');"
                     "print(list(f.keys()), f['specz_name'].shape, f['specz_name'][2,0], f['good'].dtype, list(f['good'][:]),"
                     " f['object_id'][3], f['i_mag'].attrs['unit'], f.attrs['pzflow_provenance'], f.attrs['note'])\" %s",
                     pzt_python(), flat);
    CU_ASSERT_EQUAL(rc, 0);
    if (out) {
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "['band', 'flag', 'good', 'i_mag', 'object_id', 'specz_name', 'tract', 'z']"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "(4, 1) b'gamma!' bool [False, True, False, True] 43158035740000003 mag {\"stage\": \"test\"} µJy — unicode ok"));
        if (!strstr(out, "(4, 1)")) fprintf(stderr, "h5py said: %s\n", out);
    }
    free(out);
    free(flat);
    free(path2);
    free(path);
    pz_table_free(t);
}

/* Files written by h5py the way GalaxiesML's are: (N,1) and (N) strings, bools, float32 and
 * float64, an image dataset, root attributes of both string kinds. */
static void test_hdf5_from_h5py(void)
{
    char *path = tmp("gml.h5");
    char *out = NULL;
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import h5py,numpy as np,sys; f=h5py.File(sys.argv[1],'w');"
                     "f['object_id']=np.array([5,6,7],dtype=np.int64); f['specz_redshift']=np.array([0.1,0.2,0.3],dtype=np.float32);"
                     "f['ra']=np.array([150.,150.5,151.]); f['specz_flag_homogeneous']=np.array([True,False,True]);"
                     "f['specz_name']=np.array([[b'a'],[b'bb'],[b'ccc']]); f['coord']=np.array([b'x1',b'y22',b'z']);"
                     "f['names_vlen']=['p','qq','rrr']; f['image']=np.zeros((3,5,4,4),dtype=np.float32);"
                     "f['u16']=np.array([1,65535,3],dtype=np.uint16); f['i8']=np.array([-1,0,1],dtype=np.int8);"
                     "f.attrs['vlen']='hello'; f.attrs['fixed']=np.bytes_(b'fixed value'); f.attrs['num']=3\" %s",
                     pzt_python(), path);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    pz_table *t = NULL;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->nrows, 3);
    CU_ASSERT_PTR_NULL(pz_table_col(t, "image")); /* skipped: not a column shape */
    CU_ASSERT_EQUAL(pz_table_col(t, "specz_redshift")->type, PZ_F32);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "specz_redshift"), 2), 0.3, 1e-6);
    CU_ASSERT_EQUAL(pz_table_col(t, "specz_flag_homogeneous")->type, PZ_BOOL);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "specz_flag_homogeneous"), 1), 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "specz_flag_homogeneous"), 2), 1, 0);
    pz_column *s = pz_table_col(t, "specz_name");
    CU_ASSERT_EQUAL(s->width, 3);
    CU_ASSERT_EQUAL(memcmp((char *)s->data + 3, "bb\0", 3), 0);
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(t, "coord")->data + 3, "y22", 3), 0);
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(t, "names_vlen")->data + 6, "rrr", 3), 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "u16"), 1), 65535, 0);
    CU_ASSERT_DOUBLE_EQUAL(pz_col_f64(pz_table_col(t, "i8"), 0), -1, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "vlen"), "hello");
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "fixed"), "fixed value");
    pz_table_free(t);

    const char *img[] = {"image"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(path, img, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dataset 'image' is not a table column"));
    free(path);
}

static void test_hdf5_bad_files(void)
{
    pz_err err;
    pz_table *t = NULL;
    char *missing = tmp("nope.h5");
    CU_ASSERT_EQUAL(pz_table_read_hdf5(missing, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nope.h5: No such file or directory"));

    char *text = tmp("text.h5");
    pzt_write_file(text, "this is not hdf5\n");
    CU_ASSERT_EQUAL(pz_table_read_hdf5(text, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "text.h5: not an HDF5 file or truncated"));
    CU_ASSERT_EQUAL(pz_hdf5_nrows(text, &err), -1);

    /* a real file cut at several lengths, and one with flipped bytes: errors, never crashes */
    pz_table *s = pz_table_new(2000);
    pz_column *c = pz_table_add(s, "x", PZ_F64, 0);
    for (size_t i = 0; i < 2000; i++) pz_col_set_f64(c, i, (double)i);
    pz_table_add(s, "name", PZ_STR, 8);
    char *good = tmp("good.h5");
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(good, s, &err), 0);
    size_t len;
    char *bytes = pzt_read_file(good, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    char *cut = tmp("cut.h5");
    size_t cuts[] = {100, 1000, len / 2, len - 100};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        FILE *f = fopen(cut, "wb");
        fwrite(bytes, 1, cuts[k], f);
        fclose(f);
        int rc = pz_table_read_hdf5(cut, NULL, 0, 0, (size_t)-1, &t, &err);
        CU_ASSERT_EQUAL(rc, -1);
        if (rc == 0) pz_table_free(t);
        else CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cut.h5: "));
    }
    for (size_t k = 0; k < 64; k++) {
        char *copy = pz_xmalloc(len);
        memcpy(copy, bytes, len);
        for (size_t i = k * 37 % 512; i < len; i += 97 + k) copy[i] ^= (char)(0x5a + k);
        FILE *f = fopen(cut, "wb");
        fwrite(copy, 1, len, f);
        fclose(f);
        if (pz_table_read_hdf5(cut, NULL, 0, 0, (size_t)-1, &t, &err) == 0) pz_table_free(t);
        free(copy);
    }
    free(bytes);
    free(cut);
    free(good);
    pz_table_free(s);
    free(text);
    free(missing);
}

/* Offset of the first global heap collection ("GCOL", version 1) in a file's bytes. */
static size_t find_collection(const char *bytes, size_t len)
{
    for (size_t i = 0; i + 5 <= len; i++)
        if (memcmp(bytes + i, "GCOL\1", 5) == 0) return i;
    return (size_t)-1;
}

/* HDF5 1.10.8 loops forever decoding a heap object of size 0, and overruns on one larger than
 * its collection; both must become an error before any variable-length string is read. */
static void test_hdf5_corrupt_global_heap(void)
{
    pz_err err;
    pz_table *s = sample(), *t = NULL;
    char *good = tmp("heap.h5"), *bad = tmp("heap_bad.h5");
    /* GalaxiesML's layout keeps units in variable-length attributes, in the global heap */
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5_columns(good, s, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(good, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_STRING_EQUAL(pz_table_col(t, "i_mag")->unit, "mag"); /* read from the heap */
    pz_table_free(t);
    size_t len;
    char *bytes = pzt_read_file(good, &len);
    size_t at = find_collection(bytes, len);
    CU_ASSERT_FATAL(at != (size_t)-1);
    size_t obj = at + 16; /* 8-byte lengths: 16-byte collection header */
    static const unsigned char zero_obj[16] = {0};
    static const unsigned char huge_obj[16] = {1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40};
    const unsigned char *edits[] = {zero_obj, huge_obj};
    for (size_t k = 0; k < 2; k++) {
        char *copy = pz_xmalloc(len);
        memcpy(copy, bytes, len);
        memcpy(copy + obj, edits[k], 16);
        FILE *f = fopen(bad, "wb");
        fwrite(copy, 1, len, f);
        fclose(f);
        free(copy);
        char *want = pz_xasprintf("heap_bad.h5: corrupt global heap collection at byte %zu (an object at byte %zu", at, obj);
        CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, NULL, 0, 0, (size_t)-1, &t, &err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
        free(want);
    }
    /* the same through a variable-length string column (h5py's str), whose objects all sit in
     * one collection: its second object claims more bytes than the collection has */
    char *vcol = tmp("vlen_col.h5"), *out = NULL;
    CU_ASSERT_EQUAL_FATAL(pzt_run(NULL, &out, "%s -c \"import h5py,sys; f=h5py.File(sys.argv[1],'w');"
                                              "f['name']=['alpha','beta','gamma']\" %s", pzt_python(), vcol), 0);
    free(out);
    const char *name[] = {"name"};
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(vcol, name, 1, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(memcmp((char *)pz_table_col(t, "name")->data + 2 * pz_table_col(t, "name")->width, "gamma", 5), 0);
    pz_table_free(t);
    size_t vlen;
    char *vbytes = pzt_read_file(vcol, &vlen);
    size_t vat = find_collection(vbytes, vlen);
    CU_ASSERT_FATAL(vat != (size_t)-1);
    memcpy(vbytes + vat + 16 + 8 + 16 + 8, "\xff\xff\0\0", 4); /* object 2's length field: 65535 */
    FILE *vf = fopen(bad, "wb");
    fwrite(vbytes, 1, vlen, vf);
    fclose(vf);
    CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, name, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "heap_bad.h5: corrupt global heap collection at byte"));
    free(vbytes);
    free(vcol);
    /* found by a fuzz campaign: the root group's name heap at the undefined address, which
     * HDF5 1.10.8 reads into a NULL buffer (SIGSEGV) on the first name lookup */
    char *undef = pz_xasprintf("%s/tests/fuzz/hdf5/hdf5-local-heap-undefined.h5", PZ_SOURCE_DIR);
    CU_ASSERT_EQUAL(pz_table_read_hdf5(undef, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hdf5-local-heap-undefined.h5: object '.' is corrupt: its header holds a "
                                           "link-name heap address outside the file"));
    CU_ASSERT_EQUAL(pz_hdf5_nrows(undef, &err), -1);
    free(undef);
    /* the file fuzz_hdf5 found: H5Aread of its `unit` attribute never returned */
    char *found = pz_xasprintf("%s/tests/fuzz/hdf5/hdf5-global-heap-hang.h5", PZ_SOURCE_DIR);
    const char *col[] = {"i_cmodel_mag"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(found, col, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hdf5-global-heap-hang.h5: corrupt global heap collection at byte 2084"));
    free(found);
    free(bytes);
    free(good);
    free(bad);
    pz_table_free(s);
}

/* HDF5 1.10.8 copies an enumeration's values with the enumeration's size: one that differs from
 * its base type's makes H5Dopen2 read gigabytes past a buffer (SIGSEGV). */
static void test_hdf5_corrupt_enum_type(void)
{
    pz_err err;
    pz_table *t = NULL;
    char *good = tmp("enum.h5"), *bad = tmp("enum_bad.h5"), *out = NULL;
    /* h5py writes numpy bools as a version 1 enumeration, as the file fuzz_hdf5 found */
    int rc = pzt_run(NULL, &out,
                     "%s -c \"import h5py,sys; f=h5py.File(sys.argv[1],'w'); f['good']=[True,False,True];"
                     "f['z']=[0.5,1.5,2.5]\" %s", pzt_python(), good);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(good, NULL, 0, 0, (size_t)-1, &t, &err), 0);
    pz_table_free(t);
    size_t len, at = (size_t)-1;
    char *bytes = pzt_read_file(good, &len);
    /* the bool column's type: enum (class 8) of 2 members, size 1, then its 1-byte base */
    for (size_t i = 0; i + 9 <= len && at == (size_t)-1; i++)
        if ((bytes[i] & 0x0f) == 8 && memcmp(bytes + i + 1, "\2\0\0\1\0\0\0", 7) == 0 && (bytes[i + 8] & 0x0f) == 0) at = i;
    CU_ASSERT_FATAL(at != (size_t)-1);
    memcpy(bytes + at + 4, "\1\0\0\x40", 4); /* size 1 GB + 1, as found */
    FILE *f = fopen(bad, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    const char *col[] = {"good"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, col, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "enum_bad.h5: object 'good' is corrupt: its header holds an enumeration datatype whose size differs"));
    CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, NULL, 0, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "object 'good' is corrupt: its header holds an enumeration datatype"));
    pz_colinfo *cols = NULL;
    size_t ncols;
    long nrows;
    CU_ASSERT_EQUAL(pz_table_info_hdf5(bad, &cols, &ncols, &nrows, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "object 'good' is corrupt: its header holds an enumeration datatype"));
    /* the other column of the same file still reads */
    const char *other[] = {"z"};
    CU_ASSERT_EQUAL(pz_table_read_hdf5(bad, other, 1, 0, (size_t)-1, &t, &err), 0);
    if (t) pz_table_free(t);
    free(bytes);
    free(good);
    free(bad);
}

/* HDF5 1.10.8 divides by the chunk sizes of an old-style (version 2) layout message unchecked:
 * SIGFPE in H5Dopen2, for h5py too. layout-v2-chunked.h5 is an h5py file of one chunked column
 * (64 floats 20..83, chunks of 8) whose layout message was rewritten in the version 2 encoding;
 * hdf5-layout-zero-chunk.h5 is the same with a chunk size of 0; hdf5-layout-fpe.h5 is the
 * fuzz find whose sizes run past the message. */
static void test_hdf5_zero_chunk_layout(void)
{
    pz_err err;
    pz_table *t = NULL;
    const char *col[] = {"i_cmodel_mag"};
    char *good = pz_xasprintf("%s/tests/fixtures/hdf5/layout-v2-chunked.h5", PZ_SOURCE_DIR);
    CU_ASSERT_EQUAL_FATAL(pz_table_read_hdf5(good, col, 1, 0, (size_t)-1, &t, &err), 0);
    CU_ASSERT_EQUAL(t->nrows, 64);
    CU_ASSERT_EQUAL(((float *)pz_table_col(t, "i_cmodel_mag")->data)[63], 83.0f);
    pz_table_free(t);
    char *zero = pz_xasprintf("%s/tests/fuzz/hdf5/hdf5-layout-zero-chunk.h5", PZ_SOURCE_DIR);
    CU_ASSERT_EQUAL(pz_table_read_hdf5(zero, col, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hdf5-layout-zero-chunk.h5: object 'i_cmodel_mag' is corrupt: its header "
                                           "holds a chunked layout with a chunk dimension of zero"));
    CU_ASSERT_EQUAL(pz_hdf5_nrows(zero, &err), -1); /* the row count names the corrupt column, without a crash */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "object 'i_cmodel_mag' is corrupt"));
    char *found = pz_xasprintf("%s/tests/fuzz/hdf5/hdf5-layout-fpe.h5", PZ_SOURCE_DIR);
    CU_ASSERT_EQUAL(pz_hdf5_nrows(found, &err), -1); /* it crashed here, in H5Dopen2 */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a chunked layout whose chunk dimensions overrun their message"));
    CU_ASSERT_EQUAL(pz_table_read_hdf5(found, col, 1, 0, (size_t)-1, &t, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a chunked layout whose chunk dimensions overrun their message"));
    free(good);
    free(zero);
    free(found);
}

int main(void)
{
    tmpdir = pzt_mkdtemp("table");
    pzt_suite("table", (pzt_case[]){{"memory_ops", test_memory_ops},
                                    {"hdf5_round_trip", test_hdf5_round_trip},
                                    {"hdf5_from_h5py", test_hdf5_from_h5py},
                                    {"hdf5_bad_files", test_hdf5_bad_files},
                                    {"hdf5_corrupt_global_heap", test_hdf5_corrupt_global_heap},
                                    {"hdf5_corrupt_enum_type", test_hdf5_corrupt_enum_type},
                                    {"hdf5_zero_chunk_layout", test_hdf5_zero_chunk_layout},
                                    {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(tmpdir);
    free(tmpdir);
    return rc;
}
