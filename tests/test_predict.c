/* `pzflow predict MODEL CATALOG -o OUT` end to end, on a model trained here by pzflow-train:
 * flags for missing, sentinel and out-of-range features (never a silent redshift), the output
 * format chosen by extension and read back by astropy, --keep, --map and --chunk, the unit
 * check, old model files, the pipeline stage behaving as the command does, and uncertainty:
 * intervals from a p(z) or calibrated by split conformal prediction, --no-pdf and --qp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "nn/predict.h"
#include "photoz/conformal.h"
#include "photoz/uq.h"
#include "support/pztest.h"
#include "table/h5nd.h"
#include "table/table.h"

static char *dir;
static const char *BANDS = "grizy";

/* A GalaxiesML-like table: object_id, ra, dec, five cmodel mags in [19, 25) (unit `mag`), a
 * label that is a known function of them. `g_unit` overrides the g column's unit; `corrected`
 * gives it ingest's corrections attribute. */
static pz_table *galaxies(size_t n, unsigned seed, const char *g_unit, int corrected)
{
    pz_table *t = pz_table_new(n);
    pz_column *id = pz_table_add(t, "object_id", PZ_I64, 0);
    pz_column *ra = pz_table_add(t, "ra", PZ_F64, 0), *dec = pz_table_add(t, "dec", PZ_F64, 0);
    pz_column *mag[5];
    for (int j = 0; j < 5; j++) {
        char name[32];
        snprintf(name, sizeof name, "%c_cmodel_mag", BANDS[j]);
        mag[j] = pz_table_add(t, name, PZ_F32, 0);
        mag[j]->unit = pz_xstrdup(j == 0 && g_unit ? g_unit : "mag");
    }
    pz_column *z = pz_table_add(t, "specz_redshift", PZ_F64, 0);
    for (size_t r = 0; r < n; r++) {
        float m[5];
        for (int j = 0; j < 5; j++) {
            seed = seed * 1664525u + 1013904223u;
            m[j] = 19.0f + 6.0f * ((seed >> 8) / 16777216.0f);
            ((float *)mag[j]->data)[r] = m[j];
        }
        ((int64_t *)id->data)[r] = 5000000000LL + (int64_t)r;
        ((double *)ra->data)[r] = 150.0 + 0.001 * (double)r;
        ((double *)dec->data)[r] = 2.0 - 0.0005 * (double)r;
        ((double *)z->data)[r] = 0.8 + 0.25 * tanh(m[0] - m[1]) + 0.1 * (m[2] - 22.0);
    }
    if (corrected)
        pz_table_set_attr(t, "pzflow_corrections", "Galactic extinction a_{b} subtracted from cmodel magnitudes");
    return t;
}

static void write_table(const char *name, pz_table *t)
{
    pzt_write_fixture(dir, name, t);
    pz_table_free(t);
}

static void set_mag(pz_table *t, int band, size_t row, float v)
{
    char name[32];
    snprintf(name, sizeof name, "%c_cmodel_mag", BANDS[band]);
    ((float *)pz_table_col(t, name)->data)[row] = v;
}

/* pzflow predict ARGS in the test directory: exit status, output in *out. */
static int predict(char **out, const char *args)
{
    char *cmd = pz_xasprintf("predict %s", args);
    int rc = pzt_pzflow(dir, out, cmd);
    free(cmd);
    return rc;
}

/* Whether `pzflow predict ARGS` exits with `status` and says `text` (what it did is shown when not). */
static int predict_says(const char *args, int status, const char *text)
{
    char *cmd = pz_xasprintf("predict %s", args);
    int ok = pzt_pzflow_says(dir, cmd, status, text);
    free(cmd);
    return ok;
}

static int python(const char *code, char **out)
{
    return pzt_run(dir, out, "'%s' -c \"%s\" 2>&1", pzt_python(), code);
}

static pz_table *read_back(const char *name)
{
    char *path = pz_xasprintf("%s/%s", dir, name);
    pz_source src = {path, NULL};
    pz_table *t = NULL;
    pz_err err;
    if (pz_table_read_src(&src, NULL, 0, 0, (size_t)-1, &t, &err)) fprintf(stderr, "%s\n", err.msg);
    free(path);
    return t;
}

