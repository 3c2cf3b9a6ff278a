/* What the HDF5 table back end's files share (private to core/table): where a table is in a
 * file (h5place.c), the column types, and the checks every read goes through. */
#ifndef PZ_H5TABLE_H
#define PZ_H5TABLE_H

#include <hdf5.h>

#include "table/table.h"
#include "table/tablemeta.h"

/* astropy's name for a table's header dataset: "<table>.__table_column_meta__". */
#define PZ_H5_META_SUFFIX ".__table_column_meta__"

/* A table found in a file: a group whose 1-D datasets are the columns (dset < 0), or a
 * compound dataset whose members are (dset >= 0, named dsname in group). */
typedef struct pz_h5_place {
    hid_t file, group, dset;
    char *where;  /* "cat.h5" or "cat.h5:/photometry": how messages name the table */
    char *dsname; /* the compound dataset's link name in `group`, or NULL */
} pz_h5_place;

/* Open `path` and find the table at `loc` (NULL or "/" = the default place, docs/tables.md),
 * running the hostile-input checks (h5types.c, h5links.c) on every object on the way before
 * HDF5 decodes it. Errors name the file and place and list what is there. */
int pz_h5_place_open(const char *path, const char *loc, pz_h5_place *p, pz_err *err);
void pz_h5_place_close(pz_h5_place *p);
/* Link names of a group, in creation order when the file tracks it (pzflow's do), else by name. */
typedef struct {
    char **names;
    size_t n;
} pz_h5_names;
int pz_h5_list_links(hid_t g, pz_h5_names *l);
void pz_h5_free_names(pz_h5_names *l);
/* "groups: a, b; datasets: x (100,), t (100,) table": what a group holds, for messages. */
void pz_h5_describe_group(hid_t g, char *buf, size_t size);
/* 1 when `name` in g is astropy's header dataset of some table. */
int pz_h5_is_meta_name(const char *name);

/* The column type a file datatype is read as; -1 if it is not a table column type. */
int pz_h5_column_type(hid_t ft, pz_coltype *out);
/* h5py's bool: an enum {FALSE = 0, TRUE = 1} over the 1-byte integer type `base`. */
hid_t pz_h5_bool_type(hid_t base);
/* The memory type of a column (bool: h5py's int8 enum {FALSE, TRUE}; strings null-padded). */
hid_t pz_h5_mem_type(pz_coltype t, size_t width);
/* 0 when the file holds the `rows` elements of type ft the dataset declares (h5util.c why). */
int pz_h5_data_in_file(hid_t ds, hid_t ft, hsize_t rows);
/* Rows per H5Dread of a dataset, so one read never touches more than ~1024 chunks. */
size_t pz_h5_rows_per_read(hid_t ds, size_t n);
/* ": HDF5's innermost reason", or "" when it gives none. */
const char *pz_h5_reason(char buf[204]);
/* The error for a table that needs more memory than malloc gives (-2). */
int pz_h5_too_big(const char *where, const char *name, size_t rows, size_t width, pz_err *err);
/* H5Dopen2 after pz_h5_check_types: -2 corrupt (HDF5 would crash), -1 HDF5 cannot open it. */
hid_t pz_h5_open_dataset(hid_t g, const char *where, const char *name, pz_err *err);
/* The string attributes of obj into t's attributes. */
int pz_h5_read_attrs(hid_t obj, const char *where, pz_table *t, pz_err *err);
/* "missing 2 columns: a (did you mean 'b'?), c" into buf, for the names in `wanted` that
 * `found[j] < 0`. */
void pz_h5_missing_text(const char *const *wanted, const long *found, size_t nwanted, const char *const *have,
                        size_t nhave, char *buf, size_t size);

/* Compound tables (h5compound.c). */
int pz_h5_compound_info(const pz_h5_place *p, pz_colinfo **cols, size_t *ncols, long *nrows, pz_err *err);
int pz_h5_compound_read(const pz_h5_place *p, const char *const *columns, size_t ncolumns, size_t start, size_t count,
                        pz_table **out, pz_err *err);

#endif
