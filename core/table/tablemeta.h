/* astropy's table header: the YAML that carries what a plain array cannot (units, descriptions,
 * table attributes, which columns are masked). astropy writes it beside an HDF5 table as the
 * dataset `<table>.__table_column_meta__` (one line per element, io/misc/hdf5.py with
 * serialize_meta=True) and at the head of an ECSV file (each line after "# "); the text is the
 * same. Private to core/table. */
#ifndef PZ_TABLEMETA_H
#define PZ_TABLEMETA_H

#include <stddef.h>

#include "table/table.h"

/* The name of column `name`'s mask column in astropy's MaskedColumn serialization. */
#define PZ_MASK_SUFFIX ".mask"

/* The header for table t, '\n'-terminated lines: a `datatype` entry per column (name, unit,
 * datatype, description), and, after a column j with masked[j] != 0, an entry for its bool
 * mask column "<name>.mask"; `meta` holds t's attributes (as strings) and, when any column is
 * masked, `__serialized_columns__` saying so, so astropy rebuilds a MaskedColumn. masked may
 * be NULL (nothing masked). Every string is double-quoted, so no value changes type on the way
 * (an attribute "3" stays the string '3'). Returns malloc'd text. */
char *pz_table_meta_yaml(const pz_table *t, const unsigned char *masked);

typedef struct pz_meta_col {
    char *name, *unit, *desc;
    char *mask; /* the name of the column holding its mask, NULL when not masked */
} pz_meta_col;

typedef struct pz_table_meta {
    pz_meta_col *cols;
    size_t ncols;
    pz_table *attrs; /* a 0-row table holding only the attributes (pz_table_set_attr's rules) */
} pz_table_meta;

/* Parse a header (astropy's or ours). `what` names it in errors ("f.h5:/t.__table_column_meta__").
 * Scalar meta values become attributes as written; others become their JSON text. */
int pz_table_meta_parse(const char *text, size_t len, const char *what, pz_table_meta *m, pz_err *err);
void pz_table_meta_free(pz_table_meta *m);
const pz_meta_col *pz_table_meta_col(const pz_table_meta *m, const char *name);
/* 1 when `name` is some column's mask column. */
int pz_table_meta_is_mask(const pz_table_meta *m, const char *name);

#endif