/* Rows 1..6 of the catalogue each carry one kind of bad magnitude; the others are ordinary. */
enum { ROW_OK = 0, ROW_M99 = 1, ROW_NAN = 2, ROW_FAINT = 3, ROW_P99 = 4, ROW_INF = 5, ROW_BRIGHT = 6 };

static void test_bad_magnitudes_are_flagged_never_silent(void)
{
    char *out = NULL;
    int rc = predict(&out, "model.h5 bad.h5 -o bad_pred.h5 --label specz_redshift");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    /* The summary counts each flag. */
    CU_ASSERT_TRUE(pzt_has(out, "pzflow predict: 300 rows predicted; flags: 294 ok, 2 non-finite (1), 2 sentinel (2), "
                                "2 outside the training range (4); 4 rows without a prediction (z_pred NaN)"));
    free(out);
    pz_table *t = read_back("bad_pred.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    pz_column *flag = pz_table_col(t, "flag"), *zp = pz_table_col(t, "z_pred");
    CU_ASSERT_FATAL(flag && zp && flag->type == PZ_I16 && zp->type == PZ_F32);
    const int16_t *f = flag->data;
    const float *z = zp->data;
    CU_ASSERT_EQUAL(f[ROW_OK], 0);
    CU_ASSERT_TRUE(isfinite(z[ROW_OK]));
    /* -99 and 99 are the model's sentinels: flag 2, no redshift. */
    CU_ASSERT_EQUAL(f[ROW_M99], 2);
    CU_ASSERT_TRUE(isnan(z[ROW_M99]));
    CU_ASSERT_EQUAL(f[ROW_P99], 2);
    CU_ASSERT_TRUE(isnan(z[ROW_P99]));
    /* NaN and -inf: flag 1, no redshift. */
    CU_ASSERT_EQUAL(f[ROW_NAN], 1);
    CU_ASSERT_TRUE(isnan(z[ROW_NAN]));
    CU_ASSERT_EQUAL(f[ROW_INF], 1);
    CU_ASSERT_TRUE(isnan(z[ROW_INF]));
    /* Outside the training range but real: a redshift, flagged 4. */
    CU_ASSERT_EQUAL(f[ROW_FAINT], 4);
    CU_ASSERT_TRUE(isfinite(z[ROW_FAINT]));
    CU_ASSERT_EQUAL(f[ROW_BRIGHT], 4);
    CU_ASSERT_TRUE(isfinite(z[ROW_BRIGHT]));
    /* Every other row: flag 0 and a redshift. */
    size_t others_bad = 0;
    for (size_t r = 7; r < t->nrows; r++) others_bad += f[r] != 0 || !isfinite(z[r]);
    CU_ASSERT_EQUAL(others_bad, 0);
    pz_table_free(t);
}

/* Each extension gives its format, which astropy reads with no arguments; the same rows in all. */
static void test_output_format_by_extension(void)
{
    const char *names[] = {"p.fits", "p.h5", "p.csv", "p.ecsv"};
    for (int i = 0; i < 4; i++) {
        char *args = pz_xasprintf("model.h5 te.h5 -o %s --keep ra,dec", names[i]), *out = NULL;
        CU_ASSERT_EQUAL(predict(&out, args), 0);
        free(out), free(args);
    }
    char *out = NULL;
    /* p.h5 is read here by pzflow's reader: astropy reads it once core/table writes astropy's
     * HDF5 layout (the h5 work, issue 12.4). */
    int rc = python("from astropy.table import Table; import numpy as np; import h5py;"
                    "f = h5py.File('p.h5', 'r'); h = Table({k: np.asarray(f[k]) for k in ('object_id', 'ra', 'dec', 'z_pred', 'flag')}) "
                    "if 'z_pred' in f else Table.read('p.h5');"
                    "t = [Table.read('p.fits'), h, Table.read('p.csv'), Table.read('p.ecsv')];"
                    "assert all(len(x) == 1000 for x in t), [len(x) for x in t];"
                    "assert all(list(x.colnames) == ['object_id', 'ra', 'dec', 'z_pred', 'flag'] for x in t), [x.colnames for x in t];"
                    "assert all((x['object_id'] == t[0]['object_id']).all() for x in t);"
                    "assert all(np.allclose(x['z_pred'], t[0]['z_pred'], rtol=1e-6, equal_nan=True) for x in t);"
                    "assert all(x['z_pred'].dtype.str[1:] == 'f4' and x['flag'].dtype.str[1:] == 'i2' for x in (t[0], t[1], t[3]));"
                    "print('read back', [len(x) for x in t])",
                    &out);
    if (rc) fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    /* A name like predictions.fits is never HDF5; an unknown extension is one clear error. */
    char *path = pz_xasprintf("%s/p.fits", dir);
    char *head = pzt_read_file(path, NULL);
    CU_ASSERT_TRUE(head && !strncmp(head, "SIMPLE", 6));
    free(head), free(path);
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o p.txt", 1,
                                "p.txt: cannot tell the table format from the name (extension '.txt')"));
    path = pz_xasprintf("%s/p.txt", dir);
    CU_ASSERT_FALSE(pzt_exists(path));
    free(path);
}

