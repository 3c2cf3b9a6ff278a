/* An HDF5 table whose data live in another file (external link, external raw storage,
 * virtual dataset) is refused with one message naming the file and the link: its data would
 * not be in the input's hash, so a change to them would leave a stale result "up to date". */
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "table/table.h"

static char *dir;


static void make_files(void)
{
    dir = pzt_mkdtemp("h5links");
    char *out = NULL;
    int rc = pzt_run(NULL, &out, "%s %s/tests/py/h5_indirect.py %s", pzt_python(), pzt_source_dir(), dir);
    if (rc) fprintf(stderr, "%s\n", out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
}

/* The error of reading `file`, or NULL when it reads. */
static char *read_error(const char *file)
{
    char *path = pz_xasprintf("%s/%s", dir, file);
    pz_table *t = NULL;
    pz_err err;
    int rc = pz_table_read_hdf5(path, NULL, 0, 0, (size_t)-1, &t, &err);
    free(path);
    if (rc == 0) {
        pz_table_free(t);
        return NULL;
    }
    return pz_xstrdup(err.msg);
}

static void test_an_external_link_is_refused_naming_file_and_link(void)
{
    make_files();
    char *e = read_error("elink.h5");
    CU_ASSERT_TRUE(pzt_has(e, "/elink.h5: '/z' is an external link to target.h5:/z; pzflow refuses it"));
    free(e);
    /* pz_table_info_hdf5 (columns of a file) opens the same way. */
    char *path = pz_xasprintf("%s/elink.h5", dir);
    pz_colinfo *cols = NULL;
    size_t n = 0;
    long rows = 0;
    pz_err err;
    CU_ASSERT_EQUAL(pz_table_info_hdf5(path, &cols, &n, &rows, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "is an external link to target.h5:/z"));
    free(path);
}

static void test_external_storage_is_refused(void)
{
    char *e = read_error("extstore.h5");
    CU_ASSERT_TRUE(pzt_has(e, "/extstore.h5: dataset 'z' keeps its data in the external file 'raw.bin'; pzflow refuses it"));
    free(e);
}

static void test_a_virtual_dataset_is_refused(void)
{
    char *e = read_error("vds.h5");
    CU_ASSERT_TRUE(pzt_has(e, "/vds.h5: dataset 'z' is a virtual dataset (data in '"));
    CU_ASSERT_TRUE(pzt_has(e, "target.h5'); pzflow refuses it"));
    free(e);
}

static void test_a_soft_link_within_the_file_reads(void)
{
    char *e = read_error("soft.h5");
    CU_ASSERT_PTR_NULL(e);
    free(e);
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("h5links", (pzt_case[]){{"an external link is refused, naming file and link", test_an_external_link_is_refused_naming_file_and_link},
                                      {"external raw storage is refused", test_external_storage_is_refused},
                                      {"a virtual dataset is refused", test_a_virtual_dataset_is_refused},
                                      {"a soft link within the file reads", test_a_soft_link_within_the_file_reads},
                                      {0}});
    return pzt_main();
}
