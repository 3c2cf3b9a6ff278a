/* Sky cross-match: for two source lists, the pairs closer than a radius, resolved into
 * one-to-one best matches (or each left source's nearest neighbour).
 *
 * Index: declination zones. The right list is bucketed into zones of height ~radius and sorted
 * by RA inside each zone, so a query visits the few zones overlapping dec ± r and binary-searches
 * the RA window asin(sin r / cos dec) in each. The window is split in two across RA 0/360, and
 * within 1 degree of a pole (|dec| + r > 89°) a query scans whole zones, where the RA window
 * formula breaks down. Candidates are then tested with the exact angular distance (the chord
 * between unit vectors), so the index only ever prunes, never approximates: the result equals
 * the brute-force O(N·M) one. Cost: O((N + M) log M) plus the candidates, which at catalogue
 * densities are a handful per source.
 *
 * One-to-one matching ("best", symmetric): every pair within the radius is a candidate; pairs
 * are accepted greedily in order of increasing separation (ties broken by left then right row)
 * when neither side is already taken. Each source ends in at most one match and no accepted
 * match has a closer unused alternative for both sides. Deterministic for any thread count. */
#ifndef PZ_XMATCH_H
#define PZ_XMATCH_H

#include <stddef.h>
#include <stdint.h>
#include "table/table.h"
#include "util/err.h"

typedef enum {
    PZ_XMATCH_BEST,    /* one-to-one, greedy by separation (see above) */
    PZ_XMATCH_NEAREST  /* each left source's nearest right source; a right source may repeat */
} pz_xmatch_mode;

typedef struct pz_xmatch_stats {
    size_t nleft, nright;
    size_t left_no_position, right_no_position; /* non-finite RA/Dec: never matched */
    size_t pairs;                  /* candidate pairs within the radius */
    size_t matched;
    size_t unmatched_left, unmatched_right;
    size_t left_multiple;          /* left sources with more than one right source within the radius */
    size_t right_multiple;         /* right sources with more than one left source within the radius */
    double radius_arcsec;
    double median_sep_arcsec, max_sep_arcsec; /* over matches; NaN when none */
} pz_xmatch_stats;

typedef struct pz_xmatch_result {
    size_t nleft;
    int64_t *match;        /* per left row: matched right row, or -1 */
    double *sep_arcsec;    /* per left row: separation of that match, NaN if none */
    pz_xmatch_stats stats;
} pz_xmatch_result;

/* Match positions in degrees. RA is taken modulo 360; |Dec| > 90 is an error naming the row;
 * rows with a non-finite coordinate are skipped (counted in the stats). threads >= 1. */
int pz_xmatch(const double *ra1, const double *dec1, size_t n1, const double *ra2, const double *dec2, size_t n2,
              double radius_arcsec, pz_xmatch_mode mode, int threads, pz_xmatch_result *res, pz_err *err);
void pz_xmatch_result_free(pz_xmatch_result *res);

/* The same on tables, reading the named RA/Dec columns (any numeric type, converted to
 * double). `lname`/`rname` name the tables in messages. */
int pz_xmatch_tables(const pz_table *left, const char *lname, const char *lra, const char *ldec,
                     const pz_table *right, const char *rname, const char *rra, const char *rdec,
                     double radius_arcsec, pz_xmatch_mode mode, int threads, pz_xmatch_result *res, pz_err *err);

/* Inner join of a match: for each matched left row, in left order, all left columns, then the
 * right columns `rcols` (NULL = all) renamed prefix + name, then `sep_arcsec`. A name clash is
 * an error listing the clashing names (choose another prefix). */
pz_table *pz_xmatch_join(const pz_table *left, const pz_table *right, const pz_xmatch_result *res,
                         const char *prefix, const char *const *rcols, size_t nrcols, pz_err *err);

/* Statistics as one JSON object (malloc'd), and as a short human-readable block. */
char *pz_xmatch_stats_json(const pz_xmatch_stats *s);
char *pz_xmatch_stats_text(const pz_xmatch_stats *s);

#endif