/* --chunk changes how the work is cut, never the bytes; --map reads a feature from another
 * column; --keep copies columns through. */
static void test_chunk_map_keep(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(predict(&out, "model.h5 te.h5 -o c1000.fits --chunk 1000 --keep ra"), 0);
    free(out);
    CU_ASSERT_EQUAL(predict(&out, "model.h5 te.h5 -o c7.fits --chunk 7 --keep ra"), 0);
    free(out);
    char *a = pz_xasprintf("%s/c1000.fits", dir), *b = pz_xasprintf("%s/c7.fits", dir);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b);
    /* renamed.h5 is te.h5 with g_cmodel_mag called MAG_G: --map gives the same predictions. */
    CU_ASSERT_NOT_EQUAL(predict(&out, "model.h5 renamed.h5 -o r.fits --keep ra"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "the model's feature 'g_cmodel_mag' is not in the table"));
    CU_ASSERT_TRUE(pzt_has(out, "--map feature=column"));
    free(out);
    CU_ASSERT_EQUAL(predict(&out, "model.h5 renamed.h5 -o r.fits --keep ra --map g_cmodel_mag=MAG_G"), 0);
    free(out);
    a = pz_xasprintf("%s/r.fits", dir), b = pz_xasprintf("%s/c7.fits", dir);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b);
    CU_ASSERT_TRUE(predict_says("model.h5 renamed.h5 -o r2.fits --map g_cmodle_mag=MAG_G", 1,
                                "--map 'g_cmodle_mag=MAG_G': the model has no feature 'g_cmodle_mag' (did you mean "
                                "'g_cmodel_mag'?)"));
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o k.fits --keep ra,decl", 1,
                                "--keep column 'decl' not in the table (did you mean 'dec'?)"));
    pz_table *t = read_back("c7.fits");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    pz_column *ra = pz_table_col(t, "ra");
    CU_ASSERT_TRUE(ra && ra->type == PZ_F64 && ((double *)ra->data)[10] == 150.0 + 0.001 * 10);
    pz_table_free(t);
}

/* A g column in nJy is not a magnitude: refused, naming both units. */
static void test_units_disagree(void)
{
    CU_ASSERT_TRUE(predict_says("model.h5 njy.h5 -o u.fits", 1,
                                "column 'g_cmodel_mag' is in 'nJy', but the model's feature 'g_cmodel_mag' was "
                                "trained in 'mag'"));
    char *path = pz_xasprintf("%s/u.fits", dir);
    CU_ASSERT_FALSE(pzt_exists(path)); /* nothing is left behind, not even the hidden partial file */
    free(path);
}

/* A catalogue without ingest's corrections attribute gets a note saying what the model expects. */
static void test_corrections_note(void)
{
    CU_ASSERT_TRUE(predict_says("model.h5 plain.h5 -o n.csv", 0,
                                "note: the model's training features had these corrections, which this catalogue "
                                "should have too: Galactic extinction a_{b} subtracted from cmodel magnitudes"));
}

/* A model file of format version 1 (no sentinel policy recorded) still predicts, with the
 * default sentinels, so its -99 rows are flagged too. */
