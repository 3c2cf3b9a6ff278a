/* Survey catalogues in parts (issue 14; photoz/partition.h, mock/mock_survey.h): every row lands in
 * exactly one part, by row range or by HEALPix pixel (the pixel chealpix's ang2pix gives); a
 * row no declared part takes is refused, never dropped; merging the parts gives back the
 * catalogue's bytes; the mock survey catalogue is the same whatever the thread count, and a
 * longer one starts with the shorter one's rows. */
#include <chealpix.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock_survey.h"
#include "photoz/partition.h"
#include "support/pztest.h"
#include "table/table.h"

#define NROWS 1000

static char *dir;

static char *at(const char *name) { return pz_xasprintf("%s/%s", dir, name); }

/* A catalogue of NROWS rows: row_id = row number, positions spread over the sky. */
static pz_table *catalogue(void)
{
    pz_table *t = pz_table_new(NROWS);
    pz_column *id = pz_table_add(t, "row_id", PZ_I64, 0), *ra = pz_table_add(t, "ra", PZ_F64, 0);
    pz_column *dec = pz_table_add(t, "dec", PZ_F64, 0), *mag = pz_table_add(t, "i_cmodel_mag", PZ_F32, 0);
    for (size_t i = 0; i < NROWS; i++) {
        ((int64_t *)id->data)[i] = (int64_t)i;
        ((double *)ra->data)[i] = fmod(i * 137.508, 360.0);
        ((double *)dec->data)[i] = asin(2.0 * ((double)i + 0.5) / NROWS - 1.0) * 180 / M_PI;
        ((float *)mag->data)[i] = 20.0f + (float)(i % 50) / 10.0f;
    }
    pz_table_set_attr(t, "description", "test catalogue");
    return t;
}

static char *write_catalogue(const char *name, pz_format fmt)
{
    char *path = at(name);
    pz_table *t = catalogue();
    pz_err err;
    if (pz_table_write(path, fmt, t, &err) < 0) fprintf(stderr, "\n%s\n", err.msg);
    pz_table_free(t);
    return path;
}

static pz_table *read_all(const char *path)
{
    pz_source src = {.path = (char *)path};
    pz_table *t = NULL;
    pz_err err;
    if (pz_table_read_src(&src, NULL, 0, 0, (size_t)-1, &t, &err) < 0) fprintf(stderr, "\n%s\n", err.msg);
    return t;
}

static pz_part *make_parts(const int64_t *ids, size_t n, const char *prefix)
{
    pz_part *parts = pz_xcalloc(n, sizeof *parts);
    for (size_t k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s%lld.h5", prefix, (long long)ids[k]);
        parts[k] = (pz_part){.id = ids[k], .path = at(name)};
    }
    return parts;
}

static void free_parts(pz_part *parts, size_t n)
{
    for (size_t k = 0; k < n; k++) free((char *)parts[k].path);
    free(parts);
}

static void test_test_setup(void)
{
    dir = pzt_mkdtemp("partition");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
}

static void test_every_row_lands_in_exactly_one_row_range_part_in_order(void)
{
    char *cat = write_catalogue("cat.h5", PZ_FMT_HDF5);
    const int64_t ids[] = {3, 0, 2, 1}; /* in any order */
    pz_part *parts = make_parts(ids, 4, "rows");
    pz_partition_opts o = {.by = PZ_PARTITION_ROWS, .rows_per_part = 300, .format = PZ_FMT_HDF5, .chunk_rows = 128};
    pz_source src = {.path = cat};
    size_t total = 0;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_partition(&src, parts, 4, &o, &total, &err), 0);
    CU_ASSERT_EQUAL(total, NROWS);
    for (size_t k = 0; k < 4; k++) {
        pz_table *t = read_all(parts[k].path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        size_t first = (size_t)parts[k].id * 300, want = first + 300 <= NROWS ? 300 : NROWS - first;
        CU_ASSERT_EQUAL(t->nrows, want);
        CU_ASSERT_EQUAL(parts[k].rows, want);
        const int64_t *id = pz_table_col(t, "row_id")->data;
        for (size_t i = 0; i < t->nrows; i++) CU_ASSERT_EQUAL(id[i], (int64_t)(first + i));
        CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "description"), "test catalogue");
        pz_table_free(t);
    }
    free_parts(parts, 4);
    free(cat);
}

