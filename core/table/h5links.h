/* HDF5 inputs whose data live in other files (external links, external raw storage, virtual
 * datasets) are refused when a table is opened: their data would not be in the input's hash
 * (h5links.c). */
#ifndef PZ_H5LINKS_H
#define PZ_H5LINKS_H

#include <hdf5.h>

#include "util/err.h"

/* 0 when every link of group `f` (a file id: its root) is a hard or soft link to an object whose data
 * are stored in `f` itself; -1 with err naming the file, the link or dataset and its target. */
int pz_h5_check_links(hid_t f, const char *path, pz_err *err);
/* The same for one link `name` of group g (a group on the way to a table). */
int pz_h5_check_link(hid_t g, const char *name, const char *path, pz_err *err);

#endif