static void test_version_1_model(void)
{
    char *out = NULL;
    int rc = python("import h5py, shutil; shutil.copy('model.h5', 'model_v1.h5'); f = h5py.File('model_v1.h5', 'r+');"
                    "del f['inputs']; del f.attrs['corrections']; f.attrs['pzflow_format_version'] = 1",
                    &out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    free(out);
    CU_ASSERT_TRUE(predict_says("model_v1.h5 bad.h5 -o v1.fits", 0, "2 sentinel (2)"));
}

/* The pipeline's stage and the command are one behaviour: the same params give the same file. */
static void test_stage_matches_command(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL(predict(&out, "model.h5 renamed.h5 -o cmd.h5 --map g_cmodel_mag=MAG_G --keep ra,dec --label "
                                  "specz_redshift"), 0);
    free(out);
    char *spec = pz_xasprintf("%s/predict.json", dir);
    pzt_write_file(spec, "{\"pzflow_spec\": 1, \"stage\": \"predict\", \"threads\": 1, \"params\": {\"map\": "
                         "[\"g_cmodel_mag=MAG_G\"], \"keep\": [\"ra\", \"dec\"], \"label\": \"specz_redshift\"}, "
                         "\"inputs\": {\"model\": \"model.h5\", \"table\": \"renamed.h5\"}, \"outputs\": "
                         "{\"predictions\": \"stage.h5\"}}");
    int rc = pzt_run(dir, &out, "'%s/pzflow-predict' '%s'", pzt_bin_dir(), spec);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow-predict: 1000 rows predicted; flags: "));
    free(out), free(spec);
    char *a = pz_xasprintf("%s/cmd.h5", dir), *b = pz_xasprintf("%s/stage.h5", dir);
    CU_ASSERT_TRUE(pzt_files_equal(a, b));
    free(a), free(b);
}


static int files_equal(const char *x, const char *y)
{
    char *a = pz_xasprintf("%s/%s", dir, x), *b = pz_xasprintf("%s/%s", dir, y);
    int eq = pzt_files_equal(a, b);
    free(a), free(b);
    return eq;
}

static float fcol(const pz_table *t, const char *name, size_t row)
{
    const pz_column *c = pz_table_col(t, name);
    return c && c->type == PZ_F32 ? ((const float *)c->data)[row] : -12345.0f;
}

/* A point model has no interval or p(z) of its own: refused, saying what would give one. */
static void test_point_model_needs_calibration(void)
{
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --intervals 68,95", 1,
                                "the model gives a point estimate, no p(z), so it has no intervals of its own: "
                                "calibrate them on a labelled catalogue held out from training (--calibrate"));
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --qp pt.hdf5", 1, "nothing to write as a qp ensemble"));
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --pdf", 1, "--pdf: the model gives a point estimate"));
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --calibrate va.h5 --label specz_redshift --score pit", 1,
                                "score 'pit' needs a p(z)"));
    char *path = pz_xasprintf("%s/pt.fits", dir), *qp = pz_xasprintf("%s/pt.hdf5", dir);
    CU_ASSERT_FALSE(pzt_exists(path));
    CU_ASSERT_FALSE(pzt_exists(qp));
    free(path), free(qp);
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --score relative", 2,
                                "--score is the conformal score: it needs --calibrate CAT"));
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5 -o pt.fits --calibrate va.h5", 2,
                                "--calibrate needs the calibration catalogue's true-redshift column"));
    CU_ASSERT_TRUE(predict_says("mdn.h5 te.h5 -o pt.fits --intervals 68,100", 2,
                                "--intervals needs 1 to 16 percentages between 0 and 100"));
}

/* An mdn model's own intervals are its p(z)'s quantiles; every flagged row (also 4, whose z_pred
 * stays) has NaN intervals and a NaN p(z); the qp file holds the same mixture and columns; and
 * --chunk changes no byte of either file. */
