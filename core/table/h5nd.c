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

/* The memory and file types of `type` (the file's little-endian whatever the host, as numpy and
 * astropy write by default). */
static void h5_types(pz_h5nd_type type, size_t str_width, hid_t *mtype, hid_t *ftype)
{
    if (type == PZ_H5ND_STR) {
        *mtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(*mtype, str_width ? str_width : 1);
        H5Tset_strpad(*mtype, H5T_STR_NULLPAD);
        *ftype = H5Tcopy(*mtype);
        return;
    }
    *mtype = H5Tcopy(type == PZ_H5ND_F32 ? H5T_NATIVE_FLOAT : type == PZ_H5ND_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64);
    *ftype = H5Tcopy(type == PZ_H5ND_F32 ? H5T_IEEE_F32LE : type == PZ_H5ND_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE);
}

/* Create dataset `name`; chunk_rows > 0: growing along its first dimension (from 0 rows), stored
 * in chunks of that many rows, and written later by append; else written now from `data`. */
static int create_dataset(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims,
                          const void *data, size_t str_width, size_t chunk_rows, pz_err *err)
{
    if (rank < 1 || rank > 4) return pz_errf(err, "%s: dataset %s: rank %d not in 1..4", f->path, name, rank);
    hsize_t hd[4], maxd[4], chunk[4];
    for (int i = 0; i < rank; i++) hd[i] = maxd[i] = chunk[i] = dims[i];
    hid_t mtype, ftype;
    h5_types(type, str_width, &mtype, &ftype);
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    if (chunk_rows) {
        hd[0] = 0, maxd[0] = H5S_UNLIMITED, chunk[0] = chunk_rows;
        H5Pset_chunk(dcpl, rank, chunk);
    }
    hid_t space = H5Screate_simple(rank, hd, maxd);
    hid_t d = H5Dcreate2(f->file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d < 0 || (!chunk_rows && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
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

int pz_h5nd_write(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims, const void *data,
                  size_t str_width, pz_err *err)
{
    return create_dataset(f, name, type, rank, dims, data, str_width, 0, err);
}

int pz_h5nd_create_growing(pz_h5nd *f, const char *name, pz_h5nd_type type, int rank, const size_t *dims,
                           size_t chunk_rows, size_t str_width, pz_err *err)
{
    return create_dataset(f, name, type, rank, dims, NULL, str_width, chunk_rows ? chunk_rows : 1, err);
}

int pz_h5nd_append(pz_h5nd *f, const char *name, pz_h5nd_type type, size_t rows, const void *data, size_t str_width,
                   pz_err *err)
{
    hid_t mtype, ftype;
    h5_types(type, str_width, &mtype, &ftype);
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    int rc = -1;
    hid_t d = H5Dopen2(f->file, name, H5P_DEFAULT), space = -1, mem = -1;
    hsize_t dims[4], start[4] = {0}, count[4];
    int rank = d < 0 ? -1 : H5Sget_simple_extent_dims(space = H5Dget_space(d), dims, NULL);
    if (rank >= 1 && rows) {
        for (int i = 0; i < rank; i++) count[i] = dims[i];
        start[0] = dims[0], count[0] = rows, dims[0] += rows;
        H5Sclose(space);
        space = -1;
        if (H5Dset_extent(d, dims) >= 0 && (space = H5Dget_space(d)) >= 0 &&
            H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
            (mem = H5Screate_simple(rank, count, NULL)) >= 0 && H5Dwrite(d, mtype, mem, space, H5P_DEFAULT, data) >= 0)
            rc = 0;
    } else if (rank >= 1) {
        rc = 0;
    }
    if (mem >= 0) H5Sclose(mem);
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
    H5Tclose(ftype);
    H5Tclose(mtype);
    pz_h5_quiet_end(&q);
    return rc < 0 ? pz_errf(err, "%s: cannot append %zu rows to dataset %s", f->path, rows, name) : 0;
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
