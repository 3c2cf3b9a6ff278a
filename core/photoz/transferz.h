/* TransferZ: HSC photometry of COSMOS2020 galaxies labelled with the COSMOS2020 photo-z.
 *
 * Steps (each counted in the report):
 *  1. one-to-one cross-match of the (quality-cut) COSMOS table with the HSC table (xmatch.h);
 *  2. drop matches whose required HSC columns (default the five cmodel magnitudes) are not finite;
 *  3. drop galaxies that are also in GalaxiesML: an HSC object within `overlap_radius_arcsec` of
 *     any GalaxiesML galaxy, or (match_ids) with the same HSC object_id, so that the two training
 *     sets never share a galaxy;
 *  4. write the TransferZ layout, in COSMOS row order:
 *       hsc_columns (default object_id, ra, dec, {g,r,i,z,y}_cmodel_mag, {g,r,i,z,y}_cmodel_magsigma),
 *       <label> and <label>_CLASSIC (lp_zPDF, lp_zPDF_CLASSIC: the name the authors released),
 *       cosmos_id, cosmos_<extra> for each extra COSMOS column, match_sep_arcsec (names as in schemas/transferz.yaml). */
#ifndef PZ_TRANSFERZ_H
#define PZ_TRANSFERZ_H

#include <stddef.h>
#include "photoz/xmatch.h"
#include "table/table.h"
#include "util/err.h"

typedef struct pz_transferz_params {
    double radius_arcsec;          /* COSMOS x HSC, default 1 */
    double overlap_radius_arcsec;  /* TransferZ x GalaxiesML, default 1 */
    const char *cosmos_ra, *cosmos_dec, *cosmos_id, *label; /* ra, dec, id, lp_zPDF */
    const char *hsc_ra, *hsc_dec, *hsc_id;                  /* ra, dec, object_id */
    const char *gml_ra, *gml_dec, *gml_id;                  /* ra, dec, object_id */
    const char *const *hsc_columns;     /* NULL = the default list above */
    size_t nhsc_columns;
    const char *const *cosmos_extra;    /* extra COSMOS columns, written as cosmos_<name> */
    size_t ncosmos_extra;
    const char *const *require_finite;  /* NULL = the five {b}_cmodel_mag */
    size_t nrequire_finite;
    int match_ids;                      /* also remove equal object_id, default 1 */
    int threads;
} pz_transferz_params;

typedef struct pz_transferz_report {
    pz_xmatch_stats match;          /* COSMOS (left) x HSC (right) */
    size_t not_finite;              /* matches dropped in step 2 */
    size_t galaxiesml_tables, galaxiesml_rows;
    size_t overlap_position_only, overlap_id_only, overlap_both, overlap_total;
    size_t rows;                    /* in the TransferZ table */
} pz_transferz_report;

void pz_transferz_defaults(pz_transferz_params *p);

/* gml: the GalaxiesML tables (may be none). */
pz_table *pz_build_transferz(const pz_table *cosmos, const pz_table *hsc, pz_table *const *gml, size_t ngml,
                             const pz_transferz_params *p, pz_transferz_report *rep, pz_err *err);

/* The report as a JSON object body (no braces, so callers can add keys) and as text. malloc'd. */
char *pz_transferz_report_json(const pz_transferz_report *r);
char *pz_transferz_report_text(const pz_transferz_report *r);

#endif