static void test_pdf_intervals_and_qp(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(predict(&out, "mdn.h5 bad.h5 -o pi.fits --intervals 68,95 --label specz_redshift "
                                        "--qp pi.hdf5"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "-> pi.fits and pi.hdf5"));
    free(out);
    CU_ASSERT_EQUAL_FATAL(predict(&out, "mdn.h5 bad.h5 -o pi7.fits --intervals 68,95 --label specz_redshift "
                                        "--qp pi7.hdf5 --chunk 7"), 0);
    free(out);
    CU_ASSERT_TRUE(files_equal("pi.fits", "pi7.fits"));
    CU_ASSERT_TRUE(files_equal("pi.hdf5", "pi7.hdf5"));
    pz_table *t = read_back("pi.fits");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "interval_method"), "pdf_quantile");
    pz_pdf_cols pc;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_pdf_cols_find(t, "pi.fits", &pc, &err), 1);
    CU_ASSERT_EQUAL(pc.k, 2);
    size_t bad = 0, checked = 0, inside68 = 0;
    for (size_t r = 7; r < t->nrows; r++) {
        double w[PZ_PDF_MAX_COMPONENTS], mu[PZ_PDF_MAX_COMPONENTS], sd[PZ_PDF_MAX_COMPONENTS];
        pz_gmix g;
        if (pz_pdf_row(&pc, r, w, mu, sd, &g)) {
            bad++;
            continue;
        }
        double lo = pz_gmix_quantile(&g, 0.16), hi = pz_gmix_quantile(&g, 0.84);
        bad += fcol(t, "z_lo_68", r) != (float)(lo > 0 ? lo : 0) || fcol(t, "z_hi_68", r) != (float)hi;
        bad += !(fcol(t, "z_lo_95", r) <= fcol(t, "z_lo_68", r) && fcol(t, "z_hi_68", r) <= fcol(t, "z_hi_95", r));
        double z = pz_col_f64(pz_table_col(t, "z_true"), r);
        inside68 += z >= fcol(t, "z_lo_68", r) && z <= fcol(t, "z_hi_68", r);
        checked++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(checked, t->nrows - 7);
    CU_ASSERT_TRUE(inside68 > 0); /* real intervals, not points (a 4-epoch model: no coverage claim) */
    static const char *const UQ[6] = {"z_lo_68", "z_hi_68", "z_lo_95", "z_hi_95", "pdf_mean_0", "pdf_std_1"};
    for (size_t r = 1; r <= 6; r++)
        for (int c = 0; c < 6; c++) CU_ASSERT_TRUE(isnan(fcol(t, UQ[c], r)));
    CU_ASSERT_TRUE(isfinite(fcol(t, "z_pred", ROW_FAINT))); /* flag 4 keeps its z_pred, not its p(z) */
    /* The qp file: the table's mixture and columns, row for row (qp's own reading is test_qp's). */
    char *qp = pz_xasprintf("%s/pi.hdf5", dir);
    int rank;
    size_t dims[4];
    double *v = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_h5nd_read_f64(qp, "/data/means", &rank, dims, &v, &err), 0);
    CU_ASSERT_TRUE(rank == 2 && dims[0] == 300 && dims[1] == 2);
    CU_ASSERT_EQUAL((float)v[20 * 2 + 1], fcol(t, "pdf_mean_1", 20));
    CU_ASSERT_TRUE(isnan(v[ROW_FAINT * 2]));
    free(v);
    CU_ASSERT_EQUAL_FATAL(pz_h5nd_read_f64(qp, "/ancil/z_hi_95", &rank, dims, &v, &err), 0);
    CU_ASSERT_TRUE(rank == 1 && dims[0] == 300 && (float)v[299] == fcol(t, "z_hi_95", 299));
    free(v);
    CU_ASSERT_EQUAL_FATAL(pz_h5nd_read_f64(qp, "/ancil/object_id", &rank, dims, &v, &err), 0);
    CU_ASSERT_EQUAL(v[299], 5000000000.0 + 299);
    free(v), free(qp);
    pz_table_free(t);
    /* --no-pdf: the intervals without the mixture, and no attribute promising one. */
    CU_ASSERT_EQUAL_FATAL(predict(&out, "mdn.h5 bad.h5 -o np.h5 --intervals 68 --no-pdf"), 0);
    free(out);
    t = read_back("np.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NULL(pz_table_col(t, "pdf_weight_0"));
    CU_ASSERT_PTR_NULL(pz_table_attr(t, "pdf"));
    CU_ASSERT_TRUE(isfinite(fcol(t, "z_lo_68", 0)) && isnan(fcol(t, "z_hi_68", ROW_M99)));
    pz_table_free(t);
}

/* --calibrate gives the intervals pzflow-conformal's code gives on the calibration catalogue's
 * predictions, bit for bit, covering about their level on labelled test galaxies; flagged rows
 * have none; --chunk changes nothing, in the calibration either. */
