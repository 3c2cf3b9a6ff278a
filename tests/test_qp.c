/* Predictions written as a qp ensemble (core/photoz/qp.c): the layout keys exactly as qp's
 * factory reads them (from_tables / _build_data_dict, read in qp's code: qp itself is not
 * installable here), and the values round-trip through h5py and through pzflow's own reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photoz/qp.h"
#include "support/pztest.h"
#include "table/h5nd.h"
#include "table/table.h"
#include "util/err.h"

/* Three galaxies, two components; the third is flagged (NaN prediction and mixture). */
static pz_table *predictions(void)
{
    static const double id[3] = {101, 102, 103}, zp[3] = {0.5, 1.25, NAN}, zt[3] = {0.45, 1.3, 2.0};
    static const double w[2][3] = {{0.25, 0.5, NAN}, {0.75, 0.5, NAN}}, mu[2][3] = {{0.4, 1.1, NAN}, {0.55, 1.4, NAN}},
                        sd[2][3] = {{0.05, 0.1, NAN}, {0.125, 0.2, NAN}};
    pz_table *t = pz_table_new(3);
    pz_column *c_id = pz_table_add(t, "object_id", PZ_I64, 0), *c_zp = pz_table_add(t, "z_pred", PZ_F32, 0),
              *c_zt = pz_table_add(t, "z_true", PZ_F64, 0);
    for (size_t i = 0; i < 3; i++) pz_col_set_f64(c_id, i, id[i]), pz_col_set_f64(c_zp, i, zp[i]), pz_col_set_f64(c_zt, i, zt[i]);
    for (int k = 0; k < 2; k++) {
        char name[32];
        const double *v[3] = {w[k], mu[k], sd[k]};
        const char *kind[3] = {"weight", "mean", "std"};
        for (int a = 0; a < 3; a++) {
            snprintf(name, sizeof name, "pdf_%s_%d", kind[a], k);
            pz_column *c = pz_table_add(t, name, PZ_F32, 0);
            for (size_t i = 0; i < 3; i++) pz_col_set_f64(c, i, v[a][i]);
        }
    }
    pz_table_set_attr(t, "pdf", "gaussian_mixture");
    pz_table_set_attr(t, "pdf_ncomp", "2");
    return t;
}

/* The Python side: the exact layout qp's factory expects, and values. Prints OK or what failed. */
static const char *CHECK_MIXMOD =
    "import h5py, numpy as np, sys\n"
    "f = h5py.File(sys.argv[1], 'r')\n"
    "assert sorted(f.keys()) == ['ancil', 'data', 'meta'], list(f.keys())\n"
    "assert sorted(f['meta'].keys()) == ['pdf_name', 'pdf_version'], list(f['meta'].keys())\n"
    "assert sorted(f['data'].keys()) == ['means', 'stds', 'weights'], list(f['data'].keys())\n"
    "n = f['meta/pdf_name'][:]\n"
    "assert n.shape == (1,) and n.dtype == np.dtype('S6') and n[0] == b'mixmod', (n, n.dtype)\n"
    "v = f['meta/pdf_version'][:]\n"
    "assert v.shape == (1,) and v.dtype.kind == 'i' and v[0] == 0, v\n"
    "# qp's Factory._build_data_dict: a 1-D meta column becomes its first element, bytes decoded\n"
    "assert n[0].decode() == 'mixmod'\n"
    "m, s, w = (f['data/' + k][:] for k in ('means', 'stds', 'weights'))\n"
    "assert m.shape == s.shape == w.shape == (3, 2) and m.dtype == np.float32\n"
    "assert np.allclose(w[:2], [[0.25, 0.75], [0.5, 0.5]]) and np.allclose(m[:2], [[0.4, 0.55], [1.1, 1.4]])\n"
    "assert np.allclose(s[:2], [[0.05, 0.125], [0.1, 0.2]]) and np.isnan(m[2]).all()\n"
    "a = f['ancil']\n"
    "assert sorted(a.keys()) == ['object_id', 'z_pred', 'z_true', 'zmode'], list(a.keys())\n"
    "assert list(a['object_id'][:]) == [101, 102, 103] and a['object_id'].dtype == np.int64\n"
    "assert np.allclose(a['zmode'][:2], [0.5, 1.25]) and np.allclose(a['z_true'][:], [0.45, 1.3, 2.0])\n"
    "assert all(a[k].shape == (3,) for k in a)\n"
    "print('OK')\n";

static const char *CHECK_INTERP =
    "import h5py, numpy as np, sys\n"
    "f = h5py.File(sys.argv[1], 'r')\n"
    "assert sorted(f['meta'].keys()) == ['pdf_name', 'pdf_version', 'xvals'], list(f['meta'].keys())\n"
    "assert f['meta/pdf_name'][0] == b'interp'\n"
    "x = f['meta/xvals'][:]\n"
    "# 2-D (1, n): qp squeezes it back to the grid (a 1-D column would be cut to its first value)\n"
    "assert x.shape == (1, 81) and np.allclose(np.squeeze(x), np.linspace(0, 2, 81)), x.shape\n"
    "y = f['data/yvals'][:]\n"
    "assert sorted(f['data'].keys()) == ['yvals'] and y.shape == (3, 81)\n"
    "g = lambda x, m, s: np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))\n"
    "xs = np.squeeze(x)\n"
    "assert np.allclose(y[0], 0.25 * g(xs, 0.4, 0.05) + 0.75 * g(xs, 0.55, 0.125), rtol=1e-6)\n"
    "assert abs(np.trapz(y[1], xs) - 1) < 1e-3 and np.isnan(y[2]).all()\n"
    "print('OK')\n";

