#include "table/h5nd.h"

#include <stdlib.h>

#include <hdf5.h>

#include "table/h5util.h"

struct pz_h5nd {
    hid_t file;
    char *path;
};

pz_h5nd *pz_h5nd_create(const char *path, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    pz_h5_quiet_end(&q);
    if (file < 0) {
        pz_errf(err, "%s: cannot create HDF5 file", path);
        return NULL;
    }
    pz_h5nd *f = pz_xmalloc(sizeof *f);
    f->file = file;
    f->path = pz_xstrdup(path);
    return f;
}

int pz_h5nd_group(pz_h5nd *f, const char *name, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t g = H5Gcreate2(f->file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    int rc = g < 0 ? pz_errf(err, "%s: cannot create group %s", f->path, name) : 0;
    if (g >= 0) H5Gclose(g);
    pz_h5_quiet_end(&q);
    return rc;
}

int pz_h5nd_write(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims, const void *data,
                  size_t str_width, pz_err *err)
{
    if (rank < 1 || rank > 4) return pz_errf(err, "%s: dataset %s: rank %d not in 1..4", f->path, name, rank);
    hsize_t hd[4];
    for (int i = 0; i < rank; i++) hd[i] = dims[i];
    hid_t mtype;
    if (type == PZ_H5ND_STR) {
        mtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(mtype, str_width ? str_width : 1);
        H5Tset_strpad(mtype, H5T_STR_NULLPAD);
    } else {
        mtype = H5Tcopy(type == PZ_H5ND_F32 ? H5T_NATIVE_FLOAT : type == PZ_H5ND_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64);
    }
    /* little-endian on disk whatever the host, as numpy and astropy write by default */
    hid_t ftype = type == PZ_H5ND_STR ? H5Tcopy(mtype)
                  : H5Tcopy(type == PZ_H5ND_F32 ? H5T_IEEE_F32LE : type == PZ_H5ND_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE);
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t space = H5Screate_simple(rank, hd, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(f->file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0
                 ? pz_errf(err, "%s: cannot write dataset %s", f->path, name)
                 : 0;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(ftype);
    H5Tclose(mtype);
    pz_h5_quiet_end(&q);
    return rc;
}

int pz_h5nd_close(pz_h5nd *f, pz_err *err)
{
    if (!f) return 0;
    int rc = H5Fclose(f->file) < 0 ? pz_errf(err, "%s: closing the HDF5 file failed", f->path) : 0;
    free(f->path);
    free(f);
    return rc;
}

int pz_h5nd_read_f64(const char *path, const char *name, int *rank, size_t dims[4], double **out, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    int rc = -1;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, space = -1;
    if (file < 0) {
        pz_errf(err, "%s: cannot open as HDF5", path);
        goto out;
    }
    if ((d = H5Dopen2(file, name, H5P_DEFAULT)) < 0) {
        pz_errf(err, "%s: no dataset %s", path, name);
        goto out;
    }
    space = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(space);
    hsize_t hd[4];
    if (r < 1 || r > 4 || H5Sget_simple_extent_dims(space, hd, NULL) < 0) {
        pz_errf(err, "%s: dataset %s: rank %d not in 1..4", path, name, r);
        goto out;
    }
    size_t n = 1;
    for (int i = 0; i < r; i++) dims[i] = hd[i], n *= hd[i];
    *rank = r;
    *out = pz_xmalloc((n ? n : 1) * sizeof **out);
    if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        free(*out);
        *out = NULL;
        pz_errf(err, "%s: dataset %s: not numeric, or unreadable", path, name);
        goto out;
    }
    rc = 0;
out:
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
    if (file >= 0) H5Fclose(file);
    pz_h5_quiet_end(&q);
    return rc;
}