static void test_conformal_calibration(void)
{
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(predict(&out, "model.h5 te.h5 -o cf.h5 --label specz_redshift --calibrate va.h5"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "pzflow predict: calibration on va.h5: 600 rows, 599 with a score (1 flagged left "
                                "out); relative score, 68% q = "));
    free(out);
    CU_ASSERT_EQUAL_FATAL(predict(&out, "model.h5 te.h5 -o cf7.h5 --cal-label specz_redshift --label specz_redshift "
                                        "--calibrate va.h5 --chunk 7 --intervals 68,95"), 0);
    free(out);
    CU_ASSERT_TRUE(files_equal("cf.h5", "cf7.h5"));
    /* pzflow-conformal's path: predictions of both catalogues as tables, then pz_conformal_apply. */
    CU_ASSERT_EQUAL_FATAL(predict(&out, "model.h5 va.h5 -o cal_pred.h5 --label specz_redshift"), 0);
    free(out);
    CU_ASSERT_EQUAL_FATAL(predict(&out, "model.h5 te.h5 -o te_pred.h5 --label specz_redshift"), 0);
    free(out);
    pz_table *all = read_back("cal_pred.h5"), *ref = read_back("te_pred.h5"), *t = read_back("cf.h5");
    CU_ASSERT_FATAL(all && ref && t);
    size_t ok[600], nok = 0; /* the command leaves flagged calibration rows out (one is out of range) */
    for (size_t r = 0; r < all->nrows && nok < 600; r++)
        if (pz_col_f64(pz_table_col(all, "flag"), r) == 0) ok[nok++] = r;
    pz_table *cal = pz_table_take(all, ok, nok);
    pz_table_free(all);
    double levels[2] = {68, 95};
    pz_conformal_opts o = {levels, 2, -1, "z_pred", "z_true"};
    pz_conformal_result res;
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_conformal_apply(cal, ref, &o, &res, &err), 0);
    size_t differ = 0, in68 = 0, in95 = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (pz_col_f64(pz_table_col(t, "flag"), r) != 0) { /* out of range: no interval (below) */
            differ += !isnan(fcol(t, "z_lo_68", r));
            continue;
        }
        differ += fcol(t, "z_lo_68", r) != fcol(ref, "z_lo_68", r) || fcol(t, "z_hi_95", r) != fcol(ref, "z_hi_95", r);
        double z = pz_col_f64(pz_table_col(t, "z_true"), r);
        in68 += z >= fcol(t, "z_lo_68", r) && z <= fcol(t, "z_hi_68", r);
        in95 += z >= fcol(t, "z_lo_95", r) && z <= fcol(t, "z_hi_95", r);
    }
    CU_ASSERT_EQUAL(differ, 0);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "conformal_q_68"), pz_table_attr(ref, "conformal_q_68"));
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "conformal_calibration_n"), "599");
    /* 1000 test galaxies: the binomial sd is 1.5 pp at 68%, 0.7 pp at 95% */
    CU_ASSERT_TRUE(in68 > 620 && in68 < 740);
    CU_ASSERT_TRUE(in95 > 925 && in95 < 975);
    pz_table_free(cal), pz_table_free(ref), pz_table_free(t);
    /* flagged rows, also the out-of-range ones with a z_pred, get no interval */
    CU_ASSERT_EQUAL_FATAL(predict(&out, "model.h5 bad.h5 -o cfb.csv --cal-label specz_redshift --calibrate va.h5"), 0);
    free(out);
    t = read_back("cfb.csv");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (size_t r = 1; r <= 6; r++) CU_ASSERT_TRUE(isnan(pz_col_f64(pz_table_col(t, "z_lo_68"), r)));
    CU_ASSERT_TRUE(isfinite(pz_col_f64(pz_table_col(t, "z_pred"), ROW_FAINT)));
    CU_ASSERT_TRUE(isfinite(pz_col_f64(pz_table_col(t, "z_hi_95"), 0)));
    pz_table_free(t);
    /* a p(z) model calibrates with the normalized score by default, keeping its mixture */
    CU_ASSERT_EQUAL_FATAL(predict(&out, "mdn.h5 te.h5 -o cfm.h5 --label specz_redshift --calibrate va.h5"), 0);
    CU_ASSERT_TRUE(pzt_has(out, "normalized score, 68% q = "));
    free(out);
    t = read_back("cfm.h5");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(pz_table_attr(t, "conformal_score"), "normalized");
    CU_ASSERT_TRUE(isfinite(fcol(t, "z_lo_95", 0)) && isfinite(fcol(t, "pdf_std_0", 0)));
    pz_table_free(t);
    /* a calibration catalogue without the label column: named */
    CU_ASSERT_EQUAL(predict(&out, "model.h5 te.h5 -o cfx.h5 --cal-label zspec --calibrate va.h5"), 1);
    CU_ASSERT_TRUE(pzt_has(out, "calibration: "));
    CU_ASSERT_TRUE(pzt_has(out, "'zspec' not in the table"));
    free(out);
}

