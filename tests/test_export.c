/* Results a user can take away: file extensions, family folders, relative links, `pzflow export`
 * with provenance in each file's header (issue 12, part 4). On real stages: mock-sky (FITS and
 * HDF5), split as a foreach (a family folder), dag and plot (DOT, PNG, SVG). */
#include <fitsio.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/pztest.h"
#include "util/err.h"

static char *dir;

static const char *pipeline =
    "stages:\n"
    "  mock-sky:\n"
    "    run: pzflow-mock-sky\n"
    "    params: {seed: 7, n_cosmos: 400, n_galaxiesml: 300, layout: minimal}\n"
    "    outputs: [cosmos2020, hsc, galaxiesml_training, galaxiesml_validation, galaxiesml_testing]\n"
    "  split:\n"
    "    run: pzflow-split\n"
    "    foreach: [1, 2]\n"
    "    params: {seed: \"${item}\", fractions: {train: 0.5, validation: 0.5}}\n"
    "    inputs: {table: mock-sky/galaxiesml_testing}\n"
    "    outputs: [train, validation]\n"
    "  dag:\n"
    "    run: pzflow-dag\n"
    "    inputs: {pipeline: pipelines/p.yaml}\n"
    "    outputs: [dot]\n"
    "  plot:\n"
    "    run: pzflow-plot\n"
    "    inputs: {dag: dag/dot}\n"
    "    outputs: [dag.png, dag.svg]\n";

static void setup_runs_the_pipeline(void)
{
    dir = pzt_mkdtemp("export");
    char *p = pz_xasprintf("%s/pipelines", dir);
    mkdir(p, 0755);
    free(p);
    p = pz_xasprintf("%s/pipelines/p.yaml", dir);
    pzt_write_file(p, pipeline);
    free(p);
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "export pipelines/p.yaml out"), 5); /* nothing run yet */
    CU_ASSERT_TRUE(pzt_has(out, "holds no complete run yet"));
    free(out);
    int rc = pzt_pzflow(dir, &out, "run pipelines/p.yaml");
    if (rc) fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
}

static int is_relative_link(const char *rel)
{
    char *p = pz_xasprintf("%s/results/p/%s", dir, rel), target[4096];
    ssize_t n = readlink(p, target, sizeof target - 1);
    struct stat st;
    int ok = n > 0 && target[0] != '/' && stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

static void result_files_carry_their_extension_and_families_are_folders(void)
{
    CU_ASSERT_TRUE(is_relative_link("mock-sky/cosmos2020.fits"));
    CU_ASSERT_TRUE(is_relative_link("mock-sky/galaxiesml_testing.h5"));
    CU_ASSERT_TRUE(is_relative_link("split/1/train.fits"));
    CU_ASSERT_TRUE(is_relative_link("split/2/validation.fits"));
    CU_ASSERT_TRUE(is_relative_link("dag/dot.dot"));
    CU_ASSERT_TRUE(is_relative_link("plot/dag.png"));
    CU_ASSERT_TRUE(is_relative_link("plot/dag.svg"));
}

static void a_copied_project_keeps_working_links(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "cp -r . ../export-copy && cd ../export-copy && cat results/p/split/1/train.fits "
                                       "| head -c 4 | od -c | head -1 && rm -rf ../export-copy"),
                    0);
    CU_ASSERT_TRUE(pzt_has(out, "S   I   M   P"));
    free(out);
}

static int fits_has_history(const char *path, const char *needle)
{
    fitsfile *fp;
    int status = 0, nkeys = 0, found = 0;
    if (fits_open_file(&fp, path, READONLY, &status)) return 0;
    int type;
    fits_movabs_hdu(fp, 2, &type, &status); /* the table's header, where astropy's meta comes from */
    fits_get_hdrspace(fp, &nkeys, NULL, &status);
    for (int k = 1; k <= nkeys && !status && !found; k++) {
        char card[FLEN_CARD];
        fits_read_record(fp, k, card, &status);
        found = !strncmp(card, "HISTORY", 7) && strstr(card, needle);
    }
    fits_close_file(fp, &status);
    return found;
}

