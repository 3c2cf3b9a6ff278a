/* Ingest stages: read a survey catalogue through its schema, apply the documented photometric
 * corrections, and write a table with pzflow's canonical column names (schemas/datasets.md).
 * The pz_ingest_* functions are pure table transforms (unit-tested on small tables); the
 * pz_ingest_stage_* functions are the whole stages behind the thin mains in stages/. */
#ifndef PZ_INGEST_H
#define PZ_INGEST_H

#include "table/schema.h"
#include "util/spec.h"

#define PZ_HSC_NBANDS 5
extern const char *const pz_hsc_bands[PZ_HSC_NBANDS];          /* g r i z y */
extern const double pz_cosmos_mw_k[PZ_HSC_NBANDS];              /* A_b / E(B-V): 3.69 2.715 2.0 1.515 1.298 */
extern const double pz_cosmos_zp_offset[PZ_HSC_NBANDS];         /* subtracted, mag: .128 .127 .094 .084 .100 */

/* Bad-value checks every ingest stage runs on the table as read, before any correction:
 * - duplicated ids in the id column (`object_id`, else `id`; integer columns): an error naming
 *   the file, the column, how many values repeat and the first one with its rows (0-based), or
 *   with drop_duplicates every repeat after the first occurrence is dropped;
 * - magnitudes (columns whose name ends in `_mag`) outside the open range (mag_lo, mag_hi):
 *   counted, and set to NaN unless keep_sentinels (HSC and COSMOS write -99/99 for "no
 *   measurement"). Non-finite values are left alone (they are already missing).
 * - redshift labels (the columns pz_ingest_label_columns names: the values a network learns)
 *   outside the open range (label_lo, label_hi): an error naming the file, the column, how many
 *   values and the first with its row (0-based, as read). A label is the truth the network is
 *   fitted to, so a sentinel there (-1, -99, 99: "no redshift") is never turned into a number or
 *   silently dropped; widen label_range to keep such rows and cut them after ingest. Non-finite
 *   labels are missing values, left alone like magnitudes (training drops or refuses them).
 * What was found is recorded in the table attribute `pzflow_ingest_checks` ("none" if nothing). */
typedef struct pz_ingest_checks {
    int drop_duplicates;   /* param duplicates: error (0, default) | drop (1) */
    double mag_lo, mag_hi; /* param mag_range, default [0, 50] */
    int keep_sentinels;    /* param sentinels: nan (0, default) | keep (1) */
    double label_lo, label_hi; /* param label_range, default [0, 10]: 0 < z < 10 */
} pz_ingest_checks;
#define PZ_INGEST_CHECKS_DEFAULT {0, 0.0, 50.0, 0, 0.0, 10.0}

/* The check params as a stage reads them (PZ_INGEST_CHECK_PARAMS declares them in a table). */
typedef struct pz_ingest_check_params {
    const char *duplicates, *sentinels;
    const pz_ynode *mag_range, *label_range;
} pz_ingest_check_params;
#define PZ_INGEST_CHECK_PARAMS(type, member)                                                                      \
    {PZ_PARAM("duplicates", PZ_PT_STRING, "error", "rows with a repeated id: fail, or keep the first"),             \
     .choices = "error|drop", .field = PZ_FIELD(type, member.duplicates)},                                        \
    {PZ_PARAM("mag_range", PZ_PT_LIST, NULL, "[low, high]: magnitudes outside become missing (NaN)"),              \
     .field = PZ_FIELD(type, member.mag_range)},                                                                  \
    {PZ_PARAM("sentinels", PZ_PT_STRING, "nan", "sentinel values (-99, 99, ...): make them NaN, or keep them"),      \
     .choices = "nan|keep", .field = PZ_FIELD(type, member.sentinels)},                                           \
    {PZ_PARAM("label_range", PZ_PT_LIST, "[0, 10]", "(low, high): redshift labels outside are an error"),         \
     .field = PZ_FIELD(type, member.label_range)}
int pz_ingest_get_checks(const pz_ingest_check_params *p, pz_ingest_checks *c, pz_err *err);

/* Canonical names of the redshift label columns (NULL-terminated): specz_redshift (GalaxiesML's
 * spectroscopic redshift) and lp_zPDF (COSMOS2020's LePhare photo-z, TransferZ's label). */
