/* A YAML document as a small tree that remembers where each node came from.
 *
 * Everything pzflow reads as YAML (pipeline files, stage spec files, dataset schemas) goes through
 * this one loader, so every error can name file:line:column. Scalars are kept as text plus a
 * `quoted` flag; typed accessors convert on demand and report what they expected. */
#ifndef PZ_YTREE_H
#define PZ_YTREE_H

#include <stddef.h>
#include "util/err.h"

typedef enum { PZ_Y_SCALAR, PZ_Y_SEQ, PZ_Y_MAP } pz_ykind;

typedef struct pz_ynode {
    pz_ykind kind;
    int line, col;          /* 1-based position in the source; 0 for nodes built in memory */
    char *str;              /* scalar text (NUL-terminated), NULL for collections */
    int quoted;             /* scalar was written quoted: "5" stays a string */
    int origin;             /* which file the node came from when files are merged (0 = the main one) */
    size_t n;               /* number of items (seq) or pairs (map) */
    struct pz_ynode **keys; /* map keys (always scalars), NULL for seq */
    struct pz_ynode **items;/* seq items or map values */
} pz_ynode;

/* Limits that keep hostile input (alias bombs, deep nesting) from exhausting memory. */
#define PZ_YAML_MAX_DEPTH 64
#define PZ_YAML_MAX_NODES 2000000

/* Pipeline, spec and schema files are small: a file must be a regular file (not /dev/zero, a
 * FIFO, a directory) of at most this many bytes, so an endless or huge input fails at once. */
#define PZ_YAML_MAX_FILE (16 << 20)

/* Load the single document of a file / buffer. On error returns NULL and err says
 * "name:line:col: what". Duplicate map keys and non-scalar keys are errors. An empty
 * document loads as an empty map. */
pz_ynode *pz_yaml_load_file(const char *path, pz_err *err);
pz_ynode *pz_yaml_load_string(const char *text, size_t len, const char *name, pz_err *err);
void pz_ynode_free(pz_ynode *node);

/* Building trees in memory (spec files, canonical forms). */
pz_ynode *pz_ynode_scalar(const char *text, int quoted);
pz_ynode *pz_ynode_seq(void);
pz_ynode *pz_ynode_map(void);
void pz_yseq_push(pz_ynode *seq, pz_ynode *item);
/* Set key (replacing an existing value, which is freed). Takes ownership of value. */
void pz_ymap_set(pz_ynode *map, const char *key, pz_ynode *value);
pz_ynode *pz_ynode_clone(const pz_ynode *node);
/* 1 when a and b have the same kinds, texts, quoting and keys in the same order (positions
 * aside): then they read, and print as JSON, the same. */
int pz_ynode_equal(const pz_ynode *a, const pz_ynode *b);
/* Remove key from a map (freeing its value); returns 1 if it was there. */
int pz_ymap_remove(pz_ynode *map, const char *key);

/* Lookups. NULL when absent or when `map` is not a map. */
pz_ynode *pz_ymap_get(const pz_ynode *map, const char *key);
/* Dotted path: "optimizer.lr", "cuts.2" (sequence index). */
pz_ynode *pz_ynode_path(const pz_ynode *root, const char *dotted);

/* Numbers as YAML 1.2's core schema reads them (yaml.org/spec/1.2.2, 10.3.2), which is narrower
 * than C's strtod: no "inf", "nan", "0x1p3" or leading blanks.
 * pz_ydecimal: 1 for an integer [-+]?[0-9]+, 2 for a float with a fraction or an exponent,
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, 0 for anything else.
 * pz_yspecial_float: the canonical spelling (.inf, -.inf, .nan) of [-+]?.inf|.Inf|.INF and
 * .nan|.NaN|.NAN, or NULL.
 * pz_ynumber: 0 and *out for those, and for the integers 0o17 and 0x1F; -1 for anything else or a
 * value beyond a double's range.
 * pz_ynumber_hint: why pz_ynumber refused text a reader might take for a number, as a
 * parenthesised note to append to an error (" (...)"), or "".
 * pz_yinteger_base: 10 for [-+]?[0-9]+, 8 for 0o17, 16 for 0x1F (the core schema's integers),
 * 0 for anything else. pz_yinteger_hint: as pz_ynumber_hint, for pz_yscalar_long's refusals. */
int pz_ydecimal(const char *s);
const char *pz_yspecial_float(const char *s);
int pz_ynumber(const char *s, double *out);
const char *pz_ynumber_hint(const char *s);
int pz_yinteger_base(const char *s);
const char *pz_yinteger_hint(const char *s);

/* Typed scalar conversion: 0 on success, -1 (with err naming the position) on wrong type.
 * Both read the text the same, quoted or not (a spec's JSON carries 0x1F and .inf as strings).
 * pz_yscalar_double takes what pz_ynumber takes; pz_yscalar_long takes the core schema's
 * integers (exactly, within a long) and integral numbers (1e3, 16.0), and nothing else: not
 * " 12", which C's strtol would read. */
int pz_yscalar_double(const pz_ynode *node, const char *src, double *out, pz_err *err);
int pz_yscalar_long(const pz_ynode *node, const char *src, long *out, pz_err *err);
int pz_yscalar_bool(const pz_ynode *node, const char *src, int *out, pz_err *err);
const char *pz_ykind_name(pz_ykind kind);

/* Emit as JSON (which is also YAML). Plain scalars that read as numbers, booleans or null are
 * written bare, everything else as a string. sort_keys gives a canonical form for hashing.
 * indent < 0 writes one line. Returns a malloc'd string. */
char *pz_yaml_to_json(const pz_ynode *node, int sort_keys, int indent);

#endif