/* `pzflow predict` of big.h5 as `args` (one %d for the run's index) with run i's threads. */
static int threaded(int i, const char *args)
{
    /* One thread with whole chunks; chunks that start mid-block (5000), with two workers and with
     * three, more than some chunks have blocks. */
    static const char *const RUNS[3] = {"--threads 1", "--threads 2 --chunk 5000", "--threads 3 --chunk 5000"};
    char *fmt = pz_xasprintf("%s %s", args, RUNS[i]), *cmd = pz_xasprintf(fmt, i, i), *out = NULL;
    int rc = predict(&out, cmd);
    if (rc) fprintf(stderr, "%s:\n%s\n", cmd, out);
    free(fmt), free(cmd), free(out);
    return rc;
}

/* --threads deals each chunk's 4096-row blocks out to worker threads: the same bytes as one
 * thread for the point prediction, the p(z) with its intervals and qp file, a calibration, and
 * the stage's threads. A row's last bits depend on its place in its block, so a block handed
 * the wrong place changes bytes here; big.h5's flagged rows sit in blocks past the first. */
static void test_threads_same_bytes(void)
{
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(threaded(i, "model.h5 big.h5 -o t%d.fits --keep ra --label specz_redshift"), 0);
        CU_ASSERT_EQUAL(threaded(i, "mdn.h5 big.h5 -o tm%d.fits --intervals 68,95 --qp tm%d.hdf5"), 0);
        CU_ASSERT_EQUAL(threaded(i, "model.h5 big.h5 -o tc%d.h5 --label specz_redshift --calibrate big.h5"), 0);
    }
    for (int i = 1; i < 3; i++) {
        char name[4][32];
        snprintf(name[0], sizeof name[0], "t%d.fits", i);
        snprintf(name[1], sizeof name[1], "tm%d.fits", i);
        snprintf(name[2], sizeof name[2], "tm%d.hdf5", i);
        snprintf(name[3], sizeof name[3], "tc%d.h5", i);
        CU_ASSERT_TRUE(files_equal("t0.fits", name[0]));
        CU_ASSERT_TRUE(files_equal("tm0.fits", name[1]));
        CU_ASSERT_TRUE(files_equal("tm0.hdf5", name[2]));
        CU_ASSERT_TRUE(files_equal("tc0.h5", name[3]));
    }
    char *spec = pz_xasprintf("%s/threads.json", dir), *out = NULL;
    pzt_write_file(spec, "{\"pzflow_spec\": 1, \"stage\": \"predict\", \"threads\": 3, \"params\": {\"keep\": "
                         "[\"ra\"], \"label\": \"specz_redshift\", \"chunk_rows\": 5000}, \"inputs\": {\"model\": "
                         "\"model.h5\", \"table\": \"big.h5\"}, \"outputs\": {\"predictions\": \"ts.fits\"}}");
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "'%s/pzflow-predict' '%s'", pzt_bin_dir(), spec), 0);
    free(out), free(spec);
    CU_ASSERT_TRUE(files_equal("t0.fits", "ts.fits"));
}

static void test_usage_errors(void)
{
    char *out = NULL;
    CU_ASSERT_TRUE(predict_says("model.h5 te.h5", 2, "needs -o OUT"));
    CU_ASSERT_EQUAL(predict(&out, "model.h5 te.h5 -o x.fits --chunk 0"), 2);
    free(out);
    CU_ASSERT_TRUE(predict_says("--help", 0, "usage: pzflow predict MODEL CATALOG -o OUT"));
}

