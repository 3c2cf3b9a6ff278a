/* Small HDF5 helpers shared by every pzflow HDF5 writer and reader (tables, models, predictions). */
#ifndef PZ_H5UTIL_H
#define PZ_H5UTIL_H

#include <hdf5.h>

/* HDF5 prints its error stack by default; a library reports through pz_err instead, so the
 * handler is switched off for the duration of a call and restored after. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} pz_h5_quiet;

void pz_h5_quiet_begin(pz_h5_quiet *q);
void pz_h5_quiet_end(const pz_h5_quiet *q);

/* A scalar variable-length UTF-8 string attribute, the form h5py reads back as `str`. */
int pz_h5_write_string_attr(hid_t obj, const char *key, const char *value);

#endif
