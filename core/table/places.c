/* Listing the tables inside a file (places.h), through HDF5's link walk and cfitsio's HDUs. */
#include "table/places.h"

#include <fitsio.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/h5util.h"
#include "table/table.h"

#define MAX_PLACES 64 /* enough for a hint; a file with thousands of groups is cut short */

typedef struct {
    char **v;
    size_t n;
} place_list;

static void add_place(place_list *l, const char *loc)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], loc)) return;
    if (l->n == MAX_PLACES) return;
    l->v = pz_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = pz_xstrdup(loc);
}

/* "/photometry/mag_g" -> "/photometry"; "mag_g" -> "/". */
static void add_parent(place_list *l, const char *name)
{
    const char *slash = strrchr(name, '/');
    char *parent = slash ? pz_xasprintf("/%.*s", (int)(slash - name), name) : pz_xstrdup("/");
    add_place(l, parent);
    free(parent);
}

/* A dataset is a place (compound), or makes its group one (shape (N) or (N,1)). */
static herr_t visit(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    if (info->type != H5L_TYPE_HARD || strstr(name, "__table_column_meta__")) return 0;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    if (H5Iget_type(obj) == H5I_DATASET) {
        hid_t type = H5Dget_type(obj), space = H5Dget_space(obj);
        hsize_t dims[2] = {0, 0};
        int rank = H5Sget_simple_extent_ndims(space);
        if (rank >= 1 && rank <= 2) H5Sget_simple_extent_dims(space, dims, NULL);
        if (type >= 0 && H5Tget_class(type) == H5T_COMPOUND && rank == 1) {
            char *loc = pz_xasprintf("/%s", name);
            add_place(data, loc);
            free(loc);
        } else if (rank == 1 || (rank == 2 && dims[1] == 1)) {
            add_parent(data, name);
        }
        H5Tclose(type);
        H5Sclose(space);
    }
    H5Oclose(obj);
    return 0;
}

static int hdf5_places(const char *path, place_list *l, pz_err *err)
{
    pz_h5_quiet q;
    pz_h5_quiet_begin(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rc = f < 0 ? pz_errf(err, "%s: cannot open as HDF5", path) : 0;
    if (f >= 0) {
        H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit, l);
        H5Fclose(f);
    }
    pz_h5_quiet_end(&q);
    return rc;
}

static int fits_places(const char *path, place_list *l, pz_err *err)
{
    fitsfile *fp = NULL;
    int status = 0, nhdu = 0;
    if (fits_open_file(&fp, path, READONLY, &status) || fits_get_num_hdus(fp, &nhdu, &status)) {
        if (fp) fits_close_file(fp, &(int){0});
        fits_clear_errmsg();
        return pz_errf(err, "%s: cannot open as FITS", path);
    }
    for (int i = 2; i <= nhdu && status == 0; i++) {
        int type = 0;
        if (fits_movabs_hdu(fp, i, &type, &status)) break;
        if (type != BINARY_TBL && type != ASCII_TBL) continue;
        char extname[FLEN_VALUE] = "";
        int st = 0;
        if (fits_read_key(fp, TSTRING, "EXTNAME", extname, NULL, &st) || !extname[0]) {
            snprintf(extname, sizeof extname, "%d", i - 1);
        }
        add_place(l, extname);
    }
    fits_close_file(fp, &(int){0});
    fits_clear_errmsg();
    return 0;
}

int pz_table_places(const char *path, char ***places, size_t *n, pz_err *err)
{
    place_list l = {NULL, 0};
    pz_format fmt;
    *places = NULL, *n = 0;
    if (pz_table_format(path, &fmt, err) < 0) return -1;
    int rc = fmt == PZ_FMT_HDF5 ? hdf5_places(path, &l, err) : fmt == PZ_FMT_FITS ? fits_places(path, &l, err) : 0;
    *places = l.v, *n = l.n;
    return rc;
}

void pz_places_free(char **places, size_t n)
{
    for (size_t i = 0; i < n; i++) free(places[i]);
    free(places);
}