static int hdf5_has_provenance(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    int yes = H5Aexists(f, "pzflow_provenance") > 0;
    H5Fclose(f);
    return yes;
}

static int file_has(const char *path, const char *needle, size_t n)
{
    size_t len;
    char *data = pzt_read_file(path, &len);
    int found = data && memmem(data, len, needle, n) != NULL;
    free(data);
    return found;
}

static void export_writes_real_files_with_provenance_in_their_headers(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "export pipelines/p.yaml out"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "exported 12 files"));
    free(out);
    struct stat st;
    char *fits = pz_xasprintf("%s/out/mock-sky/cosmos2020.fits", dir);
    CU_ASSERT_TRUE(lstat(fits, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IWUSR));
    CU_ASSERT_TRUE(fits_has_history(fits, "pzflow: = mock-sky/cosmos2020, run "));
    char *table = pz_xasprintf("%s/out/split/2/train.fits", dir);
    CU_ASSERT_TRUE(fits_has_history(table, "pzflow: = split[2]/train, run "));
    free(table);
    char *h5 = pz_xasprintf("%s/out/mock-sky/galaxiesml_testing.h5", dir);
    CU_ASSERT_TRUE(hdf5_has_provenance(h5));
    char *png = pz_xasprintf("%s/out/plot/dag.png", dir), *svg = pz_xasprintf("%s/out/plot/dag.svg", dir);
    CU_ASSERT_TRUE(file_has(png, "iTXtpzflow-provenance", 21));
    CU_ASSERT_TRUE(file_has(svg, "<!-- pzflow provenance", 22));
    char *all = pz_xasprintf("%s/out/PROVENANCE.txt", dir);
    CU_ASSERT_TRUE(file_has(all, "==== dag/dot.dot  (no header in this format)", 44));
    /* The copies are what the cache holds plus a header: the PNG still reads as a PNG. */
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "%s -c 'import sys; from astropy.table import Table; "
                                       "t = Table.read(sys.argv[1], hdu=1); print(len(t), \"rows\")' %s",
                            pzt_python(), fits),
                    0);
    CU_ASSERT_TRUE(pzt_has(out, "400 rows"));
    free(out);
    free(fits), free(h5), free(png), free(svg), free(all);
}

static void export_never_overwrites_what_it_did_not_write(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "export pipelines/p.yaml out"), 0); /* again: an earlier export */
    free(out);
    pzt_run(dir, NULL, "mkdir -p mine && echo keep > mine/notes.txt && echo mine > out/plot/extra.txt");
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "export pipelines/p.yaml mine"), 4);
    CU_ASSERT_TRUE(pzt_has(out, "is not empty (it holds notes.txt) and is not an earlier export"));
    free(out);
    char *notes = pz_xasprintf("%s/mine/notes.txt", dir), *text = pzt_read_file(notes, NULL);
    CU_ASSERT_TRUE(text && !strcmp(text, "keep\n"));
    free(notes), free(text);
    CU_ASSERT_EQUAL(pzt_pzflow(dir, &out, "export pipelines/p.yaml out"), 0);
    free(out);
    char *extra = pz_xasprintf("%s/out/plot/extra.txt", dir);
    CU_ASSERT_TRUE(pzt_exists(extra));
    free(extra);
}

int main(void)
{
    pzt_suite("export", (pzt_case[]){{"setup: run a small real pipeline", setup_runs_the_pipeline},
                                     {"result files carry their extension; a family is a folder",
                                      result_files_carry_their_extension_and_families_are_folders},
                                     {"a copied project keeps working links", a_copied_project_keeps_working_links},
                                     {"export writes real files with provenance in their headers",
                                      export_writes_real_files_with_provenance_in_their_headers},
                                     {"export never overwrites what it did not write",
                                      export_never_overwrites_what_it_did_not_write},
                                     {0}});
    int rc = pzt_main();
    pzt_rmtree(dir);
    free(dir);
    return rc;
}
