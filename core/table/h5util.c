#include <stdlib.h>
#include <sys/stat.h>

#include "table/h5util.h"

void pz_h5_quiet_begin(pz_h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void pz_h5_quiet_end(const pz_h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

int pz_h5_write_string_attr(hid_t obj, const char *key, const char *value)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    H5Tset_cset(st, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, key, st, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, st, &value) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(st);
    return rc;
}

int pz_h5_raw_file(hid_t obj, pz_h5_raw *raw)
{
    hid_t file = H5Iget_file_id(obj), fcpl = file < 0 ? -1 : H5Fget_create_plist(file);
    size_t sizeof_addr = 8, sizeof_size = 8;
    void *handle = NULL;
    struct stat st;
    int ok = fcpl >= 0 && H5Pget_sizes(fcpl, &sizeof_addr, &sizeof_size) >= 0 && sizeof_size <= 32 &&
             sizeof_addr <= 32 && H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle &&
             fstat(*(int *)handle, &st) == 0;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (file >= 0) H5Fclose(file);
    if (!ok) return -1;
    *raw = (pz_h5_raw){*(int *)handle, (uint64_t)st.st_size, (unsigned)sizeof_addr, (unsigned)sizeof_size};
    return 0;
}

int pz_h5_read_string_attr(hid_t a, const char *path, char **out, pz_err *err)
{
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    int rc = 0;
    *out = NULL;
    /* scalar only: a vlen read of N elements into one pointer would write past it */
    if (H5Tget_class(ft) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 converts no character sets */
            char *v = NULL;
            rc = pz_h5_check_vlen_attr(a, path, err);
            if (rc == 0 && H5Aread(a, mt, &v) >= 0 && v) *out = pz_xstrdup(v);
            if (v) H5free_memory(v);
            H5Tclose(mt);
        } else {
            *out = pz_xcalloc(H5Tget_size(ft) + 1, 1);
            if (H5Aread(a, ft, *out) < 0) {
                free(*out);
                *out = NULL;
            }
        }
    }
    H5Sclose(sp);
    H5Tclose(ft);
    return rc;
}

int pz_h5_string_attr(hid_t obj, const char *key, const char *path, char **out, pz_err *err)
{
    *out = NULL;
    if (H5Aexists(obj, key) <= 0) return 0;
    hid_t a = H5Aopen(obj, key, H5P_DEFAULT);
    if (a < 0) return 0;
    int rc = pz_h5_read_string_attr(a, path, out, err);
    H5Aclose(a);
    return rc;
}