static void setup(void)
{
    write_table("tr.h5", galaxies(3000, 1, NULL, 1));
    write_table("va.h5", galaxies(600, 2, NULL, 1));
    write_table("te.h5", galaxies(1000, 3, NULL, 1));
    pz_table *bad = galaxies(300, 4, NULL, 1);
    for (int j = 0; j < 5; j++) { /* [19, 25) -> [19.5, 24.5): well inside the training range */
        char name[32];
        snprintf(name, sizeof name, "%c_cmodel_mag", BANDS[j]);
        float *v = pz_table_col(bad, name)->data;
        for (size_t r = 0; r < bad->nrows; r++) v[r] = 19.5f + (v[r] - 19.0f) * (5.0f / 6.0f);
    }
    set_mag(bad, 0, ROW_M99, -99.0f);
    set_mag(bad, 1, ROW_NAN, NAN);
    set_mag(bad, 2, ROW_FAINT, 35.0f);
    set_mag(bad, 3, ROW_P99, 99.0f);
    set_mag(bad, 4, ROW_INF, -INFINITY);
    set_mag(bad, 0, ROW_BRIGHT, 12.0f);
    write_table("bad.h5", bad);
    pz_table *ren = galaxies(1000, 3, NULL, 1);
    pz_column *g = pz_table_col(ren, "g_cmodel_mag");
    free(g->name);
    g->name = pz_xstrdup("MAG_G");
    write_table("renamed.h5", ren);
    write_table("njy.h5", galaxies(100, 5, "nJy", 1));
    write_table("plain.h5", galaxies(100, 6, NULL, 0));
    /* Five 4096-row blocks, with a flagged row of each kind past the first. */
    pz_table *big = galaxies(20000, 7, NULL, 1);
    set_mag(big, 0, 8200, NAN);
    set_mag(big, 1, 12345, -99.0f);
    set_mag(big, 2, 19999, 30.0f);
    write_table("big.h5", big);
    char *spec = pz_xasprintf("%s/train.json", dir), *out = NULL;
    pzt_write_file(spec, "{\"pzflow_spec\": 1, \"stage\": \"train\", \"threads\": 1, \"params\": {\"label\": "
                         "\"specz_redshift\", \"epochs\": 4, \"hidden\": [32, 32], \"seed\": 3}, \"inputs\": {\"train\": "
                         "\"tr.h5\", \"validation\": \"va.h5\"}, \"outputs\": {\"model\": \"model.h5\"}}");
    int rc = pzt_run(dir, &out, "'%s/pzflow-train' '%s'", pzt_bin_dir(), spec);
    if (rc) {
        fprintf(stderr, "training the fixture model failed:\n%s\n", out);
        abort();
    }
    free(out);
    pzt_write_file(spec, "{\"pzflow_spec\": 1, \"stage\": \"train\", \"threads\": 1, \"params\": {\"label\": "
                         "\"specz_redshift\", \"epochs\": 4, \"hidden\": [32, 32], \"seed\": 3, \"head\": \"mdn\", "
                         "\"components\": 2}, \"inputs\": {\"train\": \"tr.h5\", \"validation\": \"va.h5\"}, "
                         "\"outputs\": {\"model\": \"mdn.h5\"}}");
    rc = pzt_run(dir, &out, "'%s/pzflow-train' '%s'", pzt_bin_dir(), spec);
    if (rc) {
        fprintf(stderr, "training the fixture mdn model failed:\n%s\n", out);
        abort();
    }
    free(out), free(spec);
}

int main(void)
{
    dir = pzt_mkdtemp("predict");
    setup();
    pzt_suite("predict", (pzt_case[]){
                             {"-99, NaN and out-of-range magnitudes are flagged, never a silent redshift",
                              test_bad_magnitudes_are_flagged_never_silent},
                             {"the output format is the extension's, and astropy reads it", test_output_format_by_extension},
                             {"--chunk never changes the bytes; --map and --keep", test_chunk_map_keep},
                             {"a column in other units than the model's is refused", test_units_disagree},
                             {"the model's corrections are noted", test_corrections_note},
                             {"a version-1 model file still predicts", test_version_1_model},
                             {"the pipeline stage behaves as the command", test_stage_matches_command},
                             {"a point model has no intervals or p(z) of its own", test_point_model_needs_calibration},
                             {"--intervals from the p(z), --qp, --no-pdf; flagged rows NaN", test_pdf_intervals_and_qp},
                             {"--calibrate: pzflow-conformal's intervals on the user's catalogue",
                              test_conformal_calibration},
                             {"--threads never changes the bytes", test_threads_same_bytes},
                             {"usage errors", test_usage_errors},
                             {0}});
    int rc = pzt_main();
    if (rc == 0) pzt_rmtree(dir);
    free(dir);
    return rc;
}
