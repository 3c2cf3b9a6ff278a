/* The built-in dataset schemas: schemas/<name>.yaml compiled into the library at build time
 * (cmake/embed_schemas.cmake writes the table), so a stage never reads the checkout it was built
 * from: a copied build gives the same results, and the executable's bytes (part of every stage
 * key) depend on the schema texts, not on where the source tree was. */
#ifndef PZ_SCHEMA_BUILTIN_H
#define PZ_SCHEMA_BUILTIN_H

#include <stddef.h>

typedef struct pz_builtin_schema {
    const char *name; /* file name without .yaml: "cosmos2020_classic"; NULL ends the table */
    const char *text; /* the file's bytes, NUL-terminated */
    size_t len;
} pz_builtin_schema;

extern const pz_builtin_schema pz_builtin_schemas[];

#endif