static void test_a_row_past_the_declared_parts_is_refused_naming_the_parts_to_declare(void)
{
    char *cat = at("cat.h5");
    const int64_t ids[] = {0, 1, 2};
    pz_part *parts = make_parts(ids, 3, "short");
    pz_partition_opts o = {.by = PZ_PARTITION_ROWS, .rows_per_part = 300, .format = PZ_FMT_HDF5};
    pz_source src = {.path = cat};
    pz_err err;
    CU_ASSERT_EQUAL(pz_partition(&src, parts, 3, &o, NULL, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "row 900 of "));
    CU_ASSERT_TRUE(pzt_has(err.msg, "falls in part 3 (rows 900..1199 at rows_per_part 300), which is not among the outputs"));
    CU_ASSERT_TRUE(pzt_has(err.msg, "parts 0..3 (vars: parts: range(0, 4))"));
    free_parts(parts, 3);
    free(cat);
}

static void test_a_part_no_row_falls_in_is_written_empty(void)
{
    char *cat = at("cat.h5");
    const int64_t ids[] = {0, 1, 2, 3, 4};
    pz_part *parts = make_parts(ids, 5, "extra");
    pz_partition_opts o = {.by = PZ_PARTITION_ROWS, .rows_per_part = 250, .format = PZ_FMT_HDF5};
    pz_source src = {.path = cat};
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_partition(&src, parts, 5, &o, NULL, &err), 0);
    pz_table *t = read_all(parts[4].path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 0);
    CU_ASSERT_PTR_NOT_NULL(pz_table_col(t, "i_cmodel_mag"));
    pz_table_free(t);
    free_parts(parts, 5);
    free(cat);
}

/* The pixels the test catalogue occupies at nside 2, nested, straight from chealpix. */
static size_t occupied_pixels(const pz_table *t, int64_t *pix)
{
    size_t n = 0;
    char seen[48] = {0};
    for (size_t i = 0; i < t->nrows; i++) {
        double ra = ((double *)pz_table_col(t, "ra")->data)[i], dec = ((double *)pz_table_col(t, "dec")->data)[i];
        long p;
        ang2pix_nest(2, (90 - dec) * M_PI / 180, ra * M_PI / 180, &p);
        if (!seen[p]) seen[p] = 1, pix[n++] = p;
    }
    return n;
}

static void test_every_row_lands_in_its_healpix_pixel_even_over_several_passes(void)
{
    char *cat = write_catalogue("cat.fits", PZ_FMT_FITS);
    pz_table *all = catalogue();
    int64_t pix[48];
    size_t n = occupied_pixels(all, pix);
    CU_ASSERT_EQUAL_FATAL(n, 48); /* the whole sky */
    pz_part *parts = make_parts(pix, n, "pix");
    /* max_open 5: ten passes over the catalogue, five files open at a time */
    pz_partition_opts o = {.by = PZ_PARTITION_HEALPIX, .nside = 2, .ra = "ra", .dec = "dec", .format = PZ_FMT_HDF5,
                           .chunk_rows = 97, .max_open = 5};
    pz_source src = {.path = cat};
    size_t total = 0;
    pz_err err;
    if (pz_partition(&src, parts, n, &o, &total, &err) < 0) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(total, NROWS);
    int *landed = pz_xcalloc(NROWS, sizeof *landed);
    for (size_t k = 0; k < n; k++) {
        pz_table *t = read_all(parts[k].path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        const int64_t *id = pz_table_col(t, "row_id")->data;
        for (size_t i = 0; i < t->nrows; i++) {
            landed[id[i]]++;
            if (i) CU_ASSERT_TRUE(id[i] > id[i - 1]); /* catalogue order within a part */
            double ra = ((double *)pz_table_col(t, "ra")->data)[i], dec = ((double *)pz_table_col(t, "dec")->data)[i];
            long p;
            ang2pix_nest(2, (90 - dec) * M_PI / 180, ra * M_PI / 180, &p);
            CU_ASSERT_EQUAL(p, parts[k].id);
        }
        pz_table_free(t);
    }
    size_t once = 0;
    for (size_t i = 0; i < NROWS; i++) once += landed[i] == 1;
    CU_ASSERT_EQUAL(once, NROWS);
    free(landed);
    free_parts(parts, n);
    pz_table_free(all);
    free(cat);
}

static void test_a_row_in_an_undeclared_pixel_is_refused_with_its_position(void)
{
    char *cat = at("cat.fits");
    const int64_t ids[] = {0, 1, 2};
    pz_part *parts = make_parts(ids, 3, "few");
    pz_partition_opts o = {.by = PZ_PARTITION_HEALPIX, .nside = 2, .ra = "ra", .dec = "dec", .format = PZ_FMT_HDF5};
    pz_source src = {.path = cat};
    pz_err err;
    CU_ASSERT_EQUAL(pz_partition(&src, parts, 3, &o, NULL, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "row 0 of "));
    CU_ASSERT_TRUE(pzt_has(err.msg, "which is not among the outputs"));
    CU_ASSERT_TRUE(pzt_has(err.msg, "(nside 2, nested)"));
    o.nside = 3;
    CU_ASSERT_EQUAL(pz_partition(&src, parts, 3, &o, NULL, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "nside must be a power of two"));
    free_parts(parts, 3);
    free(cat);
}

static void test_the_stage_refuses_an_output_that_is_not_a_part_number(void)
{
    char *spec = at("spec.json");
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"partition\", \"threads\": 1, \"params\": {}, "
                              "\"inputs\": {\"catalog\": \"%s/cat.h5\"}, \"outputs\": {\"0\": \"%s/o0\", "
                              "\"p1\": \"%s/o1\"}}", dir, dir, dir);
    pzt_write_file(spec, text);
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "'%s/pzflow-partition' '%s'", pzt_bin_dir(), spec), 1);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow-partition: output 'p1' is not a part: the outputs of pzflow-partition are "
                                "part numbers (0, 1, ...) or HEALPix pixels, written without leading zeros"));
    free(out), free(text), free(spec);
}

