/* Dataset schemas (schemas/<name>.yaml): which columns a catalogue has, their types, units and
 * null conventions, and the pzflow canonical name each maps to. Reading a file through a schema
 * checks every column first (one error lists all missing and mistyped ones), reads only those
 * columns, and returns a table with canonical names and types. Swapping a dataset (CLASSIC for
 * FARMER, PDR2 for PDR3) is then a change of schema name. Format: schemas/datasets.md. */
#ifndef PZ_SCHEMA_H
#define PZ_SCHEMA_H

#include "table/table.h"
#include "util/ytree.h"

typedef enum { PZ_NULL_NONE, PZ_NULL_NAN, PZ_NULL_MASK, PZ_NULL_VALUE } pz_null_kind;

#define PZ_NULL_MAX 8 /* sentinel values one column may list: null: [-99, 99, -999] */

typedef struct pz_schema_col {
    char *name;        /* name in the file (templates expanded) */
    char *canonical;   /* name in pzflow tables */
    pz_coltype type;   /* type in pzflow tables */
    int file_type;     /* 1: no type given (inline mappings): keep the file's type */
    char *unit;        /* NULL if dimensionless */
    pz_null_kind null; /* how missing values are marked in the file */
    double null_values[PZ_NULL_MAX]; /* PZ_NULL_VALUE: these values mean missing */
    size_t nnull;
    int required;
    int line;          /* position in the schema file, for messages */
} pz_schema_col;

typedef struct pz_schema {
    char *id;          /* `schema:` key, e.g. cosmos2020_classic */
    char *path;        /* the YAML file */
    char *format;      /* fits | hdf5 */
    int hdu;           /* FITS extension (1 = first) */
    char *at;          /* `at:` where the table is in the file (pz_source loc), NULL = default */
    char *variant;     /* chosen variant (aperture), NULL if the schema has none */
    size_t ncols;
    pz_schema_col *cols;
} pz_schema;

/* Load a schema by name ("cosmos2020_classic": schemas/<name>.yaml as compiled into the binary,
 * see table/schema_builtin.h) or by path
 * (anything containing '/' or ending in .yaml). `variant` picks one entry of the schema's
 * `variants:` map (e.g. aper2 | aper3 | auto); NULL takes `default_variant`. Errors name
 * file:line:col. */
pz_schema *pz_schema_load(const char *name_or_path, const char *variant, pz_err *err);
void pz_schema_free(pz_schema *s);
const pz_schema_col *pz_schema_find(const pz_schema *s, const char *canonical);
/* The file a schema name resolves to (malloc'd): the path itself, or "schemas/<name>.yaml" for
 * a built-in (the name used in messages; its text is in the binary, not read from there). */
char *pz_schema_resolve(const char *name_or_path);

/* Extra name mappings applied after loading: canonical -> file column name (GalaxiesML-like
 * files with other spellings). Unknown canonical names are added as optional f64 columns. */
int pz_schema_map(pz_schema *s, const char *canonical, const char *file_name, pz_err *err);

/* An empty schema (no columns) named `id`, for mappings given inline in a stage's params. */
pz_schema *pz_schema_new(const char *id);
/* Add columns written in a stage's params or a schema file (`src` names where, for messages):
 * either the schema file's list of column maps, or a map canonical -> file name or column map,
 *   {id: ID, "{b}_mag": "MAG_{b}", z: {name: ZSPEC, null: [-99, -1]}}
 * where `name` defaults to the canonical name and `type` to the file's. `{b}` expands over
 * `bands` (a YAML list, may be NULL). A canonical name already in the schema is replaced. */
int pz_schema_add_columns(pz_schema *s, const pz_ynode *columns, const pz_ynode *bands, const char *src,
                          pz_err *err);

/* Read `path` (FITS or HDF5, detected from the file's first bytes) through the schema. Columns
 * with required: false are skipped when absent. With passthrough, the file's other numeric
 * columns are kept under their own names. */
int pz_schema_read(const pz_schema *s, const char *path, int passthrough, pz_table **out, pz_err *err);
/* The place a schema reads in `path` when the source names none (malloc'd, NULL = the file's
 * default): its `at:`, else its `hdu:` when the file is FITS. */
char *pz_schema_place(const pz_schema *s, const char *path);
/* The same from a place in a file (table.h, pz_source). A missing column's error suggests a near
 * name of the table, lists its columns when most are missing, and says which other place of the
 * file (HDF5 group, FITS HDU) has the missing columns when exactly one does. */
int pz_schema_read_src(const pz_schema *s, const pz_source *src, int passthrough, pz_table **out, pz_err *err);

#endif