static void check_with_python(const char *script, const char *dir, const char *path)
{
    char *sp = pz_xasprintf("%s/check.py", dir), *out = NULL;
    pzt_write_file(sp, script);
    int rc = pzt_run(NULL, &out, "%s %s %s 2>&1", pzt_python(), sp, path);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(pzt_has(out, "OK"));
    if (rc != 0) fprintf(stderr, "%s\n", out);
    free(out);
    free(sp);
}

static void test_mixmod_layout_and_round_trip(void)
{
    char *dir = pzt_mkdtemp("qp"), *path = pz_xasprintf("%s/pz.hdf5", dir);
    pz_table *t = predictions();
    pz_qp_opts o = {.format = PZ_QP_MIXMOD, .z_pred_col = "z_pred"};
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_qp_write(path, t, &o, &err), 0);
    check_with_python(CHECK_MIXMOD, dir, path);
    /* pzflow reads back what it wrote, value for value (float32 values exactly) */
    int rank;
    size_t dims[4];
    double *v = NULL;
    CU_ASSERT_EQUAL_FATAL(pz_h5nd_read_f64(path, "/data/stds", &rank, dims, &v, &err), 0);
    CU_ASSERT_EQUAL(rank, 2);
    CU_ASSERT_EQUAL(dims[0], 3);
    CU_ASSERT_EQUAL(dims[1], 2);
    for (size_t i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            char name[32];
            snprintf(name, sizeof name, "pdf_std_%d", k);
            CU_ASSERT_EQUAL(v[i * 2 + k], pz_col_f64(pz_table_col(t, name), i));
        }
    free(v);
    CU_ASSERT_EQUAL_FATAL(pz_h5nd_read_f64(path, "/ancil/object_id", &rank, dims, &v, &err), 0);
    CU_ASSERT_EQUAL(rank, 1);
    CU_ASSERT_EQUAL(v[2], 103);
    free(v);
    /* the same table gives the same bytes */
    char *again = pz_xasprintf("%s/again.hdf5", dir);
    CU_ASSERT_EQUAL_FATAL(pz_qp_write(again, t, &o, &err), 0);
    CU_ASSERT_TRUE(pzt_files_equal(path, again));
    pz_table_free(t);
    pzt_rmtree(dir);
    free(dir), free(path), free(again);
}

static void test_interp_layout(void)
{
    char *dir = pzt_mkdtemp("qp"), *path = pz_xasprintf("%s/pz.hdf5", dir);
    pz_table *t = predictions();
    pz_qp_opts o = {.format = PZ_QP_INTERP, .grid_lo = 0, .grid_hi = 2, .grid_n = 81, .z_pred_col = "z_pred"};
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_qp_write(path, t, &o, &err), 0);
    check_with_python(CHECK_INTERP, dir, path);
    pz_table_free(t);
    pzt_rmtree(dir);
    free(dir), free(path);
}

static void test_point_predictions_are_refused(void)
{
    pz_table *t = pz_table_new(1);
    pz_table_add(t, "z_pred", PZ_F32, 0);
    pz_qp_opts o = {.format = PZ_QP_MIXMOD, .z_pred_col = "z_pred"};
    pz_err err;
    CU_ASSERT_EQUAL(pz_qp_write("unused.hdf5", t, &o, &err), -1);
    CU_ASSERT_TRUE(pzt_has(err.msg, "no p(z)"));
    pz_table_free(t);
}

/* The stage end to end. */
static void test_export_qp_stage(void)
{
    char *dir = pzt_mkdtemp("qp"), *in = pz_xasprintf("%s/pred.h5", dir), *spec = pz_xasprintf("%s/spec.json", dir);
    pz_table *t = predictions();
    pz_err err;
    CU_ASSERT_EQUAL_FATAL(pz_table_write_hdf5(in, t, &err), 0);
    char *text = pz_xasprintf("{\"pzflow_spec\": 1, \"stage\": \"export-qp\", \"threads\": 1, \"params\": {},\n"
                              " \"inputs\": {\"predictions\": \"%s\"}, \"outputs\": {\"qp\": \"%s/out.hdf5\"}}\n",
                              in, dir);
    pzt_write_file(spec, text);
    char *out = NULL;
    CU_ASSERT_EQUAL(pzt_run(dir, &out, "%s/pzflow-export-qp %s", pzt_bin_dir(), spec), 0);
    CU_ASSERT_TRUE(pzt_has(out, "qp ensemble (mixmod) of 3 galaxies"));
    char *op = pz_xasprintf("%s/out.hdf5", dir);
    check_with_python(CHECK_MIXMOD, dir, op);
    free(out);
    pz_table_free(t);
    pzt_rmtree(dir);
    free(dir), free(in), free(spec), free(text), free(op);
}

int main(void)
{
    pzt_suite("qp", (pzt_case[]){
                        {"mixmod: qp's layout keys, values round-trip", test_mixmod_layout_and_round_trip},
                        {"interp: the mixture on a grid", test_interp_layout},
                        {"point predictions are refused", test_point_predictions_are_refused},
                        {"the export-qp stage", test_export_qp_stage},
                        {0}});
    return pzt_main();
}
