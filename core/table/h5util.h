/* Small HDF5 helpers shared by every pzflow HDF5 writer and reader (tables, models, predictions). */
#ifndef PZ_H5UTIL_H
#define PZ_H5UTIL_H

#include <hdf5.h>

#include "util/err.h"

/* HDF5 prints its error stack by default; a library reports through pz_err instead, so the
 * handler is switched off for the duration of a call and restored after. */
typedef struct {
    H5E_auto2_t func;
    void *data;
} pz_h5_quiet;

void pz_h5_quiet_begin(pz_h5_quiet *q);
void pz_h5_quiet_end(const pz_h5_quiet *q);

/* Deterministic files (h5write.c), the only way pzflow creates an HDF5 file: no object
 * timestamps, libver bounds (V18, V18), link creation order tracked, so the same content gives
 * the same bytes. pz_h5_create: -1 with err set; pz_h5_close: -1 when flushing fails. */
hid_t pz_h5_create(const char *path, pz_err *err);
int pz_h5_close(hid_t f, const char *path, pz_err *err);
/* A group with the same properties (no timestamps, creation order); -1 on failure. */
hid_t pz_h5_group_new(hid_t loc, const char *name);
/* A contiguous N-D dataset written whole from `data` (no timestamps); -1 on failure. */
int pz_h5_write_array(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank, const hsize_t *dims,
                      const void *data);

/* A scalar variable-length UTF-8 string attribute, the form h5py reads back as `str`. */
int pz_h5_write_string_attr(hid_t obj, const char *key, const char *value);

/* A scalar string attribute's value, variable- or fixed-length, into *out (malloc'd; NULL
 * when the attribute is not a scalar string). -1 only when the file is corrupt, with err set. */
int pz_h5_read_string_attr(hid_t attr, const char *path, char **out, pz_err *err);
/* The same for the attribute `key` of `obj`; *out is NULL when it is absent. */
int pz_h5_string_attr(hid_t obj, const char *key, const char *path, char **out, pz_err *err);

/* How pzflow reads an open file's own structures before HDF5 decodes them (h5heap.c,
 * h5types.c): HDF5's descriptor for it, its size, and its address and length field widths. */
typedef struct {
    int fd;
    uint64_t size;
    unsigned sizeof_addr, sizeof_size;
} pz_h5_raw;

/* The raw view of the file holding `obj`; -1 when HDF5 or the file does not give it. */
int pz_h5_raw_file(hid_t obj, pz_h5_raw *raw);

/* 0 when HDF5 can safely fetch the variable-length strings of an attribute, or of `n` elements
 * of a dataset selected by (msp, fsp); -1 naming the corruption otherwise. Call before any
 * variable-length read: HDF5 1.10.8 hangs or crashes on corrupt ones (h5heap.c). */
int pz_h5_check_vlen_attr(hid_t attr, const char *path, pz_err *err);
int pz_h5_check_vlen_dataset(hid_t ds, hid_t msp, hid_t fsp, size_t n, const char *path, pz_err *err);

/* 0 unless the header of object `name` (relative to `loc`) holds a datatype, its own or an
 * attribute's, that HDF5 1.10.8 would crash copying; call before opening the object or reading
 * its attributes (h5types.c). */
int pz_h5_check_types(hid_t loc, const char *name, const char *path, pz_err *err);

#endif
