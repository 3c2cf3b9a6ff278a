/* Refusing HDF5 files whose data live in other files.
 *
 * The engine keys a stage on the content hash of each input file. An HDF5 file can make its
 * data come from elsewhere: an external link ("/z" -> other.h5:/z), a dataset with external
 * raw storage (H5Pset_external: the bytes are in a flat file beside it), or a virtual dataset
 * (VDS: a view stitched from datasets in other files). Then the hashed file stays the same
 * while the data read through it change, and a stale result would count as up to date. pzflow
 * does not follow them into the key; it refuses them when a table is opened, naming the file,
 * the link or dataset and where it points, so the user copies the data in (h5repack, or
 * h5py's `f.copy`). Only the root group is checked: it is all a table reader ever opens. */
#include "table/h5links.h"

#include <stdio.h>
#include <string.h>

#include "table/h5util.h"

typedef struct {
    const char *path;
    pz_err *err;
    int bad;
} link_walk;

/* Where an external link points: "file:/object". */
static void external_target(hid_t f, const char *name, const H5L_info_t *info, char *out, size_t size)
{
    char buf[1024];
    const char *file = "?", *obj = "?";
    snprintf(out, size, "?");
    if (info->u.val_size == 0 || info->u.val_size > sizeof buf) return;
    if (H5Lget_val(f, name, buf, sizeof buf, H5P_DEFAULT) < 0) return;
    unsigned flags;
    if (H5Lunpack_elink_val(buf, info->u.val_size, &flags, &file, &obj) < 0) return;
    snprintf(out, size, "%s:%s", file, obj);
}

/* External raw storage or a virtual layout of dataset `name`; 0 when its data are in the file. */
static int dataset_storage(hid_t f, const char *name, const char *path, pz_err *err)
{
    if (pz_h5_check_types(f, name, path, err) < 0) return -1; /* before HDF5 decodes its header */
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return 0; /* the reader reports a dataset it cannot open, with its own message */
    hid_t dcpl = H5Dget_create_plist(ds);
    int rc = 0;
    if (dcpl >= 0) {
        int next = H5Pget_external_count(dcpl);
        if (next > 0) {
            char file[512] = "?";
            off_t offset;
            hsize_t size;
            H5Pget_external(dcpl, 0, sizeof file, file, &offset, &size);
            rc = pz_errf(err,
                         "%s: dataset '%s' keeps its data in the external file '%s'; pzflow refuses it (that file "
                         "is not part of the input's hash): store the data in the HDF5 file itself (h5repack)",
                         path, name, file);
        } else if (H5Pget_layout(dcpl) == H5D_VIRTUAL) {
            size_t n = 0;
            char file[512] = "?";
            if (H5Pget_virtual_count(dcpl, &n) >= 0 && n > 0) H5Pget_virtual_filename(dcpl, 0, file, sizeof file);
            rc = pz_errf(err,
                         "%s: dataset '%s' is a virtual dataset (data in '%s'); pzflow refuses it (those files are "
                         "not part of the input's hash): store the data in the HDF5 file itself (h5repack)",
                         path, name, file);
        }
        H5Pclose(dcpl);
    }
    H5Dclose(ds);
    return rc;
}

static herr_t check_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    link_walk *w = data;
    if (info->type == H5L_TYPE_EXTERNAL) {
        char target[1100];
        external_target(g, name, info, target, sizeof target);
        pz_errf(w->err,
                "%s: '/%s' is an external link to %s; pzflow refuses it (the linked file is not part of the input's "
                "hash): copy the data into the file (h5py: f.copy, or h5repack)",
                w->path, name, target);
        w->bad = 1;
        return 1;
    }
    if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT) {
        pz_errf(w->err, "%s: '/%s' is a user-defined HDF5 link (type %d); pzflow reads only hard and soft links", w->path,
                name, (int)info->type);
        w->bad = 1;
        return 1;
    }
    if (info->type == H5L_TYPE_SOFT) return 0; /* within this file: reaches a hard link checked here */
    H5O_info_t oi;
    if (H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    if (dataset_storage(g, name, w->path, w->err) < 0) {
        w->bad = 1;
        return 1;
    }
    return 0;
}

int pz_h5_check_links(hid_t f, const char *path, pz_err *err)
{
    link_walk w = {path, err, 0};
    hsize_t pos = 0;
    H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, &pos, check_link, &w);
    return w.bad ? -1 : 0;
}