static void test_the_pixel_is_chealpix_s_in_both_orderings(void)
{
    const double pos[][2] = {{0, 0}, {150.1, 2.2}, {359.9, -89.9}, {-30, 45}, {720.5, 10}};
    for (size_t i = 0; i < sizeof pos / sizeof *pos; i++) {
        double theta = (90 - pos[i][1]) * M_PI / 180, phi = fmod(fmod(pos[i][0], 360) + 360, 360) * M_PI / 180;
        int64_t nest, ring;
        ang2pix_nest64(1024, theta, phi, &nest);
        ang2pix_ring64(1024, theta, phi, &ring);
        CU_ASSERT_EQUAL(pz_healpix_pixel(1024, 0, pos[i][0], pos[i][1]), nest);
        CU_ASSERT_EQUAL(pz_healpix_pixel(1024, 1, pos[i][0], pos[i][1]), ring);
    }
    CU_ASSERT_EQUAL(pz_healpix_pixel(1024, 0, NAN, 0), -1);
    CU_ASSERT_EQUAL(pz_healpix_pixel(1024, 0, 10, 91), -1);
}

static void test_part_names_are_plain_numbers(void)
{
    CU_ASSERT_EQUAL(pz_part_number("0"), 0);
    CU_ASSERT_EQUAL(pz_part_number("1234"), 1234);
    CU_ASSERT_EQUAL(pz_part_number("01"), -1);
    CU_ASSERT_EQUAL(pz_part_number("-1"), -1);
    CU_ASSERT_EQUAL(pz_part_number("p1"), -1);
    CU_ASSERT_EQUAL(pz_part_number(""), -1);
    CU_ASSERT_EQUAL(pz_part_number("99999999999999999999"), -1);
}

/* Merged in part order, row-range parts give back the catalogue: the same bytes as writing the
 * whole table at once (the writer's bytes do not depend on how rows arrive). */
static void test_merging_row_range_parts_gives_the_catalogue_s_bytes(void)
{
    char *cat = at("cat.h5");
    const int64_t ids[] = {0, 1, 2, 3};
    pz_part *parts = make_parts(ids, 4, "rows");
    pz_source srcs[4];
    for (size_t k = 0; k < 4; k++) srcs[k] = (pz_source){.path = (char *)parts[k].path};
    char *merged = at("merged.h5");
    size_t rows = 0;
    pz_err err;
    if (pz_merge(srcs, 4, merged, PZ_FMT_HDF5, 77, &rows, &err) < 0) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(rows, NROWS);
    CU_ASSERT_TRUE(pzt_files_equal(merged, cat));
    free(merged);
    free_parts(parts, 4);
    free(cat);
}

