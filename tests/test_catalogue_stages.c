/* The catalogue stages: split and TransferZ library functions on hand-built tables with
 * hand-checkable counts, then each stage executable end to end through a spec file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/split.h"
#include "photoz/transferz.h"
#include "support/pztest.h"
#include "table/table.h"

/* ---- split ---- */

static void test_split_counts_disjoint_complete(void)
{
    const double frac[3] = {0.7, 0.15, 0.15};
    pz_split s;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_split_rows(1000, frac, 42, &s, &err), 0);
    CU_ASSERT_EQUAL(s.n[0], 700);
    CU_ASSERT_EQUAL(s.n[1], 150);
    CU_ASSERT_EQUAL(s.n[2], 150);
    int seen[1000] = {0};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < s.n[k]; i++) {
            seen[s.rows[k][i]]++;
            if (i) CU_ASSERT_TRUE(s.rows[k][i - 1] < s.rows[k][i]); /* input order kept */
        }
    int all_once = 1;
    for (int i = 0; i < 1000; i++) all_once &= seen[i] == 1;
    CU_ASSERT_TRUE(all_once);
    /* Random, not a block: the test part draws from the whole range. */
    CU_ASSERT_TRUE(s.rows[2][0] < 100 && s.rows[2][149] > 900);

    pz_split again, other;
    CU_ASSERT_EQUAL_FATAL(pz_split_rows(1000, frac, 42, &again, &err), 0);
    CU_ASSERT_EQUAL_FATAL(pz_split_rows(1000, frac, 43, &other, &err), 0);
    CU_ASSERT_EQUAL(memcmp(s.rows[0], again.rows[0], 700 * sizeof(size_t)), 0);
    CU_ASSERT_EQUAL(memcmp(s.rows[2], again.rows[2], 150 * sizeof(size_t)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(s.rows[0], other.rows[0], 700 * sizeof(size_t)), 0);
    pz_split_free(&s);
    pz_split_free(&again);
    pz_split_free(&other);

    /* Rounding: 0.7*7 = 4.9 -> 5, 0.15*7 = 1.05 -> 1, the rest (1) is test. */
    CU_ASSERT_EQUAL_FATAL(pz_split_rows(7, frac, 1, &s, &err), 0);
    CU_ASSERT_EQUAL(s.n[0], 5);
    CU_ASSERT_EQUAL(s.n[1], 1);
    CU_ASSERT_EQUAL(s.n[2], 1);
    pz_split_free(&s);
    const double bad[3] = {0.7, 0.2, 0.2}, neg[3] = {1.1, -0.1, 0};
    CU_ASSERT_EQUAL(pz_split_rows(10, bad, 1, &s, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "split fractions 0.7 + 0.2 + 0.2 must sum to 1");
    CU_ASSERT_EQUAL(pz_split_rows(10, neg, 1, &s, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "train fraction 1.1 must be between 0 and 1");
    CU_ASSERT_EQUAL(pz_split_rows(0, frac, 1, &s, &err), -1);
}

/* ---- TransferZ on hand-placed sources ---- */

/* Sources along a line of Dec at 20" spacing near (150, 2); offsets in arcsec along RA. */
#define RA0 150.0
#define DEC0 2.0
static double ra_at(double slot, double off_arcsec)
{
    return RA0 + (slot * 20.0 + off_arcsec) / 3600.0 / cos(DEC0 * M_PI / 180);
}

static const char *const bands = "grizy";

static pz_table *cosmos_table(void)
{
    /* ids 1..7 at slots 0..6 */
    pz_table *t = pz_table_new(7);
    pz_column *id = pz_table_add(t, "id", PZ_I64, 0), *ra = pz_table_add(t, "ra", PZ_F64, 0);
    pz_column *dec = pz_table_add(t, "dec", PZ_F64, 0), *z = pz_table_add(t, "lp_zPDF", PZ_F64, 0);
    pz_column *ty = pz_table_add(t, "lp_type", PZ_I32, 0);
    for (int i = 0; i < 7; i++) {
        ((int64_t *)id->data)[i] = i + 1;
        ((double *)ra->data)[i] = ra_at(i, 0);
        ((double *)dec->data)[i] = DEC0;
        ((double *)z->data)[i] = 0.1 * (i + 1);
        ((int32_t *)ty->data)[i] = 0;
    }
    return t;
}

/* HSC object_id 100+k matched to COSMOS id k+1 at offset off[k]"; 105 has no partner (slot 5 is 3" off),
 * 106 sits with COSMOS 7. 102 has no g magnitude. */
static pz_table *hsc_table(void)
{
    static const double off[7] = {0.2, 0.5, 0.3, 0.4, 0.1, 3.0, 0.25};
    pz_table *t = pz_table_new(7);
    pz_column *id = pz_table_add(t, "object_id", PZ_I64, 0), *ra = pz_table_add(t, "ra", PZ_F64, 0);
    pz_column *dec = pz_table_add(t, "dec", PZ_F64, 0);
    for (int k = 0; k < 7; k++) {
        ((int64_t *)id->data)[k] = 100 + k;
        ((double *)ra->data)[k] = ra_at(k, off[k]);
        ((double *)dec->data)[k] = DEC0;
    }
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "%c_cmodel_mag", bands[b]);
        pz_column *m = pz_table_add(t, name, PZ_F32, 0);
        snprintf(name, sizeof name, "%c_cmodel_magsigma", bands[b]);
        pz_column *e = pz_table_add(t, name, PZ_F32, 0);
        for (int k = 0; k < 7; k++) {
            ((float *)m->data)[k] = 20.0f + (float)k + 0.1f * (float)b;
            ((float *)e->data)[k] = 0.01f;
        }
    }
    ((float *)pz_table_col(t, "g_cmodel_mag")->data)[2] = NAN;
    return t;
}

