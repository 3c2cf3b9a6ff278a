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

/* Canonical names of the redshift label columns (NULL-terminated): specz_redshift (GalaxiesML's
 * spectroscopic redshift) and lp_zPDF (COSMOS2020's LePhare photo-z, TransferZ's label). */
extern const char *const pz_ingest_label_columns[];

/* `path` names the file in messages. May replace *t (rows dropped). */
int pz_ingest_check(pz_table **t, const char *path, const pz_ingest_checks *c, pz_err *err);

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

/* Whole stages. On success *summary is the line to print (malloc'd). */
extern const pz_stage_def pz_ingest_stage_cosmos2020;
extern const pz_stage_def pz_ingest_stage_hsc;
extern const pz_stage_def pz_ingest_stage_galaxiesml;

#endif
