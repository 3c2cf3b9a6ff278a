/* Table sources: a file and a place inside it, parsed the way a user writes them, and the
 * output format told from a file's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/pztest.h"
#include "table/table.h"

static char *tmpdir;

static void expect(const char *spec, const char *path, const char *loc)
{
    pz_source src;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_source_parse(spec, &src, &err), 0);
    CU_ASSERT_STRING_EQUAL(src.path, path);
    CU_ASSERT_TRUE(loc ? src.loc && !strcmp(src.loc, loc) : !src.loc);
    char *back = pz_source_str(&src);
    CU_ASSERT_STRING_EQUAL(back, spec);
    free(back);
    pz_source_free(&src);
}

static void test_places(void)
{
    expect("cat.h5", "cat.h5", NULL);
    expect("cat.h5:/photometry", "cat.h5", "/photometry");
    expect("cat.h5:/a/b", "cat.h5", "/a/b");
    expect("cat.fits[2]", "cat.fits", "2");
    expect("cat.fits[PHOT]", "cat.fits", "PHOT");
    expect("dir/cat.csv", "dir/cat.csv", NULL);
}

/* A file whose own name looks like a place is taken whole; otherwise the cut is where the
 * rest names an existing file. */
static void test_existing_files_are_never_split(void)
{
    char *odd = pz_xasprintf("%s/odd:/x", tmpdir), *dir = pz_xasprintf("%s/odd:", tmpdir);
    CU_ASSERT_EQUAL(mkdir(dir, 0755), 0);
    pzt_write_file(odd, "x");
    expect(odd, odd, NULL);
    char *br = pz_xasprintf("%s/b[1]", tmpdir);
    pzt_write_file(br, "x");
    expect(br, br, NULL);
    char *file = pz_xasprintf("%s/t:1.h5", tmpdir), *spec = pz_xasprintf("%s:/grp", file);
    pzt_write_file(file, "x");
    expect(spec, file, "/grp");
    free(odd), free(dir), free(br), free(file), free(spec);
}

static void test_bad_specs(void)
{
    pz_source src;
    pz_err err;
    CU_ASSERT_EQUAL(pz_source_parse("", &src, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "empty table source"));
    CU_ASSERT_EQUAL(pz_source_parse("cat.fits[]", &src, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "cat.fits[]: empty place after the file name"));
}

static void test_format_from_name(void)
{
    const char *names[] = {"p.fits", "p.FIT", "p.fts", "p.h5", "p.hdf5", "p.csv", "p.ecsv", "dir.v2/p.Csv"};
    const pz_format fmts[] = {PZ_FMT_FITS, PZ_FMT_FITS, PZ_FMT_FITS, PZ_FMT_HDF5,
                              PZ_FMT_HDF5, PZ_FMT_CSV,  PZ_FMT_ECSV, PZ_FMT_CSV};
    pz_err err;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        pz_format f;
        CU_ASSERT_EQUAL(pz_format_from_name(names[i], &f, &err), 0);
        CU_ASSERT_EQUAL(f, fmts[i]);
    }
    pz_format f;
    CU_ASSERT_EQUAL(pz_format_from_name("predictions.parquet", &f, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "predictions.parquet: cannot tell the table format from the name (extension "
                                    "'.parquet'); name it .fits, .h5, .csv or .ecsv"));
    CU_ASSERT_EQUAL(pz_format_from_name("dir.d/predictions", &f, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "dir.d/predictions: cannot tell the table format from the name; name it"));
}

int main(void)
{
    tmpdir = pzt_mkdtemp("source");
    pzt_suite("source", (pzt_case[]){{"a file and a place in it", test_places},
                                     {"an existing file is never split", test_existing_files_are_never_split},
                                     {"empty sources and places are refused", test_bad_specs},
                                     {"the output format comes from the name", test_format_from_name},
                                     {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(tmpdir);
    free(tmpdir);
    return rc;
}