/* GalaxiesML: near HSC 103 (position only), object_id 104 far away (id only), HSC 101 by both. */
static void galaxiesml_tables(pz_table *g[2])
{
    g[0] = pz_table_new(2);
    g[1] = pz_table_new(1);
    pz_column *id0 = pz_table_add(g[0], "object_id", PZ_I64, 0), *ra0 = pz_table_add(g[0], "ra", PZ_F64, 0);
    pz_column *de0 = pz_table_add(g[0], "dec", PZ_F64, 0);
    ((int64_t *)id0->data)[0] = 9003, ((double *)ra0->data)[0] = ra_at(3, 0.4 + 0.1), ((double *)de0->data)[0] = DEC0;
    ((int64_t *)id0->data)[1] = 104, ((double *)ra0->data)[1] = ra_at(50, 0), ((double *)de0->data)[1] = DEC0;
    pz_column *id1 = pz_table_add(g[1], "object_id", PZ_I64, 0), *ra1 = pz_table_add(g[1], "ra", PZ_F64, 0);
    pz_column *de1 = pz_table_add(g[1], "dec", PZ_F64, 0);
    ((int64_t *)id1->data)[0] = 101, ((double *)ra1->data)[0] = ra_at(1, 0.5), ((double *)de1->data)[0] = DEC0;
}

