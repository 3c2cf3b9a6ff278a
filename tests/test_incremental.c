/* End to end, on the real stages of pipelines/quick.yaml: a change reruns exactly what it affects
 * (early cutoff), and `pzflow provenance` explains any output from the run records.
 *
 * One run from scratch, with the HSC dataset schema declared as an input of ingest-hsc (a copy
 * of schemas/hsc_pdr2.yaml in the test's directory; given with --set, so these runs are
 * experiments and their results folders are results@<name>/), then:
 *   - `pzflow provenance` on a results link, an object path and a bare hash prints the chain;
 *   - a comment added to that schema reruns ingest-hsc only: its table comes out identical, so
 *     hsc-cuts and everything after stay cached;
 *   - a cut that keeps every row (i_cmodel_mag < 60 next to 0 < i_cmodel_mag < 50) reruns
 *     hsc-cuts only: its table is byte-identical (its cut-flow, which no stage reads, is not), so
 *     cross-match, build-transferz, the trainings and predictions stay cached.
 * These fail while outputs embed their stage key (the pzflow_provenance attribute): any key
 * change then changes the output bytes and everything downstream reruns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pztest.h"
#include "util/err.h"

static char *dir, *schema;

static const char *hsc_cuts_plus_one =
    "--set 'stages.hsc-cuts.params.cuts=["
    "\"isfinite(g_cmodel_mag) && isfinite(r_cmodel_mag) && isfinite(i_cmodel_mag)\", "
    "\"isfinite(z_cmodel_mag) && isfinite(y_cmodel_mag)\", \"0 < i_cmodel_mag < 50\", \"i_cmodel_mag < 60\"]'";

static int run_quick(char **out, const char *extra)
{
    int rc = pzt_run(pzt_source_dir(), out,
                     "'%s/pzflow' run pipelines/quick.yaml -j 2 -C '%s/cache' --set 'workspace=%s/results' "
                     "--set 'stages.ingest-hsc.inputs.schema=%s' %s",
                     pzt_bin_dir(), dir, dir, schema, extra);
    if (rc) fprintf(stderr, "\n%s\n", *out);
    return rc;
}

static int pzflow_provenance(char **out, const char *args)
{
    return pzt_run(pzt_source_dir(), out, "'%s/pzflow' provenance %s", pzt_bin_dir(), args);
}


/* Shell output of `cmd` run in the test directory, trailing newline removed (malloc'd). */
static char *sh(const char *cmd)
{
    char *out = NULL;
    pzt_run(dir, &out, "%s", cmd);
    size_t n = out ? strlen(out) : 0;
    while (n && out[n - 1] == '\n') out[--n] = 0;
    return out;
}

static void test_quick_runs_with_the_schema_as_an_input(void)
{
    dir = pzt_mkdtemp("incremental");
    schema = pz_xasprintf("%s/hsc_pdr2.yaml", dir);
    char *src = pz_xasprintf("%s/schemas/hsc_pdr2.yaml", pzt_source_dir());
    char *text = pzt_read_file(src, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    pzt_write_file(schema, text);
    pzt_run(dir, NULL, "touch -d '2020-01-01' hsc_pdr2.yaml"); /* old enough for the stat cache */
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_quick(&out, ""), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "ingest-hsc"));
    CU_ASSERT_TRUE(pzt_ran(out, "plot"));
    free(out), free(text), free(src);
}

/* Issue 12's bar: astropy Table.read and stilts tpipe open every table the run wrote, with no
 * arguments (tests/py/open_all_outputs.py: models, qp files, the mock's GalaxiesML-layout
 * stand-ins and plots are told apart by content; any other table STILTS cannot open fails,
 * which is why the pipeline's tables are FITS: Debian's STILTS has no HDF5 or ECSV reader). */
static void test_every_table_output_opens_in_astropy_and_stilts(void)
{
    char *out = NULL;
    int rc = pzt_run(dir, &out, "%s '%s/tests/py/open_all_outputs.py' results*", pzt_python(), pzt_source_dir());
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, " 0 failures"));
    CU_ASSERT_TRUE(pzt_has(out, "ok   stilts  fits ") || pzt_has(out, "stilts is not installed"));
    CU_ASSERT_TRUE(pzt_has(out, "ok   stilts  csv ") || pzt_has(out, "stilts is not installed"));
    CU_ASSERT_TRUE(pzt_has(out, "/predictions.fits: "));
    CU_ASSERT_TRUE(pzt_has(out, "/metrics.fits: "));
    CU_ASSERT_FALSE(pzt_has(out, "FAIL "));
    free(out);
}