static void test_merge_refuses_parts_that_differ(void)
{
    char *a = at("rows0.h5"), *b = at("other.h5"), *out = at("bad.h5");
    pz_table *t = pz_table_new(2);
    pz_table_add(t, "row_id", PZ_I32, 0);
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write(b, PZ_FMT_HDF5, t, &err), 0);
    pz_source srcs[2] = {{.path = a}, {.path = b}};
    size_t rows;
    CU_ASSERT_EQUAL(pz_merge(srcs, 2, out, PZ_FMT_HDF5, 0, &rows, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "part 1 ("));
    CU_ASSERT_TRUE(pzt_has(err.msg, "differs from part 0"));
    pz_table_free(t);
    free(a), free(b), free(out);
}

static char *survey(const char *name, long rows, int threads)
{
    char *path = at(name);
    pz_mock_params phys;
    pz_mock_params_default(&phys);
    pz_survey_opts o = {.n_rows = rows, .seed = 5, .ra0 = 150, .dec0 = 2, .ra_width = 10, .dec_width = 3,
                        .format = PZ_FMT_HDF5, .threads = threads};
    pz_survey_stats st;
    pz_err err;
    if (pz_mock_survey_write(path, &phys, &o, &st, &err) < 0) fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(st.rows, (size_t)rows);
    return path;
}

static void test_the_mock_survey_is_the_same_whatever_the_threads_and_grows_by_appending(void)
{
    const long n = PZ_SURVEY_BLOCK + 100; /* two blocks */
    char *one = survey("s1.h5", n, 1), *two = survey("s2.h5", n, 2), *short_one = survey("s0.h5", 1000, 1);
    CU_ASSERT_TRUE(pzt_files_equal(one, two));
    pz_table *big = read_all(one), *small = read_all(short_one);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(small);
    CU_ASSERT_EQUAL(big->nrows, (size_t)n);
    CU_ASSERT_EQUAL(small->nrows, 1000);
    for (size_t j = 0; j < small->ncols; j++) {
        const pz_column *s = &small->cols[j], *b = pz_table_col(big, s->name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_EQUAL(memcmp(s->data, b->data, 1000 * s->width), 0);
    }
    /* honest rows: detected objects with finite i magnitudes inside the stripe */
    const float *mi = pz_table_col(big, "i_cmodel_mag")->data;
    const double *dec = pz_table_col(big, "dec")->data, *z = pz_table_col(big, "z_true")->data;
    size_t finite = 0, inside = 0, galaxies = 0;
    for (size_t i = 0; i < big->nrows; i++) {
        finite += isfinite(mi[i]) && mi[i] > 14 && mi[i] < 28;
        inside += dec[i] >= 0.5 && dec[i] <= 3.5;
        galaxies += z[i] > 0;
    }
    CU_ASSERT_EQUAL(finite, big->nrows);
    CU_ASSERT_EQUAL(inside, big->nrows);
    CU_ASSERT_TRUE(galaxies > big->nrows * 8 / 10);
    pz_table_free(big);
    pz_table_free(small);
    free(one), free(two), free(short_one);
}

static void test_cleanup(void)
{
    pzt_rmtree(dir);
    free(dir);
}

int main(void)
{
    pzt_suite("partition",
              (pzt_case[]){{"setup", test_test_setup},
                           {"every row lands in exactly one row-range part, in order",
                            test_every_row_lands_in_exactly_one_row_range_part_in_order},
                           {"a row past the declared parts is refused, naming the parts to declare",
                            test_a_row_past_the_declared_parts_is_refused_naming_the_parts_to_declare},
                           {"a part no row falls in is written empty", test_a_part_no_row_falls_in_is_written_empty},
                           {"every row lands in its HEALPix pixel, even over several passes",
                            test_every_row_lands_in_its_healpix_pixel_even_over_several_passes},
                           {"a row in an undeclared pixel is refused with its position",
                            test_a_row_in_an_undeclared_pixel_is_refused_with_its_position},
                           {"the stage refuses an output that is not a part number",
                            test_the_stage_refuses_an_output_that_is_not_a_part_number},
                           {"the pixel is chealpix's, in both orderings", test_the_pixel_is_chealpix_s_in_both_orderings},
                           {"part names are plain numbers", test_part_names_are_plain_numbers},
                           {"merging row-range parts gives the catalogue's bytes",
                            test_merging_row_range_parts_gives_the_catalogue_s_bytes},
                           {"merge refuses parts that differ", test_merge_refuses_parts_that_differ},
                           {"the mock survey is the same whatever the threads, and grows by appending",
                            test_the_mock_survey_is_the_same_whatever_the_threads_and_grows_by_appending},
                           {"cleanup", test_cleanup},
                           {0}});
    return pzt_main();
}