static void test_transferz_counts(void)
{
    pz_table *c = cosmos_table(), *h = hsc_table(), *g[2];
    galaxiesml_tables(g);
    pz_transferz_params p;
    pz_transferz_defaults(&p);
    pz_transferz_report rep;
    pz_err err;
    pz_table *t = pz_build_transferz(c, h, g, 2, &p, &rep, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    /* Matched: COSMOS 1,2,3,4,5,7 (6 is 3" away). 3 has no g mag. 4 near GalaxiesML, 5 same id,
     * 2 both. Left: COSMOS 1 and 7. */
    CU_ASSERT_EQUAL(rep.match.matched, 6);
    CU_ASSERT_EQUAL(rep.match.unmatched_left, 1);
    CU_ASSERT_EQUAL(rep.not_finite, 1);
    CU_ASSERT_EQUAL(rep.galaxiesml_rows, 3);
    CU_ASSERT_EQUAL(rep.overlap_position_only, 1);
    CU_ASSERT_EQUAL(rep.overlap_id_only, 1);
    CU_ASSERT_EQUAL(rep.overlap_both, 1);
    CU_ASSERT_EQUAL(rep.overlap_total, 3);
    CU_ASSERT_EQUAL(rep.rows, 2);
    CU_ASSERT_EQUAL(t->nrows, 2);
    const char *names[] = {"object_id", "ra", "dec", "g_cmodel_mag", "r_cmodel_mag", "i_cmodel_mag", "z_cmodel_mag",
                           "y_cmodel_mag", "g_cmodel_magsigma", "r_cmodel_magsigma", "i_cmodel_magsigma",
                           "z_cmodel_magsigma", "y_cmodel_magsigma", "lp_zPDF", "lp_zPDF_CLASSIC", "cosmos_id",
                           "match_sep_arcsec"};
    CU_ASSERT_EQUAL_FATAL(t->ncols, 17);
    for (int k = 0; k < 17; k++) CU_ASSERT_STRING_EQUAL(t->cols[k].name, names[k]);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(t, "object_id")->data)[0], 100);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(t, "object_id")->data)[1], 106);
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(t, "cosmos_id")->data)[1], 7);
    CU_ASSERT_DOUBLE_EQUAL(((double *)pz_table_col(t, "lp_zPDF_CLASSIC")->data)[1], 0.7, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(((double *)pz_table_col(t, "lp_zPDF")->data)[0], 0.1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(((double *)pz_table_col(t, "match_sep_arcsec")->data)[0], 0.2, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(((float *)pz_table_col(t, "y_cmodel_mag")->data)[1], 26.4, 1e-5);
    pz_table_free(t);

    /* Without the object_id check only the positional overlaps go. Without GalaxiesML none. */
    p.match_ids = 0;
    t = pz_build_transferz(c, h, g, 2, &p, &rep, &err);
    CU_ASSERT_EQUAL(rep.overlap_total, 2);
    CU_ASSERT_EQUAL(rep.rows, 3);
    pz_table_free(t);
    t = pz_build_transferz(c, h, NULL, 0, &p, &rep, &err);
    CU_ASSERT_EQUAL(rep.rows, 5);
    pz_table_free(t);

    /* A larger radius picks up COSMOS 6 too; require_finite: none keeps COSMOS 3. */
    p.radius_arcsec = 5.0;
    const char *none[1] = {NULL};
    p.require_finite = none;
    p.nrequire_finite = 0;
    t = pz_build_transferz(c, h, NULL, 0, &p, &rep, &err);
    CU_ASSERT_EQUAL(rep.match.matched, 7);
    CU_ASSERT_EQUAL(rep.not_finite, 0);
    CU_ASSERT_EQUAL(rep.rows, 7);
    pz_table_free(t);

    char *json = pz_transferz_report_json(&rep);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"rows\": 7"));
    free(json);
    pz_table_free(g[0]);
    pz_table_free(g[1]);
    pz_table_free(c);
    pz_table_free(h);
}