static void test_provenance_prints_the_whole_chain_of_a_result(void)
{
    char *link = sh("find results*/ -path '*evaluate/table.md' | head -1");
    CU_ASSERT_FATAL(link && link[0]);
    char *out = NULL;
    char *args = pz_xasprintf("'%s/%s'", dir, link);
    CU_ASSERT_EQUAL(pzflow_provenance(&out, args), 0);
    CU_ASSERT_TRUE(pzt_has(out, "= evaluate/table, run "));
    CU_ASSERT_TRUE(pzt_has(out, "  pzflow   " PZ_VERSION "\n"));
    CU_ASSERT_TRUE(pzt_has(out, "/pzflow-evaluate\n"));
    CU_ASSERT_TRUE(pzt_has(out, "  input    base_gml[0] "));
    CU_ASSERT_TRUE(pzt_has(out, "= predict-base-gml[1]/predictions, run "));
    CU_ASSERT_TRUE(pzt_has(out, "= train-base[1]/model, run "));
    CU_ASSERT_TRUE(pzt_has(out, "= ingest-hsc/catalog, run "));
    CU_ASSERT_TRUE(pzt_has(out, "= mock-sky/hsc, run "));
    CU_ASSERT_TRUE(pzt_has(out, "  params   {\"label\":\"specz_redshift\"}"));
    CU_ASSERT_TRUE(pzt_has(out, "(shown above)")); /* diamonds: ingest-galaxiesml feeds many stages */
    /* An external input: the stat cache still knows its path. */
    char *ext = pz_xasprintf("= external file %s\n", schema);
    CU_ASSERT_TRUE(pzt_has(out, ext));
    CU_ASSERT_TRUE(pzt_has(out, "  started  20"));

    /* The same report from the object's path in the cache, and from its bare hash with -C. */
    char *object = sh("readlink -f \"$(find results*/ -path '*evaluate/table.md' | head -1)\"");
    /* objects/ab/cdef...: the directory holds the first two digits of the hash */
    char *hash = sh("readlink -f \"$(find results*/ -path '*evaluate/table.md' | head -1)\" | awk -F/ '{print $(NF-1) $NF}'");
    char *out2 = NULL, *out3 = NULL;
    char *a2 = pz_xasprintf("'%s'", object), *a3 = pz_xasprintf("%s -C '%s/cache'", hash, dir);
    CU_ASSERT_EQUAL(pzflow_provenance(&out2, a2), 0);
    CU_ASSERT_EQUAL(pzflow_provenance(&out3, a3), 0);
    CU_ASSERT_STRING_EQUAL(out2, out);
    CU_ASSERT_STRING_EQUAL(out3, out);
    free(out), free(out2), free(out3), free(a2), free(a3), free(object), free(hash), free(ext), free(args), free(link);
}

static void test_provenance_of_unknown_objects_says_so(void)
{
    char *out = NULL, *args = pz_xasprintf("0123456789abcdef0123456789abcdef -C '%s/cache'", dir);
    CU_ASSERT_EQUAL(pzflow_provenance(&out, args), 4);
    CU_ASSERT_TRUE(pzt_has(out, "no run recorded in "));
    CU_ASSERT_TRUE(pzt_has(out, "produced object 0123456789abcdef0123456789abcdef"));
    free(out), free(args);
    /* An external file is no run's output: its bytes are hashed and looked up, then refused. */
    args = pz_xasprintf("'%s' -C '%s/cache'", schema, dir);
    CU_ASSERT_EQUAL(pzflow_provenance(&out, args), 4);
    CU_ASSERT_TRUE(pzt_has(out, "no run recorded in "));
    free(out), free(args);
    CU_ASSERT_EQUAL(pzflow_provenance(&out, "/nonexistent/file"), 4);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow: /nonexistent/file: No such file or directory"));
    free(out);
}

static void test_a_schema_comment_reruns_only_the_stage_that_reads_it(void)
{
    FILE *f = fopen(schema, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("# a comment added by test_incremental\n", f);
    fclose(f);
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_quick(&out, ""), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "ingest-hsc"));
    CU_ASSERT_EQUAL(pzt_count_runs(out), 1);
    if (pzt_count_runs(out) != 1) fprintf(stderr, "\n%s\n", out);
    free(out);
}

static void test_a_row_preserving_cut_reruns_only_the_cut_stage(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(run_quick(&out, hsc_cuts_plus_one), 0);
    CU_ASSERT_TRUE(pzt_ran(out, "hsc-cuts"));
    CU_ASSERT_FALSE(pzt_ran(out, "build-transferz"));
    CU_ASSERT_FALSE(pzt_ran(out, "cross-match"));
    CU_ASSERT_EQUAL(pzt_count_runs(out), 1);
    if (pzt_count_runs(out) != 1) fprintf(stderr, "\n%s\n", out);
    free(out);
    /* Two runs of hsc-cuts now: the same table bytes, two different cut-flows. */
    char *tables = sh("grep -l '^stage hsc-cuts$' cache/runs/* | xargs grep -h '^output table ' | cut -d' ' -f3 | sort | uniq -c | awk '{print $1}'");
    CU_ASSERT_STRING_EQUAL(tables, "2");
    char *flows = sh("grep -l '^stage hsc-cuts$' cache/runs/* | xargs grep -h '^output cutflow ' | cut -d' ' -f3 | sort -u | wc -l");
    CU_ASSERT_STRING_EQUAL(flows, "2");
    free(tables), free(flows);
    /* provenance names both runs that produced the table. */
    char *link = sh("find results*/ -path '*hsc-cuts/table.fits' | head -1");
    char *args = pz_xasprintf("'%s/%s'", dir, link);
    CU_ASSERT_EQUAL(pzflow_provenance(&out, args), 0);
    CU_ASSERT_TRUE(pzt_has(out, "= hsc-cuts/table, run "));
    CU_ASSERT_TRUE(pzt_has(out, "  also produced by hsc-cuts/table, run "));
    CU_ASSERT_TRUE(pzt_has(out, "i_cmodel_mag < 60"));
    free(out), free(args), free(link);
    pzt_rmtree(dir);
    free(dir), free(schema);
}

int main(void)
{
    pzt_suite("incremental", (pzt_case[]){
                                 {"quick.yaml from scratch, schema as an input", test_quick_runs_with_the_schema_as_an_input},
                                 {"every table output opens in astropy and STILTS", test_every_table_output_opens_in_astropy_and_stilts},
                                 {"provenance of a result", test_provenance_prints_the_whole_chain_of_a_result},
                                 {"provenance of unknown objects", test_provenance_of_unknown_objects_says_so},
                                 {"schema comment", test_a_schema_comment_reruns_only_the_stage_that_reads_it},
                                 {"row-preserving cut", test_a_row_preserving_cut_reruns_only_the_cut_stage},
                                 {0}});
    return pzt_main();
}
