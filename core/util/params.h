/* A stage's interface, declared once: its params, inputs and outputs as tables.
 *
 * Each stage library declares one pz_stage_def next to its stage function. From that one
 * declaration come:
 *   - `pzflow-<stage> --describe` (JSON, below) and `--help` (the same, for people);
 *   - the check of a spec's params before the stage runs (names, types, ranges, choices) and
 *     their parsing into the stage's typed struct (pz_params_read in spec.h);
 *   - the engine's check of a pipeline at load time: it runs `--describe` once per executable
 *     (cached by the executable's hash) and validates every stage against it, so a typo fails
 *     before anything runs (core/engine/describe.c).
 *
 * --describe prints:
 *   { "pzflow_describe": 1, "stage": "pzflow-split", "summary": "...", "docs": "docs/catalogue.md",
 *     "params": [ {"name": "seed", "type": "int", "default": 1, "range": [0, null],
 *                  "required": false, "doc": "..."}, ... ],   ("choices": [...] for strings/paths)
 *     "inputs": [ {"name": "table", "files": "one"|"list"|"any", "required": true, "doc": "..."} ],
 *     "open_inputs": false,         true: more inputs, named by params (evaluate's groups)
 *     "outputs": [ {"name": "train", "required": true, "doc": "...", "ext": ".fits"} ],
 *     "open_outputs": false }       true: more outputs, named by the pipeline (partition's parts)
 *
 * An output's `ext` is the file extension its results link carries (results/<pipeline>/split/
 * train.fits), so a user's tools know the format; outputs whose name already says it (plot's
 * "fig1.png") or that have no fixed format declare none.
 *
 * Types: int, float, bool, string, path (a file the stage reads: the engine hashes it into the
 * stage key, see docs/engine.md; `choices` of a path are built-in names that are not files),
 * strings (one string or a list of them), list, map, any. */
#ifndef PZ_PARAMS_H
#define PZ_PARAMS_H

#include <math.h>
#include <stddef.h>
#include "util/err.h"
#include "util/ytree.h"

typedef enum {
    PZ_PT_INT, PZ_PT_FLOAT, PZ_PT_BOOL, PZ_PT_STRING, PZ_PT_PATH, PZ_PT_STRINGS, PZ_PT_LIST, PZ_PT_MAP, PZ_PT_ANY
} pz_ptype;

/* What pz_params_read stores for a `strings` param (v malloc'd, strings owned by the spec). */
typedef struct pz_strs {
    const char **v;
    size_t n;
} pz_strs;

/* Where pz_params_read stores a param in the stage's struct: 0 means "not stored" (the stage
 * reads it itself, e.g. a nested list of maps). Storage by type: int long, float double,
 * bool int, string/path const char *, strings pz_strs, list/map/any const pz_ynode *. */
#define PZ_FIELD(type, member) (offsetof(type, member) + 1)
/* Inclusive bounds of a number; PZ_OPEN for an open end. */
#define PZ_OPEN NAN
/* A table entry: {PZ_PARAM("seed", PZ_PT_INT, "1", "doc"), PZ_RANGE(0, PZ_OPEN), .field = ...}. */
#define PZ_PARAM(name_, type_, dflt_, doc_) .name = (name_), .type = (type_), .dflt = (dflt_), .doc = (doc_)
#define PZ_RANGE(lo_, hi_) .ranged = 1, .lo = (lo_), .hi = (hi_)

typedef struct pz_param_def {
    const char *name;
    pz_ptype type;
    const char *dflt;    /* default as YAML text ("1e-4", "best"); NULL: none. Parsed for scalar
                            types; shown only for strings/list/map (the field starts empty). */
    const char *doc;     /* one line */
    int required;
    int ranged;
    double lo, hi;
    const char *choices; /* "best|nearest": the allowed strings; for a path, built-in names */
    size_t field;        /* PZ_FIELD(...) or 0 */
} pz_param_def;

enum { PZ_IO_ONE, PZ_IO_LIST, PZ_IO_ANY };

typedef struct pz_io_def {
    const char *name;
    int files;           /* PZ_IO_ONE: exactly one file; PZ_IO_LIST: a list; PZ_IO_ANY: either */
    int optional;
    const char *doc;
    const char *ext;     /* outputs: ".h5", ".fits", ".txt"...; NULL: the name says it, or none */
} pz_io_def;

struct pz_spec;
typedef int (*pz_stage_fn)(const struct pz_spec *spec, const void *params, char **summary, pz_err *err);

/* Tables end with an entry whose name is NULL. */
typedef struct pz_stage_def {
    const char *prog;            /* "pzflow-split" */
    const char *summary;         /* one line: what the stage does */
    const char *docs;            /* where the long explanation is: "docs/catalogue.md" */
    const pz_param_def *params;
    const pz_io_def *inputs;
    int open_inputs;
    const pz_io_def *outputs;
    int open_outputs;            /* the pipeline names further outputs (one per part: partition) */
    size_t params_size;          /* size of the typed struct run() receives; 0: none (NULL) */
    pz_stage_fn run;             /* the library function that does the work */
} pz_stage_def;

const char *pz_ptype_name(pz_ptype t);

/* The --describe JSON and the --help text. malloc'd. */
char *pz_stage_describe_json(const pz_stage_def *d);
char *pz_stage_help_text(const pz_stage_def *d);

/* A description read back from --describe output (the engine's side). NULL with err when the
 * text is not a pzflow description. */
typedef struct pz_stage_desc {
    pz_stage_def def;            /* run is NULL; tables point into this object */
    pz_ynode *root;
    char **owned;                /* default texts made for non-scalar defaults */
    size_t nowned;
} pz_stage_desc;

pz_stage_desc *pz_stage_desc_parse(const char *text, const char *src, pz_err *err);
void pz_stage_desc_free(pz_stage_desc *d);

/* The same description as compact lines without docs and defaults, for the engine's cache
 * (parsing the JSON with libyaml on every load cost more than the rest of a no-op check).
 * _safe: 0 when a name or choice could not survive the space-separated form (then cache the
 * JSON). parse_lines: NULL when the text is not in that form. */
char *pz_stage_desc_format_lines(const pz_stage_def *d);
int pz_stage_def_lines_safe(const pz_stage_def *d);
pz_stage_desc *pz_stage_desc_parse_lines(const char *text);

/* Lookups in a table. */
const pz_param_def *pz_param_find(const pz_param_def *defs, const char *name);
const pz_io_def *pz_io_find(const pz_io_def *defs, const char *name);
/* The declared name closest to a mistyped one, or NULL. */
const char *pz_param_suggest(const pz_param_def *defs, const char *name);
const char *pz_io_suggest(const pz_io_def *defs, const char *name);
/* 1 when a path param's value is one of its built-in names (not a file). */
int pz_param_is_builtin(const pz_param_def *d, const char *value);

/* Check one value against its declaration: type, range, choices. err says what was expected
 * and what was given, without naming the param (callers prefix where it is). */
int pz_param_check(const pz_param_def *d, const pz_ynode *value, pz_err *err);

/* Check a params map against the table: every name declared (with a did-you-mean), every
 * required one present, every value as declared. On error *at is the offending node (the key
 * of an unknown param, the value of a bad one, the map for a missing one). */
int pz_params_validate(const pz_param_def *defs, const pz_ynode *params, const pz_ynode **at, pz_err *err);

#endif