static void test_transferz_errors(void)
{
    pz_table *c = cosmos_table(), *h = hsc_table();
    pz_transferz_params p;
    pz_transferz_defaults(&p);
    pz_transferz_report rep;
    pz_err err;
    /* Drop two columns: both are listed in one message, each once. */
    pz_table *h2 = pz_table_new(h->nrows);
    for (size_t k = 0; k < h->ncols; k++) {
        if (!strcmp(h->cols[k].name, "y_cmodel_mag") || !strcmp(h->cols[k].name, "i_cmodel_magsigma")) continue;
        const pz_column *src = &h->cols[k];
        pz_column *d = pz_table_add(h2, src->name, src->type, src->width);
        memcpy(d->data, src->data, h->nrows * src->width);
    }
    CU_ASSERT_PTR_NULL(pz_build_transferz(c, h2, NULL, 0, &p, &rep, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table 'hsc': missing columns y_cmodel_mag, i_cmodel_magsigma (have: "));
    p.label = "lp_zBEST";
    CU_ASSERT_PTR_NULL(pz_build_transferz(c, h, NULL, 0, &p, &rep, &err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table 'cosmos': missing column lp_zBEST"));
    pz_transferz_defaults(&p);
    const char *extra[] = {"id"}; /* cosmos_id would appear twice */
    p.cosmos_extra = extra;
    p.ncosmos_extra = 1;
    CU_ASSERT_PTR_NULL(pz_build_transferz(c, h, NULL, 0, &p, &rep, &err));
    CU_ASSERT_STRING_EQUAL(err.msg, "TransferZ column 'cosmos_id' would appear twice");
    pz_table_free(h2);
    pz_table_free(c);
    pz_table_free(h);
}

/* ---- stage executables end to end ---- */

static char *dir;

static char *path_in(const char *name) { return pz_xasprintf("%s/%s", dir, name); }

static void write_h5(const char *name, const pz_table *t)
{
    char *p = path_in(name);
    pz_err err;
    if (pz_table_write_hdf5(p, t, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    free(p);
}

static pz_table *read_h5(const char *name)
{
    char *p = path_in(name);
    pz_table *t = NULL;
    pz_err err;
    if (pz_table_read_any(p, 0, NULL, 0, 0, (size_t)-1, &t, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    free(p);
    return t;
}

/* Write spec `specname` and run the stage in the test directory; returns the exit status. */
static int run_stage(const char *exe, const char *specname, int threads, const char *params, const char *inputs,
                     const char *outputs, char **output)
{
    char *spec = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"%s\", \"threads\": %d, \"params\": %s, "
                              "\"inputs\": %s, \"outputs\": %s}", exe, threads, params, inputs, outputs);
    char *sp = path_in(specname);
    pzt_write_file(sp, spec);
    int rc = pzt_run(dir, output, "'%s/pzflow-%s' '%s'", pzt_bin_dir(), exe, sp);
    free(spec);
    free(sp);
    return rc;
}

static void test_stage_quality_cuts(void)
{
    pz_table *c = cosmos_table();
    ((int32_t *)pz_table_col(c, "lp_type")->data)[0] = 1;
    write_h5("cosmos.h5", c);
    char *out = NULL;
    int rc = run_stage("quality-cuts", "qc.json", 1, "{\"cuts\": [\"lp_type == 0\", \"0 < lp_zPDF <= 0.55\"]}",
                       "{\"table\": \"cosmos.h5\"}", "{\"table\": \"cut.h5\", \"cutflow\": \"cutflow.md\"}", &out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "| 2 | `0 < lp_zPDF <= 0.55` | 4 | 2 | 57.14 |"));
    free(out);
    pz_table *t = read_h5("cut.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 4);
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "cutflow")); /* in its own output, so the table is the rows only */
    /* No key or input hash in an output: provenance is in the run record (early cutoff). */
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "pzflow_provenance"));
    pz_table_free(t);
    char *p = path_in("cutflow.md");
    char *md = pzt_read_file(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NULL(strstr(md, "provenance"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "| 1 | `lp_type == 0` | 6 | 1 | 85.71 |"));
    free(md);
    free(p);

    /* Zero rows: non-zero exit, the cut-flow table, then the reason. */
    rc = run_stage("quality-cuts", "qc0.json", 1, "{\"cuts\": [\"lp_type == 0\", \"lp_zPDF > 5\"]}",
                   "{\"table\": \"cosmos.h5\"}", "{\"table\": \"cut0.h5\", \"cutflow\": \"cutflow0.md\"}", &out);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "| 2 | `lp_zPDF > 5` | 0 | 6 | 0.00 |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "pzflow-quality-cuts: input 'table' cosmos.h5: no rows left after cut 2 'lp_zPDF > 5' (6 rows before it)"));
    free(out);
    /* Parse error names the cut and the column. */
    rc = run_stage("quality-cuts", "qc1.json", 1, "{\"cuts\": [\"lp_type == 0\", \"lp_zPDF <= \"]}",
                   "{\"table\": \"cosmos.h5\"}", "{\"table\": \"cut1.h5\", \"cutflow\": \"cutflow1.md\"}", &out);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "cut 2 'lp_zPDF <= ': column 11: expected a number or column name"));
    free(out);
    rc = run_stage("quality-cuts", "qc2.json", 1, "{\"cut\": [\"lp_type == 0\"]}", "{\"table\": \"cosmos.h5\"}",
                   "{\"table\": \"cut2.h5\", \"cutflow\": \"cutflow2.md\"}", &out);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown param 'cut' (did you mean 'cuts'?)"));
    free(out);
    pz_table_free(c);
}

static void test_stage_cross_match(void)
{
    pz_table *c = cosmos_table(), *h = hsc_table();
    write_h5("left.h5", c);
    write_h5("right.h5", h);
    char *out = NULL;
    const char *outs1 = "{\"matched\": \"m1.h5\", \"stats\": \"s1.json\"}";
    const char *outs2 = "{\"matched\": \"m2.h5\", \"stats\": \"s2.json\"}";
    const char *params = "{\"radius_arcsec\": 1.0, \"right_prefix\": \"hsc_\", "
                         "\"right_columns\": [\"object_id\", \"i_cmodel_mag\"]}";
    const char *ins = "{\"left\": \"left.h5\", \"right\": \"right.h5\"}";
    CU_ASSERT_EQUAL(run_stage("cross-match", "xm1.json", 1, params, ins, outs1, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "matched            6 (median separation 0.275\""));
    free(out);
    CU_ASSERT_EQUAL(run_stage("cross-match", "xm1.json", 2, params, ins, outs2, &out), 0);
    free(out);
    char *m1 = path_in("m1.h5"), *m2 = path_in("m2.h5"), *s1 = path_in("s1.json"), *s2 = path_in("s2.json");
    /* Specs differ only in threads and output names: the bytes must not. */
    CU_ASSERT_TRUE(pzt_files_equal(m1, m2));
    CU_ASSERT_TRUE(pzt_files_equal(s1, s2));
    char *stats = pzt_read_file(s1, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats, "\"matched\": 6, \"unmatched_left\": 1, \"unmatched_right\": 1"));
    CU_ASSERT_PTR_NULL(strstr(stats, "provenance"));
    free(stats);
    pz_table *t = read_h5("m1.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 6);
    CU_ASSERT_EQUAL(t->ncols, 5 + 2 + 1);
    CU_ASSERT_PTR_NOT_NULL(pz_table_col(t, "hsc_i_cmodel_mag"));
    CU_ASSERT_EQUAL(((int64_t *)pz_table_col(t, "hsc_object_id")->data)[5], 106);
    pz_table_free(t);
    CU_ASSERT_NOT_EQUAL(run_stage("cross-match", "xm3.json", 1, "{\"mode\": \"closest\"}", ins, outs1, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "param 'mode': 'closest' is not one of best|nearest"));
    free(out);
    CU_ASSERT_NOT_EQUAL(run_stage("cross-match", "xm4.json", 1, "{\"left_ra\": \"RA\"}", ins, outs1, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "table 'left': no column 'RA'"));
    free(out);
    free(m1), free(m2), free(s1), free(s2);
    pz_table_free(c);
    pz_table_free(h);
}

static void test_stage_build_transferz(void)
{
    pz_table *c = cosmos_table(), *h = hsc_table(), *g[2];
    galaxiesml_tables(g);
    write_h5("tz_cosmos.h5", c);
    write_h5("tz_hsc.h5", h);
    write_h5("gml_training.h5", g[0]);
    write_h5("gml_testing.h5", g[1]);
    char *out = NULL;
    int rc = run_stage("build-transferz", "tz.json", 2, "{\"overlap_radius_arcsec\": 1.0}",
                       "{\"cosmos\": \"tz_cosmos.h5\", \"hsc\": \"tz_hsc.h5\", "
                       "\"galaxiesml\": [\"gml_training.h5\", \"gml_testing.h5\"]}",
                       "{\"table\": \"transferz.h5\", \"report\": \"tz_report.json\"}", &out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "removed, also in GalaxiesML (3 rows in 2 tables): 3"));
    free(out);
    char *rp = path_in("tz_report.json");
    char *rep = pzt_read_file(rp, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "\"removed_in_galaxiesml\": {\"position_only\": 1, \"object_id_only\": 1, "
                                       "\"both\": 1, \"total\": 3}, \"rows\": 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep, "\"dropped_not_finite\": 1"));
    free(rep);
    free(rp);
    pz_table *t = read_h5("transferz.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->nrows, 2);
    CU_ASSERT_PTR_NOT_NULL(pz_table_col(t, "lp_zPDF_CLASSIC"));
    CU_ASSERT_PTR_NOT_NULL(pz_table_attr(t, "transferz_build"));
    pz_table_free(t);
    pz_table_free(g[0]);
    pz_table_free(g[1]);
    pz_table_free(c);
    pz_table_free(h);
}

static void test_stage_split(void)
{
    pz_table *t = pz_table_new(100);
    pz_column *x = pz_table_add(t, "x", PZ_I64, 0);
    for (int i = 0; i < 100; i++) ((int64_t *)x->data)[i] = i;
    write_h5("all.h5", t);
    pz_table_free(t);
    char *out = NULL;
    const char *params = "{\"seed\": 7, \"fractions\": {\"train\": 0.6, \"validation\": 0.2, \"test\": 0.2}}";
    CU_ASSERT_EQUAL(run_stage("split", "sp1.json", 1, params, "{\"table\": \"all.h5\"}",
                              "{\"train\": \"tr1.h5\", \"validation\": \"va1.h5\", \"test\": \"te1.h5\"}", &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "split 100 rows (seed 7): train 60, validation 20, test 20"));
    free(out);
    CU_ASSERT_EQUAL(run_stage("split", "sp2.json", 1, params, "{\"table\": \"all.h5\"}",
                              "{\"train\": \"tr2.h5\", \"validation\": \"va2.h5\", \"test\": \"te2.h5\"}", &out), 0);
    free(out);
    char *a = path_in("te1.h5"), *b = path_in("te2.h5");
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b);
    pz_table *tr = read_h5("tr1.h5"), *va = read_h5("va1.h5"), *te = read_h5("te1.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(va);
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    int seen[100] = {0}, ok = 1;
    pz_table *parts[3] = {tr, va, te};
    for (int k = 0; k < 3; k++)
        for (size_t r = 0; r < parts[k]->nrows; r++) seen[((int64_t *)pz_table_col(parts[k], "x")->data)[r]]++;
    for (int i = 0; i < 100; i++) ok &= seen[i] == 1;
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(tr->nrows, 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(pz_table_attr(te, "split"), "test: 20 of 100 rows"));
    for (int k = 0; k < 3; k++) pz_table_free(parts[k]);
    CU_ASSERT_NOT_EQUAL(run_stage("split", "sp3.json", 1, "{\"fractions\": {\"train\": 0.9, \"tests\": 0.1}}",
                                  "{\"table\": \"all.h5\"}",
                                  "{\"train\": \"tr3.h5\", \"validation\": \"va3.h5\", \"test\": \"te3.h5\"}", &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "param 'fractions': unknown part 'tests'"));
    free(out);
}

static void test_stage_split_two_way(void)
{
    pz_table *t = pz_table_new(100);
    pz_column *x = pz_table_add(t, "x", PZ_I64, 0);
    for (int i = 0; i < 100; i++) ((int64_t *)x->data)[i] = i;
    write_h5("all2.h5", t);
    pz_table_free(t);
    char *out = NULL;
    CU_ASSERT_EQUAL(run_stage("split", "sp2w.json", 1, "{\"fractions\": {\"train\": 0.8, \"validation\": 0.2}}",
                              "{\"table\": \"all2.h5\"}", "{\"train\": \"tr2w.h5\", \"validation\": \"va2w.h5\"}",
                              &out),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "train 80, validation 20, test 0"));
    free(out);
    pz_table *tr = read_h5("tr2w.h5"), *va = read_h5("va2w.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(va);
    CU_ASSERT_EQUAL(tr->nrows + va->nrows, 100);
    pz_table_free(tr);
    pz_table_free(va);
    /* Without a test output, a test fraction would lose its rows: refuse it by name. */
    CU_ASSERT_NOT_EQUAL(run_stage("split", "sp2x.json", 1,
                                  "{\"fractions\": {\"train\": 0.7, \"validation\": 0.15, \"test\": 0.15}}",
                                  "{\"table\": \"all2.h5\"}",
                                  "{\"train\": \"tr2x.h5\", \"validation\": \"va2x.h5\"}", &out),
                        0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "test fraction 0.15 needs an output 'test'"));
    free(out);
}

int main(void)
{
    dir = pzt_mkdtemp("catalogue");
    pzt_suite("catalogue stages",
              (pzt_case[]){{"split: counts, disjoint, complete, deterministic", test_split_counts_disjoint_complete},
                           {"transferz: hand-checked counts", test_transferz_counts},
                           {"transferz: errors", test_transferz_errors},
                           {"stage quality-cuts", test_stage_quality_cuts},
                           {"stage cross-match", test_stage_cross_match},
                           {"stage build-transferz", test_stage_build_transferz},
                           {"stage split: two fractions make two outputs", test_stage_split_two_way},
                           {"stage split", test_stage_split},
                           {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(dir);
    free(dir);
    return rc;
}
