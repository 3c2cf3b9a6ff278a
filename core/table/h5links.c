/* Refusing HDF5 files whose data live in other files.
 *
 * The engine keys a stage on the content hash of each input file. An HDF5 file can make its
 * data come from elsewhere: an external link ("/z" -> other.h5:/z), a dataset with external
 * raw storage (H5Pset_external: the bytes are in a flat file beside it), or a virtual dataset
 * (VDS: a view stitched from datasets in other files). Then the hashed file stays the same
 * while the data read through it change, and a stale result would count as up to date. pzflow
 * does not follow them into the key; it refuses them when a table is opened, naming the file,
 * the link or dataset and where it points, so the user copies the data in (h5repack, or
 * h5py's `f.copy`). The group holding the table is checked, and each link on the way to it. */
#include "table/h5links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/h5util.h"

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

/* The root group's links, collected first: the checks open objects, which is best done
 * outside HDF5's iteration. */
typedef struct {
    size_t n;
    char **names;
    H5L_info_t *info;
} link_list;

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    link_list *l = data;
    l->names = pz_xrealloc(l->names, (l->n + 1) * sizeof *l->names);
    l->info = pz_xrealloc(l->info, (l->n + 1) * sizeof *l->info);
    l->names[l->n] = pz_xstrdup(name);
    l->info[l->n++] = *info;
    return 0;
}

static int check_link(hid_t f, const char *name, const H5L_info_t *info, const char *path, pz_err *err)
{
    if (info->type == H5L_TYPE_EXTERNAL) {
        char target[1100];
        external_target(f, name, info, target, sizeof target);
        return pz_errf(err,
                       "%s: '/%s' is an external link to %s; pzflow refuses it (the linked file is not part of the "
                       "input's hash): copy the data into the file (h5py: f.copy, or h5repack)",
                       path, name, target);
    }
    if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT)
        return pz_errf(err, "%s: '/%s' is a user-defined HDF5 link (type %d); pzflow reads only hard and soft links",
                       path, name, (int)info->type);
    if (info->type == H5L_TYPE_SOFT) return 0; /* within this file: reaches a hard link checked here */
    /* A header HDF5 would crash on is not opened here; the reader refuses it if it reads
     * that column (other columns of the file stay readable). */
    pz_err ignored;
    if (pz_h5_check_types(f, name, path, &ignored) < 0) return 0;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(f, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    return dataset_storage(f, name, path, err);
}

int pz_h5_check_link(hid_t g, const char *name, const char *path, pz_err *err)
{
    H5L_info_t info;
    if (H5Lget_info(g, name, &info, H5P_DEFAULT) < 0) return 0; /* the reader says what is missing */
    return check_link(g, name, &info, path, err);
}

int pz_h5_check_links(hid_t f, const char *path, pz_err *err)
{
    link_list l = {0};
    hsize_t pos = 0;
    H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, &pos, collect_link, &l);
    int rc = 0;
    for (size_t k = 0; k < l.n && rc == 0; k++) rc = check_link(f, l.names[k], &l.info[k], path, err);
    for (size_t k = 0; k < l.n; k++) free(l.names[k]);
    free(l.names);
    free(l.info);
    return rc;
}