extern const char *const pz_ingest_label_columns[];

/* `path` names the file in messages. May replace *t (rows dropped). */
int pz_ingest_check(pz_table **t, const char *path, const pz_ingest_checks *c, pz_err *err);

/* ---- The generic ingest (ingest_any.c; docs/ingest.md) ----
 * A table read from `source` (a file, "cat.h5:/photometry", "cat.fits[PHOT]", a CSV; table.h)
 * through a schema and/or an inline mapping, then checked. With neither, every numeric column
 * is kept under its own name. The survey ingests below are this plus their corrections. */
typedef struct pz_ingest_opts {
    const char *schema;      /* built-in name, alias (classic, pdr2, ...) or YAML path; NULL = none */
    const char *variant;     /* the schema's variant, NULL = its default */
    const char *at;          /* place in the file; NULL = the one in `source`, else the schema's `at` */
    const pz_ynode *columns; /* inline mapping (schema.h, pz_schema_add_columns), NULL = none */
    const pz_ynode *bands;   /* what {b} in `columns` expands over */
    const char *columns_src; /* where the mapping was written, for messages */
    int passthrough;         /* keep the numeric columns the mapping does not name */
    const struct pz_ingest_checks *checks; /* NULL = none */
} pz_ingest_opts;

#define PZ_INGEST_BUILTIN_SCHEMAS \
    "classic|farmer|pdr2|pdr3|cosmos2020_classic|cosmos2020_farmer|hsc_pdr2|hsc_pdr3|galaxiesml|transferz"
/* The built-in schema a short name stands for (classic -> cosmos2020_classic), else `name`. */
const char *pz_ingest_schema_name(const char *name);
pz_schema *pz_ingest_schema(const pz_ingest_opts *o, pz_err *err);
int pz_ingest_read_schema(const char *source, const pz_schema *s, const pz_ingest_opts *o, pz_table **out,
                          pz_err *err);
int pz_ingest_read(const char *source, const pz_ingest_opts *o, pz_table **out, pz_err *err);

typedef struct pz_cosmos_opts {
    const char *schema;    /* classic | farmer | schema name | path (default classic) */
    const char *aperture;  /* aper2 | aper3 | auto, NULL = the schema's default; FARMER has none */
    int extinction;        /* Milky-Way extinction from EBV_MW (default 1) */
    int aperture_to_total; /* add total_off{2,3} to aperture magnitudes (default 1) */
    int zeropoint;         /* subtract the LePhare HSC zero-point offsets (default 0) */
    const struct pz_ingest_checks *checks; /* bad-value checks before corrections, NULL = none */
} pz_cosmos_opts;

/* Corrections on a table already in canonical names ({b}_mag, {b}_flux, {b}_fluxerr, ebv_mw,
 * total_off). `note` receives a one-line description of what was applied (malloc'd). */
int pz_cosmos_correct(pz_table *t, const pz_cosmos_opts *o, char **note, pz_err *err);
int pz_ingest_cosmos2020(const char *path, const pz_cosmos_opts *o, pz_table **out, pz_err *err);

/* HSC: optional Galactic extinction correction with the catalogue's a_{b}. */
int pz_hsc_correct(pz_table *t, pz_err *err);
int pz_ingest_hsc(const char *path, const char *schema, int extinction, const pz_ingest_checks *checks,
                  pz_table **out, pz_err *err);

/* "N rows, M columns; missing values: g_mag 12, lp_zPDF 3" (malloc'd), for the stage's stdout
 * line; missing = NaN, +-inf or a null integer. */
char *pz_ingest_summary(const pz_table *t);

/* Shared by the stage drivers: the schema from a `schema` input, else the param; the stdout line. */
int pz_ingest_stage_schema(const pz_spec *spec, const char *param, const char **out, pz_err *err);
char *pz_ingest_stage_summary(const char *stage, const char *label, const char *path, const pz_table *t);

/* Whole stages. On success *summary is the line to print (malloc'd). pzflow-ingest is the
 * generic one; the three survey stages are its presets (schema + corrections). */
extern const pz_stage_def pz_ingest_stage_any;
extern const pz_stage_def pz_ingest_stage_cosmos2020;
extern const pz_stage_def pz_ingest_stage_hsc;
extern const pz_stage_def pz_ingest_stage_galaxiesml;

#endif
